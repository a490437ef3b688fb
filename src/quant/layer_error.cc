#include "lockstep/quant/layer_error.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "lockstep/core/error.h"

namespace lockstep {

void LayerErrorAccumulator::Add(std::span<const float> dequantized,
                                std::span<const float> reference, const char* what) {
  if (dequantized.size() != reference.size())
    throw Error(what, "elements", std::to_string(reference.size()) + " (the reference's)",
                std::to_string(dequantized.size()));
  if (sums_.samples > 0 && sums_.elements != reference.size())
    throw Error(what, "elements", std::to_string(sums_.elements) + " (as for earlier inputs)",
                std::to_string(reference.size()));
  const size_t n = reference.size();
  double sum = 0, sum_sq = 0, max_abs = 0, ref_sq = 0;
  for (size_t i = 0; i < n; ++i) {
    const double d = double(dequantized[i]) - double(reference[i]);
    sum += d;
    sum_sq += d * d;
    max_abs = std::max(max_abs, std::fabs(d));
    ref_sq += double(reference[i]) * double(reference[i]);
  }
  const double mean = n ? sum / double(n) : 0;
  const double mse = n ? sum_sq / double(n) : 0;
  sums_.samples += 1;
  sums_.elements = n;
  sums_.mean_error += mean;
  sums_.mean_squared_error += mse;
  sums_.stddev += std::sqrt(std::max(0.0, mse - mean * mean));
  sums_.max_abs_error += max_abs;
  sums_.worst_abs_error = std::max(sums_.worst_abs_error, max_abs);
  sums_.sum_error_sq += sum_sq;
  sums_.sum_reference_sq += ref_sq;
}

LayerError LayerErrorAccumulator::Result() const {
  LayerError r = sums_;
  if (r.samples == 0) return r;
  const double k = double(r.samples);
  r.mean_error /= k;
  r.mean_squared_error /= k;
  r.stddev /= k;
  r.max_abs_error /= k;
  r.rmse = std::sqrt(r.mean_squared_error);
  if (r.sum_error_sq == 0)
    r.snr_db = std::numeric_limits<double>::infinity();
  else if (r.sum_reference_sq == 0)
    r.snr_db = -std::numeric_limits<double>::infinity();
  else
    r.snr_db = 10 * std::log10(r.sum_reference_sq / r.sum_error_sq);
  return r;
}

}  // namespace lockstep
