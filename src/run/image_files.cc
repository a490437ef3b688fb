#include "lockstep/run/image_files.h"

#include <algorithm>
#include <cctype>
#include <system_error>

#include "lockstep/core/error.h"

namespace lockstep {

namespace fs = std::filesystem;

bool IsImageFileName(const fs::path& path) {
  std::string ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return char(std::tolower(c)); });
  return ext == ".jpg" || ext == ".jpeg" || ext == ".png" || ext == ".bmp";
}

namespace {

// Why `path` cannot be followed, in a user's words: `missing` when nothing is there, "" when
// something is (of the wrong kind).
std::string Unreachable(const fs::path& path, const std::string& missing) {
  std::error_code ec;
  (void)fs::status(path, ec);
  if (ec == std::errc::too_many_symbolic_link_levels) return "a symbolic link loop";
  if (ec == std::errc::permission_denied) return "permission denied";
  if (fs::is_symlink(fs::symlink_status(path, ec))) return "a broken symbolic link";
  return fs::exists(path, ec) ? "" : missing;
}

}  // namespace

std::vector<fs::path> ListImageFolder(const fs::path& folder, const std::string& what,
                                      size_t max_images) {
  std::error_code ec;
  if (!fs::is_directory(folder, ec)) {
    const std::string why = Unreachable(folder, "no such folder");
    throw Error(folder.string(), what, "a folder of images", why.empty() ? "not a folder" : why);
  }
  std::vector<fs::path> files;
  // error_code overloads throughout: an entry that cannot be followed (a symbolic link loop, a
  // dangling link, no permission) is skipped, not an exception.
  fs::directory_iterator it(folder, ec), end;
  for (; !ec && it != end; it.increment(ec)) {
    std::error_code entry_ec;
    if (it->is_regular_file(entry_ec) && IsImageFileName(it->path())) files.push_back(it->path());
  }
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
      const std::string why = Unreachable(in, "no such file");
      throw Error(in.string(), what, "an image file or a folder of images",
                  why.empty() ? "not a regular file or folder" : why);
    }
  }
  return files;
}

}  // namespace lockstep
