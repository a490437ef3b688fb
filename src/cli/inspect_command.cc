// lockstep inspect MODEL [--json]: the facts that decide how a model must be fed and read.
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "lockstep/core/error.h"
#include "lockstep/core/json_text.h"
#include "lockstep/model/inspect.h"
#include "lockstep/model/model_file.h"

namespace lockstep::cli {

void AddInspectCommand(CLI::App& app, int& exit_code) {
  struct Args {
    std::string model;
    bool json = false;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand(
      "inspect",
      "Show a model's inputs, outputs, quantization, metadata, Edge TPU split and "
      "detection post-processing");
  cmd->add_option("MODEL", args->model, "a .tflite file")->required();
  cmd->add_flag("--json", args->json, "print JSON instead of text");
  cmd->callback([args, &exit_code] {
    const std::shared_ptr<const ModelFile> model = LoadModelFile(args->model);
    ModelReport report = Inspect(model->model(), model->source());
    if (args->json)
      std::cout << JsonText(ToJson(report), 2) << "\n";
    else
      std::cout << ToText(report);
    exit_code = 0;
  });
}

}  // namespace lockstep::cli
