#include "lockstep/core/atomic_file.h"

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <system_error>

#include "lockstep/core/error.h"

namespace lockstep {
namespace {

namespace fs = std::filesystem;

fs::path TemporaryBeside(const fs::path& path) {
  static std::atomic<uint64_t> counter{0};
  fs::path tmp = path;
  tmp += ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
  return tmp;
}

[[noreturn]] void Fail(const fs::path& path, const fs::path& tmp, const std::string& found) {
  std::error_code ignored;
  fs::remove(tmp, ignored);
  throw Error(path.string(), "", "a writable file", found);
}

}  // namespace

void WriteFileAtomically(const fs::path& path, std::span<const uint8_t> bytes) {
  const fs::path tmp = TemporaryBeside(path);
  std::FILE* out = std::fopen(tmp.c_str(), "wb");
  if (!out) Fail(path, tmp, std::string("none could be created: ") + std::strerror(errno));
  const bool written =
      std::fwrite(bytes.data(), 1, bytes.size(), out) == bytes.size() && std::fflush(out) == 0;
  const int write_errno = errno;
  // fclose reports what the buffered writes could not (a full disk shows here).
  if (std::fclose(out) != 0 || !written)
    Fail(path, tmp, std::string("a write error: ") + std::strerror(written ? errno : write_errno));
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) Fail(path, tmp, "rename failed: " + ec.message());
}

void WriteFileAtomically(const fs::path& path, std::string_view text) {
  WriteFileAtomically(
      path, std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
}

}  // namespace lockstep
