#include "cli/commands.h"
#include "lockstep/error.h"

namespace lockstep::cli {

void AddBenchCommand(CLI::App& app, int& /*exit_code*/) {
  app.add_subcommand("bench", "(not yet built)")->callback([] { throw Error("bench: not yet built"); });
}

}  // namespace lockstep::cli
