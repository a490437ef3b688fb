#include "cli/commands.h"
#include "lockstep/error.h"

namespace lockstep::cli {

void AddRunCommand(CLI::App& app, int& /*exit_code*/) {
  app.add_subcommand("run", "(not yet built)")->callback([] { throw Error("run: not yet built"); });
}

}  // namespace lockstep::cli
