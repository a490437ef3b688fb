// Seeded synthetic COCO data for checking the evaluator against the numpy oracle (and for
// bench/coco_eval_bench.cc): random datasets with crowds, sparse ids, many categories, and
// detections derived from ground truth (jittered, dropped, duplicated) plus false positives,
// with scores on a coarse grid so ties are common.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "lockstep/eval/coco.h"

namespace lockstep::synthetic {

// A score on a 1/40 grid: many exact ties, which exercises the mergesort orders.
inline double TiedScore(std::mt19937_64& rng) {
  return double(std::uniform_int_distribution<int>(1, 40)(rng)) / 40.0;
}

inline XywhBox Jitter(const XywhBox& b, double amount, std::mt19937_64& rng) {
  std::uniform_real_distribution<double> u(-amount, amount);
  return {b.x + u(rng) * b.width, b.y + u(rng) * b.height, std::max(0.5, b.width * (1 + u(rng))),
          std::max(0.5, b.height * (1 + u(rng)))};
}

// Detections from the ground truth: each object (crowd regions too) found with probability `keep`,
// sometimes twice; `false_positives` random boxes per image on random categories.
inline std::vector<CocoDetection> DetectionsFrom(const CocoDataset& dataset, uint64_t seed,
                                                 double keep, int false_positives) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> unit(0, 1);
  std::vector<CocoDetection> out;
  for (const CocoAnnotation& a : dataset.annotations) {
    if (unit(rng) > keep) continue;
    out.push_back({a.image_id, a.category_id, Jitter(a.bbox, 0.15, rng), TiedScore(rng)});
    if (unit(rng) < 0.1)  // a duplicate: at most one of the two can be a true positive
      out.push_back({a.image_id, a.category_id, Jitter(a.bbox, 0.1, rng), TiedScore(rng)});
  }
  for (const CocoImage& image : dataset.images) {
    for (int i = 0; i < false_positives; ++i) {
      const CocoCategory& c = dataset.categories[std::uniform_int_distribution<size_t>(
          0, dataset.categories.size() - 1)(rng)];
      double w =
          std::exp(std::uniform_real_distribution<double>(std::log(4.0), std::log(300.0))(rng));
      double h =
          std::exp(std::uniform_real_distribution<double>(std::log(4.0), std::log(300.0))(rng));
      out.push_back({image.id,
                     c.id,
                     {unit(rng) * double(image.width), unit(rng) * double(image.height), w, h},
                     TiedScore(rng)});
    }
  }
  std::shuffle(out.begin(), out.end(), rng);  // file order matters for ties: make it arbitrary
  return out;
}

// A random dataset: sparse, unsorted image and category ids; boxes from 3 to 400 pixels so every
// area range is populated; mask areas below the box area; about 5% crowds; some categories with
// no ground truth at all.
inline CocoDataset RandomDataset(uint64_t seed, int images, int categories, int max_objects) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> unit(0, 1);
  CocoDataset d;
  for (int i = 0; i < images; ++i) d.images.push_back({1000 + 7 * i, "img.jpg", 640, 480});
  std::shuffle(d.images.begin(), d.images.end(), rng);
  for (int c = 0; c < categories; ++c) d.categories.push_back({3 * c + 1, "c"});
  std::shuffle(d.categories.begin(), d.categories.end(), rng);
  // Seeds divisible by 3 number annotations from 0, as some converters do: pycocotools records a
  // match by the gt's id, so a match to id 0 reads as none.
  int64_t next_id = seed % 3 == 0 ? 0 : 1;
  for (const CocoImage& image : d.images) {
    int n = std::uniform_int_distribution<int>(0, max_objects)(rng);
    for (int j = 0; j < n; ++j) {
      // categories with an index >= categories - 2 never get ground truth
      size_t k =
          std::uniform_int_distribution<size_t>(0, std::max<size_t>(1, categories - 2) - 1)(rng);
      double w =
          std::exp(std::uniform_real_distribution<double>(std::log(3.0), std::log(400.0))(rng));
      double h =
          std::exp(std::uniform_real_distribution<double>(std::log(3.0), std::log(400.0))(rng));
      CocoAnnotation a;
      a.id = next_id++;
      a.image_id = image.id;
      a.category_id = d.categories[k].id;
      a.bbox = {unit(rng) * 600, unit(rng) * 440, w, h};
      a.area = w * h * (0.4 + 0.6 * unit(rng));
      a.iscrowd = unit(rng) < 0.05;
      d.annotations.push_back(a);
    }
  }
  return d;
}

}  // namespace lockstep::synthetic
