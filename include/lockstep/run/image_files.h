// The image files a run takes: the files named, as they are, and from each folder named its
// .jpg, .jpeg, .png and .bmp files (by extension, in any case), sorted by name. The CLI's
// detect, quant-report and the doctor list their images here.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

namespace lockstep {

// Whether the name ends in .jpg, .jpeg, .png or .bmp (any case).
bool IsImageFileName(const std::filesystem::path& path);

// `inputs` in order, each folder replaced by its images. `what` names the argument in errors
// (a missing path, an unreadable folder, a folder without images).
std::vector<std::filesystem::path> ListImageFiles(const std::vector<std::filesystem::path>& inputs,
                                                  const std::string& what);

// One folder's images, the first max_images by name (0: all). An Error when `folder` is not a
// folder or holds no image.
std::vector<std::filesystem::path> ListImageFolder(const std::filesystem::path& folder,
                                                   const std::string& what, size_t max_images = 0);

}  // namespace lockstep
