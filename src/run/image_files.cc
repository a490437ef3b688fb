#include "lockstep/run/image_files.h"

#include <algorithm>
#include <cctype>

#include "lockstep/core/error.h"

namespace lockstep {

namespace fs = std::filesystem;

bool IsImageFileName(const fs::path& path) {
  std::string ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return char(std::tolower(c)); });
  return ext == ".jpg" || ext == ".jpeg" || ext == ".png" || ext == ".bmp";
}

std::vector<fs::path> ListImageFolder(const fs::path& folder, const std::string& what,
                                      size_t max_images) {
  std::error_code ec;
  if (!fs::is_directory(folder, ec))
    throw Error(folder.string(), what, "a folder of images",
                fs::exists(folder, ec) ? "not a folder" : "no such folder");
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(folder, ec))
    if (entry.is_regular_file() && IsImageFileName(entry.path())) files.push_back(entry.path());
  if (ec) throw Error(folder.string(), what, "a readable folder", ec.message());
  if (files.empty())
    throw Error(folder.string(), what, "at least one .jpg, .png or .bmp image", "none");
  std::sort(files.begin(), files.end());
  if (max_images > 0 && files.size() > max_images) files.resize(max_images);
  return files;
}

std::vector<fs::path> ListImageFiles(const std::vector<fs::path>& inputs, const std::string& what) {
  std::vector<fs::path> files;
  for (const fs::path& in : inputs) {
    std::error_code ec;
    if (fs::is_directory(in, ec)) {
      std::vector<fs::path> found = ListImageFolder(in, what);
      files.insert(files.end(), found.begin(), found.end());
    } else if (fs::is_regular_file(in, ec)) {
      files.push_back(in);
    } else {
      throw Error(in.string(), what, "an image file or a folder of images", "no such file");
    }
  }
  return files;
}

}  // namespace lockstep
