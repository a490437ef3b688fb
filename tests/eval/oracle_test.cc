// The C++ evaluator against tests/eval/oracle/numpy_cocoeval.py, an independent numpy
// re-implementation of pycocotools' COCOeval (bbox): all 12 statistics to 1e-12, per-category
// AP, and the whole precision [T,R,K,A,M] and recall [T,K,A,M] arrays, on seeded random
// datasets (crowds, sparse ids, 12-40 categories, score ties, > 100 detections per image) and
// on COCO128's real annotations with detections derived from them.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>

#include "eval/synthetic.h"
#include "lockstep/core/npy.h"
#include "lockstep/eval/coco_eval.h"
#include "support/test_support.h"

namespace lockstep {
namespace {

namespace fs = std::filesystem;

struct OracleResult {
  std::array<double, 12> stats{};
  std::map<int64_t, double> category_ap;
  TensorData precision, recall;
};

bool HavePythonNumpy() {
  static const bool ok = std::system("/usr/bin/python3 -c 'import numpy' >/dev/null 2>&1") == 0;
  return ok;
}

OracleResult RunOracle(const fs::path& gt, const fs::path& results) {
  fs::path script = fs::path(__FILE__).parent_path() / "oracle" / "numpy_cocoeval.py";
  fs::path dir = results.parent_path();
  std::string command = "/usr/bin/python3 '" + script.string() + "' '" + gt.string() + "' '" +
                        results.string() + "' --precision-out '" + (dir / "p.npy").string() +
                        "' --recall-out '" + (dir / "r.npy").string() + "' > '" +
                        (dir / "oracle.json").string() + "'";
  EXPECT_EQ(std::system(command.c_str()), 0) << command;
  std::ifstream in(dir / "oracle.json");
  nlohmann::json out = nlohmann::json::parse(in);
  OracleResult r;
  for (size_t i = 0; i < 12; ++i) r.stats[i] = out["stats"][i].get<double>();
  for (auto& [key, value] : out["category_ap"].items())
    r.category_ap[std::stoll(key)] = value.get<double>();
  r.precision = ReadNpyFile(dir / "p.npy");
  r.recall = ReadNpyFile(dir / "r.npy");
  return r;
}

// Evaluates `dets` on `dataset` in C++ and with the oracle (through files, as a user would).
void ExpectSameAsOracle(const CocoDataset& dataset, const std::vector<CocoDetection>& dets) {
  fs::path dir = testing::ScratchDir();
  WriteCocoDataset(dir / "gt.json", dataset);
  WriteCocoResults(dir / "dt.json", dets);
  // The C++ side reads the same files back, so both see identical doubles.
  CocoDataset gt = ReadCocoDataset(dir / "gt.json");
  CocoEvalResult mine = EvaluateBoxes(gt, ReadCocoResults(dir / "dt.json", gt));
  OracleResult oracle = RunOracle(dir / "gt.json", dir / "dt.json");

  for (size_t i = 0; i < 12; ++i)
    EXPECT_NEAR(mine.stats[i], oracle.stats[i], 1e-12) << kCocoStatNames[i];
  ASSERT_EQ(oracle.category_ap.size(), mine.K());
  for (size_t k = 0; k < mine.K(); ++k)
    EXPECT_NEAR(mine.category_ap[k], oracle.category_ap.at(mine.category_ids[k]), 1e-12)
        << "category " << mine.category_ids[k];
  ASSERT_EQ(oracle.precision.shape, (std::vector<int>{int(mine.T()), int(mine.R()), int(mine.K()),
                                                      int(mine.A()), int(mine.M())}));
  ASSERT_EQ(oracle.recall.shape,
            (std::vector<int>{int(mine.T()), int(mine.K()), int(mine.A()), int(mine.M())}));
  // Same operations in the same order: the arrays agree bit for bit.
  auto p = oracle.precision.as<const double>();
  size_t differ = 0;
  for (size_t i = 0; i < p.size(); ++i) differ += p[i] != mine.precision[i];
  EXPECT_EQ(differ, 0u) << "of " << p.size() << " precision entries";
  auto r = oracle.recall.as<const double>();
  differ = 0;
  for (size_t i = 0; i < r.size(); ++i) differ += r[i] != mine.recall[i];
  EXPECT_EQ(differ, 0u) << "of " << r.size() << " recall entries";
  // Guard against a vacuous comparison: the cases must exercise real, non-trivial values.
  EXPECT_GT(mine.stats[0], 0.05);
  EXPECT_LT(mine.stats[0], 0.99);
}

class RandomDatasets : public ::testing::TestWithParam<uint64_t> {};

TEST_P(RandomDatasets, MatchTheNumpyOracle) {
  if (!HavePythonNumpy()) GTEST_SKIP() << "/usr/bin/python3 with numpy is needed";
  const uint64_t seed = GetParam();
  // Seed 5 puts up to 150 objects of one category in an image: beyond maxDets 100.
  const int categories = seed == 5 ? 3 : 12 + int(seed % 4) * 7;
  const int max_objects = seed == 5 ? 150 : 15;
  CocoDataset d = synthetic::RandomDataset(seed, 25, categories, max_objects);
  std::vector<CocoDetection> dets =
      synthetic::DetectionsFrom(d, seed + 100, 0.8, seed == 5 ? 40 : 6);
  ExpectSameAsOracle(d, dets);
}

INSTANTIATE_TEST_SUITE_P(Seeds, RandomDatasets, ::testing::Values(1, 2, 3, 4, 5, 6));

TEST(Coco128, SyntheticDetectionsMatchTheNumpyOracle) {
  LOCKSTEP_REQUIRE_ASSETS();
  if (!HavePythonNumpy()) GTEST_SKIP() << "/usr/bin/python3 with numpy is needed";
  CocoDataset d =
      ReadCocoDataset(LOCKSTEP_ASSET("datasets/coco128/annotations/instances_train2017.json"));
  std::vector<CocoDetection> dets = synthetic::DetectionsFrom(d, 2017, 0.85, 15);
  EXPECT_GT(dets.size(), 2000u);
  ExpectSameAsOracle(d, dets);
}

}  // namespace
}  // namespace lockstep
