// ReadFileBytes reads regular files only, within a cap, and never blocks; WriteFileAtomically
// leaves a complete file or none; CreateOutputFolder names why a folder cannot be made.
#include "lockstep/core/file_read.h"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <string>

#include "lockstep/core/atomic_file.h"
#include "lockstep/core/error.h"
#include "support/test_support.h"

namespace lockstep {
namespace {

namespace fs = std::filesystem;
using testing::ScratchDir;
using testing::WriteBytes;

std::string ReadError(const fs::path& path, uint64_t cap = kMaxImageFileBytes) {
  try {
    ReadFileBytes(path, cap, "an image file");
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

TEST(ReadFileBytes, ReadsARegularFileWhole) {
  const fs::path file = ScratchDir() / "a.bin";
  std::vector<uint8_t> bytes(70000);
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = uint8_t(i * 31);
  WriteBytes(file, bytes);
  EXPECT_EQ(ReadFileBytes(file, 70000, "a file"), bytes);
  EXPECT_EQ(ReadFileText(file, 70000, "a file").size(), 70000u);
  WriteBytes(file, {});
  EXPECT_TRUE(ReadFileBytes(file, 10, "a file").empty());
}

TEST(ReadFileBytes, RefusesDevicesDirectoriesAndMissingFiles) {
  EXPECT_EQ(ReadError("/dev/zero"), "/dev/zero: expected an image file, found a character device");
  const fs::path dir = ScratchDir() / "x.jpg";
  fs::create_directories(dir);
  EXPECT_EQ(ReadError(dir), dir.string() + ": expected an image file, found a directory");
  EXPECT_EQ(ReadError(dir / "nope.jpg"),
            (dir / "nope.jpg").string() + ": expected an image file, found no such file");
}

TEST(ReadFileBytes, RefusesAFifoWithoutBlocking) {
  const fs::path fifo = ScratchDir() / "pipe.jpg";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(ReadError(fifo), fifo.string() + ": expected an image file, found a FIFO (named pipe)");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST(ReadFileBytes, RefusesAFileOverTheCapNamingCapAndSize) {
  const fs::path file = ScratchDir() / "big.json";
  WriteBytes(file, std::vector<uint8_t>(3 * 1024 * 1024 + 1, '['));
  EXPECT_EQ(ReadError(file, uint64_t{3} << 20),
            file.string() + ": expected an image file of at most 3 MiB, found 3145729 bytes");
  EXPECT_EQ(ReadFileBytes(file, uint64_t{4} << 20, "x").size(), 3145729u);
}

std::vector<std::string> FolderEntries(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

TEST(WriteFileAtomically, ReplacesTheTargetAndLeavesNoTemporary) {
  const fs::path dir = ScratchDir();
  WriteFileAtomically(dir / "out.json", std::string_view("old"));
  WriteFileAtomically(dir / "out.json", std::string_view("new text"));
  EXPECT_EQ(ReadFileText(dir / "out.json", 100, "x"), "new text");
  EXPECT_EQ(FolderEntries(dir), std::vector<std::string>{"out.json"});
}

// Past the file size limit (ulimit -f) the write fails with EFBIG: an Error naming the file, and
// the old content stays; nothing else is left in the folder.
TEST(WriteFileAtomically, AFileSizeLimitIsAnErrorAndLeavesTheOldFile) {
  const fs::path dir = ScratchDir();
  WriteFileAtomically(dir / "out.bin", std::string_view("old"));
  std::signal(SIGXFSZ, SIG_IGN);
  rlimit old_limit{};
  ::getrlimit(RLIMIT_FSIZE, &old_limit);
  rlimit small = old_limit;
  small.rlim_cur = 4096;
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &small), 0);
  std::string message = "no error";
  try {
    WriteFileAtomically(dir / "out.bin", std::vector<uint8_t>(100000, 7));
  } catch (const Error& e) {
    message = e.what();
  }
  ::setrlimit(RLIMIT_FSIZE, &old_limit);
  std::signal(SIGXFSZ, SIG_DFL);
  EXPECT_EQ(message, (dir / "out.bin").string() +
                         ": expected a writable output file, found the file size limit was "
                         "reached (file too large)");
  EXPECT_EQ(ReadFileText(dir / "out.bin", 100, "x"), "old");
  EXPECT_EQ(FolderEntries(dir), std::vector<std::string>{"out.bin"});
}

TEST(CreateOutputFolder, NamesAFileInTheWay) {
  const fs::path dir = ScratchDir();
  WriteBytes(dir / "file", {1});
  try {
    CreateOutputFolder(dir / "file" / "sub", "--draw");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), (dir / "file" / "sub").string() +
                                         ": --draw: expected an output folder, found cannot be "
                                         "created: " +
                                         (dir / "file").string() + " is a file");
  }
  try {
    CreateOutputFolder(dir / "file", "--out");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("a file is in the way"), std::string::npos) << e.what();
  }
  CreateOutputFolder(dir / "a" / "b", "--out");
  EXPECT_TRUE(fs::is_directory(dir / "a" / "b"));
}

}  // namespace
}  // namespace lockstep
