#include <iostream>

#include "cli/commands.h"

namespace lockstep::cli {

void WarnAboutFindings(const std::vector<Finding>& findings, const std::string& spec_name) {
  for (const Finding& f : findings)
    std::cerr << SeverityName(f.severity) << ": " << spec_name << " " << f.field << " (" << f.code
              << "): the model says " << f.expected << ", the spec " << f.found << ". "
              << f.consequence << ".\n";
}

}  // namespace lockstep::cli
