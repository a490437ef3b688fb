// Where the benches find the real assets: LOCKSTEP_ASSETS, else the build's LOCKSTEP_ASSETS_DIR.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <string>

inline std::filesystem::path Asset(const std::string& relative) {
  const char* env = std::getenv("LOCKSTEP_ASSETS");
  return std::filesystem::path(env && *env ? env : LOCKSTEP_ASSETS_DEFAULT) / relative;
}
