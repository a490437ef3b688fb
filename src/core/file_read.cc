#include "lockstep/core/file_read.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "lockstep/core/error.h"

namespace lockstep {
namespace {

std::string KindOf(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO (named pipe)";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

std::string Reason(int error) {
  switch (error) {
    case ENOENT:
      return "no such file";
    case EACCES:
    case EPERM:
      return "permission denied";
    case ENOTDIR:
      return "no such file (a part of the path is not a folder)";
    case ELOOP:
      return "a symbolic link loop";
    default:
      return std::strerror(error);
  }
}

std::string Size(uint64_t bytes) {
  if (bytes % (uint64_t{1} << 30) == 0) return std::to_string(bytes >> 30) + " GiB";
  if (bytes % (uint64_t{1} << 20) == 0) return std::to_string(bytes >> 20) + " MiB";
  return std::to_string(bytes) + " bytes";
}

// Closes the descriptor on every way out.
struct Fd {
  int fd;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

std::vector<uint8_t> ReadFileBytes(const std::filesystem::path& path, uint64_t max_bytes,
                                   const std::string& what) {
  const std::string file = path.string();
  // stat first, so a device or FIFO is never opened; O_NONBLOCK covers a swap in between.
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) throw Error(file, "", what, Reason(errno));
  if (!S_ISREG(st.st_mode)) throw Error(file, "", what, KindOf(st.st_mode));
  Fd in{::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)};
  if (in.fd < 0) throw Error(file, "", what, Reason(errno));
  if (::fstat(in.fd, &st) != 0) throw Error(file, "", what, Reason(errno));
  if (!S_ISREG(st.st_mode)) throw Error(file, "", what, KindOf(st.st_mode));
  const uint64_t size = uint64_t(st.st_size);
  const std::string too_big = what + " of at most " + Size(max_bytes);
  if (size > max_bytes) throw Error(file, "", too_big, std::to_string(size) + " bytes");
  std::vector<uint8_t> bytes(size_t(size) + 1);  // one spare byte shows a file that grew
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::read(in.fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw Error(file, "", what, std::string("a read error: ") + std::strerror(errno));
    if (n == 0) break;
    done += size_t(n);
    // A file that grew while read (a log, /proc): more room, up to one byte past the cap.
    if (done == bytes.size() && done <= max_bytes)
      bytes.resize(size_t(std::min<uint64_t>(uint64_t(done) * 2, max_bytes + 1)));
  }
  if (done > max_bytes) throw Error(file, "", too_big, "a file that grew past it while read");
  bytes.resize(done);
  return bytes;
}

std::string ReadFileText(const std::filesystem::path& path, uint64_t max_bytes,
                         const std::string& what) {
  const std::vector<uint8_t> bytes = ReadFileBytes(path, max_bytes, what);
  return std::string(bytes.begin(), bytes.end());
}

}  // namespace lockstep
