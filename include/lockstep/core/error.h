// One error type for every bad input: it names the file, the field, what was expected and what
// was found, so the CLI and the Python module print the same sentence.
#pragma once

#include <stdexcept>
#include <string>

namespace lockstep {

class Error : public std::runtime_error {
 public:
  // "FILE: FIELD: expected EXPECTED, found FOUND[; HINT]". Empty parts are left out.
  Error(std::string file, std::string field, std::string expected, std::string found,
        std::string hint = {});
  // A message that does not fit the file/field/expected/found shape.
  explicit Error(const std::string& message);

  const std::string& file() const { return file_; }
  const std::string& field() const { return field_; }
  const std::string& expected() const { return expected_; }
  const std::string& found() const { return found_; }

 private:
  std::string file_, field_, expected_, found_;
};

}  // namespace lockstep
