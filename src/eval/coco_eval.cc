// COCOeval (bbox) step by step: evaluateImg per (category, area range, image), accumulate per
// (category, area range, maxDets), summarize. Orders and tie-breaks follow pycocotools exactly:
// every numpy mergesort is a std::stable_sort over the same sequence.
#include "lockstep/eval/coco_eval.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <unordered_map>

#include "lockstep/core/error.h"

namespace lockstep {

std::vector<double> CocoEvalParams::DefaultIouThresholds() {
  // np.linspace(.5, .95, round((.95 - .5) / .05) + 1): start + i * ((stop - start) / (n - 1)),
  // the last point set to stop. summarize() finds .5 and .75 among these by exact equality.
  const int n = int(std::round((0.95 - 0.5) / 0.05)) + 1;
  const double step = (0.95 - 0.5) / (n - 1);
  std::vector<double> out(n);
  for (int i = 0; i < n; ++i) out[i] = i * step + 0.5;
  out.back() = 0.95;
  return out;
}

std::vector<double> CocoEvalParams::DefaultRecallThresholds() {
  const int n = int(std::round((1.0 - 0.0) / 0.01)) + 1;
  const double step = (1.0 - 0.0) / (n - 1);
  std::vector<double> out(n);
  for (int i = 0; i < n; ++i) out[i] = i * step + 0.0;
  out.back() = 1.0;
  return out;
}

double BoxIou(const XywhBox& d, const XywhBox& g, bool crowd) {
  double w = std::fmin(d.width + d.x, g.width + g.x) - std::fmax(d.x, g.x);
  if (w <= 0) return 0;
  double h = std::fmin(d.height + d.y, g.height + g.y) - std::fmax(d.y, g.y);
  if (h <= 0) return 0;
  double intersection = w * h;
  double detection_area = d.width * d.height;
  double union_area = crowd ? detection_area : detection_area + g.width * g.height - intersection;
  return intersection / union_area;
}

namespace {

// evaluateImg's result for one (category, area range, image) that has any gt or dt.
struct ImageEval {
  std::vector<double> scores;      // D, highest first
  std::vector<int64_t> matches;    // T x D: id of the matched gt, 0 when unmatched
  std::vector<uint8_t> dt_ignore;  // T x D
  size_t gt_not_ignored = 0;       // count of gtIgnore == 0
};

// Indices of `items` grouped by key = category index * I + image index; within a group the
// input order is kept, as pycocotools appends to _gts/_dts in file order.
struct Groups {
  std::vector<int64_t> keys;  // ascending, unique
  std::vector<size_t> begin;  // keys.size() + 1 offsets into `index`
  std::vector<size_t> index;
};

Groups GroupBy(std::vector<std::pair<int64_t, size_t>> keyed) {
  std::stable_sort(keyed.begin(), keyed.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  Groups g;
  for (size_t i = 0; i < keyed.size(); ++i) {
    if (i == 0 || keyed[i].first != keyed[i - 1].first) {
      g.keys.push_back(keyed[i].first);
      g.begin.push_back(i);
    }
    g.index.push_back(keyed[i].second);
  }
  g.begin.push_back(keyed.size());
  return g;
}

double MeanAboveMinusOne(const std::vector<double>& values) {
  double sum = 0;
  size_t count = 0;
  for (double v : values) {
    if (v > -1) {
      sum += v;
      ++count;
    }
  }
  return count == 0 ? -1 : sum / double(count);
}

std::vector<int64_t> UniqueAscending(std::vector<int64_t> ids) {
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

// p.imgIds / p.catIds (unique, ascending) and each id's position along its axis.
struct EvalAxes {
  std::vector<int64_t> image_ids, category_ids;
  std::unordered_map<int64_t, int64_t> image_index, category_index;
};

EvalAxes AxesOf(const CocoDataset& dataset) {
  EvalAxes axes;
  for (const CocoImage& image : dataset.images) axes.image_ids.push_back(image.id);
  for (const CocoCategory& category : dataset.categories) axes.category_ids.push_back(category.id);
  axes.image_ids = UniqueAscending(std::move(axes.image_ids));
  axes.category_ids = UniqueAscending(std::move(axes.category_ids));
  for (size_t i = 0; i < axes.image_ids.size(); ++i)
    axes.image_index[axes.image_ids[i]] = int64_t(i);
  for (size_t k = 0; k < axes.category_ids.size(); ++k)
    axes.category_index[axes.category_ids[k]] = int64_t(k);
  return axes;
}

// The (category, image) cell of an annotation or detection, as a key category * I + image.
template <typename Item>
Groups GroupByCell(const std::vector<Item>& items, const EvalAxes& axes) {
  const int64_t I = int64_t(axes.image_ids.size());
  std::vector<std::pair<int64_t, size_t>> keys;
  for (size_t n = 0; n < items.size(); ++n) {
    keys.emplace_back(
        axes.category_index.at(items[n].category_id) * I + axes.image_index.at(items[n].image_id),
        n);
  }
  return GroupBy(std::move(keys));
}

// Highest score first, ties in file order (mergesort on -score), cut to maxDets[-1].
void RankAndCut(std::vector<size_t>& dt, const std::vector<CocoDetection>& detections,
                size_t max_det) {
  std::stable_sort(dt.begin(), dt.end(),
                   [&](size_t a, size_t b) { return detections[a].score > detections[b].score; });
  if (dt.size() > max_det) dt.resize(max_det);
}

// One (category, image) cell: ground truths in file order, detections ranked and cut, and
// their IoUs (D x G, gt in file order).
struct Cell {
  std::vector<size_t> gt, dt;
  std::vector<double> ious;
};

void ComputeIous(Cell& cell, const CocoDataset& dataset,
                 const std::vector<CocoDetection>& detections) {
  const size_t D = cell.dt.size(), G = cell.gt.size();
  cell.ious.assign(D * G, 0);
  for (size_t d = 0; d < D; ++d) {
    for (size_t g = 0; g < G; ++g) {
      const CocoAnnotation& ann = dataset.annotations[cell.gt[g]];
      cell.ious[d * G + g] = BoxIou(detections[cell.dt[d]].bbox, ann.bbox, ann.iscrowd);
    }
  }
}

// A cell's ground truths as evaluateImg orders them for one area range: ignored ones last,
// the rest in file order (mergesort on the ignore flag).
struct RangedGroundTruths {
  std::vector<size_t> order;  // file-order position of each sorted gt
  std::vector<uint8_t> ignore, crowd;
  std::vector<int64_t> id;
};

RangedGroundTruths OrderGroundTruths(const Cell& cell, const CocoDataset& dataset,
                                     const AreaRange& range) {
  const size_t G = cell.gt.size();
  std::vector<uint8_t> ignore_in_file_order(G);
  for (size_t g = 0; g < G; ++g) {
    const CocoAnnotation& ann = dataset.annotations[cell.gt[g]];
    ignore_in_file_order[g] = ann.iscrowd || ann.area < range.min || ann.area > range.max;
  }
  RangedGroundTruths gts;
  gts.order.resize(G);
  std::iota(gts.order.begin(), gts.order.end(), size_t(0));
  std::stable_sort(gts.order.begin(), gts.order.end(), [&](size_t x, size_t y) {
    return ignore_in_file_order[x] < ignore_in_file_order[y];
  });
  gts.ignore.resize(G);
  gts.crowd.resize(G);
  gts.id.resize(G);
  for (size_t g = 0; g < G; ++g) {
    const CocoAnnotation& ann = dataset.annotations[cell.gt[gts.order[g]]];
    gts.ignore[g] = ignore_in_file_order[gts.order[g]];
    gts.crowd[g] = ann.iscrowd;
    gts.id[g] = ann.id;
  }
  return gts;
}

// Greedy matching per IoU threshold: each detection, best first, takes the gt of highest IoU
// not already taken.
void MatchGreedily(ImageEval& e, const Cell& cell, const RangedGroundTruths& gts,
                   const std::vector<double>& iou_thresholds) {
  const size_t T = iou_thresholds.size(), D = cell.dt.size(), G = cell.gt.size();
  std::vector<uint8_t> gt_matched;
  for (size_t t = 0; t < T; ++t) {
    gt_matched.assign(G, 0);
    for (size_t d = 0; d < D; ++d) {
      double best = std::min(iou_thresholds[t], 1 - 1e-10);
      ptrdiff_t m = -1;
      for (size_t g = 0; g < G; ++g) {
        // A matched gt takes no second detection, unless it is a crowd region.
        if (gt_matched[g] && !gts.crowd[g]) continue;
        // Once matched to a regular gt, the ignored ones (sorted last) cannot win.
        if (m > -1 && gts.ignore[size_t(m)] == 0 && gts.ignore[g] == 1) break;
        double iou = cell.ious[d * G + gts.order[g]];
        if (iou < best) continue;
        best = iou;
        m = ptrdiff_t(g);
      }
      if (m == -1) continue;
      e.dt_ignore[t * D + d] = gts.ignore[size_t(m)];
      e.matches[t * D + d] = gts.id[size_t(m)];
      gt_matched[size_t(m)] = 1;
    }
  }
}

// Unmatched detections whose own box area (w * h) is outside the range are ignored.
// "Unmatched" is pycocotools' dtm == 0, so a match to a gt with id 0 counts as none.
void IgnoreUnmatchedOutsideRange(ImageEval& e, const Cell& cell,
                                 const std::vector<CocoDetection>& detections,
                                 const AreaRange& range, size_t T) {
  const size_t D = cell.dt.size();
  for (size_t d = 0; d < D; ++d) {
    const XywhBox& box = detections[cell.dt[d]].bbox;
    double area = box.width * box.height;
    if (area < range.min || area > range.max) {
      for (size_t t = 0; t < T; ++t)
        if (e.matches[t * D + d] == 0) e.dt_ignore[t * D + d] = 1;
    }
  }
}

// evaluateImg for one cell and area range.
ImageEval EvaluateImage(const Cell& cell, const CocoDataset& dataset,
                        const std::vector<CocoDetection>& detections, const AreaRange& range,
                        const std::vector<double>& iou_thresholds) {
  const size_t T = iou_thresholds.size(), D = cell.dt.size(), G = cell.gt.size();
  const RangedGroundTruths gts = OrderGroundTruths(cell, dataset, range);
  ImageEval e;
  e.scores.resize(D);
  for (size_t d = 0; d < D; ++d) e.scores[d] = detections[cell.dt[d]].score;
  e.matches.assign(T * D, 0);
  e.dt_ignore.assign(T * D, 0);
  for (size_t g = 0; g < G; ++g) e.gt_not_ignored += gts.ignore[g] == 0;
  if (G > 0 && D > 0) MatchGreedily(e, cell, gts, iou_thresholds);
  IgnoreUnmatchedOutsideRange(e, cell, detections, range, T);
  return e;
}

// evaluate(): evals[k * A + a] lists the non-None evaluateImg results in image order, i.e.
// one per cell with any gt or dt, walking the cells in key order.
std::vector<std::vector<ImageEval>> EvaluateCells(const CocoDataset& dataset,
                                                  const std::vector<CocoDetection>& detections,
                                                  const CocoEvalParams& p, const EvalAxes& axes) {
  const size_t A = p.area_ranges.size();
  const int64_t I = int64_t(axes.image_ids.size());
  const size_t max_det = size_t(p.max_dets.back());
  const Groups gts = GroupByCell(dataset.annotations, axes), dts = GroupByCell(detections, axes);
  std::vector<std::vector<ImageEval>> evals(axes.category_ids.size() * A);
  Cell cell;
  size_t gi = 0, di = 0;
  while (gi < gts.keys.size() || di < dts.keys.size()) {
    int64_t key = std::min(gi < gts.keys.size() ? gts.keys[gi] : INT64_MAX,
                           di < dts.keys.size() ? dts.keys[di] : INT64_MAX);
    cell.gt.clear();
    cell.dt.clear();
    if (gi < gts.keys.size() && gts.keys[gi] == key) {
      cell.gt.assign(gts.index.begin() + gts.begin[gi], gts.index.begin() + gts.begin[gi + 1]);
      ++gi;
    }
    if (di < dts.keys.size() && dts.keys[di] == key) {
      cell.dt.assign(dts.index.begin() + dts.begin[di], dts.index.begin() + dts.begin[di + 1]);
      ++di;
    }
    const size_t k = size_t(key / I);
    RankAndCut(cell.dt, detections, max_det);
    ComputeIous(cell, dataset, detections);
    for (size_t a = 0; a < A; ++a) {
      evals[k * A + a].push_back(
          EvaluateImage(cell, dataset, detections, p.area_ranges[a], p.iou_thresholds));
    }
  }
  return evals;
}

// The detections of one (category, area range) under a maxDets cut, concatenated in image
// order, and their ranking by score (mergesort on -score).
struct RankedDetections {
  std::vector<double> scores;
  std::vector<std::pair<size_t, size_t>> where;  // (image eval, detection)
  std::vector<size_t> order;
};

RankedDetections RankDetections(const std::vector<ImageEval>& E, size_t cut) {
  RankedDetections ranked;
  for (size_t n = 0; n < E.size(); ++n) {
    size_t D = std::min(cut, E[n].scores.size());
    for (size_t d = 0; d < D; ++d) {
      ranked.scores.push_back(E[n].scores[d]);
      ranked.where.emplace_back(n, d);
    }
  }
  const std::vector<double>& scores = ranked.scores;
  ranked.order.resize(scores.size());
  std::iota(ranked.order.begin(), ranked.order.end(), size_t(0));
  std::stable_sort(ranked.order.begin(), ranked.order.end(),
                   [&](size_t x, size_t y) { return scores[x] > scores[y]; });
  return ranked;
}

// One IoU threshold's final recall and precision at each recall threshold (0 past the last
// recall reached).
struct PrecisionRecall {
  double recall = 0;
  std::vector<double> precision;  // R
};

PrecisionRecall AccumulateThreshold(const std::vector<ImageEval>& E, const RankedDetections& ranked,
                                    size_t t, size_t npig,
                                    const std::vector<double>& recall_thresholds) {
  const double eps = std::numeric_limits<double>::epsilon();  // np.spacing(1)
  const size_t nd = ranked.scores.size(), R = recall_thresholds.size();
  std::vector<double> rc(nd), pr(nd);
  double tp = 0, fp = 0;
  for (size_t i = 0; i < nd; ++i) {
    const auto [n, d] = ranked.where[ranked.order[i]];
    const ImageEval& e = E[n];
    const size_t D = e.scores.size();
    bool matched = e.matches[t * D + d] != 0, ignored = e.dt_ignore[t * D + d] != 0;
    if (!ignored) (matched ? tp : fp) += 1;
    rc[i] = tp / double(npig);
    pr[i] = tp / (fp + tp + eps);
  }
  PrecisionRecall out;
  out.recall = nd ? rc[nd - 1] : 0;
  // The precision envelope: each point takes the best precision at any higher recall.
  for (size_t i = nd; i-- > 1;)
    if (pr[i] > pr[i - 1]) pr[i - 1] = pr[i];
  out.precision.assign(R, 0.0);
  for (size_t r = 0; r < R; ++r) {
    // searchsorted(rc, recThrs, side='left'); past the last recall precision stays 0.
    size_t at = size_t(std::lower_bound(rc.begin(), rc.end(), recall_thresholds[r]) - rc.begin());
    if (at >= nd) break;
    out.precision[r] = pr[at];
  }
  return out;
}

// accumulate(): fills result.precision and result.recall; -1 stays where a (category, area
// range) has no non-ignored ground truth.
void Accumulate(const std::vector<std::vector<ImageEval>>& evals, CocoEvalResult& result) {
  const CocoEvalParams& p = result.params;
  const size_t T = result.T(), R = result.R(), K = result.K(), A = result.A(), M = result.M();
  result.precision.assign(T * R * K * A * M, -1);
  result.recall.assign(T * K * A * M, -1);
  for (size_t k = 0; k < K; ++k) {
    for (size_t a = 0; a < A; ++a) {
      const std::vector<ImageEval>& E = evals[k * A + a];
      if (E.empty()) continue;
      size_t npig = 0;
      for (const ImageEval& e : E) npig += e.gt_not_ignored;
      if (npig == 0) continue;
      for (size_t m = 0; m < M; ++m) {
        const RankedDetections ranked = RankDetections(E, size_t(p.max_dets[m]));
        for (size_t t = 0; t < T; ++t) {
          const PrecisionRecall pr = AccumulateThreshold(E, ranked, t, npig, p.recall_thresholds);
          result.recall[((t * K + k) * A + a) * M + m] = pr.recall;
          for (size_t r = 0; r < R; ++r)
            result.precision[(((t * R + r) * K + k) * A + a) * M + m] = pr.precision[r];
        }
      }
    }
  }
}

// One summarize() line: the mean of the precisions (ap) or recalls over the matching IoU
// thresholds (all when none given), area range and maxDets, ignoring -1.
double SummaryStat(const CocoEvalResult& result, bool ap, const double* iou_threshold,
                   const std::string& area, int max_dets) {
  const CocoEvalParams& p = result.params;
  std::vector<size_t> ts;
  for (size_t t = 0; t < result.T(); ++t)
    if (!iou_threshold || p.iou_thresholds[t] == *iou_threshold) ts.push_back(t);
  std::vector<double> values;
  for (size_t a = 0; a < result.A(); ++a) {
    if (p.area_ranges[a].label != area) continue;
    for (size_t m = 0; m < result.M(); ++m) {
      if (p.max_dets[m] != max_dets) continue;
      for (size_t t : ts) {
        for (size_t k = 0; k < result.K(); ++k) {
          if (ap) {
            for (size_t r = 0; r < result.R(); ++r)
              values.push_back(result.Precision(t, r, k, a, m));
          } else {
            values.push_back(result.Recall(t, k, a, m));
          }
        }
      }
    }
  }
  return MeanAboveMinusOne(values);
}

// summarize(): the 12 standard statistics.
std::array<double, 12> Summarize(const CocoEvalResult& result) {
  const std::vector<int>& max_dets = result.params.max_dets;
  auto dets = [&](size_t i) { return i < max_dets.size() ? max_dets[i] : -1; };
  auto stat = [&](bool ap, const double* iou_threshold, const std::string& area, int n) {
    return SummaryStat(result, ap, iou_threshold, area, n);
  };
  const double iou50 = .5, iou75 = .75;
  return {stat(true, nullptr, "all", 100),         stat(true, &iou50, "all", dets(2)),
          stat(true, &iou75, "all", dets(2)),      stat(true, nullptr, "small", dets(2)),
          stat(true, nullptr, "medium", dets(2)),  stat(true, nullptr, "large", dets(2)),
          stat(false, nullptr, "all", dets(0)),    stat(false, nullptr, "all", dets(1)),
          stat(false, nullptr, "all", dets(2)),    stat(false, nullptr, "small", dets(2)),
          stat(false, nullptr, "medium", dets(2)), stat(false, nullptr, "large", dets(2))};
}

// AP@[.5:.95] per category over the first area range and the largest maxDets.
std::vector<double> CategoryAp(const CocoEvalResult& result) {
  const size_t K = result.K();
  std::vector<double> category_ap(K, -1);
  if (result.A() == 0 || result.M() == 0) return category_ap;
  std::vector<double> values;
  for (size_t k = 0; k < K; ++k) {
    values.clear();
    for (size_t t = 0; t < result.T(); ++t)
      for (size_t r = 0; r < result.R(); ++r)
        values.push_back(result.Precision(t, r, k, 0, result.M() - 1));
    category_ap[k] = MeanAboveMinusOne(values);
  }
  return category_ap;
}

}  // namespace

CocoEvalResult EvaluateBoxes(const CocoDataset& dataset,
                             const std::vector<CocoDetection>& detections,
                             const CocoEvalParams& params, const std::string& source) {
  ValidateDetections(detections, dataset, source);
  CocoEvalResult result;
  result.params = params;
  CocoEvalParams& p = result.params;
  std::sort(p.max_dets.begin(), p.max_dets.end());
  if (p.max_dets.empty() || p.max_dets.front() < 0)
    throw Error("CocoEvalParams", "max_dets", "at least one count >= 0", "none or a negative one");
  const EvalAxes axes = AxesOf(dataset);
  result.category_ids = axes.category_ids;
  Accumulate(EvaluateCells(dataset, detections, p, axes), result);
  result.stats = Summarize(result);
  result.category_ap = CategoryAp(result);
  return result;
}

}  // namespace lockstep
