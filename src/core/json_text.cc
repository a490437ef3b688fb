#include "lockstep/core/json_text.h"

#include <set>
#include <vector>

#include "lockstep/core/error.h"
#include "lockstep/core/utf8.h"

namespace lockstep {
namespace {

using nlohmann::json;

// Builds the document with nlohmann's own DOM builder while keeping the path of the value being
// read, so that each refusal can name where it is.
class GuardedSax {
 public:
  GuardedSax(json& root, const std::string& source) : dom_(root, true), source_(source) {}

  bool null() { return Value() && dom_.null(); }
  bool boolean(bool v) { return Value() && dom_.boolean(v); }
  bool number_integer(json::number_integer_t v) { return Value() && dom_.number_integer(v); }
  bool number_unsigned(json::number_unsigned_t v) { return Value() && dom_.number_unsigned(v); }
  bool number_float(json::number_float_t v, const std::string& s) {
    return Value() && dom_.number_float(v, s);
  }
  bool string(std::string& v) { return Value() && dom_.string(v); }
  bool binary(json::binary_t& v) { return Value() && dom_.binary(v); }
  bool start_object(size_t n) { return Open(true) && dom_.start_object(n); }
  bool start_array(size_t n) { return Open(false) && dom_.start_array(n); }
  bool end_object() {
    frames_.pop_back();
    return dom_.end_object();
  }
  bool end_array() {
    frames_.pop_back();
    return dom_.end_array();
  }
  bool key(std::string& k) {
    Frame& f = frames_.back();
    if (!f.keys.insert(k).second)
      throw Error(source_, Path(frames_.size() - 1) + "." + Step(k), "each key once per object",
                  Quoted(k, 40) + " twice");
    f.key = k;
    return dom_.key(k);
  }
  bool parse_error(size_t, const std::string& token, const nlohmann::detail::exception& e) {
    if (e.id == 406) {  // a number beyond double range, e.g. 1e400
      Value();
      throw Error(source_, Path(frames_.size()), "a number within double range (about 1.8e308)",
                  Utf8Prefix(token, 40));
    }
    throw Error(source_, "JSON syntax", "valid JSON", Utf8Prefix(e.what(), 200));
  }

 private:
  struct Frame {
    bool object = false;
    size_t count = 0;  // arrays: values so far
    std::string key;   // objects: the current key
    std::set<std::string> keys;
  };

  // Called before every value: it is the next element of an enclosing array.
  bool Value() {
    if (!frames_.empty() && !frames_.back().object) ++frames_.back().count;
    return true;
  }
  bool Open(bool object) {
    Value();
    if (frames_.size() >= kMaxJsonDepth) {
      // The first steps locate it; all 64 would make an unreadable message.
      std::string where = Path(4) + (frames_.size() > 4 ? "..." : "");
      std::string limit = "JSON nested at most ";
      limit += std::to_string(kMaxJsonDepth);
      limit += " deep";
      throw Error(source_, where, limit,
                  std::string(object ? "an object" : "an array") + " at depth " +
                      std::to_string(frames_.size() + 1));
    }
    frames_.push_back({object, 0, {}, {}});
    return true;
  }
  static std::string Step(const std::string& key) { return Utf8Prefix(key, 40); }
  // "$" and the steps into the first `levels` frames.
  std::string Path(size_t levels) const {
    std::string p = "$";
    for (size_t i = 0; i < levels && i < frames_.size(); ++i) {
      const Frame& f = frames_[i];
      if (f.object) {
        p += '.';
        p += Step(f.key);
      } else {
        p += '[';
        p += std::to_string(f.count ? f.count - 1 : 0);
        p += ']';
      }
    }
    return p;
  }

  nlohmann::detail::json_sax_dom_parser<json> dom_;
  const std::string& source_;
  std::vector<Frame> frames_;
};

void Snippet(const json& v, size_t depth, size_t max_bytes, std::string& out) {
  if (out.size() > max_bytes) return;
  if (!v.is_structured()) {
    out += JsonText(v);
    return;
  }
  bool object = v.is_object();
  out += object ? '{' : '[';
  if (depth >= 3 && !v.empty()) {
    out += "...";
  } else {
    bool first = true;
    for (auto it = v.begin(); it != v.end() && out.size() <= max_bytes; ++it) {
      if (!first) out += ',';
      first = false;
      if (object) out += JsonText(json(it.key())) + ":";
      Snippet(*it, depth + 1, max_bytes, out);
    }
  }
  out += object ? '}' : ']';
}

}  // namespace

json ParseJsonText(std::string_view text, const std::string& source) {
  json root;
  GuardedSax sax(root, source);
  json::sax_parse(text.begin(), text.end(), &sax);
  return root;
}

std::string JsonText(const json& value, int indent) {
  return value.dump(indent, ' ', false, json::error_handler_t::replace);
}

std::string JsonText(const nlohmann::ordered_json& value, int indent) {
  return value.dump(indent, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

std::string JsonSnippet(const json& value, size_t max_bytes) {
  std::string out;
  Snippet(value, 0, max_bytes, out);
  return Utf8Prefix(out, max_bytes);
}

}  // namespace lockstep
