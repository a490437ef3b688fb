#include "lockstep/model/model_io.h"

#include <flatbuffers/flatbuffers.h>
#include <flatbuffers/reflection.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <limits>
#include <map>
#include <system_error>
#include <type_traits>

#include "lockstep/core/atomic_file.h"
#include "lockstep/core/error.h"
#include "lockstep/core/file_read.h"
#include "schema_access.h"
#include "tflite_generated.h"
#include "zip.h"

namespace lockstep {
namespace {

namespace fb = lockstep::tflite;
using flatbuffers::Offset;

constexpr char kIdentifier[] = "TFL3";
constexpr int32_t kPlaceholderForGreaterOpCodes = 127;

std::string Index(const std::string& path, size_t i) {
  return path + "[" + std::to_string(i) + "]";
}

// ----- The option tables, by reflection over the embedded schema ---------------------------

struct OptionsType {
  uint8_t value = 0;
  std::string name;  // the union member's name, "Conv2DOptions"
  const reflection::Object* table = nullptr;
  std::vector<const reflection::Field*> fields;  // in field-id (declaration) order
};

// The BuiltinOptions union of the embedded schema, indexed both ways.
class OptionsCatalog {
 public:
  static const OptionsCatalog& Get() {
    static const OptionsCatalog catalog;
    return catalog;
  }
  const OptionsType* ByValue(uint8_t v) const {
    auto it = by_value_.find(v);
    return it == by_value_.end() ? nullptr : &it->second;
  }
  const OptionsType* ByName(const std::string& name) const {
    for (const auto& [v, t] : by_value_)
      if (t.name == name) return &t;
    return nullptr;
  }

 private:
  OptionsCatalog() {
    auto bfbs = schema::tflite_bfbs();
    const reflection::Schema* s = reflection::GetSchema(bfbs.data());
    const reflection::Enum* u = s->enums()->LookupByKey("lockstep.tflite.BuiltinOptions");
    for (const reflection::EnumVal* v : *u->values()) {
      if (v->value() == 0) continue;  // NONE
      OptionsType t;
      t.value = static_cast<uint8_t>(v->value());
      t.name = v->name()->str();
      t.table = s->objects()->Get(static_cast<flatbuffers::uoffset_t>(v->union_type()->index()));
      for (const reflection::Field* f : *t.table->fields())
        if (!f->deprecated()) t.fields.push_back(f);
      std::sort(t.fields.begin(), t.fields.end(),
                [](auto* a, auto* b) { return a->id() < b->id(); });
      by_value_.emplace(t.value, std::move(t));
    }
  }
  std::map<uint8_t, OptionsType> by_value_;
};

BuiltinOptions ReadOptions(uint8_t type, const flatbuffers::Table* table) {
  BuiltinOptions out;
  if (type == 0) return out;
  const OptionsType* t = OptionsCatalog::Get().ByValue(type);
  if (!t) {
    // Not in lockstep's schema: the verifier could not check the table, so it is not read.
    out.type = "BuiltinOptions#" + std::to_string(type);
    return out;
  }
  out.type = t->name;
  if (!table) return out;
  for (const reflection::Field* f : t->fields) {
    if (!table->CheckField(f->offset())) continue;  // keep only what the file holds
    OptionValue value;
    reflection::BaseType bt = f->type()->base_type();
    if (bt == reflection::Bool) {
      value = flatbuffers::GetAnyFieldI(*table, *f) != 0;
    } else if (flatbuffers::IsInteger(bt)) {
      value = flatbuffers::GetAnyFieldI(*table, *f);
    } else if (flatbuffers::IsFloat(bt)) {
      value = flatbuffers::GetAnyFieldF(*table, *f);
    } else if (bt == reflection::String) {
      const flatbuffers::String* s = flatbuffers::GetFieldS(*table, *f);
      value = s ? s->str() : std::string();
    } else if (bt == reflection::Vector && f->type()->element() == reflection::Int) {
      auto* v = table->GetPointer<const flatbuffers::Vector<int32_t>*>(f->offset());
      value = v ? std::vector<int32_t>(v->begin(), v->end()) : std::vector<int32_t>();
    } else {
      continue;  // no such field in lockstep's schema (checked by a test over all tables)
    }
    out.fields.push_back({f->name()->str(), std::move(value)});
  }
  return out;
}

template <typename T>
bool Fits(int64_t v) {
  if constexpr (std::is_signed_v<T>)
    return v >= std::numeric_limits<T>::min() && v <= std::numeric_limits<T>::max();
  else
    return v >= 0 && static_cast<uint64_t>(v) <= std::numeric_limits<T>::max();
}

const char* KindName(const OptionValue& v) {
  switch (v.index()) {
    case 0:
      return "a bool";
    case 1:
      return "an integer";
    case 2:
      return "a number";
    case 3:
      return "a string";
    default:
      return "an int32 list";
  }
}

std::string BaseTypeName(const reflection::Field& f) {
  reflection::BaseType bt = f.type()->base_type();
  if (bt == reflection::Bool) return "a bool";
  if (flatbuffers::IsInteger(bt)) return "an integer";
  if (flatbuffers::IsFloat(bt)) return "a number";
  if (bt == reflection::String) return "a string";
  return "an int32 list";
}

template <typename T>
void AddInt(flatbuffers::FlatBufferBuilder& fbb, const reflection::Field& f, int64_t v,
            const std::string& file, const std::string& path) {
  if (!Fits<T>(v))
    throw Error(file, path, "a value in the range of the schema's field type", std::to_string(v));
  fbb.AddElement<T>(f.offset(), static_cast<T>(v), static_cast<T>(f.default_integer()));
}

// Whether an option value's kind fits the schema field's type (an integer fits a float field).
bool ValueFitsField(reflection::BaseType bt, const OptionValue& value) {
  return (bt == reflection::Bool && std::holds_alternative<bool>(value)) ||
         (flatbuffers::IsInteger(bt) && bt != reflection::Bool &&
          std::holds_alternative<int64_t>(value)) ||
         (flatbuffers::IsFloat(bt) &&
          (std::holds_alternative<double>(value) || std::holds_alternative<int64_t>(value))) ||
         (bt == reflection::String && std::holds_alternative<std::string>(value)) ||
         (bt == reflection::Vector && std::holds_alternative<std::vector<int32_t>>(value));
}

// An options field checked against the schema, with the offset of its string or vector (0 for
// a scalar).
struct PlacedField {
  const reflection::Field* field;
  const OptionValue* value;
  flatbuffers::uoffset_t offset;
};

// Checks each field against the options table `t` and writes the strings and vectors: they go
// into the buffer before the table that points at them.
std::vector<PlacedField> PlaceOptionFields(flatbuffers::FlatBufferBuilder& fbb,
                                           const BuiltinOptions& o, const OptionsType& t,
                                           const std::string& file, const std::string& path) {
  std::vector<PlacedField> fields;
  for (size_t i = 0; i < o.fields.size(); ++i) {
    const OptionField& of = o.fields[i];
    std::string fpath = path + "." + of.name;
    auto f = std::find_if(t.fields.begin(), t.fields.end(),
                          [&](auto* x) { return x->name()->str() == of.name; });
    if (f == t.fields.end()) throw Error(file, fpath, "a field of " + o.type, "no such field");
    for (size_t j = 0; j < i; ++j)
      if (o.fields[j].name == of.name) throw Error(file, fpath, "one value", "the field twice");
    if (!ValueFitsField((*f)->type()->base_type(), of.value))
      throw Error(file, fpath, BaseTypeName(**f), KindName(of.value));
    flatbuffers::uoffset_t off = 0;
    if (auto* s = std::get_if<std::string>(&of.value)) off = fbb.CreateString(*s).o;
    if (auto* v = std::get_if<std::vector<int32_t>>(&of.value)) off = fbb.CreateVector(*v).o;
    fields.push_back({*f, &of.value, off});
  }
  return fields;
}

// Adds one field to the table being built, in the schema field's own type.
void AddOptionField(flatbuffers::FlatBufferBuilder& fbb, const PlacedField& placed,
                    const std::string& file, const std::string& path) {
  const reflection::Field& f = *placed.field;
  const OptionValue& v = *placed.value;
  std::string fpath = path + "." + f.name()->str();
  switch (f.type()->base_type()) {
    case reflection::Bool:
      fbb.AddElement<uint8_t>(f.offset(), std::get<bool>(v) ? 1 : 0,
                              static_cast<uint8_t>(f.default_integer()));
      break;
    case reflection::Byte:
      AddInt<int8_t>(fbb, f, std::get<int64_t>(v), file, fpath);
      break;
    case reflection::UByte:
      AddInt<uint8_t>(fbb, f, std::get<int64_t>(v), file, fpath);
      break;
    case reflection::Short:
      AddInt<int16_t>(fbb, f, std::get<int64_t>(v), file, fpath);
      break;
    case reflection::UShort:
      AddInt<uint16_t>(fbb, f, std::get<int64_t>(v), file, fpath);
      break;
    case reflection::Int:
      AddInt<int32_t>(fbb, f, std::get<int64_t>(v), file, fpath);
      break;
    case reflection::UInt:
      AddInt<uint32_t>(fbb, f, std::get<int64_t>(v), file, fpath);
      break;
    case reflection::Long:
      AddInt<int64_t>(fbb, f, std::get<int64_t>(v), file, fpath);
      break;
    case reflection::ULong:
      fbb.AddElement<uint64_t>(f.offset(), static_cast<uint64_t>(std::get<int64_t>(v)),
                               static_cast<uint64_t>(f.default_integer()));
      break;
    case reflection::Float:
    case reflection::Double: {
      double d = std::holds_alternative<double>(v) ? std::get<double>(v)
                                                   : static_cast<double>(std::get<int64_t>(v));
      if (f.type()->base_type() == reflection::Float)
        fbb.AddElement<float>(f.offset(), static_cast<float>(d),
                              static_cast<float>(f.default_real()));
      else
        fbb.AddElement<double>(f.offset(), d, f.default_real());
      break;
    }
    default:
      fbb.AddOffset(f.offset(), Offset<void>(placed.offset));
      break;
  }
}

Offset<void> WriteOptions(flatbuffers::FlatBufferBuilder& fbb, const BuiltinOptions& o,
                          const std::string& op_name, const std::string& file,
                          const std::string& path, uint8_t& type) {
  type = 0;
  if (o.type.empty()) {
    if (!o.fields.empty())
      throw Error(file, path + ".type", "an options type for the fields given", "none");
    return 0;
  }
  const OptionsType* t = OptionsCatalog::Get().ByName(o.type);
  if (!t)
    throw Error(file, path + ".type", "a BuiltinOptions table in lockstep's TFLite schema",
                "\"" + o.type + "\"",
                "the " + op_name + " op's options cannot be written (read from a newer schema?)");
  type = t->value;
  const std::vector<PlacedField> fields = PlaceOptionFields(fbb, o, *t, file, path);
  // Defaults are written too: a field present in the file stays present after a rewrite.
  fbb.ForceDefaults(true);
  flatbuffers::uoffset_t start = fbb.StartTable();
  for (const PlacedField& placed : fields) AddOptionField(fbb, placed, file, path);
  flatbuffers::uoffset_t end = fbb.EndTable(start);
  fbb.ForceDefaults(false);
  return Offset<void>(end);
}

// ----- Checks shared by the reader and the writer -------------------------------------------

void CheckIndex(int64_t index, size_t size, bool optional, const std::string& file,
                const std::string& path, const std::string& what) {
  if (optional && index == -1) return;
  if (index < 0 || static_cast<uint64_t>(index) >= size)
    throw Error(file, path,
                "an index into " + what + " (0.." + (size ? std::to_string(size - 1) : "none") +
                    (optional ? ", or -1" : "") + ")",
                std::to_string(index));
}

void CheckIndices(const std::vector<int32_t>& v, size_t size, bool optional,
                  const std::string& file, const std::string& path, const std::string& what) {
  for (size_t i = 0; i < v.size(); ++i)
    CheckIndex(v[i], size, optional, file, Index(path, i), what);
}

// The references a TFLite runtime follows without checking (or with a worse message).
void Validate(const Model& m, const std::string& file) {
  for (size_t s = 0; s < m.subgraphs.size(); ++s) {
    const Subgraph& sg = m.subgraphs[s];
    std::string sp = Index("subgraphs", s);
    std::string tensors = sp + ".tensors (" + std::to_string(sg.tensors.size()) + " tensors)";
    for (size_t t = 0; t < sg.tensors.size(); ++t) {
      const Tensor& x = sg.tensors[t];
      std::string tp = Index(sp + ".tensors", t);
      if (!IsKnownDType(static_cast<int>(x.dtype)))
        throw Error(file, tp + ".type", "a TensorType lockstep knows (0..16)",
                    std::to_string(static_cast<int>(x.dtype)));
      CheckIndex(x.buffer, m.buffers.size(), false, file, tp + ".buffer",
                 "buffers (" + std::to_string(m.buffers.size()) + " buffers)");
      if (x.quantization) {
        const Quantization& q = *x.quantization;
        // quantized_dimension is not checked against the shape: the TFLM person_detect model
        // has a stale one on 1-D tensors and lockstep must still inspect it.
        if (!q.scale.empty() && q.zero_point.size() != q.scale.size())
          throw Error(file, tp + ".quantization.zero_point",
                      std::to_string(q.scale.size()) + " values (one per scale)",
                      std::to_string(q.zero_point.size()));
      }
    }
    CheckIndices(sg.inputs, sg.tensors.size(), false, file, sp + ".inputs", tensors);
    CheckIndices(sg.outputs, sg.tensors.size(), false, file, sp + ".outputs", tensors);
    for (size_t o = 0; o < sg.operators.size(); ++o) {
      const Operator& op = sg.operators[o];
      std::string op_path = Index(sp + ".operators", o);
      CheckIndex(op.opcode_index, m.operator_codes.size(), false, file, op_path + ".opcode_index",
                 "operator_codes (" + std::to_string(m.operator_codes.size()) + " codes)");
      CheckIndices(op.inputs, sg.tensors.size(), true, file, op_path + ".inputs", tensors);
      CheckIndices(op.outputs, sg.tensors.size(), false, file, op_path + ".outputs", tensors);
      if (!op.mutating_variable_inputs.empty() &&
          op.mutating_variable_inputs.size() != op.inputs.size())
        throw Error(file, op_path + ".mutating_variable_inputs",
                    "none, or one flag per input (" + std::to_string(op.inputs.size()) + ")",
                    std::to_string(op.mutating_variable_inputs.size()) + " flags");
      CheckIndices(op.intermediates, sg.tensors.size(), false, file, op_path + ".intermediates",
                   tensors);
    }
  }
  for (size_t c = 0; c < m.operator_codes.size(); ++c)
    if (m.operator_codes[c].builtin_code < 0)
      throw Error(file, Index("operator_codes", c) + ".builtin_code",
                  "a BuiltinOperator code (>= 0)",
                  std::to_string(m.operator_codes[c].builtin_code));
  for (size_t i = 0; i < m.metadata.size(); ++i)
    CheckIndex(m.metadata[i].buffer, m.buffers.size(), false, file,
               Index("metadata", i) + ".buffer",
               "buffers (" + std::to_string(m.buffers.size()) + " buffers)");
  for (size_t i = 0; i < m.deprecated_metadata_buffer.size(); ++i)
    CheckIndex(m.deprecated_metadata_buffer[i], m.buffers.size(), false, file,
               Index("metadata_buffer", i),
               "buffers (" + std::to_string(m.buffers.size()) + " buffers)");
  for (size_t i = 0; i < m.signature_defs.size(); ++i) {
    const SignatureDef& sd = m.signature_defs[i];
    std::string p = Index("signature_defs", i);
    CheckIndex(sd.subgraph_index, m.subgraphs.size(), false, file, p + ".subgraph_index",
               "subgraphs (" + std::to_string(m.subgraphs.size()) + " subgraphs)");
    size_t n = m.subgraphs[sd.subgraph_index].tensors.size();
    std::string what = "the tensors of subgraph " + std::to_string(sd.subgraph_index);
    for (size_t j = 0; j < sd.inputs.size(); ++j)
      CheckIndex(sd.inputs[j].tensor_index, n, false, file,
                 Index(p + ".inputs", j) + ".tensor_index", what);
    for (size_t j = 0; j < sd.outputs.size(); ++j)
      CheckIndex(sd.outputs[j].tensor_index, n, false, file,
                 Index(p + ".outputs", j) + ".tensor_index", what);
  }
}

// ----- Reading ------------------------------------------------------------------------------

std::string Str(const flatbuffers::String* s) { return s ? s->str() : std::string(); }

template <typename T, typename U = T>
std::vector<U> Vec(const flatbuffers::Vector<T>* v) {
  if (!v) return {};
  if constexpr (std::is_arithmetic_v<T>) {
    // The verifier checks a vector's length field, not its elements' alignment: an int64
    // vector may start at any 4-byte boundary, so elements are copied bytewise (found by
    // fuzz_model; the host is little-endian, as the file).
    std::vector<U> out(v->size());
    const uint8_t* bytes = v->Data();
    for (size_t i = 0; i < out.size(); ++i) {
      T x;
      std::memcpy(&x, bytes + i * sizeof(T), sizeof(T));
      out[i] = static_cast<U>(x);
    }
    return out;
  } else {
    return std::vector<U>(v->begin(), v->end());
  }
}

std::string Printable(std::span<const uint8_t> b) {
  std::string s = "\"";
  for (uint8_t c : b) {
    if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
      s += static_cast<char>(c);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      s += buf;
    }
  }
  return s + "\"";
}

Tensor ReadTensor(const fb::Tensor& t, const std::string& file, const std::string& path) {
  Tensor out;
  out.name = Str(t.name());
  out.dtype = static_cast<DType>(t.type());
  out.shape = Vec(t.shape());
  out.shape_signature = Vec(t.shape_signature());
  out.buffer = t.buffer();
  out.is_variable = t.is_variable();
  if (t.sparsity())
    throw Error(file, path + ".sparsity", "a dense tensor", "sparsity parameters",
                "lockstep does not read sparse tensors");
  if (const fb::QuantizationParameters* q = t.quantization()) {
    if (q->details_type() != fb::QuantizationDetails::NONE)
      throw Error(file, path + ".quantization.details", "none (affine scale/zero_point)",
                  "custom quantization details (type " +
                      std::to_string(static_cast<int>(q->details_type())) + ")",
                  "lockstep only reads affine quantization");
    Quantization qq;
    qq.scale = Vec(q->scale());
    qq.zero_point = Vec(q->zero_point());
    qq.min = Vec(q->min());
    qq.max = Vec(q->max());
    qq.quantized_dimension = q->quantized_dimension();
    out.quantization = std::move(qq);
  }
  return out;
}

Operator ReadOperator(const fb::Operator& op, const std::string& file, const std::string& path) {
  Operator out;
  out.opcode_index = op.opcode_index();
  out.inputs = Vec(op.inputs());
  out.outputs = Vec(op.outputs());
  out.intermediates = Vec(op.intermediates());
  out.custom_options = Vec(op.custom_options());
  if (op.custom_options_format() != fb::CustomOptionsFormat::FLEXBUFFERS)
    throw Error(file, path + ".custom_options_format", "0 (FLEXBUFFERS)",
                std::to_string(static_cast<int>(op.custom_options_format())));
  if (op.large_custom_options_offset() > 1)
    throw Error(
        file, path + ".large_custom_options_offset", "custom options inside the flatbuffer",
        "options stored outside it at offset " + std::to_string(op.large_custom_options_offset()),
        "the >2 GB model layout is not supported");
  if (op.builtin_options_2_type() != fb::BuiltinOptions2::NONE)
    throw Error(file, path + ".builtin_options_2", "no second options table",
                "type " + std::to_string(static_cast<int>(op.builtin_options_2_type())),
                "StableHLO ops are not supported");
  if (auto* m = op.mutating_variable_inputs())
    for (uint8_t v : *m) out.mutating_variable_inputs.push_back(v != 0);
  out.builtin_options = ReadOptions(static_cast<uint8_t>(op.builtin_options_type()),
                                    static_cast<const flatbuffers::Table*>(op.builtin_options()));
  return out;
}

// The checks before the flatbuffer is read: the identifier, the size, the verifier.
const fb::Model& VerifiedModel(std::span<const uint8_t> bytes, const std::string& source) {
  const std::string what = "a TFLite model (a flatbuffer with file identifier \"TFL3\")";
  if (bytes.empty()) throw Error(source, "file", what, "an empty file");
  if (bytes.size() < 8) throw Error(source, "file", what, std::to_string(bytes.size()) + " bytes");
  // TFLite's own verifier insists on the identifier, so lockstep does too: a buffer without it
  // is refused even when it would otherwise verify.
  if (!flatbuffers::BufferHasIdentifier(bytes.data(), kIdentifier))
    throw Error(source, "file identifier (bytes 4..7)", "\"TFL3\"", Printable(bytes.subspan(4, 4)),
                "not a TFLite model, or a damaged one");
  if (bytes.size() >= FLATBUFFERS_MAX_BUFFER_SIZE)
    throw Error(source, "file", "a model under 2 GiB", std::to_string(bytes.size()) + " bytes");
  flatbuffers::Verifier verifier(bytes.data(), bytes.size());
  if (!fb::VerifyModelBuffer(verifier))
    throw Error(
        source, "flatbuffer", what,
        "a buffer that fails flatbuffer verification (" + std::to_string(bytes.size()) + " bytes)",
        "the file is truncated or damaged");
  return *fb::GetModel(bytes.data());
}

std::vector<OperatorCode> ReadOperatorCodes(const fb::Model& m) {
  std::vector<OperatorCode> codes;
  if (!m.operator_codes()) return codes;
  for (const fb::OperatorCode* c : *m.operator_codes()) {
    OperatorCode code;
    // Codes >= 127 live only in builtin_code; old files have only the byte. TFLite reads the
    // larger of the two, so does lockstep.
    code.builtin_code = std::max<int32_t>(c->deprecated_builtin_code(), c->builtin_code());
    code.custom_code = Str(c->custom_code());
    code.version = c->version();
    codes.push_back(std::move(code));
  }
  return codes;
}

std::vector<std::vector<uint8_t>> ReadBuffers(const fb::Model& m, const std::string& source) {
  std::vector<std::vector<uint8_t>> buffers;
  if (!m.buffers()) return buffers;
  for (size_t i = 0; i < m.buffers()->size(); ++i) {
    const fb::Buffer* b = m.buffers()->Get(static_cast<flatbuffers::uoffset_t>(i));
    // TFLite counts offset values of 0 and 1 as "not set".
    if (b->offset() > 1)
      throw Error(source, Index("buffers", i) + ".offset", "data inside the flatbuffer",
                  "data stored outside it at offset " + std::to_string(b->offset()),
                  "the >2 GB model layout is not supported");
    buffers.push_back(Vec(b->data()));
  }
  return buffers;
}

Subgraph ReadSubgraph(const fb::SubGraph& g, const std::string& source, const std::string& sp) {
  Subgraph sg;
  sg.name = Str(g.name());
  sg.inputs = Vec(g.inputs());
  sg.outputs = Vec(g.outputs());
  if (g.tensors())
    for (size_t t = 0; t < g.tensors()->size(); ++t)
      sg.tensors.push_back(ReadTensor(*g.tensors()->Get(static_cast<flatbuffers::uoffset_t>(t)),
                                      source, Index(sp + ".tensors", t)));
  if (g.operators())
    for (size_t o = 0; o < g.operators()->size(); ++o)
      sg.operators.push_back(
          ReadOperator(*g.operators()->Get(static_cast<flatbuffers::uoffset_t>(o)), source,
                       Index(sp + ".operators", o)));
  return sg;
}

SignatureDef ReadSignatureDef(const fb::SignatureDef& sd) {
  SignatureDef d;
  d.signature_key = Str(sd.signature_key());
  d.subgraph_index = sd.subgraph_index();
  if (sd.inputs())
    for (const fb::TensorMap* t : *sd.inputs())
      d.inputs.push_back({Str(t->name()), t->tensor_index()});
  if (sd.outputs())
    for (const fb::TensorMap* t : *sd.outputs())
      d.outputs.push_back({Str(t->name()), t->tensor_index()});
  return d;
}

}  // namespace

Model ReadModel(std::span<const uint8_t> bytes, const std::string& source) {
  const fb::Model& m = VerifiedModel(bytes, source);
  Model out;
  out.version = m.version();
  out.description = Str(m.description());
  out.operator_codes = ReadOperatorCodes(m);
  out.buffers = ReadBuffers(m, source);
  out.deprecated_metadata_buffer = Vec(m.metadata_buffer());
  if (m.subgraphs())
    for (size_t s = 0; s < m.subgraphs()->size(); ++s)
      out.subgraphs.push_back(
          ReadSubgraph(*m.subgraphs()->Get(static_cast<flatbuffers::uoffset_t>(s)), source,
                       Index("subgraphs", s)));
  if (m.metadata())
    for (const fb::Metadata* md : *m.metadata())
      out.metadata.push_back({Str(md->name()), md->buffer()});
  if (m.signature_defs())
    for (const fb::SignatureDef* sd : *m.signature_defs())
      out.signature_defs.push_back(ReadSignatureDef(*sd));
  Validate(out, source);
  out.associated_files = zip::ReadAppended(bytes, source);
  return out;
}

std::vector<uint8_t> ReadModelFileBytes(const std::filesystem::path& path) {
  return ReadFileBytes(path, kMaxModelFileBytes, "a .tflite model file");
}

Model ReadModelFile(const std::filesystem::path& path) {
  return ReadModel(ReadModelFileBytes(path), path.string());
}

// ----- Writing ------------------------------------------------------------------------------

namespace {

// Validates the model and refuses sizes the builder or the zip cannot hold. Returns the bytes
// of constant data (with alignment slack).
uint64_t CheckWritable(const Model& m, const std::string& file) {
  Validate(m, file);
  // The builder aborts past 2 GiB; refuse before that.
  uint64_t total = 0;
  for (const auto& b : m.buffers) total += b.size() + 16;
  if (total > (uint64_t{1} << 31) - (uint64_t{1} << 24))
    throw Error(file, "buffers", "under 2 GiB of constant data", std::to_string(total) + " bytes");
  for (size_t i = 0; i < m.associated_files.size(); ++i)
    if (!m.associated_files[i].expanded)
      throw Error(file, Index("associated_files", i), "an expanded file to write",
                  "\"" + m.associated_files[i].name + "\" left unexpanded when read (" +
                      std::to_string(m.associated_files[i].declared_size) + " bytes)");
    else if (m.associated_files[i].content.size() > 0xfffffff0u ||
             m.associated_files[i].name.size() > 0xffff)
      throw Error(file, Index("associated_files", i), "a file under 4 GiB with a name under 64 KiB",
                  std::to_string(m.associated_files[i].content.size()) + " bytes");
  return total;
}

// An empty string is left out of the file rather than written empty.
Offset<flatbuffers::String> OptionalString(flatbuffers::FlatBufferBuilder& fbb,
                                           const std::string& s) {
  return s.empty() ? Offset<flatbuffers::String>() : fbb.CreateString(s);
}

std::vector<Offset<fb::Buffer>> WriteBuffers(flatbuffers::FlatBufferBuilder& fbb, const Model& m) {
  std::vector<Offset<fb::Buffer>> buffers;
  for (const auto& b : m.buffers) {
    Offset<flatbuffers::Vector<uint8_t>> data;
    if (!b.empty()) {
      fbb.ForceVectorAlignment(b.size(), 1, 16);  // the schema's force_align: 16
      data = fbb.CreateVector(b);
    }
    buffers.push_back(fb::CreateBuffer(fbb, data));
  }
  return buffers;
}

std::vector<Offset<fb::OperatorCode>> WriteOperatorCodes(flatbuffers::FlatBufferBuilder& fbb,
                                                         const Model& m) {
  std::vector<Offset<fb::OperatorCode>> codes;
  for (const OperatorCode& c : m.operator_codes) {
    auto deprecated = static_cast<int8_t>(std::min(c.builtin_code, kPlaceholderForGreaterOpCodes));
    codes.push_back(fb::CreateOperatorCode(fbb, deprecated, OptionalString(fbb, c.custom_code),
                                           c.version, c.builtin_code));
  }
  return codes;
}

Offset<fb::Tensor> WriteTensor(flatbuffers::FlatBufferBuilder& fbb, const Tensor& t) {
  Offset<fb::QuantizationParameters> q;
  if (t.quantization) {
    const Quantization& x = *t.quantization;
    auto vf = [&](const std::vector<float>& v) {
      return v.empty() ? Offset<flatbuffers::Vector<float>>() : fbb.CreateVector(v);
    };
    auto zp = x.zero_point.empty() ? Offset<flatbuffers::Vector<int64_t>>()
                                   : fbb.CreateVector(x.zero_point);
    q = fb::CreateQuantizationParameters(fbb, vf(x.min), vf(x.max), vf(x.scale), zp,
                                         fb::QuantizationDetails::NONE, 0, x.quantized_dimension);
  }
  auto sig = t.shape_signature.empty() ? Offset<flatbuffers::Vector<int32_t>>()
                                       : fbb.CreateVector(t.shape_signature);
  return fb::CreateTensor(fbb, fbb.CreateVector(t.shape), static_cast<fb::TensorType>(t.dtype),
                          t.buffer, fbb.CreateString(t.name), q, t.is_variable, 0, sig);
}

Offset<fb::Operator> WriteOperator(flatbuffers::FlatBufferBuilder& fbb, const Model& m,
                                   const Operator& op, const std::string& file,
                                   const std::string& path) {
  uint8_t type = 0;
  Offset<void> options = WriteOptions(fbb, op.builtin_options, OperatorName(m, op), file,
                                      path + ".builtin_options", type);
  auto custom = op.custom_options.empty() ? Offset<flatbuffers::Vector<uint8_t>>()
                                          : fbb.CreateVector(op.custom_options);
  auto inter = op.intermediates.empty() ? Offset<flatbuffers::Vector<int32_t>>()
                                        : fbb.CreateVector(op.intermediates);
  Offset<flatbuffers::Vector<uint8_t>> mutating;
  if (!op.mutating_variable_inputs.empty()) {
    std::vector<uint8_t> flags(op.mutating_variable_inputs.begin(),
                               op.mutating_variable_inputs.end());
    mutating = fbb.CreateVector(flags);
  }
  return fb::CreateOperator(fbb, op.opcode_index, fbb.CreateVector(op.inputs),
                            fbb.CreateVector(op.outputs), static_cast<fb::BuiltinOptions>(type),
                            options, custom, fb::CustomOptionsFormat::FLEXBUFFERS, mutating, inter);
}

Offset<fb::SubGraph> WriteSubgraph(flatbuffers::FlatBufferBuilder& fbb, const Model& m,
                                   const Subgraph& sg, const std::string& file,
                                   const std::string& sp) {
  std::vector<Offset<fb::Tensor>> tensors;
  for (const Tensor& t : sg.tensors) tensors.push_back(WriteTensor(fbb, t));
  std::vector<Offset<fb::Operator>> ops;
  for (size_t o = 0; o < sg.operators.size(); ++o)
    ops.push_back(WriteOperator(fbb, m, sg.operators[o], file, Index(sp + ".operators", o)));
  return fb::CreateSubGraph(fbb, fbb.CreateVector(tensors), fbb.CreateVector(sg.inputs),
                            fbb.CreateVector(sg.outputs), fbb.CreateVector(ops),
                            OptionalString(fbb, sg.name));
}

Offset<fb::SignatureDef> WriteSignatureDef(flatbuffers::FlatBufferBuilder& fbb,
                                           const SignatureDef& sd) {
  auto maps = [&](const std::vector<TensorMap>& v) {
    std::vector<Offset<fb::TensorMap>> out;
    for (const TensorMap& t : v)
      out.push_back(fb::CreateTensorMap(fbb, fbb.CreateString(t.name), t.tensor_index));
    return fbb.CreateVector(out);
  };
  auto in = maps(sd.inputs);
  auto out = maps(sd.outputs);
  return fb::CreateSignatureDef(fbb, in, out, fbb.CreateString(sd.signature_key),
                                sd.subgraph_index);
}

std::vector<uint8_t> Write(const Model& m, const std::string& file) {
  const uint64_t total = CheckWritable(m, file);
  flatbuffers::FlatBufferBuilder fbb(static_cast<size_t>(total) + 64 * 1024);
  // Children before parents, in the order the file has always had them: buffers, codes,
  // subgraphs, metadata, signatures.
  std::vector<Offset<fb::Buffer>> buffers = WriteBuffers(fbb, m);
  std::vector<Offset<fb::OperatorCode>> codes = WriteOperatorCodes(fbb, m);
  std::vector<Offset<fb::SubGraph>> subgraphs;
  for (size_t s = 0; s < m.subgraphs.size(); ++s)
    subgraphs.push_back(WriteSubgraph(fbb, m, m.subgraphs[s], file, Index("subgraphs", s)));
  std::vector<Offset<fb::Metadata>> metadata;
  for (const MetadataEntry& e : m.metadata)
    metadata.push_back(fb::CreateMetadata(fbb, fbb.CreateString(e.name), e.buffer));
  std::vector<Offset<fb::SignatureDef>> signatures;
  for (const SignatureDef& sd : m.signature_defs) signatures.push_back(WriteSignatureDef(fbb, sd));

  auto root = fb::CreateModel(
      fbb, m.version, fbb.CreateVector(codes), fbb.CreateVector(subgraphs),
      OptionalString(fbb, m.description), fbb.CreateVector(buffers),
      m.deprecated_metadata_buffer.empty() ? Offset<flatbuffers::Vector<int32_t>>()
                                           : fbb.CreateVector(m.deprecated_metadata_buffer),
      metadata.empty() ? Offset<flatbuffers::Vector<Offset<fb::Metadata>>>()
                       : fbb.CreateVector(metadata),
      signatures.empty() ? Offset<flatbuffers::Vector<Offset<fb::SignatureDef>>>()
                         : fbb.CreateVector(signatures));
  fb::FinishModelBuffer(fbb, root);

  std::vector<uint8_t> bytes(fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize());
  if (!m.associated_files.empty()) {
    if (bytes.size() + total > 0xfff00000u)
      throw Error(file, "associated_files", "a model under 4 GiB (zip offsets are 32-bit)",
                  std::to_string(bytes.size()) + " bytes of flatbuffer");
    zip::Append(m.associated_files, bytes);
  }
  return bytes;
}

}  // namespace

std::vector<uint8_t> WriteModel(const Model& model) { return Write(model, "model"); }

void WriteModelFile(const Model& model, const std::filesystem::path& path) {
  WriteFileAtomically(path, Write(model, path.string()));
}

}  // namespace lockstep
