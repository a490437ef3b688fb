// Text quoted in errors and reports stays valid UTF-8, however it is cut.
#include "lockstep/core/utf8.h"

#include <gtest/gtest.h>

#include <string>

#include "lockstep/core/error.h"
#include "lockstep/core/xml_escape.h"

namespace lockstep {
namespace {

TEST(ValidUtf8, KeepsWellFormedTextAndReplacesEachBadByte) {
  const std::string good = "a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80";  // a é € 😀
  EXPECT_EQ(ValidUtf8(good), good);
  EXPECT_EQ(ValidUtf8("a\xff"
                      "b"),
            "a\xEF\xBF\xBD"
            "b");
  EXPECT_EQ(ValidUtf8("\xE2\x82"), "\xEF\xBF\xBD\xEF\xBF\xBD");                  // truncated €
  EXPECT_EQ(ValidUtf8("\xC0\xAF"), "\xEF\xBF\xBD\xEF\xBF\xBD");                  // overlong '/'
  EXPECT_EQ(ValidUtf8("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // surrogate
}

TEST(Utf8Prefix, NeverSplitsACharacter) {
  std::string euros;
  for (int i = 0; i < 30; ++i) euros += "\xE2\x82\xAC";
  for (size_t max = 0; max < 40; ++max) {
    std::string cut = Utf8Prefix(euros, max);
    EXPECT_EQ(ValidUtf8(cut), cut) << max;
    EXPECT_EQ(cut.substr(cut.size() - 3), "...");
    EXPECT_EQ((cut.size() - 3) % 3, 0u) << max;
    EXPECT_LE(cut.size() - 3, max);
  }
  EXPECT_EQ(Utf8Prefix("short", 40), "short");
  EXPECT_EQ(Utf8Boundary(euros, 4), 3u);
  EXPECT_EQ(Utf8Boundary(euros, 1000), euros.size());
}

TEST(Error, MessageAndPartsAreValidUtf8) {
  Error e("caf\xe9.json", "name", "a string", "\"\xE2\x82\"");
  std::string what = e.what();
  EXPECT_EQ(ValidUtf8(what), what);
  EXPECT_EQ(e.file(), "caf\xEF\xBF\xBD.json");
  EXPECT_EQ(ValidUtf8(e.found()), e.found());
  std::string one = Error("bad \xff").what();
  EXPECT_EQ(ValidUtf8(one), one);
}

TEST(XmlEscape, ShowsBidiControlsInsteadOfObeyingThem) {
  // U+202E RIGHT-TO-LEFT OVERRIDE and U+2066 LEFT-TO-RIGHT ISOLATE in a label.
  std::string label = "cat\xE2\x80\xAEgpj.exe\xE2\x81\xA6x";
  std::string escaped = XmlEscape(label);
  EXPECT_EQ(escaped, "cat[U+202E]gpj.exe[U+2066]x");
  EXPECT_EQ(XmlEscape("a\xE2\x80\xAA<b"), "a[U+202A]&lt;b");
  EXPECT_EQ(XmlEscape("\xE2\x81\xA9"), "[U+2069]");
  // Other text in the same block (U+2022 bullet, U+20AC euro) passes as it is.
  EXPECT_EQ(XmlEscape("\xE2\x80\xA2\xE2\x82\xAC"), "\xE2\x80\xA2\xE2\x82\xAC");
}

}  // namespace
}  // namespace lockstep
