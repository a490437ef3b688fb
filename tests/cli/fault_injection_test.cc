// Every command that writes files, under the faults a user meets: a full disk (a file size limit,
// as `ulimit -f` sets, and a small tmpfs), a read-only or impossible output folder, SIGINT and
// SIGKILL mid-run, and three runs writing into one folder at once. Each leaves every output
// complete or absent (no temporary, no empty or cut file) and, when it fails, exits 2 with one
// clear line. Self-contained: the synthetic squares detector and images.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "cli/cli_process.h"
#include "lockstep/core/error.h"
#include "lockstep/core/npy.h"
#include "lockstep/image/decode.h"
#include "lockstep/model/model_io.h"

namespace lockstep {
namespace {

namespace fs = std::filesystem;
using testing::Fault;
using testing::Outcome;
using testing::RunUnder;
using testing::ScratchDir;
using testing::Squares;
using Args = std::vector<std::string>;

// A command writing into `out` (the place under test); `ok` takes its other outputs.
struct Writer {
  const char* name;
  Args (*args)(const fs::path& out, const fs::path& ok);
};

std::string S(const fs::path& p) { return p.string(); }
Args Model() { return {"--model", S(Squares().model), "--spec", S(Squares().spec)}; }
Args Join(Args a, const Args& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}
std::string FirstImage() { return S(Squares().images / "squares_001.png"); }
Args Eval() {
  return Join(Join({"eval"}, Model()), {"--coco", S(Squares().annotations), "--images",
                                        S(Squares().images), "--max-images", "8"});
}
Args Doctor() {
  const auto& sq = Squares();
  return {"doctor",       "--model",  S(sq.model),  "--train-spec", S(sq.spec), "--deploy-spec",
          S(sq.spec),     "--images", S(sq.images), "--max-images", "4",        "--no-attribution",
          "--no-what-ifs"};
}
// The squares detector ends in ops the float shadow does not model (LOG), so quant-report runs a
// small real classifier from the assets; without them its rows are left out (empty arguments).
Args Quant() {
  if (testing::AssetsDir().empty()) return {};
  return {"quant-report",
          S(testing::AssetsDir() / "models/classification/mobilenet_v1_0.25_128_quant.tflite"),
          "--images",
          S(Squares().images),
          "--max-images",
          "2"};
}
Args Detect() { return Join(Join({"detect"}, Model()), {S(Squares().images)}); }

const Writer kWriters[] = {
    {"spec from-model --out",
     [](const fs::path& out, const fs::path&) -> Args {
       return {"spec", "from-model", S(Squares().model), "--out", S(out / "spec.json")};
     }},
    {"preprocess --out",
     [](const fs::path& out, const fs::path&) {
       return Join(Join({"preprocess"}, Model()), {FirstImage(), "--out", S(out / "x.npy")});
     }},
    {"preprocess --trace",
     [](const fs::path& out, const fs::path& ok) {
       return Join(Join({"preprocess"}, Model()),
                   {FirstImage(), "--out", S(ok / "x.npy"), "--trace", S(out / "trace")});
     }},
    {"run --out",
     [](const fs::path& out, const fs::path&) -> Args {
       return {"run", S(Squares().model), "--out", S(out / "run")};
     }},
    {"detect --json",
     [](const fs::path& out, const fs::path&) {
       return Join(Detect(), {"--json", S(out / "d.jsonl")});
     }},
    {"detect --draw",
     [](const fs::path& out, const fs::path&) {
       return Join(Detect(), {"--draw", S(out / "draw")});
     }},
    {"detect --coco-results",
     [](const fs::path& out, const fs::path&) {
       return Join(Detect(),
                   {"--coco", S(Squares().annotations), "--coco-results", S(out / "r.json")});
     }},
    {"eval --json",
     [](const fs::path& out, const fs::path&) {
       return Join(Eval(), {"--json", S(out / "e.json")});
     }},
    {"eval --detections",
     [](const fs::path& out, const fs::path&) {
       return Join(Eval(), {"--detections", S(out / "dets.json")});
     }},
    {"eval --report",
     [](const fs::path& out, const fs::path&) {
       return Join(Eval(), {"--report", S(out / "report")});
     }},
    {"doctor --json",
     [](const fs::path& out, const fs::path&) {
       return Join(Doctor(), {"--json", S(out / "doc.json")});
     }},
    {"doctor --html",
     [](const fs::path& out, const fs::path&) {
       return Join(Doctor(), {"--html", S(out / "doc.html")});
     }},
    {"quant-report --json",
     [](const fs::path& out, const fs::path&) {
       return Quant().empty() ? Args{} : Join(Quant(), {"--json", S(out / "q.json")});
     }},
    {"quant-report --html",
     [](const fs::path& out, const fs::path&) {
       return Quant().empty() ? Args{} : Join(Quant(), {"--html", S(out / "q.html")});
     }},
    {"demo --out",
     [](const fs::path& out, const fs::path&) -> Args {
       return {"demo", "--out", S(out / "demo")};
     }},
};

std::string Text(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Whether `file` is a whole file of its kind: it parses, or ends as its format ends.
std::string Incomplete(const fs::path& file) {
  const std::string ext = file.extension().string(), name = file.filename().string();
  if (name.find(".tmp-") != std::string::npos || name.find(".partial") != std::string::npos)
    return "a temporary file left behind";
  if (fs::file_size(file) == 0) return "an empty file";
  try {
    if (ext == ".json") {
      if (!nlohmann::json::accept(Text(file))) return "cut JSON";
    } else if (ext == ".jsonl") {
      std::istringstream lines(Text(file));
      for (std::string line; std::getline(lines, line);)
        if (!nlohmann::json::accept(line)) return "a cut JSON line";
    } else if (ext == ".npy") {
      ReadNpyFile(file);
    } else if (ext == ".png") {
      DecodeImageFile(file);
    } else if (ext == ".tflite") {
      ReadModelFile(file);
    } else if (ext == ".html") {
      const std::string t = Text(file);
      if (t.size() < 8 || t.compare(t.size() - 8, 8, "</html>\n") != 0) return "cut HTML";
    } else if (ext == ".svg") {
      if (Text(file).find("</svg>") == std::string::npos) return "cut SVG";
    }
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

// Every file under `root` complete; returns how many there are.
size_t ExpectOnlyCompleteFiles(const fs::path& root, const std::string& what) {
  size_t files = 0;
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    if (!e.is_regular_file()) continue;
    ++files;
    const std::string problem = Incomplete(e.path());
    EXPECT_EQ(problem, "") << what << ": " << e.path();
  }
  return files;
}

// Exit 2; exactly one stderr line starts "lockstep: ", it is the last one and says `reason`.
void ExpectOneClearLine(const Outcome& r, const std::string& reason, const std::string& what) {
  EXPECT_EQ(r.exit_code, 2) << what << "\n" << r.err;
  std::vector<std::string> lines;
  std::istringstream in(r.err);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  const auto ours = std::count_if(lines.begin(), lines.end(), [](const std::string& l) {
    return l.rfind("lockstep: ", 0) == 0;
  });
  EXPECT_EQ(ours, 1) << what << "\n" << r.err;
  ASSERT_FALSE(lines.empty()) << what;
  EXPECT_EQ(lines.back().rfind("lockstep: ", 0), 0u) << what << "\n" << r.err;
  EXPECT_NE(lines.back().find(reason), std::string::npos) << what << "\n" << r.err;
  EXPECT_EQ(r.err.find("internal error"), std::string::npos) << what << "\n" << r.err;
}

// A tmpfs mounted for one test, unmounted on every way out. Needs root and mount rights.
class Tmpfs {
 public:
  Tmpfs(const fs::path& at, const std::string& options) : at_(at) {
    fs::create_directories(at);
    const std::string cmd =
        "mount -t tmpfs -o " + options + " lockstep-test '" + at.string() + "' 2>/dev/null";
    mounted_ = ::geteuid() == 0 && std::system(cmd.c_str()) == 0;
  }
  ~Tmpfs() {
    if (mounted_) std::system(("umount -l '" + at_.string() + "'").c_str());
  }
  bool mounted() const { return mounted_; }

 private:
  fs::path at_;
  bool mounted_ = false;
};

TEST(FaultInjection, EveryWriterWorksWithoutFaults) {
  for (const Writer& w : kWriters) {
    const fs::path dir = ScratchDir() / "out";
    fs::create_directories(dir);
    if (w.args(dir, dir).empty()) continue;  // needs the assets
    const Outcome r = RunUnder(w.args(dir, dir));
    EXPECT_EQ(r.exit_code, 0) << w.name << "\n" << r.err;
    EXPECT_GT(ExpectOnlyCompleteFiles(dir, w.name), 0u) << w.name;
  }
}

// A full disk as `ulimit -f` makes it: past 256 bytes a write fails (EFBIG; SIGXFSZ would kill).
TEST(FaultInjection, FileSizeLimitIsOneClearLineAndNoCutFile) {
  for (const Writer& w : kWriters) {
    const fs::path dir = ScratchDir();
    if (w.args(dir, dir).empty()) continue;  // needs the assets
    const Outcome r = RunUnder(w.args(dir, dir), {.file_size_limit = 256});
    ExpectOneClearLine(r, "file too large", w.name);
    ExpectOnlyCompleteFiles(dir, w.name);
  }
}

// A full disk for real: a 16 KiB tmpfs. Small outputs may fit; what does not is an error.
TEST(FaultInjection, FullTmpfsIsOneClearLineAndNoCutFile) {
  const fs::path dir = ScratchDir();
  for (const Writer& w : kWriters) {
    Tmpfs full(dir / "full", "size=16k");
    if (!full.mounted()) GTEST_SKIP() << "cannot mount a tmpfs here (needs root)";
    const fs::path ok = dir / "ok";
    fs::create_directories(ok);
    if (w.args(dir, dir).empty()) continue;  // needs the assets
    const Outcome r = RunUnder(w.args(dir / "full", ok));
    if (r.exit_code != 0) ExpectOneClearLine(r, "no space left on the device", w.name);
    ExpectOnlyCompleteFiles(dir / "full", w.name);
  }
}

// An output folder that cannot be: below a regular file (works as root, where chmod does not).
TEST(FaultInjection, OutputBelowAFileIsOneClearLine) {
  const fs::path dir = ScratchDir();
  std::ofstream(dir / "file") << "a file, not a folder";
  for (const Writer& w : kWriters) {
    if (w.args(dir, dir).empty()) continue;  // needs the assets
    const Outcome r = RunUnder(w.args(dir / "file", dir));
    ExpectOneClearLine(r, "is a file", w.name);
    EXPECT_EQ(Text(dir / "file"), "a file, not a folder") << w.name;
  }
}

// A read-only folder: chmod 0555 for a user; as root (who writes anyway) a read-only tmpfs.
TEST(FaultInjection, ReadOnlyFolderIsOneClearLine) {
  const fs::path dir = ScratchDir();
  const fs::path ro = dir / "ro";
  std::string reason = "permission denied";
  std::unique_ptr<Tmpfs> mount;
  if (::geteuid() == 0) {
    mount = std::make_unique<Tmpfs>(ro, "ro,size=64k");
    if (!mount->mounted()) GTEST_SKIP() << "running as root and cannot mount a read-only tmpfs";
    reason = "a read-only file system";
  } else {
    fs::create_directories(ro);
    fs::permissions(ro, fs::perms::owner_read | fs::perms::owner_exec);
  }
  for (const Writer& w : kWriters) {
    if (w.args(dir, dir).empty()) continue;  // needs the assets
    const Outcome r = RunUnder(w.args(ro, dir));
    ExpectOneClearLine(r, reason, w.name);
    EXPECT_TRUE(fs::is_empty(ro)) << w.name;
  }
  if (!mount) fs::permissions(ro, fs::perms::owner_all);
}

// SIGINT and SIGKILL at several moments of longer runs: the demo (about 2 s; it writes a model,
// 40 images, specs and an HTML report along the way) and an eval of three specs. What they leave
// is whole or absent.
TEST(FaultInjection, InterruptedRunsLeaveWholeFilesOrNone) {
  struct Run {
    Args (*args)(const fs::path& dir);
    std::vector<int> after_ms;
  };
  const Run runs[] = {
      {[](const fs::path& dir) -> Args {
         return {"demo", "--out", S(dir / "demo")};
       },
       {20, 80, 200, 500, 1100}},
      {[](const fs::path& dir) {
         const auto& sq = Squares();
         return Join(Join({"eval"}, Model()),
                     {"--spec", S(sq.spec), "--spec", S(sq.spec), "--coco", S(sq.annotations),
                      "--images", S(sq.images), "--json", S(dir / "e.json"), "--detections",
                      S(dir / "dets.json"), "--report", S(dir / "report")});
       },
       {40, 150, 300}},
  };
  for (const Run& run : runs)
    for (int signal : {SIGINT, SIGKILL})
      for (int ms : run.after_ms) {
        const fs::path dir = ScratchDir();
        const Args args = run.args(dir);
        const Outcome r =
            RunUnder(args, {.signal = signal, .signal_after = std::chrono::milliseconds(ms)});
        const std::string what = args[0] + (signal == SIGINT ? ", SIGINT" : ", SIGKILL") +
                                 " after " + std::to_string(ms) + " ms";
        EXPECT_TRUE(r.exit_code == 0 || r.exit_code == 128 + signal)
            << what << ": " << r.exit_code << "\n"
            << r.err;
        ExpectOnlyCompleteFiles(dir, what);
      }
}

// Three runs of each command at once into one folder: all succeed, every file whole.
TEST(FaultInjection, ThreeConcurrentWritersIntoOneFolder) {
  for (const Writer& w : kWriters) {
    if (std::string(w.name) == "demo --out") continue;  // a whole story; slow three times over
    const fs::path dir = ScratchDir();
    if (w.args(dir, dir).empty()) continue;  // needs the assets
    Outcome results[3];
    std::vector<std::thread> runs;
    for (Outcome& r : results)
      runs.emplace_back([&r, &w, &dir] { r = RunUnder(w.args(dir, dir)); });
    for (std::thread& t : runs) t.join();
    for (const Outcome& r : results) EXPECT_EQ(r.exit_code, 0) << w.name << "\n" << r.err;
    EXPECT_GT(ExpectOnlyCompleteFiles(dir, w.name), 0u) << w.name;
  }
}

}  // namespace
}  // namespace lockstep
