#include "doctor/attribution.h"

#include "doctor/doctor_common.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <numeric>
#include <random>

namespace lockstep::doctor {

std::vector<double> ExactShapley(size_t units, const SubsetValue& value) {
  // Shapley weight of a subset S not holding i: |S|! (n-|S|-1)! / n!.
  auto factorial = [](size_t k) {
    double f = 1;
    for (size_t j = 2; j <= k; ++j) f *= double(j);
    return f;
  };
  std::vector<double> out(units, 0.0);
  for (size_t i = 0; i < units; ++i)
    for (uint32_t mask = 0; mask < (1u << units); ++mask) {
      if (mask & (1u << i)) continue;
      const size_t size = size_t(std::popcount(mask));
      out[i] += factorial(size) * factorial(units - size - 1) / factorial(units) *
                (value(mask | (1u << i)) - value(mask));
    }
  return out;
}

namespace {

// Each unit's marginal value along one order of switching the units.
std::vector<double> Marginals(const std::vector<size_t>& order, const SubsetValue& value) {
  std::vector<double> out(order.size(), 0.0);
  uint32_t mask = 0;
  double before = value(mask);
  for (size_t unit : order) {
    mask |= 1u << unit;
    const double after = value(mask);
    out[unit] = after - before;
    before = after;
  }
  return out;
}

}  // namespace

ShapleyEstimate SampleShapley(size_t units, size_t orders, uint32_t seed,
                              const SubsetValue& value) {
  ShapleyEstimate e;
  e.value.assign(units, 0.0);
  e.half_width.assign(units, 0.0);
  const size_t pairs = std::max<size_t>(1, (orders + 1) / 2);
  std::vector<std::vector<double>> samples(units);
  std::mt19937 rng(seed);
  std::vector<size_t> order(units);
  std::iota(order.begin(), order.end(), size_t{0});
  for (size_t p = 0; p < pairs; ++p) {
    std::shuffle(order.begin(), order.end(), rng);
    const std::vector<double> forward = Marginals(order, value);
    const std::vector<double> backward =
        Marginals(std::vector<size_t>(order.rbegin(), order.rend()), value);
    for (size_t i = 0; i < units; ++i) samples[i].push_back((forward[i] + backward[i]) / 2);
  }
  e.orders = 2 * pairs;
  for (size_t i = 0; i < units; ++i) {
    const std::vector<double>& s = samples[i];
    const double mean = std::accumulate(s.begin(), s.end(), 0.0) / double(s.size());
    e.value[i] = mean;
    if (s.size() < 2) continue;
    double ss = 0;
    for (double x : s) ss += (x - mean) * (x - mean);
    e.half_width[i] = 1.96 * std::sqrt(ss / double(s.size() - 1) / double(s.size()));
  }
  return e;
}

namespace {

constexpr double kNothing = 0.0005;  // half of the 0.1 AP points the report prints

std::string Points(double ap) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%+.1f", ap * 100);
  return buf;
}

// By the attribution over the COCO annotations: fair shares, else each unit alone.
std::vector<FixStep> ByAttribution(const DoctorReport& r) {
  std::vector<FixStep> out;
  const double gap = Ap(*r.training_eval) - Ap(*r.deployed_eval);
  for (const AttributionEntry& a : r.attribution) {
    FixStep f;
    f.unit = a.difference.unit;
    if (a.shapley_share) {
      f.gain = *a.shapley_share * gap;
      f.basis = r.shapley_orders ? "sampled fair share" : "fair share";
      f.text = Points(*f.gain) + " AP (" + f.basis + " " +
               std::to_string(int(std::lround(*a.shapley_share * 100))) + "% of the gap";
      if (a.shapley_half_width)
        f.text += " ±" + std::to_string(int(std::lround(*a.shapley_half_width * 100))) + "%";
      f.text += ")";
    } else {
      f.gain = a.ap_recovered;
      f.basis = "alone";
      f.text = Points(*f.gain) + " AP (fixed alone)";
    }
    out.push_back(std::move(f));
  }
  return out;
}

// By the reverse ablation: each unit alone broken in the training pipeline.
std::vector<FixStep> ByUnitCost(const DoctorReport& r) {
  std::vector<FixStep> out;
  for (const UnitCost& c : r.unit_costs) {
    FixStep f;
    f.unit = c.difference.unit;
    f.basis = "reverse ablation";
    if (c.ap_drop) {
      f.gain = *c.ap_drop;
      f.text = "alone it costs the training pipeline " + Points(-*c.ap_drop) + " AP";
    } else {
      f.gain = 1 - c.agreement_share;  // a share of detections, not AP
      f.text = "alone it loses " + std::to_string(int(std::lround((1 - c.agreement_share) * 100))) +
               "% of the training pipeline's detections";
    }
    out.push_back(std::move(f));
  }
  return out;
}

}  // namespace

std::vector<FixStep> RankFixes(const DoctorReport& r) {
  std::vector<FixStep> out;
  const bool attributed = !r.attribution.empty() && r.training_eval && r.deployed_eval;
  bool any_alone = false;
  for (const AttributionEntry& a : r.attribution)
    any_alone = any_alone || a.ap_recovered > kNothing;
  const bool fair = attributed && r.attribution.front().shapley_share.has_value();
  if (attributed && (fair || any_alone))
    out = ByAttribution(r);
  else if (!r.unit_costs.empty())
    out = ByUnitCost(r);
  else if (attributed)
    out = ByAttribution(r);
  std::stable_sort(out.begin(), out.end(), [](const FixStep& a, const FixStep& b) {
    return a.gain.value_or(0) > b.gain.value_or(0);
  });
  return out;
}

}  // namespace lockstep::doctor
