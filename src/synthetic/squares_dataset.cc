// The demo's image set: coloured squares on a textured grey background. Every number comes from
// one splitmix64 stream and integer arithmetic, so the pixels are the same on every platform and
// standard library (std:: distributions are not).
#include <algorithm>
#include <cstdio>

#include "lockstep/core/atomic_file.h"
#include "lockstep/core/error.h"
#include "lockstep/image/decode.h"
#include "lockstep/image/encode.h"
#include "lockstep/synthetic/squares_dataset.h"

namespace lockstep {
namespace {

class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  // Uniform in [lo, hi] (the modulo bias is immaterial at these ranges).
  int Uniform(int lo, int hi) { return lo + int(Next() % uint64_t(hi - lo + 1)); }

 private:
  uint64_t state_;
};

uint8_t Clamp8(int v) { return uint8_t(std::clamp(v, 0, 255)); }

// Grey with a slight tint, a smooth luminance texture (value noise on a 16-pixel grid,
// interpolated bilinearly in integers) and per-pixel noise. Its colour contrast stays far below
// what the detector takes for a square.
void PaintBackground(Image& image, SplitMix64& rng) {
  const int base = rng.Uniform(85, 165);
  int tint[3];
  for (int& t : tint) t = rng.Uniform(-12, 12);
  constexpr int kCell = 16;
  const int gw = image.width / kCell + 2, gh = image.height / kCell + 2;
  std::vector<int> grid(size_t(gw) * gh);
  for (int& g : grid) g = rng.Uniform(-32, 32);
  for (int y = 0; y < image.height; ++y) {
    const int gy = y / kCell, fy = (y % kCell) * 256 / kCell;
    for (int x = 0; x < image.width; ++x) {
      const int gx = x / kCell, fx = (x % kCell) * 256 / kCell;
      auto g = [&](int i, int j) { return grid[size_t(j) * gw + i]; };
      const int top = g(gx, gy) * (256 - fx) + g(gx + 1, gy) * fx;
      const int bottom = g(gx, gy + 1) * (256 - fx) + g(gx + 1, gy + 1) * fx;
      const int texture = (top * (256 - fy) + bottom * fy) / 65536;
      for (int c = 0; c < 3; ++c)
        image.at(x, y, c) = Clamp8(base + tint[c] + texture + rng.Uniform(-10, 10));
    }
  }
}

struct Square {
  int x = 0, y = 0, side = 0;
};

// Squares kept `gap` pixels apart: each one's detector window must not see a neighbour.
bool Fits(const Square& s, const std::vector<Square>& placed, int gap) {
  for (const Square& o : placed) {
    const bool apart_x = s.x + s.side + gap <= o.x || o.x + o.side + gap <= s.x;
    const bool apart_y = s.y + s.side + gap <= o.y || o.y + o.side + gap <= s.y;
    if (!apart_x && !apart_y) return false;
  }
  return true;
}

}  // namespace

std::vector<std::string> SquareLabels() { return {"red", "green", "blue"}; }

SquaresDataset GenerateSquares(const SquaresOptions& options) {
  constexpr int kMinSide = 14, kMaxSide = 38, kBorder = 2, kGap = 8;
  if (options.images < 1 || options.width < kMaxSide + 2 * kBorder ||
      options.height < kMaxSide + 2 * kBorder)
    throw Error(
        "squares options", "images, width, height",
        "at least 1 image of at least " + std::to_string(kMaxSide + 2 * kBorder) + " pixels a side",
        std::to_string(options.images) + " images of " + std::to_string(options.width) + "x" +
            std::to_string(options.height));
  SquaresDataset out;
  const std::vector<std::string> labels = SquareLabels();
  for (size_t k = 0; k < labels.size(); ++k)
    out.dataset.categories.push_back({int64_t(k) + 1, labels[k]});
  SplitMix64 rng(options.seed);
  int64_t annotation_id = 1;
  for (int i = 0; i < options.images; ++i) {
    Image image(options.width, options.height, 3);
    PaintBackground(image, rng);
    CocoImage info;
    info.id = i + 1;
    char name[32];
    std::snprintf(name, sizeof name, "squares_%03d.png", i + 1);
    info.file_name = name;
    info.width = options.width;
    info.height = options.height;
    out.dataset.images.push_back(info);

    const int wanted = rng.Uniform(1, 4);
    std::vector<Square> placed;
    for (int attempt = 0; attempt < 200 && int(placed.size()) < wanted; ++attempt) {
      Square s;
      s.side = rng.Uniform(kMinSide, kMaxSide);
      s.x = rng.Uniform(kBorder, options.width - kBorder - s.side);
      s.y = rng.Uniform(kBorder, options.height - kBorder - s.side);
      if (!Fits(s, placed, kGap)) continue;
      placed.push_back(s);
      // One channel strong, the other two weak; how far apart they are (the saturation) varies.
      const int cls = rng.Uniform(0, 2);
      uint8_t color[3];
      for (int c = 0; c < 3; ++c)
        color[c] = uint8_t(c == cls ? rng.Uniform(200, 250) : rng.Uniform(5, 60));
      for (int y = s.y; y < s.y + s.side; ++y)
        for (int x = s.x; x < s.x + s.side; ++x)
          for (int c = 0; c < 3; ++c) image.at(x, y, c) = color[c];
      CocoAnnotation a;
      a.id = annotation_id++;
      a.image_id = info.id;
      a.category_id = cls + 1;
      a.bbox = {double(s.x), double(s.y), double(s.side), double(s.side)};
      a.area = double(s.side) * s.side;
      out.dataset.annotations.push_back(a);
    }
    out.images.push_back(std::move(image));
  }
  return out;
}

void WriteSquares(const SquaresDataset& squares, const std::filesystem::path& images_dir,
                  const std::filesystem::path& annotations) {
  CreateOutputFolder(images_dir, "images");
  for (size_t i = 0; i < squares.images.size(); ++i)
    WritePngFile(squares.images[i], images_dir / squares.dataset.images.at(i).file_name);
  if (annotations.has_parent_path()) CreateOutputFolder(annotations.parent_path(), "annotations");
  WriteCocoDataset(annotations, squares.dataset);
}

}  // namespace lockstep
