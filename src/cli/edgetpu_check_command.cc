// lockstep edgetpu-check MODEL [--json]: which ops the Edge TPU compiler would map and where it
// would cut the graph (a CPU model), or what it mapped (a compiled *_edgetpu.tflite).
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "lockstep/core/error.h"
#include "lockstep/core/json_text.h"
#include "lockstep/model/edgetpu_check.h"
#include "lockstep/model/model_file.h"

namespace lockstep::cli {

void AddEdgeTpuCheckCommand(CLI::App& app, int& exit_code) {
  struct Args {
    std::string model;
    bool json = false;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand(
      "edgetpu-check",
      "Predict which ops the Edge TPU compiler maps and where it partitions the graph, or show "
      "what a compiled model runs on the TPU and the CPU");
  cmd->add_option("MODEL", args->model, "a .tflite file")->required();
  cmd->add_flag("--json", args->json, "print JSON instead of text");
  cmd->callback([args, &exit_code] {
    const std::shared_ptr<const ModelFile> model = LoadModelFile(args->model);
    EdgeTpuCheck check = CheckEdgeTpu(model->model(), model->source());
    if (args->json)
      std::cout << JsonText(ToJson(check), 2) << "\n";
    else
      std::cout << ToText(check);
    exit_code = 0;
  });
}

}  // namespace lockstep::cli
