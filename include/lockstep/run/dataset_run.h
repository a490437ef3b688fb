// A detector run over an annotated image set: the images checked before any inference, a
// DetectorPool on the loaded model, detections as COCO results in image order (so the thread
// count never changes a number). `lockstep eval` and the doctor both run pipelines this way.
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "lockstep/detect/detector.h"
#include "lockstep/eval/coco.h"
#include "lockstep/model/model_file.h"
#include "lockstep/pipeline/spec.h"

namespace lockstep {

// The images to run, each checked to exist.
struct EvalSet {
  CocoDataset dataset;  // restricted to the images kept
  std::vector<std::filesystem::path> files;
  std::string source;  // the annotations file, for messages
};

// From COCO annotations and the folder holding their images; max_images 0 keeps them all.
EvalSet LoadEvalSet(const std::filesystem::path& annotations, const std::filesystem::path& images,
                    size_t max_images = 0);

struct DatasetRunOptions {
  int threads = 1;              // images in parallel, one interpreter each
  int interpreter_threads = 1;  // threads inside each interpreter
  bool xnnpack = false;
  double score_threshold = 0.0;         // COCO AP ranks every detection the model gives
  bool reinterpret_8bit_input = false;  // see DetectorOptions
  // Called after each image with (done, total); from worker threads, one call at a time.
  std::function<void(size_t, size_t)> progress;
  // Called once the spec is checked against the model, before any image runs, with what the
  // Detector kept (so a caller can warn first).
  std::function<void(const std::vector<Finding>&)> started;
};

struct DatasetRun {
  std::vector<CocoDetection> detections;  // image order
  std::vector<Finding> findings;          // what the Detector kept (spec vs model)
  LabelSource labels;
  size_t dropped = 0;  // detections of placeholder classes ("???", "n/a"): no category
};

// Runs `spec` over every image of `set`, mapping class indices to the dataset's categories by
// label name (a mismatch is an Error, never a silent 0 AP).
DatasetRun RunDataset(std::shared_ptr<const ModelFile> model, const Spec& spec, const EvalSet& set,
                      const DatasetRunOptions& options = {});
// Convenience: loads the file, then RunDataset.
DatasetRun RunDataset(const std::filesystem::path& model, const Spec& spec, const EvalSet& set,
                      const DatasetRunOptions& options = {});

// The same loop without annotations: each image's detections, in the order of `files`
// (options.started gets the Detector's findings before the first image; `labels`, when not
// null, receives the labels it resolved).
std::vector<ImageDetections> DetectImages(std::shared_ptr<const ModelFile> model, const Spec& spec,
                                          const std::vector<std::filesystem::path>& files,
                                          const DatasetRunOptions& options = {},
                                          LabelSource* labels = nullptr);

// Detections of set.files (in that order) as COCO results, class indices mapped to the
// dataset's categories by label name; `dropped` counts placeholder-class detections left out.
std::vector<CocoDetection> ToCocoDetections(const std::vector<ImageDetections>& found,
                                            const EvalSet& set, const LabelSource& labels,
                                            const std::filesystem::path& model,
                                            size_t* dropped = nullptr);

}  // namespace lockstep
