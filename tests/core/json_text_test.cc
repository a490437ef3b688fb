// ParseJsonText refuses what would crash or silently mislead later; JsonText never throws.
#include "lockstep/core/json_text.h"

#include <gtest/gtest.h>

#include <string>

#include "lockstep/core/error.h"
#include "lockstep/core/utf8.h"

namespace lockstep {
namespace {

using nlohmann::json;

// The Error ParseJsonText throws for `text` (fails the test when it throws none).
Error ParseError(const std::string& text) {
  try {
    ParseJsonText(text, "spec.json");
  } catch (const Error& e) {
    return e;
  }
  ADD_FAILURE() << "no Error for " << text.substr(0, 80);
  return Error("none");
}

TEST(ParseJsonText, ReadsOrdinaryJson) {
  json j = ParseJsonText(R"({"a": [1, 2.5, "x", null, true], "b": {"c": -3}})", "f.json");
  EXPECT_EQ(j["a"][1], 2.5);
  EXPECT_EQ(j["b"]["c"], -3);
  EXPECT_EQ(j["a"].size(), 5u);
}

TEST(ParseJsonText, RefusesNestingDeeperThan64WithAShortMessage) {
  // 100,000 deep: nlohmann parses it, but dumping it overflowed the stack (exit 139).
  std::string deep = R"({"name": )" + std::string(100000, '[') + std::string(100000, ']') + "}";
  Error e = ParseError(deep);
  EXPECT_EQ(e.file(), "spec.json");
  EXPECT_EQ(e.field(), "$.name[0][0][0]...");
  EXPECT_NE(std::string(e.what()).find("at most 64 deep"), std::string::npos) << e.what();
  EXPECT_LT(std::string(e.what()).size(), 200u) << e.what();
  // 64 levels are fine.
  std::string ok = std::string(63, '[') + "1" + std::string(63, ']');
  EXPECT_NO_THROW(ParseJsonText("[" + ok + "]", "f.json"));
  EXPECT_THROW(ParseJsonText("[[" + ok + "]]", "f.json"), Error);
}

TEST(ParseJsonText, RefusesADuplicateKeyNamingItAndItsPath) {
  Error e = ParseError(R"({"output": {"labels": ["a"], "score_threshold": 0.5, "labels": []}})");
  EXPECT_EQ(e.field(), "$.output.labels");
  EXPECT_EQ(e.found(), "\"labels\" twice");
  // The same key in two objects is no duplicate.
  EXPECT_NO_THROW(ParseJsonText(R"([{"a": 1}, {"a": 2}])", "f.json"));
}

TEST(ParseJsonText, RefusesANumberBeyondDoubleRangeNamingItsPath) {
  Error e = ParseError(R"({"images": [{"id": 1}, {"bbox": [0, 1e400, 2, 3]}]})");
  EXPECT_EQ(e.field(), "$.images[1].bbox[1]");
  EXPECT_EQ(e.found(), "1e400");
  EXPECT_EQ(ParseError("-1e999").field(), "$");
}

TEST(ParseJsonText, SyntaxErrorsAreErrorsInValidUtf8) {
  Error e = ParseError("{\"a\": \xff\xfe}");
  EXPECT_EQ(e.field(), "JSON syntax");
  std::string what = e.what();
  EXPECT_EQ(ValidUtf8(what), what);
}

TEST(JsonText, ReplacesInvalidUtf8InsteadOfThrowing) {
  json j = {{"file", std::string("caf\xe9.jpg")}};
  EXPECT_THROW(j.dump(), json::type_error);  // what the writers used to call
  EXPECT_EQ(JsonText(j), "{\"file\":\"caf\xEF\xBF\xBD.jpg\"}");
  nlohmann::ordered_json o = {{"label", std::string("\xc3")}};
  EXPECT_EQ(JsonText(o, 2), "{\n  \"label\": \"\xEF\xBF\xBD\"\n}");
}

TEST(JsonSnippet, IsShortForADeepValue) {
  json deep = 1;
  for (int i = 0; i < 100000; ++i) {
    json outer = json::array();
    outer.push_back(std::move(deep));
    deep = std::move(outer);
  }
  std::string s = JsonSnippet(deep, 57);
  EXPECT_LE(s.size(), 60u);
  EXPECT_EQ(s.rfind("[[[", 0), 0u) << s;
  EXPECT_EQ(JsonSnippet(json::array({1, 2})), "[1,2]");
}

}  // namespace
}  // namespace lockstep
