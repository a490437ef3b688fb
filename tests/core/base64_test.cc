// Base64 against RFC 4648's own test vectors and Python's base64 module, and every malformed
// input refused with an Error.
#include "lockstep/core/base64.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

#include "lockstep/core/error.h"
#include "support/test_support.h"

namespace lockstep {
namespace {

std::vector<uint8_t> Bytes(const std::string& s) { return {s.begin(), s.end()}; }

TEST(Base64, MatchesRfc4648TestVectors) {
  const std::pair<const char*, const char*> vectors[] = {{"", ""},
                                                         {"f", "Zg=="},
                                                         {"fo", "Zm8="},
                                                         {"foo", "Zm9v"},
                                                         {"foob", "Zm9vYg=="},
                                                         {"fooba", "Zm9vYmE="},
                                                         {"foobar", "Zm9vYmFy"}};
  for (const auto& [plain, encoded] : vectors) {
    EXPECT_EQ(Base64Encode(Bytes(plain)), encoded) << plain;
    EXPECT_EQ(Base64Decode(encoded, "vector"), Bytes(plain)) << encoded;
  }
}

TEST(Base64, MatchesPythonOnEveryByteValueAndLength) {
  std::vector<uint8_t> bytes(1000);
  std::mt19937 rng(7);
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = i < 256 ? uint8_t(i) : uint8_t(rng());
  auto dir = testing::ScratchDir();
  testing::WriteBytes(dir / "bytes.bin", bytes);
  // Python encodes every prefix length 0..9 and the whole buffer, one line each.
  std::string out = testing::RunPythonScript(
      "import base64\n"
      "data = open('" +
          (dir / "bytes.bin").string() +
          "', 'rb').read()\n"
          "for n in list(range(10)) + [len(data)]:\n"
          "    print(base64.b64encode(data[:n]).decode())\n",
      dir);
  std::string expected;
  for (size_t n : {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 1000}) {
    std::vector<uint8_t> prefix(bytes.begin(), bytes.begin() + long(n));
    std::string encoded = Base64Encode(prefix);
    expected += encoded + "\n";
    EXPECT_EQ(Base64Decode(encoded, "prefix"), prefix) << n;
  }
  EXPECT_EQ(out, expected);
}

TEST(Base64, RefusesMalformedText) {
  for (const char* bad : {"Zg=", "Zg=a", "Z===", "=Zg=", "Zm9v!A==", "Zm 9", "Zg==Zg==", "Zm9\n"}) {
    try {
      Base64Decode(bad, "report.html");
      ADD_FAILURE() << "accepted " << bad;
    } catch (const Error& e) {
      EXPECT_EQ(e.file(), "report.html") << bad;
      EXPECT_NE(std::string(e.what()).find("base64"), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace lockstep
