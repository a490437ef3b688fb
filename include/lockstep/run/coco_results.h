// Detections in source pixels as COCO results: the box from corners to x, y, width, height, the
// class index mapped to a category id, the image named by its id in the annotations.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "lockstep/detect/detector.h"
#include "lockstep/eval/category_map.h"
#include "lockstep/eval/coco.h"

namespace lockstep {

// One image's detections. A detection whose class the map gives no category is left out and
// counted in `unmapped` (when not null).
std::vector<CocoDetection> ToCocoResults(const ImageDetections& found, int64_t image_id,
                                         const CategoryMap& categories, size_t* unmapped = nullptr);

// The annotations' image id of each file, by file name. An Error naming `annotations` for a file
// the dataset does not list.
std::vector<int64_t> CocoImageIds(const CocoDataset& dataset,
                                  const std::vector<std::filesystem::path>& files,
                                  const std::string& annotations);

}  // namespace lockstep
