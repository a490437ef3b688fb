#include "lockstep/core/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <system_error>

#include "lockstep/core/error.h"

namespace lockstep {
namespace {

namespace fs = std::filesystem;

// errno in a user's words.
std::string Reason(int error) {
  switch (error) {
    case ENOSPC:
      return "no space left on the device";
    case EDQUOT:
      return "disk quota exceeded";
    case EFBIG:
      return "the file size limit was reached (file too large)";
    case EACCES:
    case EPERM:
      return "permission denied";
    case EROFS:
      return "a read-only file system";
    case ENOENT:
      return "no such folder";
    case ENOTDIR:
      return "a part of the path is a file, not a folder";
    case EISDIR:
      return "a directory is in the way";
    default:
      return std::strerror(error);
  }
}

// ".tmp-<pid>-<counter>-<random>": unique within the process by the counter, across processes by
// the pid, and across pid reuse (containers, a crashed earlier run) by the random salt.
std::string UniqueSuffix() {
  static std::atomic<uint64_t> counter{0};
  static const uint64_t salt = [] {
    std::random_device device;
    return uint64_t(device()) << 32 | device();
  }();
  const uint64_t n = counter++;
  char text[80];
  std::snprintf(text, sizeof text, ".tmp-%ld-%llu-%016llx", long(::getpid()),
                static_cast<unsigned long long>(n),
                static_cast<unsigned long long>(salt ^ (n * 0x9E3779B97F4A7C15ull)));
  return text;
}

[[noreturn]] void Fail(const fs::path& path, const std::string& found) {
  throw Error(path.string(), "", "a writable output file", found);
}

// Every byte to `fd`, through short writes and interrupted calls. 0 or the errno.
int WriteAll(int fd, std::span<const uint8_t> bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno;
    if (n == 0) return ENOSPC;
    done += size_t(n);
  }
  return 0;
}

// The bytes in an unnamed file of `dir` (O_TMPFILE), then linked as `tmp`. Returns 0, or the
// errno; EOPNOTSUPP/EISDIR/EINVAL/ENOENT-from-/proc mean "use a named temporary instead".
int WriteUnnamed(const fs::path& dir, const fs::path& tmp, std::span<const uint8_t> bytes,
                 bool& unsupported) {
  unsupported = false;
  const int fd = ::open(dir.c_str(), O_TMPFILE | O_WRONLY | O_CLOEXEC, 0666);
  if (fd < 0) {
    unsupported = errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL;
    return errno;
  }
  int error = WriteAll(fd, bytes);
  if (error == 0) {
    const std::string self = "/proc/self/fd/" + std::to_string(fd);
    if (::linkat(AT_FDCWD, self.c_str(), AT_FDCWD, tmp.c_str(), AT_SYMLINK_FOLLOW) != 0) {
      error = errno;
      unsupported = error == ENOENT || error == EXDEV;  // no /proc: fall back
    }
  }
  // close reports what earlier writes could not (some file systems report a full disk here).
  if (::close(fd) != 0 && error == 0) error = errno;
  if (error != 0 && !unsupported) ::unlink(tmp.c_str());
  return error;
}

// The bytes in a new file named `tmp`. Returns 0 or the errno; `tmp` is gone on failure.
int WriteNamed(const fs::path& tmp, std::span<const uint8_t> bytes) {
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  if (fd < 0) return errno;
  int error = WriteAll(fd, bytes);
  if (::close(fd) != 0 && error == 0) error = errno;
  if (error != 0) ::unlink(tmp.c_str());
  return error;
}

}  // namespace

void WriteFileAtomically(const fs::path& path, std::span<const uint8_t> bytes) {
  const fs::path dir = path.has_parent_path() ? path.parent_path() : fs::path(".");
  fs::path tmp = path;
  tmp += UniqueSuffix();
  bool unsupported = false;
  int error = WriteUnnamed(dir, tmp, bytes, unsupported);
  if (unsupported) error = WriteNamed(tmp, bytes);
  if (error != 0) Fail(path, Reason(error));
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    error = errno;
    ::unlink(tmp.c_str());
    Fail(path, Reason(error));
  }
}

void WriteFileAtomically(const fs::path& path, std::string_view text) {
  WriteFileAtomically(
      path, std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
}

void CreateOutputFolder(const fs::path& path, const std::string& what) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) return;
  const std::string folder = path.string();
  if (fs::exists(fs::symlink_status(path, ec)) && !fs::is_directory(path, ec))
    throw Error(folder, what, "an output folder", "a file is in the way");
  fs::create_directories(path, ec);
  std::error_code again;
  if (!ec || fs::is_directory(path, again)) return;  // another run may have made it meanwhile
  // Name the first part of the path that is a file rather than a folder, if that is the cause.
  for (fs::path part = path.parent_path(); !part.empty(); part = part.parent_path()) {
    std::error_code status_ec;
    if (fs::exists(part, status_ec) && !fs::is_directory(part, status_ec))
      throw Error(folder, what, "an output folder",
                  "cannot be created: " + part.string() + " is a file");
    if (part == part.parent_path()) break;
  }
  throw Error(folder, what, "an output folder", "cannot be created: " + Reason(ec.value()));
}

}  // namespace lockstep
