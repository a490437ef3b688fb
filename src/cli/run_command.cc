// lockstep run MODEL [--input FILE.npy|FILE.bin ...] [--out DIR] [--threads N] [--xnnpack]
// [--edgetpu]: one invocation on the real TFLite runtime; every output tensor saved as .npy, with
// a JSON sidecar that says what each file holds.

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "lockstep/core/atomic_file.h"
#include "lockstep/core/error.h"
#include "lockstep/core/file_read.h"
#include "lockstep/core/json_text.h"
#include "lockstep/core/npy.h"
#include "lockstep/engine/engine.h"
#include "lockstep/model/model_file.h"

namespace lockstep::cli {
namespace {

namespace fs = std::filesystem;

// Tensor names become file names: keep letters, digits, '-', '_' and '.', the rest become '_'.
std::string Sanitize(const std::string& name) {
  std::string out;
  for (char c : name) {
    bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '-' || c == '_' || c == '.';
    out += keep ? c : '_';
    if (out.size() >= 80) break;
  }
  if (out.empty() || out == "." || out == "..") out = "output";
  return out;
}

nlohmann::json QuantizationJson(const TensorView& v) {
  if (!v.quantization) return nullptr;
  const Quantization& q = *v.quantization;
  if (!q.per_channel() && q.scale.size() == 1 && q.zero_point.size() == 1)
    return {{"scale", q.scale[0]}, {"zero_point", q.zero_point[0]}};
  return {{"scale", q.scale},
          {"zero_point", q.zero_point},
          {"quantized_dimension", q.quantized_dimension}};
}

// Loads one --input file into input `i`: .npy must match dtype and shape, anything else is raw
// bytes that must match the tensor's byte size.
void FeedInput(Engine& engine, size_t i, const std::string& file) {
  // Both readers refuse what is not a regular file (a device, a FIFO) and files over the cap.
  if (fs::path(file).extension() == ".npy") {
    engine.SetInput(i, ReadNpyFile(file), file);
    return;
  }
  const std::vector<uint8_t> bytes =
      ReadFileBytes(file, kMaxTensorFileBytes, "an input tensor file (.npy or raw bytes)");
  engine.SetInput(i, bytes, file);
}

struct RunArgs {
  std::string model;
  std::vector<std::string> inputs;
  std::string out = "run_out";
  int threads = 1;
  bool xnnpack = false;
  bool edgetpu = false;
};

// One --input per model input, or none (generated data).
void CheckInputCount(const Engine& engine, const RunArgs& args) {
  const size_t n_in = engine.input_count();
  if (args.inputs.empty() || args.inputs.size() == n_in) return;
  std::string names;
  for (size_t i = 0; i < n_in; ++i) {
    TensorView v = engine.input(i);
    if (i) names += ", ";
    names += "'" + v.name + "' " + DescribeTensor(v.dtype, v.shape);
  }
  throw Error(args.model, "--input",
              std::to_string(n_in) + " file(s), one per model input (" + names + ")",
              std::to_string(args.inputs.size()));
}

// Every input set from its file or generated; what each got, for the sidecar.
nlohmann::json FeedInputs(Engine& engine, const RunArgs& args) {
  nlohmann::json inputs_json = nlohmann::json::array();
  for (size_t i = 0; i < engine.input_count(); ++i) {
    TensorView v = engine.input(i);
    std::string from;
    if (args.inputs.empty()) {
      engine.SetInput(i, GeneratedInput(v, i));
      char seed[32];
      std::snprintf(seed, sizeof seed, "%#llx", (unsigned long long)(kGeneratedInputSeed + i));
      from = std::string("generated (SplitMix64, seed ") + seed + ")";
    } else {
      FeedInput(engine, i, args.inputs[i]);
      from = args.inputs[i];
    }
    inputs_json.push_back({{"index", i},
                           {"name", v.name},
                           {"dtype", DTypeName(v.dtype)},
                           {"shape", v.shape},
                           {"source", from}});
  }
  return inputs_json;
}

// The outputs as .npy files in `out_dir`, described for the sidecar; `lines` for the terminal.
nlohmann::json WriteOutputs(const Engine& engine, const fs::path& out_dir,
                            std::vector<std::string>& lines) {
  CreateOutputFolder(out_dir, "--out");
  nlohmann::json outputs_json = nlohmann::json::array();
  for (size_t i = 0; i < engine.output_count(); ++i) {
    TensorView v = engine.output(i);
    std::string file = std::to_string(i) + "_" + Sanitize(v.name) + ".npy";
    WriteNpyFile(engine.CopyOutput(i), out_dir / file);
    outputs_json.push_back({{"index", i},
                            {"name", v.name},
                            {"dtype", DTypeName(v.dtype)},
                            {"shape", v.shape},
                            {"quantization", QuantizationJson(v)},
                            {"file", file}});
    lines.push_back("  output " + std::to_string(i) + " '" + v.name + "' " +
                    DescribeTensor(v.dtype, v.shape) + " -> " + (out_dir / file).string());
  }
  return outputs_json;
}

void PrintRun(const RunArgs& args, const EngineInfo& info, const nlohmann::json& inputs_json,
              double ms, const std::vector<std::string>& lines, const fs::path& sidecar) {
  std::cout << "model: " << args.model << " (TFLite " << info.tflite_version << ", " << info.threads
            << " thread" << (info.threads == 1 ? "" : "s") << ")\n"
            << "kernels: " << info.KernelSummary() << "\n";
  for (const auto& note : info.notes) std::cout << "note: " << note << "\n";
  for (const auto& in : inputs_json)
    std::cout << "  input " << in["index"].get<size_t>() << " '" << in["name"].get<std::string>()
              << "' <- " << in["source"].get<std::string>() << "\n";
  char timing[64];
  std::snprintf(timing, sizeof timing, "invoke: %.2f ms\n", ms);
  std::cout << timing;
  for (const auto& l : lines) std::cout << l << "\n";
  std::cout << "sidecar: " << sidecar.string() << "\n";
}

void Run(const RunArgs& args) {
  Engine engine =
      Engine::Load(LoadModelFile(args.model),
                   {.threads = args.threads, .xnnpack = args.xnnpack, .edgetpu = args.edgetpu});
  const EngineInfo& info = engine.info();
  CheckInputCount(engine, args);
  const nlohmann::json inputs_json = FeedInputs(engine, args);

  auto start = std::chrono::steady_clock::now();
  engine.Invoke();
  double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();

  const fs::path out_dir(args.out);
  std::vector<std::string> lines;
  const nlohmann::json outputs_json = WriteOutputs(engine, out_dir, lines);
  nlohmann::json sidecar = {{"schema", "lockstep.run/v1"},
                            {"model", args.model},
                            {"tflite_version", info.tflite_version},
                            {"threads", info.threads},
                            {"delegate", DelegateName(info.delegate)},
                            {"kernels", info.KernelSummary()},
                            {"notes", info.notes},
                            {"invoke_ms", ms},
                            {"inputs", inputs_json},
                            {"outputs", outputs_json}};
  WriteFileAtomically(out_dir / "run.json", JsonText(sidecar, 2) + "\n");
  PrintRun(args, info, inputs_json, ms, lines, out_dir / "run.json");
}

}  // namespace

void AddRunCommand(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<RunArgs>();
  CLI::App* cmd = app.add_subcommand(
      "run", "Invoke a model once on the TFLite runtime and save every output as .npy");
  cmd->add_option("MODEL", args->model, "a .tflite file")->required();
  cmd->add_option("--input", args->inputs,
                  "one file per model input, in order: .npy (dtype and shape must match) or raw "
                  "bytes (exactly the tensor's size); repeat --input for each. Without: "
                  "deterministic generated data")
      ->allow_extra_args(false);
  cmd->add_option("--out", args->out, "folder for the outputs and run.json")->capture_default_str();
  cmd->add_option("--threads", args->threads, "interpreter threads")->capture_default_str();
  cmd->add_flag("--xnnpack", args->xnnpack, "use the XNNPACK delegate where it can take the ops");
  cmd->add_flag("--edgetpu", args->edgetpu, "use the Edge TPU (libedgetpu.so.1)");
  cmd->callback([args, &exit_code] {
    Run(*args);
    exit_code = 0;
  });
}

}  // namespace lockstep::cli
