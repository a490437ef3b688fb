#include "lockstep/core/error.h"

namespace lockstep {
namespace {

std::string Compose(const std::string& file, const std::string& field, const std::string& expected,
                    const std::string& found, const std::string& hint) {
  std::string m;
  auto part = [&m](const std::string& s) {
    if (s.empty()) return;
    if (!m.empty()) m += ": ";
    m += s;
  };
  part(file);
  part(field);
  std::string what;
  if (!expected.empty()) what = "expected " + expected;
  if (!found.empty()) what += (what.empty() ? "found " : ", found ") + found;
  part(what);
  if (!hint.empty()) m += "; " + hint;
  return m;
}

}  // namespace

Error::Error(std::string file, std::string field, std::string expected, std::string found,
             std::string hint)
    : std::runtime_error(Compose(file, field, expected, found, hint)),
      file_(std::move(file)),
      field_(std::move(field)),
      expected_(std::move(expected)),
      found_(std::move(found)) {}

Error::Error(const std::string& message) : std::runtime_error(message) {}

}  // namespace lockstep
