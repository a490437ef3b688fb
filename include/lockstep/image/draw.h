// Labelled boxes drawn onto an RGB image, with a built-in 5x7 bitmap font (ASCII 32..126) so a
// result can be looked at without any font library. Everything is clipped to the image.
#pragma once

#include <cstdint>
#include <string_view>

#include "lockstep/image/image.h"

namespace lockstep {

struct Rgb {
  uint8_t r = 0, g = 0, b = 0;
  bool operator==(const Rgb&) const = default;
};

// A colour per class, well apart for neighbouring indices (hues stepped by the golden ratio).
Rgb ClassColor(int class_index);

// The 5x7 glyph of an ASCII character as 7 rows, bit 4 the leftmost pixel; '?' outside 32..126.
const uint8_t* Glyph(char c);

// Text cells are 6x8 pixels (glyph plus one pixel of spacing) times `scale`.
int TextWidth(std::string_view text, int scale = 1);
int TextHeight(int scale = 1);

// Fills [x0,x1) × [y0,y1). Images must have 3 channels (RGB) — an Error otherwise.
void FillRect(Image& image, int x0, int y0, int x1, int y1, Rgb color);
// Text with its top-left cell corner at (x, y), glyph pixels only (no background).
void DrawText(Image& image, int x, int y, std::string_view text, Rgb color, int scale = 1);

// A box outline of `thickness` pixels inside the box's bounds (corners in pixel coordinates,
// 0..width), with `text` on a filled background of the box colour: above the box when there is
// room, else just inside its top; shifted left to stay in the image.
void DrawLabeledBox(Image& image, double xmin, double ymin, double xmax, double ymax,
                    std::string_view text, Rgb color, int thickness = 2, int scale = 1);

}  // namespace lockstep
