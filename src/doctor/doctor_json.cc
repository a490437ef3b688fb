// The doctor's report as JSON (the shape) and as a terminal summary of about 40 lines.
#include <cstdio>
#include <sstream>

#include "lockstep/core/utf8.h"
#include "lockstep/doctor/doctor.h"

namespace lockstep {
namespace {

using ojson = nlohmann::ordered_json;

ojson StatsJson(const DifferenceStats& s) {
  return {{"elements", s.elements},
          {"differing", s.differing},
          {"differing_share", s.differing_share()},
          {"non_finite", s.non_finite},
          // JSON has no infinity: null then, and non_finite says why.
          {"max_abs_diff", s.max_abs_diff},
          {"mean_diff", s.mean_diff},
          {"mean_abs_diff", s.mean_abs_diff}};
}

ojson FingerprintsJson(const std::vector<Fingerprint>& fingerprints) {
  ojson out = ojson::array();
  for (const Fingerprint& f : fingerprints)
    out.push_back({{"code", f.code}, {"description", f.description}, {"evidence", f.evidence}});
  return out;
}

ojson AgreementJson(const DetectionAgreement& a) {
  return {{"training", a.training},
          {"deployed", a.deployed},
          {"matched", a.matched},
          {"mean_abs_score_delta", a.mean_abs_score_delta},
          {"max_abs_score_delta", a.max_abs_score_delta},
          {"mean_iou", a.mean_iou}};
}

ojson CocoStatsJson(const CocoEvalResult& e) {
  ojson out;
  for (size_t i = 0; i < kCocoStatNames.size(); ++i) out[kCocoStatNames[i]] = e.stats[i];
  return out;
}

std::string Pct(double fraction) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", fraction * 100);
  return buf;
}

// At most n characters, cut at a space so that no number is cut in two.
std::string Short(std::string s, size_t n) {
  if (s.size() <= n) return s;
  size_t cut = s.rfind(' ', n - 4);
  if (cut == std::string::npos || cut < n / 2) cut = Utf8Boundary(s, n - 4);
  return s.substr(0, cut) + " ...";
}

// The share of the AP gap the units explain each alone; the rest needs several fixed together.
double ExplainedShare(const DoctorReport& r) {
  double explained = 0;
  for (const AttributionEntry& a : r.attribution) explained += a.share;
  return explained;
}

ojson FindingsJson(const std::vector<Finding>& findings) {
  ojson out = ojson::array();
  for (const Finding& f : findings)
    out.push_back({{"code", f.code},
                   {"severity", SeverityName(f.severity)},
                   {"field", f.field},
                   {"training", f.expected},
                   {"deployed", f.found},
                   {"consequence", f.consequence},
                   {"fix", f.fix}});
  return out;
}

ojson DifferencesJson(const std::vector<SpecDifference>& differences) {
  ojson out = ojson::array();
  for (const SpecDifference& d : differences) {
    ojson fields = ojson::array();
    for (const FieldDifference& f : d.fields)
      fields.push_back({{"field", f.field}, {"training", f.training}, {"deployed", f.deployed}});
    out.push_back({{"unit", d.unit}, {"fields", fields}});
  }
  return out;
}

ojson StagesJson(const std::vector<StageReport>& stages) {
  ojson out = ojson::array();
  for (const StageReport& s : stages)
    out.push_back({{"stage", s.stage},
                   {"equal", s.equal()},
                   {"images", s.images},
                   {"images_differing", s.images_differing},
                   {"stats", StatsJson(s.stats)},
                   {"fingerprints", FingerprintsJson(s.fingerprints)},
                   {"note", s.note}});
  return out;
}

// Images, detection agreement, both pipelines' COCO stats and the AP gap.
ojson RunStatsJson(const DoctorReport& r) {
  ojson stats;
  stats["images"] = r.images;
  if (r.agreement) stats["agreement"] = AgreementJson(*r.agreement);
  if (r.training_eval) stats["training"] = CocoStatsJson(*r.training_eval);
  if (r.deployed_eval) stats["deployed"] = CocoStatsJson(*r.deployed_eval);
  if (r.training_eval && r.deployed_eval)
    stats["ap_gap"] =
        std::max(0.0, r.training_eval->stats[0]) - std::max(0.0, r.deployed_eval->stats[0]);
  return stats;
}

ojson AttributionJson(const std::vector<AttributionEntry>& attribution) {
  ojson out = ojson::array();
  for (const AttributionEntry& a : attribution) {
    ojson fields = ojson::array();
    for (const FieldDifference& f : a.difference.fields) fields.push_back(f.field);
    out.push_back({{"unit", a.difference.unit},
                   {"fields", fields},
                   {"ap_switched", a.ap_switched},
                   {"ap_recovered", a.ap_recovered},
                   {"share", a.share},
                   {"shapley_share", a.shapley_share ? ojson(*a.shapley_share) : ojson(nullptr)},
                   {"shapley_half_width",
                    a.shapley_half_width ? ojson(*a.shapley_half_width) : ojson(nullptr)}});
  }
  return out;
}

// How the fair shares were computed: exactly, or from sampled orders (with the seed).
ojson ShapleyJson(const DoctorReport& r) {
  if (r.attribution.empty() || !r.attribution.front().shapley_share) return nullptr;
  if (!r.shapley_orders) return {{"method", "exact"}};
  return {{"method", "sampled"},
          {"orders", r.shapley_orders},
          {"seed", r.shapley_seed},
          {"interval", "95%, normal approximation over antithetic pairs of orders"}};
}

ojson FixesJson(const std::vector<FixStep>& fixes) {
  ojson out = ojson::array();
  for (const FixStep& f : fixes)
    out.push_back({{"unit", f.unit},
                   {"gain", f.gain ? ojson(*f.gain) : ojson(nullptr)},
                   {"basis", f.basis},
                   {"text", f.text}});
  return out;
}

ojson WhatIfsJson(const std::vector<WhatIf>& what_ifs) {
  ojson out = ojson::array();
  for (const WhatIf& w : what_ifs) {
    ojson x = {{"code", w.code},
               {"description", w.description},
               {"agreement", AgreementJson(w.agreement)}};
    x["ap"] = w.ap ? ojson(*w.ap) : ojson(nullptr);
    x["ap_cost"] = w.ap_cost ? ojson(*w.ap_cost) : ojson(nullptr);
    out.push_back(x);
  }
  return out;
}

ojson GateJson(const DoctorReport& r, const GateOptions& gate) {
  ojson j = {{"basis", r.gate && r.gate->measured ? "measured" : "static"},
             {"min_agreement", gate.min_agreement},
             {"max_ap_drop", gate.max_ap_drop}};
  if (!r.gate || !r.gate->measured) {
    j["reason"] = "no image ran: severities are the static catalogue's";
    return j;
  }
  const GateDecision& g = *r.gate;
  j["images"] = g.images;
  j["agreement"] = g.agreement_share;
  j["matched"] = g.agreement.matched;
  j["training_detections"] = g.agreement.training;
  j["other_detections"] = g.agreement.deployed;
  j["ap_drop"] = g.ap_drop ? ojson(*g.ap_drop) : ojson(nullptr);
  j["costly"] = g.costly;
  j["reason"] = g.reason;
  return j;
}

ojson UnitCostsJson(const std::vector<UnitCost>& costs) {
  ojson out = ojson::array();
  for (const UnitCost& c : costs)
    out.push_back({{"unit", c.difference.unit},
                   {"agreement", c.agreement_share},
                   {"matched", c.agreement.matched},
                   {"training_detections", c.agreement.training},
                   {"deployed_detections", c.agreement.deployed},
                   {"ap_drop", c.ap_drop ? ojson(*c.ap_drop) : ojson(nullptr)},
                   {"costly", c.costly}});
  return out;
}

ojson CausesJson(const std::vector<NamedCause>& causes) {
  ojson out = ojson::array();
  for (const NamedCause& c : causes)
    out.push_back({{"stage", c.stage},
                   {"code", c.fingerprint.code},
                   {"description", c.fingerprint.description},
                   {"evidence", c.fingerprint.evidence},
                   {"images", c.images},
                   {"images_differing", c.images_differing}});
  return out;
}

ojson ExternalJson(const std::vector<ExternalComparison>& external) {
  ojson out = ojson::array();
  for (const ExternalComparison& e : external) {
    const TensorComparison& c = e.comparison;
    out.push_back({{"file", e.file.string()},
                   {"stage", std::string(Name(c.stage))},
                   {"equal", c.equal},
                   {"same_shape", c.same_shape},
                   {"stats", StatsJson(c.stats)},
                   {"fingerprints", FingerprintsJson(c.fingerprints)}});
  }
  return out;
}

// "ALIGNED (measured)", "MISALIGNED (static)".
std::string Verdict(const DoctorReport& r) {
  return std::string(r.aligned ? "ALIGNED" : "MISALIGNED") +
         (r.gate && r.gate->measured ? " (measured)" : " (static)");
}

// The verdict line and the error and warning findings, at most 12 lines; info findings are
// counted.
void WriteVerdict(std::ostream& o, const DoctorReport& r) {
  size_t errors = 0, warnings = 0;
  for (const Finding& f : r.findings) {
    if (f.severity == Severity::kError) ++errors;
    if (f.severity == Severity::kWarning) ++warnings;
  }
  o << "lockstep doctor: " << r.model << "\n";
  if (!r.model_run.empty()) o << "  ran on its CPU twin " << r.model_run << " (no Edge TPU here)\n";
  o << "  training: " << r.training_source << "\n  deployed: " << r.deployed_source << "\n";
  o << Verdict(r) << ": " << errors << " error(s), " << warnings << " warning(s)\n";
  if (r.gate && r.gate->measured)
    o << "  measured: " << r.gate->reason << "\n";
  else
    o << "  static: no image ran, severities are the catalogue's (give --images to measure)\n";
  size_t shown = 0, info = 0;
  for (Severity sev : {Severity::kError, Severity::kWarning})
    for (const Finding& f : r.findings) {
      if (f.severity != sev) continue;
      if (shown++ >= 12) continue;
      o << "  " << (sev == Severity::kError ? "error  " : "warning") << " " << f.code << " ("
        << f.field << "): training " << Short(f.expected, 40) << ", deployed " << Short(f.found, 40)
        << "\n";
    }
  if (shown > 12) o << "  ... " << shown - 12 << " more (see --json)\n";
  for (const Finding& f : r.findings) info += f.severity == Severity::kInfo;
  if (info) o << "  (" << info << " info finding(s) with model facts: --json)\n";
  for (size_t i = 0; i < r.fixes.size() && i < 5; ++i)
    o << (i ? "  then " : "fix ") << r.fixes[i].unit << (i ? "" : " first") << ": "
      << r.fixes[i].text << "\n";
}

// Which stages agree, and where they first diverge.
void WriteStages(std::ostream& o, const std::string& title, const std::vector<StageReport>& stages,
                 const std::string& first, size_t images) {
  if (stages.empty()) return;
  o << title << " over " << images << " image(s): ";
  for (const StageReport& s : stages)
    o << s.stage << (s.equal() ? " =" : " ≠") << (&s == &stages.back() ? "\n" : ", ");
  if (first.empty()) return;
  for (const StageReport& s : stages)
    if (s.stage == first) {
      o << "first divergence: " << s.stage << " (" << s.images_differing << "/" << s.images
        << " images, max abs diff " << s.stats.max_abs_diff;
      if (s.stats.non_finite) o << ", " << s.stats.non_finite << " NaN/inf elements";
      o << ")";
      if (!s.fingerprints.empty()) o << ": " << s.fingerprints.front().description;
      o << "\n";
    }
}

// Detection agreement and both pipelines' COCO AP.
void WriteOutcome(std::ostream& o, const DoctorReport& r) {
  if (r.agreement) {
    const DetectionAgreement& a = *r.agreement;
    char buf[200];
    std::snprintf(buf, sizeof buf,
                  "detections: training %zu, deployed %zu, matched %zu; mean |score delta| %.3f, "
                  "mean IoU %.3f\n",
                  a.training, a.deployed, a.matched, a.mean_abs_score_delta, a.mean_iou);
    o << buf;
  }
  if (r.training_eval && r.deployed_eval) {
    o << "COCO AP (%)   AP    AP50  AP75\n";
    for (const auto& [name, e] :
         {std::pair{"training", &*r.training_eval}, std::pair{"deployed", &*r.deployed_eval}}) {
      char buf[120];
      std::snprintf(buf, sizeof buf, "  %-10s %5.1f %5.1f %5.1f\n", name, e->stats[0] * 100,
                    e->stats[1] * 100, e->stats[2] * 100);
      o << buf;
    }
  }
}

void WriteAttribution(std::ostream& o, const DoctorReport& r) {
  if (r.attribution.empty()) return;
  o << "attribution of the AP gap (alone: the unit fixed by itself; fair: Shapley share):\n";
  for (const AttributionEntry& a : r.attribution) {
    char buf[200];
    std::snprintf(buf, sizeof buf, "  %-22s AP %5.1f  alone %+5.1f (%5.1f%%)",
                  a.difference.unit.c_str(), a.ap_switched * 100, a.ap_recovered * 100,
                  a.share * 100);
    o << buf;
    if (a.shapley_share) {
      std::snprintf(buf, sizeof buf, "  fair share %5.1f%%", *a.shapley_share * 100);
      o << buf;
    }
    if (a.shapley_half_width) {
      std::snprintf(buf, sizeof buf, " ±%.1f%%", *a.shapley_half_width * 100);
      o << buf;
    }
    o << "\n";
  }
  if (r.shapley_orders)
    o << "  (fair shares sampled from " << r.shapley_orders << " orders; ± is a 95% interval)\n";
  if (r.attribution.size() > 1 && !r.attribution.front().shapley_share)
    o << "  (" << Pct(1 - ExplainedShare(r))
      << "% of the gap only goes when several are fixed together)\n";
}

// What-ifs on the training pipeline, and the stage tensors from elsewhere.
void WriteExtras(std::ostream& o, const DoctorReport& r) {
  if (!r.what_ifs.empty()) {
    o << "what-ifs on the training pipeline (input quantization mistakes):\n";
    for (const WhatIf& w : r.what_ifs) {
      char buf[200];
      std::snprintf(buf, sizeof buf, "  %-22s matched %zu/%zu", w.code.c_str(), w.agreement.matched,
                    w.agreement.training);
      o << buf;
      if (w.ap_cost) o << ", AP " << Pct(*w.ap) << " (cost " << Pct(*w.ap_cost) << ")";
      o << "\n";
    }
  }
}

}  // namespace

ojson DoctorJson(const DoctorReport& r) {
  ojson j;
  j["aligned"] = r.aligned;
  j["model"] = r.model;
  j["model_run"] = r.model_run.empty() ? ojson(nullptr) : ojson(r.model_run);
  j["training"] = r.training_source;
  j["deployed"] = r.deployed_source;
  j["verdict"] = Verdict(r);
  j["gate"] = GateJson(r, r.gate_options);
  j["findings"] = FindingsJson(r.findings);
  j["differences"] = DifferencesJson(r.differences);
  j["stages"] = StagesJson(r.stages);
  j["first_divergence"] = r.first_divergence.empty() ? ojson(nullptr) : ojson(r.first_divergence);
  j["stats"] = RunStatsJson(r);
  if (r.agreement) j["agreement"] = AgreementJson(*r.agreement);
  j["fix_list"] = FixesJson(r.fixes);
  j["attribution"] = AttributionJson(r.attribution);
  j["shapley"] = ShapleyJson(r);
  // What no single unit explains alone: the units interact (fixing one leaves the others).
  if (!r.attribution.empty()) j["attribution_interaction_share"] = 1 - ExplainedShare(r);
  j["what_ifs"] = WhatIfsJson(r.what_ifs);
  j["unit_costs"] = UnitCostsJson(r.unit_costs);
  j["stage_tensors"] = StagesJson(r.external_stages);
  j["stage_tensors_own"] = StagesJson(r.external_own);
  j["causes"] = CausesJson(r.causes);
  j["stage_tensors_first_divergence"] =
      r.external_first_divergence.empty() ? ojson(nullptr) : ojson(r.external_first_divergence);
  j["external"] = ExternalJson(r.external);
  return j;
}

std::string DoctorSummary(const DoctorReport& r) {
  std::ostringstream o;
  WriteVerdict(o, r);
  WriteStages(o, "stages", r.stages, r.first_divergence, r.images);
  WriteStages(o, "stage tensors of the other pipeline", r.external_stages,
              r.external_first_divergence, r.images);
  if (r.causes.size() > 1) {
    o << "causes, in the order of the data flow:\n";
    for (size_t i = 0; i < r.causes.size(); ++i)
      o << "  " << i + 1 << ". " << r.causes[i].stage << ": " << r.causes[i].fingerprint.code
        << " (" << r.causes[i].fingerprint.description << ")\n";
  }
  WriteOutcome(o, r);
  WriteAttribution(o, r);
  WriteExtras(o, r);
  return o.str();
}

}  // namespace lockstep
