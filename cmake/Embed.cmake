# Writes OUT, a C++ file holding the bytes of IN as lockstep::schema::NAME_bfbs().
file(READ "${IN}" hex HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
file(WRITE "${OUT}.tmp"
  "#include <cstdint>\n#include <span>\nnamespace lockstep::schema {\n"
  "static const std::uint8_t k${NAME}[] = {${bytes}};\n"
  "std::span<const std::uint8_t> ${NAME}_bfbs() { return k${NAME}; }\n}\n")
file(RENAME "${OUT}.tmp" "${OUT}")
