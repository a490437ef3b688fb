#include "cli/commands.h"
#include "lockstep/error.h"

namespace lockstep::cli {

void AddDemoCommand(CLI::App& app, int& /*exit_code*/) {
  app.add_subcommand("demo", "(not yet built)")->callback([] { throw Error("demo: not yet built"); });
}

}  // namespace lockstep::cli
