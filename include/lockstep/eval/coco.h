// A COCO instances dataset and a COCO results file as plain values. Only what box evaluation
// needs is kept (no segmentations); every malformed field is a lockstep::Error naming the file
// and the JSON path.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace lockstep {

// COCO's box convention: top-left corner and size, in original-image pixels.
struct XywhBox {
  double x = 0, y = 0, width = 0, height = 0;
  bool operator==(const XywhBox&) const = default;
};

struct CocoImage {
  int64_t id = 0;
  std::string file_name;
  int64_t width = 0, height = 0;
};

struct CocoAnnotation {
  int64_t id = 0;
  int64_t image_id = 0;
  int64_t category_id = 0;
  XywhBox bbox;
  double area = 0;  // the annotation's own area (of its mask): what COCO's area ranges use
  bool iscrowd = false;
};

struct CocoCategory {
  int64_t id = 0;
  std::string name;
};

struct CocoDataset {
  std::vector<CocoImage> images;
  std::vector<CocoAnnotation> annotations;
  std::vector<CocoCategory> categories;
};

// One entry of a COCO results file.
struct CocoDetection {
  int64_t image_id = 0;
  int64_t category_id = 0;
  XywhBox bbox;
  double score = 0;
  bool operator==(const CocoDetection&) const = default;
};

// `source` names the text in errors (usually the file name).
CocoDataset ParseCocoDataset(std::string_view json_text, const std::string& source);
CocoDataset ReadCocoDataset(const std::filesystem::path& path);

// Parses a results array; every image_id and category_id must exist in `dataset`.
std::vector<CocoDetection> ParseCocoResults(std::string_view json_text, const std::string& source,
                                            const CocoDataset& dataset);
std::vector<CocoDetection> ReadCocoResults(const std::filesystem::path& path,
                                           const CocoDataset& dataset);
// Throws an Error naming `source` and "[i].field" for the first detection whose image or
// category is not in the dataset, or whose box or score is not finite / has a negative size.
void ValidateDetections(const std::vector<CocoDetection>& detections, const CocoDataset& dataset,
                        const std::string& source);

// Writes [{image_id, category_id, bbox, score}], doubles at full precision (round-trips exactly).
std::string CocoResultsJson(const std::vector<CocoDetection>& detections);
void WriteCocoResults(const std::filesystem::path& path,
                      const std::vector<CocoDetection>& detections);
// The dataset as COCO instances JSON (images, annotations, categories; no segmentations).
std::string CocoDatasetJson(const CocoDataset& dataset);
void WriteCocoDataset(const std::filesystem::path& path, const CocoDataset& dataset);

}  // namespace lockstep
