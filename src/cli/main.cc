// lockstep: the command-line shell over the library. Exit codes: 0 success, 1 a check found a
// problem, 2 bad usage or bad input, 3 internal error.
#include <csignal>
#include <cstdio>
#include <exception>

#include "cli/commands.h"
#include "lockstep/core/error.h"

int main(int argc, char** argv) {
  // Past `ulimit -f` a write then fails with EFBIG, reported as an Error, instead of the signal
  // killing the process and leaving a partial file.
  std::signal(SIGXFSZ, SIG_IGN);
  CLI::App app{
      "lockstep: one checked pipeline from image to detections, for TFLite and the Edge TPU"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "lockstep 0.1.0");
  int exit_code = 0;
  lockstep::cli::AddInspectCommand(app, exit_code);
  lockstep::cli::AddSpecCommand(app, exit_code);
  lockstep::cli::AddPreprocessCommand(app, exit_code);
  lockstep::cli::AddDetectCommand(app, exit_code);
  lockstep::cli::AddRunCommand(app, exit_code);
  lockstep::cli::AddBenchCommand(app, exit_code);
  lockstep::cli::AddDemoCommand(app, exit_code);
  lockstep::cli::AddEvalCommand(app, exit_code);
  lockstep::cli::AddDoctorCommand(app, exit_code);
  lockstep::cli::AddEdgeTpuCheckCommand(app, exit_code);
  lockstep::cli::AddQuantReportCommand(app, exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : 2;
  } catch (const lockstep::Error& e) {
    std::fprintf(stderr, "lockstep: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "lockstep: internal error: %s\n", e.what());
    return 3;
  }
  return exit_code;
}
