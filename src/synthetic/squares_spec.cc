// The pipeline the squares detector was built for, and the classic mistakes planted into it.
#include "lockstep/synthetic/squares_spec.h"
#include "lockstep/synthetic/squares_dataset.h"
#include "lockstep/synthetic/squares_detector.h"

namespace lockstep {

Spec SquaresTrainingSpec() {
  Spec s;
  s.name = "squares detector, as trained";
  s.geometry.mode = GeometryMode::kStretch;
  s.resize.dialect = ResizeDialect::kOpenCV;
  s.resize.interpolation = Interpolation::kBilinear;
  s.normalize.mean = {127.5, 127.5, 127.5};
  s.normalize.std = {127.5, 127.5, 127.5};
  s.tensor.width = kSquaresInputSize;
  s.tensor.height = kSquaresInputSize;
  s.output.decoder = Decoder::kTflitePostprocess;
  s.output.score_threshold = 0.3;
  s.output.labels = SquareLabels();
  return s;
}

namespace {

void PlantNormalize01(Spec& s) {
  s.normalize.mean = {0, 0, 0};
  s.normalize.std = {255, 255, 255};
}
void PlantLetterbox(Spec& s) {
  s.geometry.mode = GeometryMode::kLetterbox;
  s.geometry.placement = Placement::kCenter;
  s.geometry.pad_value = {0, 0, 0};
}
// The model's scale, but a zero point of 0: (x / scale) instead of (x / scale + 128).
void PlantZeroPointIgnored(Spec& s) {
  s.tensor.scale = kSquaresInputScale;
  s.tensor.zero_point = 0;
}

}  // namespace

std::vector<PlantedMistake> ClassicMistakes(const Spec& training) {
  std::vector<PlantedMistake> out;
  auto plant = [&](std::string name, std::string description, void (*mistake)(Spec&)) {
    PlantedMistake m{std::move(name), std::move(description), training};
    mistake(m.spec);
    m.spec.name = "deployed: " + m.description;
    out.push_back(std::move(m));
  };
  plant("normalize_0_1", "[0,1] normalization instead of [-1,1]", PlantNormalize01);
  plant("letterbox", "letterbox instead of stretch", PlantLetterbox);
  plant("zero_point_ignored", "input quantization without the zero point", PlantZeroPointIgnored);
  return out;
}

Spec WithAllMistakes(const Spec& training) {
  Spec s = training;
  PlantNormalize01(s);
  PlantLetterbox(s);
  PlantZeroPointIgnored(s);
  s.name = "deployed: all three classic mistakes";
  return s;
}

}  // namespace lockstep
