#include "lockstep/core/npy.h"

#include <cctype>
#include <cstdio>
#include <iterator>
#include <limits>
#include <optional>

#include "lockstep/core/atomic_file.h"
#include "lockstep/core/error.h"
#include "lockstep/core/file_read.h"

namespace lockstep {
namespace {

constexpr uint8_t kMagic[] = {0x93, 'N', 'U', 'M', 'P', 'Y'};

struct Kind {
  char code;  // numpy kind: 'u', 'i', 'f', 'b'
  size_t size;
  DType dtype;
};
constexpr Kind kKinds[] = {
    {'u', 1, DType::kUInt8},   {'i', 1, DType::kInt8},    {'u', 2, DType::kUInt16},
    {'i', 2, DType::kInt16},   {'u', 4, DType::kUInt32},  {'i', 4, DType::kInt32},
    {'u', 8, DType::kUInt64},  {'i', 8, DType::kInt64},   {'f', 2, DType::kFloat16},
    {'f', 4, DType::kFloat32}, {'f', 8, DType::kFloat64}, {'b', 1, DType::kBool},
};

// The header is a Python dict literal, e.g. {'descr': '<f4', 'fortran_order': False,
// 'shape': (1, 3), }. This reads exactly the subset numpy writes: strings, True/False and tuples
// of non-negative integers.
class HeaderParser {
 public:
  HeaderParser(std::string_view text, const std::string& source) : s_(text), source_(source) {}

  struct Fields {
    std::optional<std::string> descr;
    std::optional<bool> fortran_order;
    std::optional<std::vector<int64_t>> shape;
  };

  Fields Parse() {
    Fields f;
    Expect('{');
    while (true) {
      SkipSpace();
      if (Peek() == '}') break;
      std::string key = String();
      Expect(':');
      SkipSpace();
      if (key == "descr") {
        f.descr = String();
      } else if (key == "fortran_order") {
        f.fortran_order = Bool();
      } else if (key == "shape") {
        f.shape = Tuple();
      } else {
        Fail("a key among 'descr', 'fortran_order', 'shape'", "'" + key + "'");
      }
      SkipSpace();
      if (Peek() == ',') {
        ++pos_;
        continue;
      }
      SkipSpace();
      if (Peek() != '}') Fail("',' or '}'", Around());
    }
    ++pos_;
    SkipSpace();
    if (pos_ != s_.size()) Fail("the end of the header after '}'", Around());
    return f;
  }

 private:
  [[noreturn]] void Fail(const std::string& expected, const std::string& found) {
    throw Error(source_, "npy header", expected, found);
  }
  std::string Around() const {
    if (pos_ >= s_.size()) return "the end of the header";
    std::string out = "'";
    out.append(s_.substr(pos_, 12));
    out += '\'';
    return out;
  }
  void SkipSpace() {
    while (pos_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[pos_]))) ++pos_;
  }
  char Peek() const { return pos_ < s_.size() ? s_[pos_] : '\0'; }
  void Expect(char c) {
    SkipSpace();
    if (Peek() != c) Fail(std::string("'") + c + "'", Around());
    ++pos_;
  }
  std::string String() {
    SkipSpace();
    char q = Peek();
    if (q != '\'' && q != '"') Fail("a quoted string", Around());
    size_t end = s_.find(q, pos_ + 1);
    if (end == std::string_view::npos) Fail("a closing quote", "the end of the header");
    std::string out(s_.substr(pos_ + 1, end - pos_ - 1));
    pos_ = end + 1;
    return out;
  }
  bool Bool() {
    if (s_.substr(pos_, 4) == "True") {
      pos_ += 4;
      return true;
    }
    if (s_.substr(pos_, 5) == "False") {
      pos_ += 5;
      return false;
    }
    Fail("True or False", Around());
  }
  std::vector<int64_t> Tuple() {
    Expect('(');
    std::vector<int64_t> dims;
    while (true) {
      SkipSpace();
      if (Peek() == ')') break;
      if (!std::isdigit(static_cast<unsigned char>(Peek()))) Fail("a dimension", Around());
      int64_t v = 0;
      while (std::isdigit(static_cast<unsigned char>(Peek()))) {
        v = v * 10 + (s_[pos_] - '0');
        if (v > std::numeric_limits<int32_t>::max()) Fail("a dimension below 2^31", "a larger one");
        ++pos_;
      }
      dims.push_back(v);
      SkipSpace();
      if (Peek() == ',') {
        ++pos_;
        continue;
      }
      if (Peek() != ')') Fail("',' or ')' in the shape", Around());
    }
    ++pos_;
    return dims;
  }

  std::string_view s_;
  const std::string& source_;
  size_t pos_ = 0;
};

DType DTypeFromDescr(const std::string& descr, const std::string& source) {
  auto bad = [&](const std::string& why) {
    return Error(source, "npy dtype",
                 "a little-endian u1, i1, u2, i2, u4, i4, u8, i8, f2, f4, f8 or b1", why);
  };
  if (descr.size() < 3) throw bad("'" + descr + "'");
  char order = descr[0];
  char code = descr[1];
  std::string digits = descr.substr(2);
  size_t size = 0;
  for (char c : digits) {
    if (!std::isdigit(static_cast<unsigned char>(c)) || size > 100) throw bad("'" + descr + "'");
    size = size * 10 + size_t(c - '0');
  }
  if (order == '>' && size > 1) throw bad("big-endian '" + descr + "'");
  if (order != '<' && order != '|' && order != '=' && !(order == '>' && size == 1))
    throw bad("'" + descr + "'");
  for (const Kind& k : kKinds)
    if (k.code == code && k.size == size) return k.dtype;
  throw bad("'" + descr + "'");
}

}  // namespace

std::string NpyDescr(DType dtype) {
  for (const Kind& k : kKinds) {
    if (k.dtype != dtype) continue;
    std::string out = k.size == 1 ? "|" : "<";
    out += k.code;
    out += std::to_string(k.size);
    return out;
  }
  throw Error("", "npy dtype", "a numeric or bool dtype", std::string(DTypeName(dtype)));
}

TensorData ReadNpy(std::span<const uint8_t> bytes, const std::string& source) {
  if (bytes.size() < 10 || !std::equal(std::begin(kMagic), std::end(kMagic), bytes.begin()))
    throw Error(source, "npy magic", "\\x93NUMPY", bytes.empty() ? "an empty file" : "other bytes",
                "is this a .npy file?");
  int major = bytes[6], minor = bytes[7];
  size_t header_len = 0, header_start = 0;
  if (major == 1 && minor == 0) {
    header_len = size_t(bytes[8]) | size_t(bytes[9]) << 8;
    header_start = 10;
  } else if ((major == 2 || major == 3) && minor == 0) {
    if (bytes.size() < 12) throw Error(source, "npy header", "a header length", "end of file");
    header_len = size_t(bytes[8]) | size_t(bytes[9]) << 8 | size_t(bytes[10]) << 16 |
                 size_t(bytes[11]) << 24;
    header_start = 12;
  } else {
    throw Error(source, "npy version", "1.0, 2.0 or 3.0",
                std::to_string(major) + "." + std::to_string(minor));
  }
  if (header_len > bytes.size() - header_start)
    throw Error(source, "npy header", std::to_string(header_len) + " header bytes",
                std::to_string(bytes.size() - header_start) + " bytes left in the file",
                "the file is truncated");
  std::string_view text(reinterpret_cast<const char*>(bytes.data()) + header_start, header_len);
  HeaderParser::Fields f = HeaderParser(text, source).Parse();
  if (!f.descr) throw Error(source, "npy header", "a 'descr' key", "none");
  if (!f.fortran_order) throw Error(source, "npy header", "a 'fortran_order' key", "none");
  if (!f.shape) throw Error(source, "npy header", "a 'shape' key", "none");
  if (*f.fortran_order)
    throw Error(source, "npy fortran_order", "False (C order)", "True",
                "save with np.ascontiguousarray(a)");

  TensorData t;
  t.dtype = DTypeFromDescr(*f.descr, source);
  size_t count = 1;
  for (int64_t d : *f.shape) {
    t.shape.push_back(int(d));
    if (d != 0 && count > std::numeric_limits<size_t>::max() / 16 / size_t(d))
      throw Error(source, "npy shape", "an array that fits in memory", "a larger one");
    count *= size_t(d);
  }
  size_t want = count * DTypeSize(t.dtype);
  size_t have = bytes.size() - header_start - header_len;
  if (want != have) {
    std::string shape = "(";
    for (size_t i = 0; i < t.shape.size(); ++i) {
      if (i) shape += ", ";
      shape += std::to_string(t.shape[i]);
    }
    shape += ")";
    throw Error(source, "npy data",
                std::to_string(want) + " bytes for shape " + shape + " " + *f.descr,
                std::to_string(have) + " bytes");
  }
  const uint8_t* data = bytes.data() + header_start + header_len;
  t.bytes.assign(data, data + want);
  if (t.dtype == DType::kBool)
    for (uint8_t& b : t.bytes)
      if (b > 1) throw Error(source, "npy data", "bool bytes 0 or 1", std::to_string(b));
  return t;
}

TensorData ReadNpyFile(const std::filesystem::path& path) {
  const std::vector<uint8_t> bytes = ReadFileBytes(path, kMaxTensorFileBytes, "a .npy file");
  return ReadNpy(bytes, path.string());
}

std::vector<uint8_t> EncodeNpy(const TensorData& tensor) {
  size_t want = tensor.element_count() * DTypeSize(tensor.dtype);
  if (tensor.bytes.size() != want)
    throw Error("", "tensor", std::to_string(want) + " bytes for its shape",
                std::to_string(tensor.bytes.size()) + " bytes");
  std::string header =
      "{'descr': '" + NpyDescr(tensor.dtype) + "', 'fortran_order': False, " + "'shape': (";
  for (size_t i = 0; i < tensor.shape.size(); ++i) {
    if (i) header += ", ";
    header += std::to_string(tensor.shape[i]);
  }
  if (tensor.shape.size() == 1) header += ",";
  header += "), }";
  // numpy pads the header with spaces and a final newline so the data starts 64-byte aligned.
  bool v2 = header.size() + 1 + 10 > 65535;
  size_t prefix = v2 ? 12 : 10;
  size_t total = prefix + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  std::vector<uint8_t> out(std::begin(kMagic), std::end(kMagic));
  out.push_back(v2 ? 2 : 1);
  out.push_back(0);
  size_t n = header.size();
  out.push_back(uint8_t(n & 0xff));
  out.push_back(uint8_t(n >> 8 & 0xff));
  if (v2) {
    out.push_back(uint8_t(n >> 16 & 0xff));
    out.push_back(uint8_t(n >> 24 & 0xff));
  }
  out.insert(out.end(), header.begin(), header.end());
  out.insert(out.end(), tensor.bytes.begin(), tensor.bytes.end());
  return out;
}

void WriteNpyFile(const TensorData& tensor, const std::filesystem::path& path) {
  WriteFileAtomically(path, EncodeNpy(tensor));
}

}  // namespace lockstep
