// The doctor's shared pieces: detections matched between pipelines, stages folded over images.
#include "doctor/doctor_common.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "lockstep/pipeline/spec_model.h"

namespace lockstep::doctor {

void AgreementSums::Add(const std::vector<PixelDetection>& training,
                        const std::vector<PixelDetection>& other, double iou_threshold,
                        double score_threshold) {
  std::vector<const PixelDetection*> t, d;
  for (const auto& x : training)
    if (x.score >= score_threshold) t.push_back(&x);
  for (const auto& x : other)
    if (x.score >= score_threshold) d.push_back(&x);
  std::stable_sort(t.begin(), t.end(), [](auto* x, auto* y) { return x->score > y->score; });
  a.training += t.size();
  a.deployed += d.size();
  std::vector<bool> used(d.size(), false);
  for (const PixelDetection* x : t) {
    size_t best = d.size();
    double best_iou = iou_threshold;
    for (size_t j = 0; j < d.size(); ++j) {
      if (used[j] || d[j]->class_index != x->class_index) continue;
      double iou = Iou(x->box, d[j]->box);
      if (iou >= best_iou) best = j, best_iou = iou;
    }
    if (best == d.size()) continue;
    used[best] = true;
    ++a.matched;
    double delta = std::abs(double(x->score) - double(d[best]->score));
    score_delta_sum += delta;
    iou_sum += best_iou;
    a.max_abs_score_delta = std::max(a.max_abs_score_delta, delta);
    if (delta > 1e-6 || best_iou < 1 - 1e-9) ++changed;
  }
}

DetectionAgreement AgreementSums::Result() const {
  DetectionAgreement r = a;
  if (r.matched) {
    r.mean_abs_score_delta = score_delta_sum / double(r.matched);
    r.mean_iou = iou_sum / double(r.matched);
  }
  return r;
}

DetectionAgreement Agreement(const std::vector<ImageDetections>& training,
                             const std::vector<ImageDetections>& other, const DoctorInput& in) {
  AgreementSums sums;
  for (size_t i = 0; i < training.size() && i < other.size(); ++i)
    sums.Add(training[i].detections, other[i].detections, in.agreement_iou,
             in.agreement_score_threshold);
  return sums.Result();
}

void StageAccumulator::Add(const TensorComparison& c) {
  ++report.images;
  if (c.equal) return;
  ++report.images_differing;
  DifferenceStats& s = report.stats;
  s.elements += c.stats.elements;
  s.differing += c.stats.differing;
  s.non_finite += c.stats.non_finite;
  s.max_abs_diff = std::max(s.max_abs_diff, c.stats.max_abs_diff);
  mean_sum += c.stats.mean_diff * double(c.stats.elements);
  abs_sum += c.stats.mean_abs_diff * double(c.stats.elements);
  if (report.causes.empty() && c.causes.size() > 1) report.causes = c.causes;
  if (!c.fingerprints.empty()) {
    ++votes[c.fingerprints.front().code];
    examples.emplace(c.fingerprints.front().code, c.fingerprints.front());
  }
}

void StageAccumulator::AddUnfingerprinted(bool equal) {
  ++report.images;
  if (!equal) ++report.images_differing;
}

StageReport StageAccumulator::Finish() {
  if (report.stats.elements) {
    report.stats.mean_diff = mean_sum / double(report.stats.elements);
    report.stats.mean_abs_diff = abs_sum / double(report.stats.elements);
  }
  std::vector<std::pair<size_t, std::string>> order;
  for (const auto& [code, n] : votes) order.push_back({n, code});
  std::stable_sort(order.begin(), order.end(), [](auto& x, auto& y) { return x.first > y.first; });
  for (const auto& [n, code] : order) {
    Fingerprint f = examples[code];
    f.evidence += " (first cause in " + std::to_string(n) + " of " + std::to_string(fingerprinted) +
                  " differing images examined)";
    report.fingerprints.push_back(std::move(f));
  }
  return report;
}

const TensorData* StageOf(const DetectTrace& trace, const std::string& name) {
  for (const Stage& s : trace.stages)
    if (s.name == name) return &s.data;
  return nullptr;
}

TensorData BoxesTensor(const std::vector<PixelDetection>& detections, double score_threshold) {
  std::vector<float> v;
  for (const PixelDetection& d : detections)
    if (d.score >= score_threshold)
      v.insert(v.end(),
               {float(d.box.xmin), float(d.box.ymin), float(d.box.xmax), float(d.box.ymax)});
  TensorData t(DType::kFloat32, {int(v.size() / 4), 4});
  if (!v.empty()) std::memcpy(t.bytes.data(), v.data(), t.bytes.size());
  return t;
}

CompareContext ContextFor(const Spec& training, const ModelInput& input, const Image* source) {
  CompareContext ctx;
  ctx.spec = &training;
  if (input.dtype != DType::kFloat32) {
    InputQuantization q = ResolveQuantization(training, input);
    ctx.scale = q.scale;
    ctx.zero_point = q.zero_point;
  }
  ctx.source = source;
  ctx.input_width = input.width;
  ctx.input_height = input.height;
  return ctx;
}

void AddFirstDivergence(const std::vector<StageReport>& stages, const std::string& first,
                        const std::string& field_prefix, size_t images,
                        std::vector<Finding>& findings) {
  if (first.empty()) return;
  const StageReport* s = nullptr;
  for (const StageReport& x : stages)
    if (x.stage == first) s = &x;
  std::string cause = s && !s->fingerprints.empty() ? s->fingerprints.front().description
                                                    : std::string("no fingerprint recognised");
  findings.push_back({"first_divergence", Severity::kInfo, field_prefix + first, "equal stages",
                      first + " differs in " + std::to_string(s ? s->images_differing : 0) +
                          " of " + std::to_string(images) + " images (" + cause + ")",
                      "every later stage inherits the difference",
                      "fix the stage named by the findings"});
}

}  // namespace lockstep::doctor
