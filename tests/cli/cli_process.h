// Running the lockstep binary as a child process under a fault: a file size limit (what `ulimit
// -f` sets), a signal after a delay, a time limit. stdout and stderr come back through pipes,
// which no file size limit touches. Shared by the CLI tests on files and faults.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "lockstep/eval/coco.h"
#include "lockstep/model/model_io.h"
#include "lockstep/pipeline/spec.h"
#include "lockstep/synthetic/squares_dataset.h"
#include "lockstep/synthetic/squares_detector.h"
#include "lockstep/synthetic/squares_spec.h"
#include "support/test_support.h"

namespace lockstep::testing {

struct Fault {
  uint64_t file_size_limit = 0;  // bytes; 0: none (RLIMIT_FSIZE, as `ulimit -f`)
  int signal = 0;                // sent after signal_after, unless the run ended
  std::chrono::milliseconds signal_after{0};
  std::chrono::seconds time_limit{60};  // then SIGKILL: a hang shows as a failure, not a stall
};

struct Outcome {
  int exit_code = -1;  // 128 + signal when killed
  std::string out, err;
  double seconds = 0;
};

inline std::string LockstepBinary() {
  const char* env = std::getenv("LOCKSTEP_CLI");
  return env && *env ? env : LOCKSTEP_CLI_DEFAULT;
}

// Runs lockstep with `args` under `fault`.
inline Outcome RunUnder(const std::vector<std::string>& args, const Fault& fault = {}) {
  int out_pipe[2], err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0 || ::pipe2(err_pipe, O_CLOEXEC) != 0) return {};
  const std::string binary = LockstepBinary();
  const auto start = std::chrono::steady_clock::now();
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(out_pipe[1], 1);
    ::dup2(err_pipe[1], 2);
    if (fault.file_size_limit) {
      rlimit limit{fault.file_size_limit, fault.file_size_limit};
      ::setrlimit(RLIMIT_FSIZE, &limit);
    }
    std::vector<char*> argv{const_cast<char*>(binary.c_str())};
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  Outcome r;
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  std::string* sinks[2] = {&r.out, &r.err};
  bool signalled = false, killed = false;
  for (int open_pipes = 2; open_pipes > 0;) {
    const auto elapsed = std::chrono::steady_clock::now() - start;
    if (fault.signal && !signalled && elapsed >= fault.signal_after) {
      ::kill(pid, fault.signal);
      signalled = true;
    }
    if (!killed && elapsed >= fault.time_limit) {
      ::kill(pid, SIGKILL);
      killed = true;
    }
    if (::poll(fds, 2, 5) < 0) break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      char buffer[4096];
      const ssize_t n = ::read(fds[i].fd, buffer, sizeof buffer);
      if (n > 0) {
        sinks[i]->append(buffer, size_t(n));
      } else {
        ::close(fds[i].fd);
        fds[i].fd = -1;
        --open_pipes;
      }
    }
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return r;
}

// The synthetic squares detector, its 40 annotated PNGs and its training spec, written once per
// test process: CLI tests that need a detector but no assets.
struct SquaresFiles {
  std::filesystem::path dir, model, images, annotations, spec;
};

inline const SquaresFiles& Squares() {
  // Removed when the test process ends.
  struct Owned {
    SquaresFiles files;
    ~Owned() {
      std::error_code ignored;
      std::filesystem::remove_all(files.dir, ignored);
    }
  };
  static const Owned owned{[] {
    SquaresFiles f;
    f.dir = ScratchBase() / ("squares-" + std::to_string(::getpid()));
    std::filesystem::remove_all(f.dir);
    std::filesystem::create_directories(f.dir);
    f.model = f.dir / "squares.tflite";
    f.images = f.dir / "images";
    f.annotations = f.dir / "annotations.json";
    f.spec = f.dir / "training_spec.json";
    WriteModelFile(BuildSquaresDetector(), f.model);
    WriteSquares(GenerateSquares(), f.images, f.annotations);
    const std::string spec = ToJson(SquaresTrainingSpec()).dump(2);
    WriteBytes(f.spec, std::vector<uint8_t>(spec.begin(), spec.end()));
    return f;
  }()};
  return owned.files;
}

}  // namespace lockstep::testing
