// One thing a check found: a stable code, how bad it is, the field, both values, what it costs
// and how to fix it. Spec checks and the doctor speak in these.
#pragma once

#include <string>
#include <vector>

namespace lockstep {

enum class Severity { kInfo, kWarning, kError };

struct Finding {
  std::string code;  // stable, e.g. "input_size_mismatch"
  Severity severity = Severity::kWarning;
  std::string field;     // JSON path in the spec, "$.tensor.width"
  std::string expected;  // what the model (or training) says
  std::string found;     // what the spec (or deployment) says
  std::string consequence;
  std::string fix;
  // The spec cannot run on the model at all (the tensor cannot be fed or the outputs cannot be
  // read), as opposed to a difference that only costs accuracy. Set where the finding is made.
  bool blocking = false;
};

std::string_view SeverityName(Severity s);
bool HasErrors(const std::vector<Finding>& findings);

}  // namespace lockstep
