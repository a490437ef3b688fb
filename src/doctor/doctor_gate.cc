// The verdict set by measured cost: the gate's thresholds applied to detection agreement and AP,
// and the findings regraded by what each difference costs.
#include "doctor/doctor_gate.h"

#include <algorithm>
#include <cstdio>

namespace lockstep {

double AgreementShare(const DetectionAgreement& a) {
  const size_t larger = std::max(a.training, a.deployed);
  return larger ? double(a.matched) / double(larger) : 1.0;
}

namespace doctor {
namespace {

std::string Percent1(double share) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f%%", share * 100);
  return buf;
}

bool Costly(const GateOptions& gate, double agreement_share, std::optional<double> ap_drop) {
  return agreement_share < gate.min_agreement || (ap_drop && *ap_drop > gate.max_ap_drop);
}

bool SameFinding(const Finding& a, const Finding& b) {
  return a.code == b.code && a.field == b.field && a.found == b.found && a.expected == b.expected;
}

// The cost a unit's findings are graded by: its own when measured, else the whole pipeline's.
struct UnitGrade {
  bool costly = false;
  bool costs_something = false;  // any detection or AP moved at all
  std::string text;
};

UnitGrade GradeOf(const DoctorReport& r, size_t unit) {
  const GateDecision& g = *r.gate;
  for (const UnitCost& c : r.unit_costs)
    if (c.difference.unit == r.differences[unit].unit)
      return {c.costly, c.agreement_share < 1 || (c.ap_drop && *c.ap_drop > 0),
              "alone, " + CostText(c.agreement_share, c.agreement, c.ap_drop, g.images)};
  return {g.costly, g.agreement_share < 1 || (g.ap_drop && *g.ap_drop > 0),
          CostText(g.agreement_share, g.agreement, g.ap_drop, g.images)};
}

}  // namespace

std::string CostText(double agreement_share, const DetectionAgreement& agreement,
                     std::optional<double> ap_drop, size_t images) {
  std::string text = "detections agree " + Percent1(agreement_share) + " (" +
                     std::to_string(agreement.matched) + " matched of " +
                     std::to_string(agreement.training) + " training, " +
                     std::to_string(agreement.deployed) + " other)";
  if (ap_drop) {
    char buf[64];
    std::snprintf(buf, sizeof buf, ", AP %+.1f points", -*ap_drop * 100);
    text += buf;
  }
  return text + " on " + std::to_string(images) + " image(s)";
}

GateDecision DecideGate(const GateOptions& gate, const DetectionAgreement& agreement,
                        std::optional<double> ap_drop, size_t images, const std::string& what) {
  GateDecision d;
  d.measured = images > 0;
  d.images = images;
  d.agreement = agreement;
  d.agreement_share = AgreementShare(agreement);
  d.ap_drop = ap_drop;
  d.costly = d.measured && Costly(gate, d.agreement_share, ap_drop);
  char limits[96];
  std::snprintf(
      limits, sizeof limits, "gate: agreement >= %.1f%%%s", gate.min_agreement * 100,
      ap_drop ? (", AP drop <= " + std::to_string(gate.max_ap_drop * 100).substr(0, 4) + " points")
                    .c_str()
              : "");
  d.reason = what + ": " + CostText(d.agreement_share, agreement, ap_drop, images) + "; " + limits;
  return d;
}

void RegradeByCost(const std::vector<std::vector<Finding>>& unit_findings, DoctorReport& r) {
  if (!r.gate || !r.gate->measured) return;
  const GateDecision& g = *r.gate;
  bool any_unit_costly = false;
  for (size_t i = 0; i < unit_findings.size(); ++i) any_unit_costly |= GradeOf(r, i).costly;
  std::vector<bool> taken(r.findings.size(), false);
  for (size_t i = 0; i < unit_findings.size(); ++i) {
    UnitGrade grade = GradeOf(r, i);
    // Costly together, none alone: every unit that moves anything shares the blame.
    if (g.costly && !any_unit_costly && grade.costs_something) grade.costly = true;
    for (const Finding& made : unit_findings[i]) {
      for (size_t k = 0; k < r.findings.size(); ++k) {
        Finding& f = r.findings[k];
        if (taken[k] || !SameFinding(f, made)) continue;
        taken[k] = true;
        if (f.blocking || f.severity == Severity::kInfo) break;
        if (grade.costly) {
          f.severity = Severity::kError;
          f.consequence += " (measured: " + grade.text + ")";
        } else {
          f.severity = Severity::kWarning;
          f.consequence += " (measured: costs nothing that passes the gate; " + grade.text + ")";
        }
        break;
      }
    }
  }
  r.findings.push_back(MeasuredCostFinding(
      g, HasErrors(r.findings), "fix the differences graded as errors, largest cost first"));
}

Finding MeasuredCostFinding(const GateDecision& g, bool named_elsewhere, const std::string& fix) {
  return {"measured_cost",
          g.costly && !named_elsewhere ? Severity::kError : Severity::kInfo,
          "stats.agreement",
          "the training pipeline's detections",
          g.reason,
          g.costly ? "the other side loses or moves detections beyond the gate"
                   : "the differences cost nothing that passes the gate here",
          g.costly ? fix : ""};
}

void RegradeStageFinding(const GateDecision& cost, Finding& f) {
  if (!cost.measured || f.severity != Severity::kError || f.code == "stage_tensor_non_finite")
    return;
  if (cost.costly) {
    f.consequence +=
        " (measured: " + CostText(cost.agreement_share, cost.agreement, cost.ap_drop, cost.images) +
        ")";
  } else {
    f.severity = Severity::kWarning;
    f.consequence += " (measured: costs nothing that passes the gate; " +
                     CostText(cost.agreement_share, cost.agreement, cost.ap_drop, cost.images) +
                     ")";
  }
}

}  // namespace doctor
}  // namespace lockstep
