// lockstep preprocess --model M [--spec S] IMAGE --out x.npy [--trace DIR]
#include <filesystem>
#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "lockstep/core/atomic_file.h"
#include "lockstep/core/error.h"
#include "lockstep/core/npy.h"
#include "lockstep/image/decode.h"
#include "lockstep/image/encode.h"
#include "lockstep/model/model_file.h"
#include "lockstep/pipeline/source_image.h"
#include "lockstep/pipeline/spec_model.h"

namespace lockstep::cli {
namespace fs = std::filesystem;

void AddPreprocessCommand(CLI::App& app, int& /*exit_code*/) {
  auto* cmd = app.add_subcommand(
      "preprocess", "Write the exact input tensor the model gets for an image (and every stage)");
  struct Args {
    std::string model_path, spec_path, image_path, out_path, trace_dir;
    bool reference = false;
    int64_t max_pixels = DecodeOptions{}.max_pixels;
  };
  auto a = std::make_shared<Args>();
  cmd->add_option("--model", a->model_path, "the .tflite model")->required();
  cmd->add_option("--spec", a->spec_path, "the pipeline spec (default: derived from the model)");
  cmd->add_option("IMAGE", a->image_path, "a JPEG, PNG or BMP image")->required();
  cmd->add_option("--out", a->out_path, "the tensor as .npy")->required();
  cmd->add_option("--trace", a->trace_dir, "write every stage here (.npy, and .png for images)");
  cmd->add_flag("--reference", a->reference, "compute every stage in float (no fused lookup)");
  cmd->add_option("--max-pixels", a->max_pixels, "refuse larger images (decompression bombs)");
  cmd->callback([a] {
    const auto& [model_path, spec_path, image_path, out_path, trace_dir, reference, max_pixels] =
        *a;
    const std::shared_ptr<const ModelFile> model = LoadModelFile(model_path);
    ModelInput input = ModelInputOf(model->model(), model->source());
    Spec spec;
    if (spec_path.empty()) {
      spec = SpecFromModel(*model);
      std::cerr << "No --spec: using the spec derived from the model; its assumptions:\n";
      for (const auto& p : spec.provenance)
        if (!p.fact) std::cerr << "  " << p.field << ": " << p.reason << "\n";
    } else {
      spec = ReadSpecFile(spec_path);
    }
    Image image = DecodeSourceImage(image_path, spec, max_pixels);
    Preprocessed p =
        Preprocess(image, spec, input, {.trace = !trace_dir.empty(), .fused = !reference});
    WriteNpyFile(p.tensor, out_path);
    const Transform& t = p.transform;
    std::cout << image_path << " " << image.width << "x" << image.height << " -> "
              << DTypeName(p.tensor.dtype) << " tensor, content at (" << t.content.x << ","
              << t.content.y << ") " << t.content.width << "x" << t.content.height << " of "
              << t.target_width << "x" << t.target_height << ", written to " << out_path << "\n";
    if (trace_dir.empty()) return;
    CreateOutputFolder(trace_dir, "--trace");
    for (size_t i = 0; i < p.trace.size(); ++i) {
      const Stage& s = p.trace[i];
      std::string base = (fs::path(trace_dir) / (std::to_string(i) + "_" + s.name)).string();
      WriteNpyFile(s.data, base + ".npy");
      if (s.data.dtype == DType::kUInt8 && s.data.shape.size() == 3) {
        Image pic(s.data.shape[1], s.data.shape[0], s.data.shape[2]);
        pic.pixels = s.data.bytes;
        WritePngFile(pic, base + ".png");
      }
      std::cout << "  " << base << ".npy\n";
    }
  });
}

}  // namespace lockstep::cli
