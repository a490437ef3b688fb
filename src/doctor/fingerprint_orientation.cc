// Hypotheses about image orientation: the other tensor is lockstep's mirrored, rotated or
// transposed (a flip in a data loader, a camera mounted upside down, a W×H buffer read as H×W),
// or the other pipeline resized a rotated source — an EXIF orientation not applied, or applied
// twice. The first kind is a permutation of lockstep's own elements and must agree exactly; the
// second re-runs lockstep's preprocessing on the source turned each EXIF way.
#include <algorithm>
#include <cmath>

#include "doctor/fingerprint.h"
#include "lockstep/image/decode.h"

namespace lockstep::fingerprint {
namespace {

// The eight EXIF orientations as what they do to an image (1 is the identity); numbered as the
// tag is, so that ApplyOrientation(image, exif) turns a source the same way.
struct Orientation {
  int exif;
  const char* code;  // the fingerprint when the turn happened on the tensor; "" for none
  const char* turn;  // what it does, in words
  int rank;          // simpler turns first when a symmetric image lets several hold
};

const Orientation kOrientations[] = {
    {2, "mirrored_horizontally", "mirrored left-right", 0},
    {4, "mirrored_vertically", "mirrored upside down", 0},
    {3, "rotated_180", "rotated 180°", 1},
    {6, "rotated_90", "rotated 90° clockwise", 1},
    {8, "rotated_270", "rotated 270° clockwise (90° counter-clockwise)", 1},
    {5, "transposed_hw", "transposed (rows and columns exchanged)", 2},
    // The anti-diagonal flip has no name of its own in pipelines: only as an EXIF orientation.
    {7, "", "rotated 90° clockwise and mirrored upside down", 3},
};

// The EXIF orientation that undoes `exif`: the quarter turns undo each other, the rest
// themselves.
int Inverse(int exif) { return exif == 6 ? 8 : exif == 8 ? 6 : exif; }

// An HxWxC image turned as `exif` does, as a flat buffer (W×H×C for the turns that exchange
// the axes). Pixel (x, y) of the result comes from (sx, sy) of the input, as in
// ApplyOrientation.
std::vector<double> Turned(const std::vector<double>& v, int h, int w, int c, int exif) {
  const bool swaps = exif >= 5;
  const int oh = swaps ? w : h, ow = swaps ? h : w;
  std::vector<double> out(v.size());
  for (int y = 0; y < oh; ++y)
    for (int x = 0; x < ow; ++x) {
      int sx = x, sy = y;
      switch (exif) {
        case 2:
          sx = w - 1 - x;
          break;
        case 3:
          sx = w - 1 - x, sy = h - 1 - y;
          break;
        case 4:
          sy = h - 1 - y;
          break;
        case 5:
          sx = y, sy = x;
          break;
        case 6:
          sx = y, sy = h - 1 - x;
          break;
        case 7:
          sx = w - 1 - y, sy = h - 1 - x;
          break;
        case 8:
          sx = w - 1 - y, sy = x;
          break;
        default:
          break;
      }
      std::copy_n(v.begin() + long((size_t(sy) * size_t(w) + size_t(sx)) * size_t(c)), c,
                  out.begin() + long((size_t(y) * size_t(ow) + size_t(x)) * size_t(c)));
    }
  return out;
}

// One pixel level in the stage's units: an independent implementation of the same pipeline may
// round a value the other way, a different image content may not agree on 99.9% of elements.
double LevelTolerance(const Aligned& a, const Spec& spec) {
  if (a.stage == StageKind::kResized) return a.other_integer ? 1.0 : 1e-3;
  if (a.stage == StageKind::kQuantized && a.ref_integer) return 1.0;
  double level = 0;
  for (double s : spec.normalize.std) level = std::max(level, 1 / s);
  return level + 1e-4;
}

// Tensor-space turns: exact, since they only move lockstep's own elements. Returns the best
// share any turn reached, so the caller knows whether re-running is still worth it.
double TensorTurns(const Aligned& a, std::vector<Candidate>& out) {
  const double tol = SameTolerance(a);
  const Agreement plain = a.other_hw_swapped ? Agreement{} : Agree(a.ref, a.other, tol);
  double best = 0;
  for (const Orientation& o : kOrientations) {
    if (!*o.code) continue;
    // A w×h other can only be a turn that exchanges the axes.
    if (a.other_hw_swapped && o.exif < 5) continue;
    std::vector<double> turned = Turned(a.ref, a.h, a.w, a.c, o.exif);
    Agreement g = Agree(turned, a.other, tol);
    best = std::max(best, g.share);
    if (g.share < kHolds || g.share <= plain.share) continue;
    Candidate c;
    c.agreement = g.share;
    c.residual = g.max_diff;
    c.rank = o.rank;
    std::string buffer;
    if (o.exif >= 5 && a.h != a.w && !a.other_hw_swapped)
      buffer = " (the " + std::to_string(a.h) + "x" + std::to_string(a.w) +
               " buffer read with lockstep's " + std::to_string(a.w) + "x" + std::to_string(a.h) +
               " shape)";
    c.fingerprint = {
        o.code, std::string("image ") + o.turn,
        std::string("with lockstep's tensor ") + o.turn + buffer + " the tensors agree at " +
            Percent(g.share) + " of elements (" +
            (a.other_hw_swapped ? std::string("shapes differ") : Percent(plain.share)) +
            " before), largest difference " + Num(g.max_diff)};
    c.transformed = std::move(turned);
    out.push_back(std::move(c));
  }
  return best;
}

// Whether the source file's EXIF tag accounts for a turn: stored pixels used as they are
// (the turn undoes the tag) or the tag applied once more (the turn is the tag). Unknown tags
// (0) leave both readings open.
bool TagExplains(int tag, const Orientation& o) {
  return tag == 0 || (tag > 1 && (o.exif == Inverse(tag) || o.exif == tag));
}

std::string SourceTurnText(const Orientation& o, int tag) {
  std::string text = "the source " + std::string(o.turn);
  if (tag == 0)
    return text + " (what EXIF orientation " + std::to_string(o.exif) + " does: a file tagged " +
           std::to_string(Inverse(o.exif)) + " decoded without applying it, or tagged " +
           std::to_string(o.exif) + " and turned twice)";
  if (tag > 1) return text + " (the file is tagged EXIF orientation " + std::to_string(tag) + ")";
  return text +
         " before the resize (the file has no EXIF orientation: a turn of the frame, "
         "not of the tag)";
}

// A source turn under its name: an EXIF orientation when the file's tag accounts for it, else
// the turn itself (a mirrored front camera, a sensor mounted sideways).
Fingerprint SourceTurnFingerprint(const Orientation& o, int tag, const std::string& evidence) {
  if (TagExplains(tag, o) || !*o.code)
    return {"exif_orientation_not_applied",
            "EXIF orientation not applied (or applied twice): the other resized the source " +
                std::string(o.turn),
            evidence};
  return {o.code, "image " + std::string(o.turn) + " before the resize", evidence};
}

// Source turns: lockstep's preprocessing re-run on the source turned each EXIF way. Only a
// non-square source tells a turn before the resize from one after it.
void SourceTurns(const Aligned& a, const CompareContext& ctx, int& budget,
                 std::vector<Candidate>& out) {
  if (!ctx.source || !ctx.spec || a.other_hw_swapped || a.c > 3) return;
  if (ctx.source->width == ctx.source->height || budget < 2 || !CanRerun(a, ctx)) return;
  // The re-run must reproduce lockstep's own tensor, or it says nothing about the other.
  --budget;
  auto own = RerunStage(a, ctx, *ctx.spec, *ctx.source);
  if (!own || Agree(*own, a.ref, 1e-3).share < 1) return;
  const double tol = LevelTolerance(a, *ctx.spec);
  for (const Orientation& o : kOrientations) {
    if (budget <= 0) return;
    --budget;
    auto values = RerunStage(a, ctx, *ctx.spec, ApplyOrientation(*ctx.source, o.exif));
    if (!values) continue;
    Agreement g = Agree(*values, a.other, tol);
    if (g.share < kHolds) continue;
    Candidate c;
    c.agreement = g.share;
    c.residual = g.max_diff;
    c.rank = 0;  // a turn before the resize explains what a turn after it only approaches
    c.fingerprint = SourceTurnFingerprint(
        o, ctx.source_orientation,
        "lockstep's pipeline re-run on " + SourceTurnText(o, ctx.source_orientation) +
            " reproduces it at " + Percent(g.share) + " of elements within one level (tolerance " +
            Num(tol) + ", mean abs difference " + Fixed(g.mean_diff, 4) + ", largest " +
            Num(g.max_diff) + ")");
    c.transformed = std::move(*values);
    out.push_back(std::move(c));
  }
}

}  // namespace

void OrientationHypotheses(const Aligned& a, const CompareContext& ctx, int& rerun_budget,
                           std::vector<Candidate>& out) {
  if (!a.image || a.h < 2 || a.w < 2) return;
  // An exact turn of the tensor is the whole story; re-running cannot say more.
  if (TensorTurns(a, out) == 1) return;
  SourceTurns(a, ctx, rerun_budget, out);
}

}  // namespace lockstep::fingerprint
