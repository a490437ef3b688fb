// COCO instances / results JSON ⇄ values, with one Error per malformed field.
#include "lockstep/eval/coco.h"

#include <cmath>
#include <nlohmann/json.hpp>
#include <sstream>
#include <unordered_set>

#include "lockstep/core/atomic_file.h"
#include "lockstep/core/error.h"
#include "lockstep/core/file_read.h"
#include "lockstep/core/json_text.h"
#include "lockstep/core/utf8.h"

namespace lockstep {
namespace {

using Json = nlohmann::json;

std::string ReadText(const std::filesystem::path& path) {
  return ReadFileText(path, kMaxJsonFileBytes, "a readable JSON file");
}

Json Parse(std::string_view text, const std::string& source) { return ParseJsonText(text, source); }

std::string Found(const Json& value) {
  if (value.is_number() || value.is_boolean()) return JsonText(value);
  if (value.is_string()) return Quoted(value.get<std::string>(), 40);
  return std::string("a ") + value.type_name();
}

// Reads fields of one JSON object, naming "path.key" in every error.
class Fields {
 public:
  Fields(const Json& object, const std::string& source, std::string path)
      : object_(object), source_(source), path_(std::move(path)) {
    if (!object.is_object()) throw Error(source_, path_, "an object", Found(object));
  }

  const Json& Get(const char* key) const {
    auto it = object_.find(key);
    if (it == object_.end()) throw Error(source_, Path(key), "a value", "the key missing");
    return *it;
  }
  int64_t Integer(const char* key) const {
    const Json& v = Get(key);
    if (!v.is_number_integer()) throw Error(source_, Path(key), "an integer", Found(v));
    if (v.is_number_unsigned() && v.get<uint64_t>() > uint64_t(INT64_MAX))
      throw Error(source_, Path(key), "an integer that fits in 64 bits", Found(v));
    return v.get<int64_t>();
  }
  double Number(const char* key) const { return NumberAt(Get(key), Path(key)); }
  double NonNegative(const char* key) const {
    double value = Number(key);
    if (value < 0) throw Error(source_, Path(key), "a number >= 0", JsonText(Get(key)));
    return value;
  }
  std::string String(const char* key) const {
    const Json& v = Get(key);
    if (!v.is_string()) throw Error(source_, Path(key), "a string", Found(v));
    return v.get<std::string>();
  }
  // [x, y, w, h] with w, h >= 0.
  XywhBox Box(const char* key) const {
    const Json& v = Get(key);
    std::string path = Path(key);
    if (!v.is_array() || v.size() != 4) {
      throw Error(source_, path, "an array of 4 numbers [x, y, width, height]",
                  v.is_array() ? std::to_string(v.size()) + " values" : Found(v));
    }
    XywhBox box{NumberAt(v[0], path + "[0]"), NumberAt(v[1], path + "[1]"),
                NumberAt(v[2], path + "[2]"), NumberAt(v[3], path + "[3]")};
    if (box.width < 0) throw Error(source_, path + "[2]", "a width >= 0", JsonText(v[2]));
    if (box.height < 0) throw Error(source_, path + "[3]", "a height >= 0", JsonText(v[3]));
    return box;
  }
  std::string Path(const char* key) const { return path_.empty() ? key : path_ + "." + key; }

 private:
  double NumberAt(const Json& v, const std::string& path) const {
    if (!v.is_number()) throw Error(source_, path, "a number", Found(v));
    double value = v.get<double>();
    if (!std::isfinite(value)) throw Error(source_, path, "a finite number", JsonText(v));
    return value;
  }

  const Json& object_;
  const std::string& source_;
  std::string path_;
};

const Json& ArrayAt(const Fields& top, const char* key, const std::string& source) {
  const Json& v = top.Get(key);
  if (!v.is_array()) throw Error(source, key, "an array", Found(v));
  return v;
}

// "array[i]" (built by appending: GCC 12 misreports "[" + std::string as overlapping memcpy).
std::string Indexed(const char* array, size_t i) {
  std::string path = array;
  path += '[';
  path += std::to_string(i);
  path += ']';
  return path;
}

}  // namespace

CocoDataset ParseCocoDataset(std::string_view json_text, const std::string& source) {
  Json root = Parse(json_text, source);
  Fields top(root, source, "");
  CocoDataset dataset;

  const Json& images = ArrayAt(top, "images", source);
  std::unordered_set<int64_t> image_ids;
  for (size_t i = 0; i < images.size(); ++i) {
    Fields f(images[i], source, Indexed("images", i));
    CocoImage image{f.Integer("id"), f.String("file_name"), f.Integer("width"),
                    f.Integer("height")};
    if (image.width <= 0)
      throw Error(source, f.Path("width"), "a width > 0", Found(f.Get("width")));
    if (image.height <= 0)
      throw Error(source, f.Path("height"), "a height > 0", Found(f.Get("height")));
    if (!image_ids.insert(image.id).second)
      throw Error(source, f.Path("id"), "an id no other image has", std::to_string(image.id));
    dataset.images.push_back(std::move(image));
  }

  const Json& categories = ArrayAt(top, "categories", source);
  std::unordered_set<int64_t> category_ids;
  for (size_t i = 0; i < categories.size(); ++i) {
    Fields f(categories[i], source, Indexed("categories", i));
    CocoCategory category{f.Integer("id"), f.String("name")};
    if (!category_ids.insert(category.id).second) {
      throw Error(source, f.Path("id"), "an id no other category has", std::to_string(category.id));
    }
    dataset.categories.push_back(std::move(category));
  }

  const Json& annotations = ArrayAt(top, "annotations", source);
  std::unordered_set<int64_t> annotation_ids;
  for (size_t i = 0; i < annotations.size(); ++i) {
    Fields f(annotations[i], source, Indexed("annotations", i));
    CocoAnnotation a;
    a.id = f.Integer("id");
    a.image_id = f.Integer("image_id");
    a.category_id = f.Integer("category_id");
    a.bbox = f.Box("bbox");
    a.area = f.NonNegative("area");
    const Json& crowd = f.Get("iscrowd");
    if (crowd.is_boolean()) {
      a.iscrowd = crowd.get<bool>();
    } else if (crowd.is_number_integer() &&
               (crowd.get<int64_t>() == 0 || crowd.get<int64_t>() == 1)) {
      a.iscrowd = crowd.get<int64_t>() == 1;
    } else {
      throw Error(source, f.Path("iscrowd"), "0 or 1", Found(crowd));
    }
    // pycocotools indexes annotations by id: a repeated id silently evaluates one box twice.
    if (!annotation_ids.insert(a.id).second)
      throw Error(source, f.Path("id"), "an id no other annotation has", std::to_string(a.id));
    if (!image_ids.count(a.image_id)) {
      throw Error(source, f.Path("image_id"),
                  "the id of one of the " + std::to_string(images.size()) + " images",
                  std::to_string(a.image_id));
    }
    if (!category_ids.count(a.category_id)) {
      throw Error(source, f.Path("category_id"),
                  "the id of one of the " + std::to_string(categories.size()) + " categories",
                  std::to_string(a.category_id));
    }
    dataset.annotations.push_back(a);
  }
  return dataset;
}

CocoDataset ReadCocoDataset(const std::filesystem::path& path) {
  return ParseCocoDataset(ReadText(path), path.string());
}

void ValidateDetections(const std::vector<CocoDetection>& detections, const CocoDataset& dataset,
                        const std::string& source) {
  std::unordered_set<int64_t> images, categories;
  for (const CocoImage& image : dataset.images) images.insert(image.id);
  for (const CocoCategory& category : dataset.categories) categories.insert(category.id);
  for (size_t i = 0; i < detections.size(); ++i) {
    const CocoDetection& d = detections[i];
    const std::string at = Indexed("", i);
    if (!images.count(d.image_id)) {
      throw Error(source, at + ".image_id",
                  "one of the dataset's " + std::to_string(images.size()) + " image ids",
                  std::to_string(d.image_id));
    }
    if (!categories.count(d.category_id)) {
      throw Error(source, at + ".category_id",
                  "one of the dataset's " + std::to_string(categories.size()) + " category ids",
                  std::to_string(d.category_id),
                  "results carry the dataset's own category ids, not contiguous class indices");
    }
    const XywhBox& b = d.bbox;
    if (!std::isfinite(b.x) || !std::isfinite(b.y) || !std::isfinite(b.width) ||
        !std::isfinite(b.height) || b.width < 0 || b.height < 0) {
      std::ostringstream found;
      found << "[" << b.x << ", " << b.y << ", " << b.width << ", " << b.height << "]";
      throw Error(source, at + ".bbox", "finite [x, y, width, height] with width, height >= 0",
                  found.str());
    }
    if (!std::isfinite(d.score))
      throw Error(source, at + ".score", "a finite number", std::to_string(d.score));
  }
}

std::vector<CocoDetection> ParseCocoResults(std::string_view json_text, const std::string& source,
                                            const CocoDataset& dataset) {
  Json root = Parse(json_text, source);
  if (!root.is_array()) throw Error(source, "", "an array of detections", Found(root));
  std::vector<CocoDetection> detections;
  detections.reserve(root.size());
  for (size_t i = 0; i < root.size(); ++i) {
    Fields f(root[i], source, Indexed("", i));
    detections.push_back(
        {f.Integer("image_id"), f.Integer("category_id"), f.Box("bbox"), f.Number("score")});
  }
  ValidateDetections(detections, dataset, source);
  return detections;
}

std::vector<CocoDetection> ReadCocoResults(const std::filesystem::path& path,
                                           const CocoDataset& dataset) {
  return ParseCocoResults(ReadText(path), path.string(), dataset);
}

std::string CocoResultsJson(const std::vector<CocoDetection>& detections) {
  Json out = Json::array();
  for (const CocoDetection& d : detections) {
    out.push_back({{"image_id", d.image_id},
                   {"category_id", d.category_id},
                   {"bbox", {d.bbox.x, d.bbox.y, d.bbox.width, d.bbox.height}},
                   {"score", d.score}});
  }
  return JsonText(out);
}

void WriteCocoResults(const std::filesystem::path& path,
                      const std::vector<CocoDetection>& detections) {
  WriteFileAtomically(path, CocoResultsJson(detections));
}

std::string CocoDatasetJson(const CocoDataset& dataset) {
  Json images = Json::array(), annotations = Json::array(), categories = Json::array();
  for (const CocoImage& i : dataset.images) {
    images.push_back(
        {{"id", i.id}, {"file_name", i.file_name}, {"width", i.width}, {"height", i.height}});
  }
  for (const CocoAnnotation& a : dataset.annotations) {
    annotations.push_back({{"id", a.id},
                           {"image_id", a.image_id},
                           {"category_id", a.category_id},
                           {"bbox", {a.bbox.x, a.bbox.y, a.bbox.width, a.bbox.height}},
                           {"area", a.area},
                           {"iscrowd", a.iscrowd ? 1 : 0}});
  }
  for (const CocoCategory& c : dataset.categories)
    categories.push_back({{"id", c.id}, {"name", c.name}});
  Json root = {{"images", images}, {"annotations", annotations}, {"categories", categories}};
  return JsonText(root);
}

void WriteCocoDataset(const std::filesystem::path& path, const CocoDataset& dataset) {
  WriteFileAtomically(path, CocoDatasetJson(dataset));
}

}  // namespace lockstep
