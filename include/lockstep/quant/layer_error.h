// The error of one tensor of a quantized model against a float reference, in real units, over a
// set of inputs. The per-input metrics are those of TensorFlow's QuantizationDebugger (on the
// differences d = dequantized − reference: num_elements, stddev, mean_error, max_abs_error,
// mean_squared_error), averaged over inputs as it does; RMSE and SNR are added, SNR pooled over
// all inputs: 10·log10(Σ reference² / Σ d²).
#pragma once

#include <cstddef>
#include <limits>
#include <span>

namespace lockstep {

struct LayerError {
  size_t samples = 0;                             // inputs seen
  size_t elements = 0;                            // per input (num_elements)
  double stddev = 0;                              // of d, population
  double mean_error = 0;                          // of d, signed
  double max_abs_error = 0;                       // max |d| of an input, averaged over inputs
  double mean_squared_error = 0;                  // mean d², averaged over inputs
  double rmse = 0;                                // sqrt(mean_squared_error)
  double worst_abs_error = 0;                     // max |d| over every input
  double sum_reference_sq = 0, sum_error_sq = 0;  // pooled over inputs, for the SNR
  // +inf when the error is exactly zero; -inf when the reference is all zeros but the error is not.
  double snr_db = std::numeric_limits<double>::infinity();
};

// Adds one input's pair of tensors (same element count; a lockstep::Error otherwise, naming
// `what`). `dequantized` is the tensor under test, `reference` the float one.
class LayerErrorAccumulator {
 public:
  void Add(std::span<const float> dequantized, std::span<const float> reference,
           const char* what = "tensor");
  LayerError Result() const;

 private:
  LayerError sums_;  // sums of the per-input metrics until Result() divides them
};

}  // namespace lockstep
