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

  // p.imgIds / p.catIds: unique, ascending.
  std::vector<int64_t> image_ids;
  for (const CocoImage& image : dataset.images) image_ids.push_back(image.id);
  std::sort(image_ids.begin(), image_ids.end());
  image_ids.erase(std::unique(image_ids.begin(), image_ids.end()), image_ids.end());
  for (const CocoCategory& category : dataset.categories)
    result.category_ids.push_back(category.id);
  std::sort(result.category_ids.begin(), result.category_ids.end());
  result.category_ids.erase(std::unique(result.category_ids.begin(), result.category_ids.end()),
                            result.category_ids.end());
  std::unordered_map<int64_t, int64_t> image_index, category_index;
  for (size_t i = 0; i < image_ids.size(); ++i) image_index[image_ids[i]] = int64_t(i);
  for (size_t k = 0; k < result.category_ids.size(); ++k)
    category_index[result.category_ids[k]] = int64_t(k);

  const size_t T = p.iou_thresholds.size(), R = p.recall_thresholds.size(),
               K = result.category_ids.size(), A = p.area_ranges.size(), M = p.max_dets.size();
  const int64_t I = int64_t(image_ids.size());
  const size_t max_det = size_t(p.max_dets.back());

  std::vector<std::pair<int64_t, size_t>> gt_keys, dt_keys;
  for (size_t n = 0; n < dataset.annotations.size(); ++n) {
    const CocoAnnotation& a = dataset.annotations[n];
    gt_keys.emplace_back(category_index.at(a.category_id) * I + image_index.at(a.image_id), n);
  }
  for (size_t n = 0; n < detections.size(); ++n) {
    const CocoDetection& d = detections[n];
    dt_keys.emplace_back(category_index.at(d.category_id) * I + image_index.at(d.image_id), n);
  }
  const Groups gts = GroupBy(std::move(gt_keys)), dts = GroupBy(std::move(dt_keys));

  // evaluate(): evals[k * A + a] lists the non-None evaluateImg results in image order.
  std::vector<std::vector<ImageEval>> evals(K * A);
  std::vector<size_t> gt, dt, gt_order;
  std::vector<double> ious;  // D x G, gt in file order
  std::vector<uint8_t> gt_ignore_file, gt_ignore, crowd, gt_matched;
  std::vector<int64_t> gt_id;
  size_t gi = 0, di = 0;
  while (gi < gts.keys.size() || di < dts.keys.size()) {
    int64_t key = std::min(gi < gts.keys.size() ? gts.keys[gi] : INT64_MAX,
                           di < dts.keys.size() ? dts.keys[di] : INT64_MAX);
    gt.clear();
    dt.clear();
    if (gi < gts.keys.size() && gts.keys[gi] == key) {
      gt.assign(gts.index.begin() + gts.begin[gi], gts.index.begin() + gts.begin[gi + 1]);
      ++gi;
    }
    if (di < dts.keys.size() && dts.keys[di] == key) {
      dt.assign(dts.index.begin() + dts.begin[di], dts.index.begin() + dts.begin[di + 1]);
      ++di;
    }
    const size_t k = size_t(key / I);
    // Highest score first, ties in file order (mergesort on -score), cut to maxDets[-1].
    std::stable_sort(dt.begin(), dt.end(),
                     [&](size_t a, size_t b) { return detections[a].score > detections[b].score; });
    if (dt.size() > max_det) dt.resize(max_det);
    const size_t D = dt.size(), G = gt.size();
    ious.assign(D * G, 0);
    for (size_t d = 0; d < D; ++d) {
      for (size_t g = 0; g < G; ++g) {
        const CocoAnnotation& ann = dataset.annotations[gt[g]];
        ious[d * G + g] = BoxIou(detections[dt[d]].bbox, ann.bbox, ann.iscrowd);
      }
    }

    for (size_t a = 0; a < A; ++a) {
      const AreaRange& range = p.area_ranges[a];
      gt_ignore_file.resize(G);
      for (size_t g = 0; g < G; ++g) {
        const CocoAnnotation& ann = dataset.annotations[gt[g]];
        gt_ignore_file[g] = ann.iscrowd || ann.area < range.min || ann.area > range.max;
      }
      // Ignored ground truths last, the rest in file order (mergesort on the ignore flag).
      gt_order.resize(G);
      std::iota(gt_order.begin(), gt_order.end(), size_t(0));
      std::stable_sort(gt_order.begin(), gt_order.end(),
                       [&](size_t x, size_t y) { return gt_ignore_file[x] < gt_ignore_file[y]; });
      gt_ignore.resize(G);
      crowd.resize(G);
      gt_id.resize(G);
      for (size_t g = 0; g < G; ++g) {
        const CocoAnnotation& ann = dataset.annotations[gt[gt_order[g]]];
        gt_ignore[g] = gt_ignore_file[gt_order[g]];
        crowd[g] = ann.iscrowd;
        gt_id[g] = ann.id;
      }

      ImageEval e;
      e.scores.resize(D);
      for (size_t d = 0; d < D; ++d) e.scores[d] = detections[dt[d]].score;
      e.matches.assign(T * D, 0);
      e.dt_ignore.assign(T * D, 0);
      for (size_t g = 0; g < G; ++g) e.gt_not_ignored += gt_ignore[g] == 0;
      if (G > 0 && D > 0) {
        for (size_t t = 0; t < T; ++t) {
          gt_matched.assign(G, 0);
          for (size_t d = 0; d < D; ++d) {
            double best = std::min(p.iou_thresholds[t], 1 - 1e-10);
            ptrdiff_t m = -1;
            for (size_t g = 0; g < G; ++g) {
              // A matched gt takes no second detection, unless it is a crowd region.
              if (gt_matched[g] && !crowd[g]) continue;
              // Once matched to a regular gt, the ignored ones (sorted last) cannot win.
              if (m > -1 && gt_ignore[size_t(m)] == 0 && gt_ignore[g] == 1) break;
              double iou = ious[d * G + gt_order[g]];
              if (iou < best) continue;
              best = iou;
              m = ptrdiff_t(g);
            }
            if (m == -1) continue;
            e.dt_ignore[t * D + d] = gt_ignore[size_t(m)];
            e.matches[t * D + d] = gt_id[size_t(m)];
            gt_matched[size_t(m)] = 1;
          }
        }
      }
      // Unmatched detections whose own box area (w * h) is outside the range are ignored.
      // "Unmatched" is pycocotools' dtm == 0, so a match to a gt with id 0 counts as none.
      for (size_t d = 0; d < D; ++d) {
        const XywhBox& box = detections[dt[d]].bbox;
        double area = box.width * box.height;
        if (area < range.min || area > range.max) {
          for (size_t t = 0; t < T; ++t)
            if (e.matches[t * D + d] == 0) e.dt_ignore[t * D + d] = 1;
        }
      }
      evals[k * A + a].push_back(std::move(e));
    }
  }

  // accumulate()
  result.precision.assign(T * R * K * A * M, -1);
  result.recall.assign(T * K * A * M, -1);
  const double eps = std::numeric_limits<double>::epsilon();  // np.spacing(1)
  std::vector<double> scores, rc, pr, q(R);
  std::vector<std::pair<size_t, size_t>> where;  // (image eval, detection) of each concatenated dt
  std::vector<size_t> order;
  for (size_t k = 0; k < K; ++k) {
    for (size_t a = 0; a < A; ++a) {
      const std::vector<ImageEval>& E = evals[k * A + a];
      if (E.empty()) continue;
      size_t npig = 0;
      for (const ImageEval& e : E) npig += e.gt_not_ignored;
      for (size_t m = 0; m < M; ++m) {
        if (npig == 0) continue;
        const size_t cut = size_t(p.max_dets[m]);
        scores.clear();
        where.clear();
        for (size_t n = 0; n < E.size(); ++n) {
          size_t D = std::min(cut, E[n].scores.size());
          for (size_t d = 0; d < D; ++d) {
            scores.push_back(E[n].scores[d]);
            where.emplace_back(n, d);
          }
        }
        const size_t nd = scores.size();
        order.resize(nd);
        std::iota(order.begin(), order.end(), size_t(0));
        std::stable_sort(order.begin(), order.end(),
                         [&](size_t x, size_t y) { return scores[x] > scores[y]; });
        rc.resize(nd);
        pr.resize(nd);
        for (size_t t = 0; t < T; ++t) {
          double tp = 0, fp = 0;
          for (size_t i = 0; i < nd; ++i) {
            const auto [n, d] = where[order[i]];
            const ImageEval& e = E[n];
            const size_t D = e.scores.size();
            bool matched = e.matches[t * D + d] != 0, ignored = e.dt_ignore[t * D + d] != 0;
            if (!ignored) (matched ? tp : fp) += 1;
            rc[i] = tp / double(npig);
            pr[i] = tp / (fp + tp + eps);
          }
          result.recall[((t * K + k) * A + a) * M + m] = nd ? rc[nd - 1] : 0;
          // The precision envelope: each point takes the best precision at any higher recall.
          for (size_t i = nd; i-- > 1;)
            if (pr[i] > pr[i - 1]) pr[i - 1] = pr[i];
          std::fill(q.begin(), q.end(), 0.0);
          for (size_t r = 0; r < R; ++r) {
            // searchsorted(rc, recThrs, side='left'); past the last recall precision stays 0.
            size_t at =
                size_t(std::lower_bound(rc.begin(), rc.end(), p.recall_thresholds[r]) - rc.begin());
            if (at >= nd) break;
            q[r] = pr[at];
          }
          for (size_t r = 0; r < R; ++r)
            result.precision[(((t * R + r) * K + k) * A + a) * M + m] = q[r];
        }
      }
    }
  }

  // summarize()
  auto summarize = [&](bool ap, const double* iou_threshold, const std::string& area,
                       int max_dets) {
    std::vector<size_t> ts;
    for (size_t t = 0; t < T; ++t)
      if (!iou_threshold || p.iou_thresholds[t] == *iou_threshold) ts.push_back(t);
    std::vector<double> values;
    for (size_t a = 0; a < A; ++a) {
      if (p.area_ranges[a].label != area) continue;
      for (size_t m = 0; m < M; ++m) {
        if (p.max_dets[m] != max_dets) continue;
        for (size_t t : ts) {
          for (size_t k = 0; k < K; ++k) {
            if (ap) {
              for (size_t r = 0; r < R; ++r) values.push_back(result.Precision(t, r, k, a, m));
            } else {
              values.push_back(result.Recall(t, k, a, m));
            }
          }
        }
      }
    }
    return MeanAboveMinusOne(values);
  };
  auto dets = [&](size_t i) { return i < M ? p.max_dets[i] : -1; };
  const double iou50 = .5, iou75 = .75;
  result.stats = {
      summarize(true, nullptr, "all", 100),         summarize(true, &iou50, "all", dets(2)),
      summarize(true, &iou75, "all", dets(2)),      summarize(true, nullptr, "small", dets(2)),
      summarize(true, nullptr, "medium", dets(2)),  summarize(true, nullptr, "large", dets(2)),
      summarize(false, nullptr, "all", dets(0)),    summarize(false, nullptr, "all", dets(1)),
      summarize(false, nullptr, "all", dets(2)),    summarize(false, nullptr, "small", dets(2)),
      summarize(false, nullptr, "medium", dets(2)), summarize(false, nullptr, "large", dets(2))};

  result.category_ap.assign(K, -1);
  if (A > 0 && M > 0) {
    std::vector<double> values;
    for (size_t k = 0; k < K; ++k) {
      values.clear();
      for (size_t t = 0; t < T; ++t)
        for (size_t r = 0; r < R; ++r) values.push_back(result.Precision(t, r, k, 0, M - 1));
      result.category_ap[k] = MeanAboveMinusOne(values);
    }
  }
  return result;
}

}  // namespace lockstep
