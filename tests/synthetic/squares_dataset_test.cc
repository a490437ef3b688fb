// The demo's generated image set: deterministic, and its annotations are exactly the squares
// drawn (checked pixel by pixel, independently of how the generator placed them).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <set>

#include "lockstep/core/error.h"
#include "lockstep/eval/coco.h"
#include "lockstep/image/decode.h"
#include "lockstep/synthetic/squares_dataset.h"
#include "lockstep/synthetic/squares_detector.h"
#include "lockstep/synthetic/squares_spec.h"
#include "support/test_support.h"

namespace lockstep {
namespace {

// FNV-1a over every pixel and every annotation number.
uint64_t Fingerprint(const SquaresDataset& s) {
  uint64_t h = 14695981039346656037ull;
  auto mix = [&h](uint64_t v) {
    for (int i = 0; i < 8; ++i) {
      h ^= (v >> (8 * i)) & 0xff;
      h *= 1099511628211ull;
    }
  };
  for (const Image& image : s.images)
    for (uint8_t p : image.pixels) mix(p);
  for (const CocoAnnotation& a : s.dataset.annotations) {
    mix(uint64_t(a.image_id));
    mix(uint64_t(a.category_id));
    mix(uint64_t(a.bbox.x));
    mix(uint64_t(a.bbox.y));
    mix(uint64_t(a.bbox.width));
  }
  return h;
}

TEST(Squares, SameSeedSameBytesOnEveryPlatform) {
  const SquaresDataset a = GenerateSquares(), b = GenerateSquares();
  EXPECT_EQ(a.images, b.images);
  EXPECT_EQ(Fingerprint(a), Fingerprint(b));
  // Pinned: a change of the generator (or a platform that computes it differently) shows here.
  EXPECT_EQ(Fingerprint(a), 12495557506221458558ull) << std::hex << Fingerprint(a);
  SquaresOptions other;
  other.seed = 7;
  EXPECT_NE(Fingerprint(GenerateSquares(other)), Fingerprint(a));
}

TEST(Squares, ShapeOfTheSet) {
  const SquaresDataset s = GenerateSquares();
  ASSERT_EQ(s.images.size(), 40u);
  ASSERT_EQ(s.dataset.images.size(), 40u);
  ASSERT_EQ(s.dataset.categories.size(), 3u);
  EXPECT_EQ(s.dataset.categories[0].name, "red");
  EXPECT_EQ(s.dataset.categories[2].id, 3);
  std::set<int64_t> classes, sides;
  for (size_t i = 0; i < s.images.size(); ++i) {
    EXPECT_EQ(s.images[i].width, 160);
    EXPECT_EQ(s.images[i].height, 112);
    EXPECT_EQ(s.images[i].channels, 3);
    EXPECT_EQ(s.dataset.images[i].width, 160);
    EXPECT_EQ(s.dataset.images[i].id, int64_t(i) + 1);
    const auto n =
        std::count_if(s.dataset.annotations.begin(), s.dataset.annotations.end(),
                      [&](const CocoAnnotation& a) { return a.image_id == int64_t(i) + 1; });
    EXPECT_GE(n, 1);
    EXPECT_LE(n, 4);
  }
  for (const CocoAnnotation& a : s.dataset.annotations) {
    classes.insert(a.category_id);
    sides.insert(int64_t(a.bbox.width));
    EXPECT_EQ(a.bbox.width, a.bbox.height);
    EXPECT_EQ(a.area, a.bbox.width * a.bbox.height);
    EXPECT_GE(a.bbox.width, 14);
    EXPECT_LE(a.bbox.width, 38);
  }
  EXPECT_EQ(classes, (std::set<int64_t>{1, 2, 3}));
  EXPECT_GT(sides.size(), 10u);  // several sizes
  EXPECT_GT(s.dataset.annotations.size(), 80u);
}

// Every annotation is a solid square of its class's colour, the pixels just outside it are not
// that colour, and no drawn square is missing from the annotations.
TEST(Squares, AnnotationsAreTheDrawnSquares) {
  const SquaresDataset s = GenerateSquares();
  for (size_t i = 0; i < s.images.size(); ++i) {
    const Image& im = s.images[i];
    std::vector<bool> annotated(size_t(im.width) * im.height, false);
    for (const CocoAnnotation& a : s.dataset.annotations) {
      if (a.image_id != int64_t(i) + 1) continue;
      const int x0 = int(a.bbox.x), y0 = int(a.bbox.y), side = int(a.bbox.width);
      ASSERT_GE(x0, 2);
      ASSERT_GE(y0, 2);
      ASSERT_LE(x0 + side, im.width - 2);
      ASSERT_LE(y0 + side, im.height - 2);
      const int cls = int(a.category_id) - 1;
      const uint8_t color[3] = {im.at(x0, y0, 0), im.at(x0, y0, 1), im.at(x0, y0, 2)};
      for (int c = 0; c < 3; ++c) {
        if (c == cls) {
          EXPECT_GE(color[c], 200) << "image " << i + 1 << " annotation " << a.id;
        } else {
          EXPECT_LE(color[c], 60) << "image " << i + 1 << " annotation " << a.id;
        }
      }
      for (int y = y0; y < y0 + side; ++y)
        for (int x = x0; x < x0 + side; ++x) {
          annotated[size_t(y) * im.width + x] = true;
          for (int c = 0; c < 3; ++c) ASSERT_EQ(im.at(x, y, c), color[c]) << x << "," << y;
        }
      auto same = [&](int x, int y) {
        return im.at(x, y, 0) == color[0] && im.at(x, y, 1) == color[1] &&
               im.at(x, y, 2) == color[2];
      };
      for (int k = -1; k <= side; ++k) {
        EXPECT_FALSE(same(x0 + k, y0 - 1));
        EXPECT_FALSE(same(x0 + k, y0 + side));
        EXPECT_FALSE(same(x0 - 1, y0 + k));
        EXPECT_FALSE(same(x0 + side, y0 + k));
      }
    }
    // Outside the annotations only the grey background: no channel far above the others.
    for (int y = 0; y < im.height; ++y)
      for (int x = 0; x < im.width; ++x) {
        if (annotated[size_t(y) * im.width + x]) continue;
        const int r = im.at(x, y, 0), g = im.at(x, y, 1), b = im.at(x, y, 2);
        ASSERT_LT(std::max({r, g, b}) - std::min({r, g, b}), 60)
            << "image " << i + 1 << " " << x << "," << y;
      }
  }
}

TEST(Squares, WrittenFilesReadBackEqual) {
  SquaresOptions o;
  o.images = 3;
  const SquaresDataset s = GenerateSquares(o);
  const auto dir = testing::ScratchDir();
  WriteSquares(s, dir / "images", dir / "annotations.json");
  const CocoDataset back = ReadCocoDataset(dir / "annotations.json");
  ASSERT_EQ(back.images.size(), 3u);
  ASSERT_EQ(back.annotations.size(), s.dataset.annotations.size());
  for (size_t i = 0; i < back.annotations.size(); ++i) {
    EXPECT_EQ(back.annotations[i].bbox, s.dataset.annotations[i].bbox);
    EXPECT_EQ(back.annotations[i].category_id, s.dataset.annotations[i].category_id);
  }
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(back.images[i].file_name, s.dataset.images[i].file_name);
    EXPECT_EQ(DecodeImageFile(dir / "images" / back.images[i].file_name), s.images[i]);
  }
}

TEST(Squares, ImpossibleOptionsAreAnError) {
  SquaresOptions o;
  o.width = 30;
  EXPECT_THROW(GenerateSquares(o), Error);
  o = {};
  o.images = 0;
  EXPECT_THROW(GenerateSquares(o), Error);
}

}  // namespace
}  // namespace lockstep
