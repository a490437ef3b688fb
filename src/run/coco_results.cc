#include "lockstep/run/coco_results.h"

#include <map>
#include <optional>

#include "lockstep/core/error.h"

namespace lockstep {

std::vector<CocoDetection> ToCocoResults(const ImageDetections& found, int64_t image_id,
                                         const CategoryMap& categories, size_t* unmapped) {
  std::vector<CocoDetection> out;
  for (const PixelDetection& d : found.detections) {
    std::optional<int64_t> id = categories.CategoryOf(d.class_index);
    if (!id) {
      if (unmapped) ++*unmapped;
      continue;
    }
    out.push_back(
        {image_id, *id,
         XywhBox{d.box.xmin, d.box.ymin, d.box.xmax - d.box.xmin, d.box.ymax - d.box.ymin},
         double(d.score)});
  }
  return out;
}

std::vector<int64_t> CocoImageIds(const CocoDataset& dataset,
                                  const std::vector<std::filesystem::path>& files,
                                  const std::string& annotations) {
  std::map<std::string, int64_t> by_file;
  for (const CocoImage& im : dataset.images) by_file.emplace(im.file_name, im.id);
  std::vector<int64_t> ids;
  for (const std::filesystem::path& p : files) {
    auto it = by_file.find(p.filename().string());
    if (it == by_file.end())
      throw Error(annotations, "images[].file_name", "an entry for every input image",
                  "none for " + p.filename().string());
    ids.push_back(it->second);
  }
  return ids;
}

}  // namespace lockstep
