// ResizeRows (the streamed resize the fused quantizer reads) against Resize, whose bytes the
// dialect tests prove equal to OpenCV's and Pillow's.
#include <gtest/gtest.h>

#include "lockstep/core/error.h"
#include "lockstep/pipeline/resize.h"
#include "pipeline/resize_sweep.h"

namespace lockstep {
namespace {

using testing::Describe;

TEST(ResizeRows, GivesResizesRowsInOrder) {
  const std::pair<ResizeDialect, Interpolation> kinds[] = {
      {ResizeDialect::kOpenCV, Interpolation::kBilinear},
      {ResizeDialect::kOpenCV, Interpolation::kArea},
      {ResizeDialect::kOpenCV, Interpolation::kNearest},
      {ResizeDialect::kPillow, Interpolation::kBilinear},
      {ResizeDialect::kPillow, Interpolation::kBicubic},
      {ResizeDialect::kPillow, Interpolation::kNearest}};
  int images = 0;
  for (const auto& p : testing::ResizeSweep())
    for (int c : {1, 2, 3, 4})
      for (auto [dialect, interpolation] : kinds) {
        const Image in = testing::RandomImage(p.sw, p.sh, c, uint32_t(p.sw * 31 + p.sh + c));
        ResizeSpec spec;
        spec.dialect = dialect;
        spec.interpolation = interpolation;
        const Image whole = Resize(in, p.dw, p.dh, spec);
        Image rows(p.dw, p.dh, c);
        int next = 0;
        ResizeRows(in, p.dw, p.dh, spec, [&](int y, const uint8_t* row) {
          ASSERT_EQ(y, next++);
          std::copy_n(row, size_t(p.dw) * c, rows.row(y));
        });
        ASSERT_EQ(next, p.dh) << Describe(p, c);
        ASSERT_EQ(rows, whole) << Name(dialect) << " " << Name(interpolation) << " "
                               << Describe(p, c);
        ++images;
      }
  EXPECT_EQ(images, 32 * 4 * 6);
}

TEST(ResizeRows, ChecksTheRequestAsResizeDoes) {
  ResizeSpec spec;
  spec.dialect = ResizeDialect::kTf;
  EXPECT_THROW(ResizeRows(Image(4, 4, 3), 2, 2, spec, [](int, const uint8_t*) {}), Error);
  spec.dialect = ResizeDialect::kOpenCV;
  EXPECT_THROW(ResizeRows(Image(4, 4, 3), 0, 2, spec, [](int, const uint8_t*) {}), Error);
}

}  // namespace
}  // namespace lockstep
