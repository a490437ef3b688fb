// A comparison as text, for failure messages of the tensor-compare tests.
#pragma once

#include <string>

#include "lockstep/doctor/tensor_compare.h"

namespace lockstep::testing {

inline std::string Describe(const TensorComparison& c) {
  std::string s;
  for (const Fingerprint& f : c.fingerprints)
    s += f.code + ": " + f.description + " — " + f.evidence + "\n";
  for (const std::string& n : c.notes) s += "note: " + n + "\n";
  return s;
}

}  // namespace lockstep::testing
