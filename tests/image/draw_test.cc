// Drawing checked pixel by pixel on small canvases, and through a PNG round trip.
#include "lockstep/image/draw.h"

#include <gtest/gtest.h>

#include <set>

#include "lockstep/core/error.h"
#include "lockstep/image/decode.h"
#include "lockstep/image/encode.h"
#include "support/test_support.h"

namespace lockstep {
namespace {

Rgb At(const Image& im, int x, int y) { return {im.at(x, y, 0), im.at(x, y, 1), im.at(x, y, 2)}; }

TEST(Draw, GlyphsAreTheTable) {
  // 'A': a rounded top, the bar on row 3, legs to the bottom.
  const uint8_t* a = Glyph('A');
  EXPECT_EQ(a[0], 0b01110);
  EXPECT_EQ(a[3], 0b11111);
  EXPECT_EQ(a[6], 0b10001);
  for (int r = 0; r < 7; ++r) EXPECT_EQ(Glyph(' ')[r], 0);
  EXPECT_EQ(Glyph('\x01'), Glyph('?'));
  EXPECT_EQ(Glyph(char(200)), Glyph('?'));
  // Every printable character but the space has ink, and no two glyphs are the same.
  std::set<std::vector<uint8_t>> seen;
  for (int c = 33; c < 127; ++c) {
    const uint8_t* g = Glyph(char(c));
    std::vector<uint8_t> rows(g, g + 7);
    EXPECT_TRUE(seen.insert(rows).second) << char(c);
    int ink = 0;
    for (uint8_t r : rows) ink += r != 0;
    EXPECT_GT(ink, 0) << char(c);
  }
  EXPECT_EQ(TextWidth("abc", 2), 36);
  EXPECT_EQ(TextHeight(2), 16);
}

TEST(Draw, ClassColorsDiffer) {
  std::set<std::tuple<int, int, int>> colors;
  for (int i = 0; i < 90; ++i) {
    Rgb c = ClassColor(i);
    colors.insert({c.r, c.g, c.b});
  }
  EXPECT_EQ(colors.size(), 90u);
  Rgb a = ClassColor(0), b = ClassColor(1);
  EXPECT_GT(std::abs(a.r - b.r) + std::abs(a.g - b.g) + std::abs(a.b - b.b), 100);
}

TEST(Draw, TextPixelsFollowTheGlyph) {
  Image im(20, 10, 3);
  DrawText(im, 1, 2, "A", {255, 0, 0});
  const uint8_t* a = Glyph('A');
  for (int y = 0; y < 7; ++y)
    for (int x = 0; x < 5; ++x)
      EXPECT_EQ(im.at(1 + x, 2 + y, 0), (a[y] & (0x10 >> x)) ? 255 : 0) << x << "," << y;
  // Clipped, not out of bounds.
  DrawText(im, 17, 8, "WWW", {1, 2, 3}, 3);
  DrawText(im, -40, -40, "WWW", {1, 2, 3}, 3);
}

TEST(Draw, LabeledBoxOutlineAndLabelBackground) {
  Image im(100, 80, 3);
  const Rgb c{200, 40, 40};
  DrawLabeledBox(im, 10, 30, 60, 70, "cat 0.5", c, 2);
  // Outline: 2 pixels inside the box's bounds [10,60) x [30,70).
  EXPECT_EQ(At(im, 10, 50), c);
  EXPECT_EQ(At(im, 11, 50), c);
  EXPECT_EQ(At(im, 12, 50), (Rgb{0, 0, 0}));
  EXPECT_EQ(At(im, 59, 50), c);
  EXPECT_EQ(At(im, 60, 50), (Rgb{0, 0, 0}));
  EXPECT_EQ(At(im, 30, 69), c);
  EXPECT_EQ(At(im, 30, 35), (Rgb{0, 0, 0}));
  // Label above the box: background 9 rows high (8 + 1), text 7 x 6 + 2 wide.
  EXPECT_EQ(At(im, 10, 21), c);
  EXPECT_EQ(At(im, 10 + 43, 25), c);
  EXPECT_EQ(At(im, 10 + 44, 25), (Rgb{0, 0, 0}));
  EXPECT_EQ(At(im, 10, 20), (Rgb{0, 0, 0}));
  // White ink on this dark red: the 'c' of "cat" has ink on its second row at x = 1..3.
  EXPECT_EQ(At(im, 11 + 1, 22 + 2), (Rgb{255, 255, 255}));
  // A box at the top: the label goes inside it; one past the right edge: shifted left.
  Image top(40, 40, 3);
  DrawLabeledBox(top, 30, 0, 45, 20, "dog", {250, 250, 100}, 1);
  EXPECT_EQ(At(top, 39, 0), (Rgb{250, 250, 100}));
  EXPECT_EQ(At(top, 40 - 20, 4), (Rgb{250, 250, 100}));  // label spans 20 px from the edge
}

TEST(Draw, RefusesNonRgbAndSurvivesWildBoxes) {
  Image gray(10, 10, 1);
  EXPECT_THROW(DrawLabeledBox(gray, 0, 0, 5, 5, "x", {1, 1, 1}), Error);
  Image im(10, 10, 3);
  DrawLabeledBox(im, -1e30, -5, 1e30, 1e9, "a long label that does not fit", {9, 9, 9}, 3, 2);
  DrawLabeledBox(im, 5, 5, 5, 5, "", {9, 9, 9});
  EXPECT_EQ(At(im, 0, 9).r, 9);
}

TEST(Draw, DrawnImageSurvivesAPngRoundTrip) {
  Image im(64, 48, 3);
  DrawLabeledBox(im, 4, 20, 60, 44, "person 0.87", ClassColor(0), 2);
  const auto path = lockstep::testing::ScratchDir() / "drawn.png";
  WritePngFile(im, path);
  EXPECT_EQ(DecodeImageFile(path), im);
}

}  // namespace
}  // namespace lockstep
