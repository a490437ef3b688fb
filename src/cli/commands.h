// The lockstep subcommands. Each file adds one subcommand to the app; its callback stores the
// process exit code in `exit_code` (0 success, 1 a check found a problem) and throws
// lockstep::Error for bad input (exit 2).
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "lockstep/core/finding.h"

namespace lockstep::cli {

void AddInspectCommand(CLI::App& app, int& exit_code);
void AddRunCommand(CLI::App& app, int& exit_code);
void AddBenchCommand(CLI::App& app, int& exit_code);
void AddDemoCommand(CLI::App& app, int& exit_code);
void AddSpecCommand(CLI::App& app, int& exit_code);
void AddPreprocessCommand(CLI::App& app, int& exit_code);
void AddDetectCommand(CLI::App& app, int& exit_code);
void AddEvalCommand(CLI::App& app, int& exit_code);
void AddDoctorCommand(CLI::App& app, int& exit_code);
void AddEdgeTpuCheckCommand(CLI::App& app, int& exit_code);
void AddQuantReportCommand(CLI::App& app, int& exit_code);

// Prints what a spec check found on stderr, one finding per line ("warning: ..."), so a run that
// goes ahead with a mismatched spec says so.
void WarnAboutFindings(const std::vector<Finding>& findings, const std::string& spec_name);

}  // namespace lockstep::cli
