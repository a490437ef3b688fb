// Input files that are not regular files, or too large, or unreachable: every command exits 2
// promptly with one line naming the file and what it is; none reads /dev/zero without end, blocks
// on a FIFO, or reports an internal error.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>

#include "cli/cli_process.h"

namespace lockstep {
namespace {

namespace fs = std::filesystem;
using testing::Fault;
using testing::Outcome;
using testing::RunUnder;
using testing::ScratchDir;
using testing::Squares;

// Exit 2 within seconds, one stderr line "lockstep: ..." naming `file` and saying `found`.
void ExpectRefused(const Outcome& r, const std::string& file, const std::string& found) {
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_EQ(r.err.rfind("lockstep: " + file + ": ", 0), 0u) << r.err;
  EXPECT_NE(r.err.find(found), std::string::npos) << r.err;
  EXPECT_LT(r.seconds, 20) << r.err;
}

// A short time limit: an unbounded read or a blocked open shows as a failure, not a stall.
const Fault kQuick{.time_limit = std::chrono::seconds(20)};

std::string FirstImage() {
  std::vector<fs::path> images;
  for (const auto& e : fs::directory_iterator(Squares().images)) images.push_back(e.path());
  std::sort(images.begin(), images.end());
  return images.front().string();
}

TEST(InputFiles, DevZeroIsRefusedAsADeviceEverywhere) {
  const auto& sq = Squares();
  const fs::path dir = ScratchDir();
  ExpectRefused(RunUnder({"inspect", "/dev/zero"}, kQuick), "/dev/zero", "a character device");
  ExpectRefused(RunUnder({"preprocess", "--model", sq.model.string(), "--spec", sq.spec.string(),
                          "/dev/zero", "--out", (dir / "x.npy").string()},
                         kQuick),
                "/dev/zero", "a character device");
  ExpectRefused(RunUnder({"eval", "--model", sq.model.string(), "--spec", sq.spec.string(),
                          "--coco", "/dev/zero", "--images", sq.images.string()},
                         kQuick),
                "/dev/zero", "a character device");
  ExpectRefused(RunUnder({"preprocess", "--model", sq.model.string(), "--spec", "/dev/zero",
                          FirstImage(), "--out", (dir / "x.npy").string()},
                         kQuick),
                "/dev/zero", "a character device");
  ExpectRefused(
      RunUnder({"run", sq.model.string(), "--input", "/dev/zero", "--out", (dir / "run").string()},
               kQuick),
      "/dev/zero", "a character device");
  EXPECT_FALSE(fs::exists(dir / "x.npy"));
}

TEST(InputFiles, LabelFileDevZeroIsRefused) {
  const auto& sq = Squares();
  const fs::path dir = ScratchDir();
  nlohmann::json spec = nlohmann::json::parse(std::ifstream(sq.spec));
  spec["output"]["label_file"] = "/dev/zero";
  spec["output"].erase("labels");
  std::ofstream(dir / "spec.json") << spec.dump(2);
  ExpectRefused(RunUnder({"detect", "--model", sq.model.string(), "--spec",
                          (dir / "spec.json").string(), FirstImage()},
                         kQuick),
                "/dev/zero", "a character device");
}

TEST(InputFiles, AFifoIsRefusedWithoutBlocking) {
  const fs::path dir = ScratchDir();
  ASSERT_EQ(::mkfifo((dir / "model.tflite").c_str(), 0600), 0);
  ExpectRefused(RunUnder({"inspect", (dir / "model.tflite").string()}, kQuick),
                (dir / "model.tflite").string(), "a FIFO");
  const auto& sq = Squares();
  ASSERT_EQ(::mkfifo((dir / "image.png").c_str(), 0600), 0);
  ExpectRefused(RunUnder({"preprocess", "--model", sq.model.string(), "--spec", sq.spec.string(),
                          (dir / "image.png").string(), "--out", (dir / "x.npy").string()},
                         kQuick),
                (dir / "image.png").string(), "a FIFO");
}

// Defect 9: a directory named like an image was an internal error (basic_filebuf::underflow).
TEST(InputFiles, ADirectoryNamedLikeAnImageIsRefused) {
  const auto& sq = Squares();
  const fs::path dir = ScratchDir();
  fs::create_directories(dir / "x.jpg");
  ExpectRefused(RunUnder({"preprocess", "--model", sq.model.string(), "--spec", sq.spec.string(),
                          (dir / "x.jpg").string(), "--out", (dir / "x.npy").string()},
                         kQuick),
                (dir / "x.jpg").string(), "a directory");
}

// Defect 10: a symbolic link loop was an internal error (filesystem error: Too many levels of
// symbolic links). Given directly it is refused; inside a folder it is skipped.
TEST(InputFiles, SymbolicLinkLoopsAreRefusedOrSkipped) {
  const auto& sq = Squares();
  const fs::path dir = ScratchDir() / "images";
  fs::create_directories(dir);
  fs::copy_file(FirstImage(), dir / "a.png");
  fs::create_symlink("loop.png", dir / "loop.png");  // points at itself
  fs::create_symlink("b.jpg", dir / "c.jpg");
  fs::create_symlink("c.jpg", dir / "b.jpg");  // a loop of two
  ExpectRefused(RunUnder({"detect", "--model", sq.model.string(), "--spec", sq.spec.string(),
                          (dir / "loop.png").string()},
                         kQuick),
                (dir / "loop.png").string(), "a symbolic link loop");
  const Outcome folder = RunUnder(
      {"detect", "--model", sq.model.string(), "--spec", sq.spec.string(), dir.string()}, kQuick);
  EXPECT_EQ(folder.exit_code, 0) << folder.err;
  EXPECT_NE(folder.out.find("a.png"), std::string::npos) << folder.out;
  EXPECT_EQ(folder.out.find("loop.png"), std::string::npos) << folder.out;
  const Outcome quant = RunUnder(
      {"quant-report", sq.model.string(), "--spec", sq.spec.string(), "--images", dir.string()},
      kQuick);
  EXPECT_NE(quant.exit_code, 3) << quant.err;
  EXPECT_EQ(quant.err.find("internal error"), std::string::npos) << quant.err;
}

}  // namespace
}  // namespace lockstep
