#include "cli/commands.h"
#include "lockstep/error.h"

namespace lockstep::cli {

void AddInspectCommand(CLI::App& app, int& /*exit_code*/) {
  app.add_subcommand("inspect", "(not yet built)")->callback([] { throw Error("inspect: not yet built"); });
}

}  // namespace lockstep::cli
