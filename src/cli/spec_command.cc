// lockstep spec from-model MODEL [--out FILE]  |  lockstep spec check SPEC MODEL [--json]
#include <filesystem>
#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "lockstep/core/atomic_file.h"
#include "lockstep/core/error.h"
#include "lockstep/core/json_text.h"
#include "lockstep/model/model_file.h"
#include "lockstep/pipeline/spec_model.h"

namespace lockstep::cli {

void AddSpecCommand(CLI::App& app, int& exit_code) {
  auto* spec = app.add_subcommand("spec", "Derive a pipeline spec from a model, or check one");
  spec->require_subcommand(1);

  auto* derive = spec->add_subcommand(
      "from-model",
      "A spec from the model's tensors and metadata; each field marked fact or assumption");
  struct DeriveArgs {
    std::string model, out;
  };
  auto d = std::make_shared<DeriveArgs>();
  derive->add_option("MODEL", d->model, "the .tflite model")->required();
  derive->add_option("--out", d->out, "write the spec here instead of standard output");
  derive->callback([d] {
    Spec s = SpecFromModel(*LoadModelFile(d->model));
    std::string json = JsonText(ToJson(s), 2) + "\n";
    if (d->out.empty())
      std::cout << json;
    else
      WriteFileAtomically(d->out, json);
    std::cerr
        << "Where each field comes from (confirm the assumptions with the training script):\n";
    for (const auto& p : s.provenance)
      std::cerr << "  " << (p.fact ? "fact      " : "ASSUMPTION") << "  " << p.field << ": "
                << p.reason << "\n";
  });

  auto* check = spec->add_subcommand("check", "Check a spec against a model (exit 1 on errors)");
  struct CheckArgs {
    std::string spec, model;
    bool json = false;
  };
  auto c = std::make_shared<CheckArgs>();
  check->add_option("SPEC", c->spec, "the pipeline spec (JSON)")->required();
  check->add_option("MODEL", c->model, "the .tflite model")->required();
  check->add_flag("--json", c->json, "findings as JSON");
  check->callback([c, &exit_code] {
    Spec s = ReadSpecFile(c->spec);
    std::vector<Finding> findings = CheckSpec(s, *LoadModelFile(c->model));
    if (c->json) {
      nlohmann::json out = {
          {"spec", c->spec}, {"model", c->model}, {"findings", nlohmann::json::array()}};
      for (const auto& f : findings)
        out["findings"].push_back({{"code", f.code},
                                   {"severity", SeverityName(f.severity)},
                                   {"field", f.field},
                                   {"expected", f.expected},
                                   {"found", f.found},
                                   {"consequence", f.consequence},
                                   {"fix", f.fix}});
      std::cout << JsonText(out, 2) << "\n";
    } else if (findings.empty()) {
      std::cout << c->spec << " agrees with " << c->model << "\n";
    } else {
      for (const auto& f : findings)
        std::cout << SeverityName(f.severity) << " " << f.code << " at " << f.field
                  << ": the model wants " << f.expected << ", the spec says " << f.found << ".\n  "
                  << f.consequence << ". Fix: " << f.fix << ".\n";
    }
    exit_code = HasErrors(findings) ? 1 : 0;
  });
}

}  // namespace lockstep::cli
