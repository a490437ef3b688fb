// Two mistakes at once in one tensor: no single hypothesis holds, but undoing one exact,
// value-preserving cause (swapped channels, a mirror, a half turn) leaves a difference that one
// does. Each is then named in turn with its share of the difference.
#include <cmath>
#include <functional>

#include "doctor/fingerprint.h"

namespace lockstep::fingerprint {
namespace {

// A cause that moves values without changing them: the reference with it applied.
struct Undo {
  const char* code;
  const char* description;
  std::function<size_t(const Aligned&, int y, int x, int ch)> from;  // source element
};

std::vector<Undo> Undos() {
  auto at = [](const Aligned& a, int y, int x, int ch) {
    return (size_t(y) * size_t(a.w) + size_t(x)) * size_t(a.c) + size_t(ch);
  };
  return {
      {"channels_swapped", "channels swapped (RGB/BGR)",
       [at](const Aligned& a, int y, int x, int ch) {
         return at(a, y, x, a.c == 3 ? 2 - ch : ch);
       }},
      {"mirrored_horizontally", "mirrored left-right",
       [at](const Aligned& a, int y, int x, int ch) { return at(a, y, a.w - 1 - x, ch); }},
      {"mirrored_vertically", "mirrored upside down",
       [at](const Aligned& a, int y, int x, int ch) { return at(a, a.h - 1 - y, x, ch); }},
      {"rotated_180", "rotated 180°",
       [at](const Aligned& a, int y, int x, int ch) {
         return at(a, a.h - 1 - y, a.w - 1 - x, ch);
       }},
  };
}

std::vector<double> Apply(const Aligned& a, const Undo& u) {
  std::vector<double> out(a.ref.size());
  size_t i = 0;
  for (int y = 0; y < a.h; ++y)
    for (int x = 0; x < a.w; ++x)
      for (int ch = 0; ch < a.c; ++ch) out[i++] = a.ref[u.from(a, y, x, ch)];
  return out;
}

double MeanAbsDiff(const std::vector<double>& x, const std::vector<double>& y) {
  double sum = 0;
  for (size_t i = 0; i < x.size(); ++i) sum += std::abs(x[i] - y[i]);
  return x.empty() ? 0 : sum / double(x.size());
}

}  // namespace

std::vector<Fingerprint> PeelTwoCauses(const Aligned& a, const CompareContext& context) {
  if (!a.image || a.other_hw_swapped || a.ref.size() != a.other.size()) return {};
  const double before = MeanAbsDiff(a.ref, a.other);
  if (before <= 0) return {};
  for (const Undo& u : Undos()) {
    if (std::string(u.code) == "channels_swapped" && a.c != 3) continue;
    Aligned peeled = a;
    peeled.ref = Apply(a, u);
    const double left = MeanAbsDiff(peeled.ref, a.other);
    if (left >= before) continue;  // this cause is not in the difference
    std::vector<Candidate> found;
    ValueHypotheses(peeled, context, found);
    Float16Hypotheses(peeled, found);
    for (const Candidate& c : found) {
      if (c.agreement < kHolds || c.fingerprint.code == u.code) continue;
      const double first_share = (before - left) / before;
      Fingerprint first{u.code, u.description,
                        "undoing it takes the mean difference from " + Num(before) + " to " +
                            Num(left) + " (" + Percent(first_share) +
                            " of it); the rest is one more cause"};
      Fingerprint second = c.fingerprint;
      second.evidence += "; after undoing " + std::string(u.description) + " (" +
                         Percent(1 - first_share) + " of the difference)";
      return {first, second};
    }
  }
  return {};
}

}  // namespace lockstep::fingerprint
