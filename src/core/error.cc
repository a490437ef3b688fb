#include "lockstep/core/error.h"

#include "lockstep/core/utf8.h"

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
  // What was found may be any bytes; the message goes to terminals, JSON and Python str.
  return ValidUtf8(m);
}

}  // namespace

Error::Error(std::string file, std::string field, std::string expected, std::string found,
             std::string hint)
    : std::runtime_error(Compose(file, field, expected, found, hint)),
      file_(ValidUtf8(file)),
      field_(ValidUtf8(field)),
      expected_(ValidUtf8(expected)),
      found_(ValidUtf8(found)) {}

Error::Error(const std::string& message) : std::runtime_error(ValidUtf8(message)) {}

}  // namespace lockstep
