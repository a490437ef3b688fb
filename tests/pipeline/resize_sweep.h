// The size pairs every 8-bit resize dialect is checked on against its library.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "lockstep/image/image.h"

namespace lockstep::testing {

struct SizePair {
  int sw, sh, dw, dh;
};

inline std::vector<SizePair> ResizeSweep() {
  return {
      {640, 480, 300, 300}, {1920, 1080, 300, 300}, {1280, 720, 320, 320}, {100, 80, 33, 27},
      {31, 17, 10, 9},      {7, 5, 3, 2},           {5, 4, 17, 13},        {3, 3, 300, 300},
      {37, 29, 23, 41},     {64, 48, 32, 24},       {50, 30, 25, 15},      {90, 60, 30, 20},
      {128, 128, 32, 32},   {300, 300, 200, 200},   {1, 1, 7, 5},          {1, 1, 300, 300},
      {17, 13, 1, 1},       {17, 13, 1, 13},        {17, 13, 17, 1},       {1, 300, 300, 300},
      {640, 2, 3, 3},       {2, 640, 3, 3},         {300, 1, 5, 7},        {13, 1, 26, 2},
      {20, 20, 10, 40},     {40, 10, 80, 5},        {2, 2, 1, 1},          {4, 4, 2, 2},
      {33, 33, 66, 66},     {224, 224, 224, 224},   {113, 57, 97, 61},     {41, 23, 19, 47},
  };
}

inline Image RandomImage(int w, int h, int c, uint32_t seed) {
  Image im(w, h, c);
  std::mt19937 rng(seed);
  for (auto& p : im.pixels) p = static_cast<uint8_t>(rng() & 0xff);
  return im;
}

inline std::string Describe(const SizePair& p, int c) {
  return std::to_string(p.sw) + "x" + std::to_string(p.sh) + "x" + std::to_string(c) + " -> " +
         std::to_string(p.dw) + "x" + std::to_string(p.dh);
}

// "" when equal, else where they first differ.
inline std::string FirstDifference(const Image& a, const Image& b) {
  if (a.width != b.width || a.height != b.height || a.channels != b.channels)
    return "shape differs";
  size_t diffs = 0, first = a.pixels.size();
  for (size_t i = 0; i < a.pixels.size(); ++i)
    if (a.pixels[i] != b.pixels[i]) {
      if (!diffs) first = i;
      ++diffs;
    }
  if (!diffs) return "";
  const size_t px = first / a.channels;
  return std::to_string(diffs) + " bytes differ; first at x=" + std::to_string(px % a.width) +
         " y=" + std::to_string(px / a.width) + " c=" + std::to_string(first % a.channels) +
         ": ours " + std::to_string(a.pixels[first]) + ", library " +
         std::to_string(b.pixels[first]);
}

}  // namespace lockstep::testing
