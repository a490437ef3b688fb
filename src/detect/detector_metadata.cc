// A small bounds-checked flatbuffer walk: the two schemas involved (TFLite metadata down to
// custom_metadata, and ObjectDetectorOptions down to the anchors) need only a few fields, and
// every offset is checked before it is followed.
#include "lockstep/detect/detector_metadata.h"

#include <cstring>
#include <span>

#include "lockstep/core/error.h"

namespace lockstep {
namespace {

class FlatReader {
 public:
  FlatReader(std::span<const uint8_t> bytes, std::string what, std::string source)
      : b_(bytes), what_(std::move(what)), source_(std::move(source)) {}

  template <typename T>
  T Read(size_t pos) const {
    Need(pos, sizeof(T));
    T v;
    std::memcpy(&v, b_.data() + pos, sizeof(T));
    return v;
  }
  size_t Root() const { return Read<uint32_t>(0); }
  // Where field `id` of the table at `table` lives; 0 when absent.
  size_t Field(size_t table, int id) const {
    const int64_t vtable = int64_t(table) - Read<int32_t>(table);
    if (vtable < 0) Fail("a vtable inside the buffer");
    const uint16_t size = Read<uint16_t>(size_t(vtable));
    const size_t slot = 4 + 2 * size_t(id);
    if (slot + 2 > size) return 0;
    const uint16_t off = Read<uint16_t>(size_t(vtable) + slot);
    return off ? table + off : 0;
  }
  // The table, vector or string a reference field points at; 0 when absent.
  size_t Ref(size_t table, int id) const {
    const size_t at = Field(table, id);
    return at ? at + Read<uint32_t>(at) : 0;
  }
  // A vector's length (elements follow the length word).
  size_t Length(size_t vector) const { return Read<uint32_t>(vector); }
  std::string String(size_t str) const {
    const size_t n = Length(str);
    Need(str + 4, n);
    return std::string(reinterpret_cast<const char*>(b_.data() + str + 4), n);
  }
  float Float(size_t table, int id) const {
    const size_t at = Field(table, id);
    return at ? Read<float>(at) : 0.0f;
  }
  [[noreturn]] void Fail(const std::string& expected) const {
    throw Error(source_, what_, expected, "a malformed flatbuffer");
  }

 private:
  void Need(size_t pos, size_t n) const {
    if (pos > b_.size() || n > b_.size() - pos)
      Fail("offsets inside its " + std::to_string(b_.size()) + " bytes");
  }
  std::span<const uint8_t> b_;
  std::string what_, source_;
};

// The DETECTOR_METADATA bytes: ModelMetadata.subgraph_metadata[0].custom_metadata[i].data.
std::optional<std::span<const uint8_t>> DetectorMetadataBytes(const Model& model,
                                                              const std::string& source) {
  const std::vector<uint8_t>* meta = model.metadata_buffer("TFLITE_METADATA");
  if (!meta) return std::nullopt;
  const FlatReader r(*meta, "TFLITE_METADATA", source);
  const size_t subgraphs = r.Ref(r.Root(), 3);  // subgraph_metadata
  if (!subgraphs || r.Length(subgraphs) == 0) return std::nullopt;
  const size_t first = subgraphs + 4;
  const size_t subgraph = first + r.Read<uint32_t>(first);
  const size_t customs = r.Ref(subgraph, 9);  // custom_metadata
  if (!customs) return std::nullopt;
  for (size_t i = 0; i < r.Length(customs); ++i) {
    const size_t slot = customs + 4 + 4 * i;
    const size_t entry = slot + r.Read<uint32_t>(slot);
    const size_t name = r.Ref(entry, 0);
    if (!name || r.String(name) != kDetectorMetadataName) continue;
    const size_t data = r.Ref(entry, 1);
    if (!data) r.Fail("data in custom metadata " + std::string(kDetectorMetadataName));
    const size_t n = r.Length(data);
    if (n > 0) r.Read<uint8_t>(data + 4 + n - 1);  // the whole vector is inside the buffer
    return std::span<const uint8_t>(meta->data() + data + 4, n);
  }
  return std::nullopt;
}

}  // namespace

std::optional<TensorData> MetadataAnchors(const Model& model, const std::string& source) {
  const auto bytes = DetectorMetadataBytes(model, source);
  if (!bytes) return std::nullopt;
  const FlatReader r(*bytes, kDetectorMetadataName, source);
  if (bytes->size() < 8 || std::memcmp(bytes->data() + 4, "V001", 4) != 0)
    r.Fail("an ObjectDetectorOptions flatbuffer (identifier V001)");
  const size_t ssd = r.Ref(r.Root(), 1);  // ssd_anchors_options
  const size_t fixed = ssd ? r.Ref(ssd, 0) : 0;
  const size_t list = fixed ? r.Ref(fixed, 0) : 0;
  if (!list || r.Length(list) == 0)
    throw Error(source, kDetectorMetadataName, "fixed anchors (ssd_anchors_options)", "none");
  const size_t n = r.Length(list);
  if (n > bytes->size() / 4) r.Fail("an anchor count that fits the buffer");
  TensorData anchors(DType::kFloat32, {int(n), 4});
  auto out = anchors.as<float>();
  for (size_t i = 0; i < n; ++i) {
    const size_t slot = list + 4 + 4 * i;
    const size_t a = slot + r.Read<uint32_t>(slot);
    // FixedAnchor: x_center, y_center, width, height → y, x, h, w.
    out[4 * i + 0] = r.Float(a, 1);
    out[4 * i + 1] = r.Float(a, 0);
    out[4 * i + 2] = r.Float(a, 3);
    out[4 * i + 3] = r.Float(a, 2);
  }
  return anchors;
}

}  // namespace lockstep
