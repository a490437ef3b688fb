#include "lockstep/model/metadata.h"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <string_view>

#include "lockstep/core/error.h"
#include "metadata_generated.h"

namespace lockstep {
namespace {

namespace md = tflite_metadata;

std::string Str(const flatbuffers::String* s) { return s ? s->str() : std::string(); }

template <typename T>
std::vector<T> Vec(const flatbuffers::Vector<T>* v) {
  return v ? std::vector<T>(v->begin(), v->end()) : std::vector<T>();
}

std::vector<MetadataFile> Files(
    const flatbuffers::Vector<flatbuffers::Offset<md::AssociatedFile>>* v) {
  std::vector<MetadataFile> files;
  if (!v) return files;
  for (const md::AssociatedFile* f : *v) {
    files.push_back({Str(f->name()), Str(f->description()),
                     md::EnumNameAssociatedFileType(f->type()), Str(f->locale())});
    // An enum value from a newer schema has no name here; keep it visible rather than empty.
    if (files.back().type.empty())
      files.back().type = "UNKNOWN(" + std::to_string(static_cast<int>(f->type())) + ")";
  }
  return files;
}

std::string Quote(std::string_view s) { return "\"" + std::string(s) + "\""; }

std::string ListText(const std::vector<float>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) s += ", ";
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", v[i]);
    s += buf;
  }
  return s + "]";
}

Normalization ReadNormalization(const md::NormalizationOptions& n, const std::string& source,
                                const std::string& field) {
  Normalization out{Vec(n.mean()), Vec(n.std())};
  if (out.mean.empty() || out.std.empty())
    throw Error(source, field, "mean and std with at least one value each",
                "mean " + ListText(out.mean) + ", std " + ListText(out.std));
  if (out.mean.size() != out.std.size() && out.mean.size() != 1 && out.std.size() != 1)
    throw Error(source, field, "as many std values as mean values (or a single one)",
                std::to_string(out.mean.size()) + " mean and " + std::to_string(out.std.size()) +
                    " std values");
  for (float v : out.mean)
    if (!std::isfinite(v))
      throw Error(source, field + ".mean", "finite values", ListText(out.mean));
  for (float v : out.std)
    if (!std::isfinite(v) || v == 0.0f)
      throw Error(source, field + ".std", "finite non-zero values", ListText(out.std),
                  "(x - mean) / std would divide by zero");
  return out;
}

TensorMetadata ReadTensor(const md::TensorMetadata& t, const std::string& source,
                          const std::string& field) {
  TensorMetadata out;
  out.name = Str(t.name());
  out.description = Str(t.description());
  if (const md::Content* c = t.content()) {
    if (const md::ImageProperties* image = c->content_properties_as_ImageProperties()) {
      ImageLayout layout;
      layout.color_space = md::EnumNameColorSpaceType(image->color_space());
      if (layout.color_space.empty()) layout.color_space = "UNKNOWN";
      if (const md::ImageSize* size = image->default_size()) {
        layout.width = size->width();
        layout.height = size->height();
      }
      out.image = layout;
    }
    if (const md::BoundingBoxProperties* box = c->content_properties_as_BoundingBoxProperties()) {
      BoundingBoxLayout layout;
      layout.index = Vec(box->index());
      layout.type = md::EnumNameBoundingBoxType(box->type());
      layout.coordinate_type = md::EnumNameCoordinateType(box->coordinate_type());
      if (!layout.index.empty() && layout.index.size() != 4)
        throw Error(source, field + ".content.content_properties.index",
                    "4 indices (one per box value)", std::to_string(layout.index.size()));
      for (uint32_t i : layout.index)
        if (i > 3)
          throw Error(source, field + ".content.content_properties.index", "indices in [0, 3]",
                      std::to_string(i));
      out.bounding_box = layout;
    }
  }
  if (const auto* units = t.process_units()) {
    for (flatbuffers::uoffset_t i = 0; i < units->size(); ++i) {
      const md::ProcessUnit* unit = units->Get(i);
      std::string unit_field = field + ".process_units[" + std::to_string(i) + "].options";
      if (const auto* n = unit->options_as_NormalizationOptions())
        out.normalization = ReadNormalization(*n, source, unit_field);
      if (const auto* s = unit->options_as_ScoreThresholdingOptions())
        out.score_threshold = s->global_score_threshold();
    }
  }
  if (const md::Stats* stats = t.stats()) {
    out.stats_min = Vec(stats->min());
    out.stats_max = Vec(stats->max());
  }
  out.associated_files = Files(t.associated_files());
  return out;
}

std::vector<TensorMetadata> ReadTensors(
    const flatbuffers::Vector<flatbuffers::Offset<md::TensorMetadata>>* v,
    const std::string& source, const std::string& field) {
  std::vector<TensorMetadata> out;
  if (!v) return out;
  for (flatbuffers::uoffset_t i = 0; i < v->size(); ++i)
    out.push_back(ReadTensor(*v->Get(i), source, field + "[" + std::to_string(i) + "]"));
  return out;
}

std::string Printable(std::span<const uint8_t> bytes) {
  std::string s;
  for (uint8_t b : bytes) s += (b >= 0x20 && b < 0x7f) ? static_cast<char>(b) : '?';
  return s;
}

// Lines of a label file; a trailing newline does not add an empty label.
std::vector<std::string> Lines(const std::vector<uint8_t>& content) {
  std::vector<std::string> lines;
  std::string line;
  for (uint8_t c : content) {
    if (c == '\n') {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      lines.push_back(std::move(line));
      line.clear();
    } else {
      line += static_cast<char>(c);
    }
  }
  if (!line.empty()) lines.push_back(std::move(line));
  return lines;
}

// Ultralytics writes str(metadata_dict) as its "label file": a Python dict with
// 'names': {0: 'person', 1: 'bicycle', ...}. Returns the names in key order, or nullopt when the
// text is not such a dict.
std::optional<std::vector<std::string>> UltralyticsNames(const std::vector<uint8_t>& content) {
  std::string_view text(reinterpret_cast<const char*>(content.data()), content.size());
  if (text.empty() || text.front() != '{') return std::nullopt;
  size_t at = text.find("'names': {");
  if (at == std::string_view::npos) return std::nullopt;
  at += std::strlen("'names': {");
  std::vector<std::string> names;
  auto skip_spaces = [&] {
    while (at < text.size() && (text[at] == ' ' || text[at] == ',')) ++at;
  };
  while (true) {
    skip_spaces();
    if (at >= text.size()) return std::nullopt;
    if (text[at] == '}') break;
    // key: the class index, expected to count up from 0
    size_t key = 0, digits = 0;
    while (at < text.size() && text[at] >= '0' && text[at] <= '9') {
      key = key * 10 + static_cast<size_t>(text[at++] - '0');
      ++digits;
    }
    if (digits == 0 || key != names.size()) return std::nullopt;
    if (text.substr(at, 2) != ": ") return std::nullopt;
    at += 2;
    if (at >= text.size() || (text[at] != '\'' && text[at] != '"')) return std::nullopt;
    char quote = text[at++];
    std::string name;
    while (at < text.size() && text[at] != quote) {
      if (text[at] == '\\' && at + 1 < text.size()) ++at;
      name += text[at++];
    }
    if (at >= text.size()) return std::nullopt;
    ++at;  // closing quote
    names.push_back(std::move(name));
  }
  return names;
}

const MetadataFile* FindFile(const std::vector<MetadataFile>& files, std::string_view type) {
  for (const auto& f : files)
    if (f.type == type) return &f;
  return nullptr;
}

}  // namespace

ModelMetadata ParseMetadata(std::span<const uint8_t> bytes, const std::string& source) {
  const std::string field = "metadata \"TFLITE_METADATA\"";
  if (bytes.size() < 8)
    throw Error(source, field, "an M001 flatbuffer (at least 8 bytes)",
                std::to_string(bytes.size()) + " bytes");
  if (!md::ModelMetadataBufferHasIdentifier(bytes.data()))
    throw Error(source, field, "file identifier \"M001\"", Quote(Printable(bytes.subspan(4, 4))));
  // The verifier checks alignment; a buffer from elsewhere may sit at any address.
  std::vector<uint8_t> copy;
  if (reinterpret_cast<uintptr_t>(bytes.data()) % 8 != 0) {
    copy.assign(bytes.begin(), bytes.end());
    bytes = copy;
  }
  flatbuffers::Verifier verifier(bytes.data(), bytes.size());
  if (!md::VerifyModelMetadataBuffer(verifier))
    throw Error(source, field, "a well-formed M001 flatbuffer",
                std::to_string(bytes.size()) + " bytes that fail verification",
                "the metadata is truncated or corrupt; rewrite it with the TFLite metadata tools");
  const md::ModelMetadata* m = md::GetModelMetadata(bytes.data());

  ModelMetadata out;
  out.name = Str(m->name());
  out.description = Str(m->description());
  out.version = Str(m->version());
  out.author = Str(m->author());
  out.license = Str(m->license());
  out.min_parser_version = Str(m->min_parser_version());
  out.associated_files = Files(m->associated_files());
  if (const auto* subgraphs = m->subgraph_metadata(); subgraphs && subgraphs->size() > 0) {
    const md::SubGraphMetadata* sg = subgraphs->Get(0);
    out.inputs = ReadTensors(sg->input_tensor_metadata(), source,
                             "subgraph_metadata[0].input_tensor_metadata");
    out.outputs = ReadTensors(sg->output_tensor_metadata(), source,
                              "subgraph_metadata[0].output_tensor_metadata");
    for (auto& f : Files(sg->associated_files())) out.associated_files.push_back(std::move(f));
    if (const auto* custom = sg->custom_metadata())
      for (const md::CustomMetadata* c : *custom) out.custom_metadata.push_back(Str(c->name()));
  }
  return out;
}

std::optional<ModelMetadata> ReadMetadata(const Model& model, const std::string& source) {
  const std::vector<uint8_t>* bytes = model.metadata_buffer("TFLITE_METADATA");
  if (!bytes) return std::nullopt;
  ModelMetadata m = ParseMetadata(*bytes, source);
  // The metadata describes the first subgraph's tensors one for one.
  if (!model.subgraphs.empty()) {
    const Subgraph& sg = model.subgraphs[0];
    if (!m.inputs.empty() && m.inputs.size() != sg.inputs.size())
      throw Error(source, "metadata subgraph_metadata[0].input_tensor_metadata",
                  std::to_string(sg.inputs.size()) + " entries (one per subgraph input)",
                  std::to_string(m.inputs.size()));
    if (!m.outputs.empty() && m.outputs.size() != sg.outputs.size())
      throw Error(source, "metadata subgraph_metadata[0].output_tensor_metadata",
                  std::to_string(sg.outputs.size()) + " entries (one per subgraph output)",
                  std::to_string(m.outputs.size()));
  }
  return m;
}

std::vector<std::string> Labels(const Model& model, const ModelMetadata& metadata,
                                const std::string& source) {
  const MetadataFile* file = nullptr;
  for (std::string_view type : {"TENSOR_AXIS_LABELS", "TENSOR_VALUE_LABELS"}) {
    for (const auto& out : metadata.outputs)
      if (!file) file = FindFile(out.associated_files, type);
    if (!file) file = FindFile(metadata.associated_files, type);
  }
  if (!file) return {};
  for (const AssociatedFile& f : model.associated_files) {
    if (f.name != file->name) continue;
    if (!f.expanded)
      throw Error(source, "associated file " + Quote(f.name),
                  "a label file lockstep expands (at most 16 MiB)",
                  std::to_string(f.declared_size) + " bytes declared");
    if (auto names = UltralyticsNames(f.content)) return *names;
    return Lines(f.content);
  }
  throw Error(source, "associated file " + Quote(file->name),
              "the " + file->type + " file named by the metadata, zipped onto the model",
              model.associated_files.empty()
                  ? std::string("no associated files")
                  : std::to_string(model.associated_files.size()) + " other file(s)",
              "the zip appended to the .tflite file was lost (re-export with metadata)");
}

}  // namespace lockstep
