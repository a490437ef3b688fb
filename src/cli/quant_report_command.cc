// lockstep quant-report MODEL --spec S --images DIR [--max-images N] [--float F] [--json FILE]
//   [--html FILE]: per-layer quantization error against the model's float shadow.
#include <algorithm>
#include <filesystem>
#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "lockstep/core/atomic_file.h"
#include "lockstep/core/error.h"
#include "lockstep/core/json_text.h"
#include "lockstep/eval/eval_report.h"
#include "lockstep/model/model_file.h"
#include "lockstep/pipeline/spec_model.h"
#include "lockstep/quant/quant_report.h"
#include "lockstep/quant/quant_report_format.h"
#include "lockstep/run/image_files.h"

namespace lockstep::cli {
namespace fs = std::filesystem;
void AddQuantReportCommand(CLI::App& app, int& /*exit_code*/) {
  auto* cmd = app.add_subcommand(
      "quant-report", "Per-layer quantization error: the quantized model against its float shadow");
  struct Args {
    std::string model, spec, images, json, html, float_model;
    size_t max_images = 16;
    size_t rows = 30;
    double jump_db = 6;
  };
  auto a = std::make_shared<Args>();
  cmd->add_option("MODEL", a->model, "the quantized .tflite model")->required();
  cmd->add_option("--spec", a->spec, "the pipeline spec (default: derived from the model)");
  cmd->add_option("--images", a->images, "a directory of images")->required();
  cmd->add_option("--max-images", a->max_images, "the first N images by name (0: all)")
      ->capture_default_str();
  cmd->add_option("--float", a->float_model, "a real float model to compare as well");
  cmd->add_option("--json", a->json, "every layer's metrics as JSON");
  cmd->add_option("--html", a->html, "an HTML page with the per-layer SNR chart");
  cmd->add_option("--rows", a->rows, "worst layers in the terminal table")->capture_default_str();
  cmd->add_option("--jump-db", a->jump_db, "an SNR drop above this marks a jump")
      ->capture_default_str();
  cmd->callback([a] {
    const std::shared_ptr<const ModelFile> model = LoadModelFile(a->model);
    Spec spec;
    if (a->spec.empty()) {
      spec = SpecFromModel(*model);
      std::cerr << "No --spec: using the spec derived from the model\n";
    } else {
      spec = ReadSpecFile(a->spec);
    }
    std::vector<fs::path> images = ListImageFolder(a->images, "--images", a->max_images);
    QuantReportOptions options;
    options.float_model = a->float_model;
    options.jump_threshold_db = a->jump_db;
    options.progress = [](size_t done, size_t total, const std::string& name) {
      std::cerr << "\r[" << done << "/" << total << "] " << fs::path(name).filename().string()
                << "        " << (done == total ? "\n" : "") << std::flush;
    };
    std::cerr << "Preprocessing " << images.size() << " images, running " << a->model
              << " and its float shadow\n";
    QuantReport report = RunQuantReport(*model, spec, images, options);
    std::cout << QuantReportTable(report, std::min<size_t>(a->rows, 30));
    if (!a->json.empty()) {
      std::string text = JsonText(QuantReportJson(report), 1) + "\n";
      if (a->json == "-")
        std::cout << text;
      else
        WriteFileAtomically(a->json, text);
    }
    if (!a->html.empty()) WriteFileAtomically(a->html, QuantReportHtml(report));
  });
}

}  // namespace lockstep::cli
