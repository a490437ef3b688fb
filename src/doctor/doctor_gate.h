// Internal to the doctor room: the verdict set by measured cost. With images, a difference is an
// error when what it costs in detections (or AP) passes the gate, whatever its static class, and
// a difference that measurably costs nothing says so; without images the static severities stand.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "lockstep/doctor/doctor.h"

namespace lockstep::doctor {

// The gate's decision on one measurement: `what` names what was measured ("the deployed
// pipeline", "the other pipeline's model input").
GateDecision DecideGate(const GateOptions& gate, const DetectionAgreement& agreement,
                        std::optional<double> ap_drop, size_t images, const std::string& what);

// "detections agree 99.2% (118 of 119), AP -0.1 points on 16 images".
std::string CostText(double agreement_share, const DetectionAgreement& agreement,
                     std::optional<double> ap_drop, size_t images);

// The static findings of each spec difference regraded by what it measurably costs: the unit's
// own cost (UnitCost) when measured, else the whole deployed pipeline's (r.gate). Findings that
// block the deployed side are never regraded. Adds the gate's own finding ("measured_cost").
void RegradeByCost(const std::vector<std::vector<Finding>>& unit_findings, DoctorReport& r);

// The gate's own finding: info, or an error when costly and no error finding names a cause
// (then it alone makes the verdict).
Finding MeasuredCostFinding(const GateDecision& gate, bool named_elsewhere, const std::string& fix);

// A differing stage's finding regraded by a measurement: an error when costly, a warning that
// says it costs nothing measurable otherwise (non-finite values stay errors).
void RegradeStageFinding(const GateDecision& cost, Finding& f);

}  // namespace lockstep::doctor
