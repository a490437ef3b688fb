#!/usr/bin/python3
"""Judges `lockstep doctor --stage-tensors` with independently written deployed pipelines.

    /usr/bin/python3 run_cases.py --cli build/lockstep --assets ../shared/assets --out /tmp/dc \
        [--images N] [--cases a,b] [--min-right N] [--max-wrong N] [--json FILE] [--jobs J]

For every case of cases.py: the case's pipeline (numpy/PIL/cv2, no lockstep code; lockstep.Engine
only as the TFLite interpreter) writes its stage tensors for the first N COCO128 images; the
planted mistake is checked to be real (the stages before it equal the correct pipeline's, its
stage differs), and the correct pipelines are checked byte for byte against `lockstep
preprocess --trace`. Then the doctor runs on the folder, and its answer is scored:

  the error-severity findings on $stage_tensors.<stage>; the first diverging stage in the order
  resized, normalized, quantized, boxes; its code (plus the codes of a "causes" list, if any) is
  the answer. stage_tensor_differs / unknown = unknown; no such finding, stage_tensor_matches or
  exit code 0 = aligned. right / wrong / unknown per case (README.md has the rule).

Exit 0, or 1 when right < --min-right or wrong > --max-wrong, 2 on a broken setup, 77 when the
assets are absent (ctest's SKIP_RETURN_CODE).
"""

import argparse
import concurrent.futures
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

MODEL_REL = "models/detection/coco_ssd_mobilenet_v1_1.0_quant_2018_06_29.tflite"
IMAGES_REL = "datasets/coco128/train2017"
SKIP = 77


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def fail(msg):
    log(f"run_cases: {msg}")
    sys.exit(2)


# ------------------------------------------------------------------------------------ setup
def find_module(cli):
    """build/python next to the CLI binary, unless lockstep is importable already."""
    try:
        import lockstep  # noqa: F401
        return
    except ImportError:
        pass
    for cand in [Path(cli).resolve().parent / "python", HERE.parents[1] / "build" / "python"]:
        if (cand / "lockstep").is_dir():
            sys.path.insert(0, str(cand))
            return


def prepare_images(assets, out, n):
    """out/images/plain: symlinks to the first n images (sorted); out/images/exif: JPEG copies of
    them carrying EXIF orientation 6 (pixels stored unrotated, as a phone held upright does)."""
    from PIL import Image
    src_dir = Path(assets) / IMAGES_REL
    names = sorted(p.name for p in src_dir.iterdir() if p.suffix.lower() in (".jpg", ".jpeg",
                                                                              ".png"))[:n]
    plain, exif = out / "images" / "plain", out / "images" / "exif"
    for d in (plain, exif):
        shutil.rmtree(d, ignore_errors=True)
        d.mkdir(parents=True)
    for name in names:
        os.symlink(src_dir / name, plain / name)
        with Image.open(src_dir / name) as im:
            tags = Image.Exif()
            tags[0x0112] = 6
            im.convert("RGB").save(exif / name, format="JPEG", quality=95, exif=tags)
    return names, {"plain": plain, "exif": exif}


def doctor_needs_deploy_spec(cli):
    text = subprocess.run([cli, "doctor", "--help"], capture_output=True, text=True).stdout
    for line in text.splitlines():
        if "--deploy-spec" in line:
            return "REQUIRED" in line
    return False


# ------------------------------------------------------------------------------- the checks
def check_correct_pipelines(cli, model, image_dirs, names, infer, out):
    """The independent correct pipelines equal lockstep's training tensors byte for byte, and
    their boxes equal `lockstep detect`'s within float rounding."""
    import numpy as np
    import cases as C
    trace = out / "lockstep_trace"
    checked = 0
    for spec_key, sets in [("stretch", ("plain", "exif")), ("letterbox", ("plain",))]:
        spec = str(HERE / C.SPECS[spec_key])
        for set_name in sets:
            folder = image_dirs[set_name]
            det = subprocess.run([cli, "detect", "--model", model, "--spec", spec, str(folder),
                                  "--json", "-"], capture_output=True, text=True)
            if det.returncode != 0:
                fail(f"lockstep detect failed: {det.stderr.strip()}")
            detected = {}
            for line in det.stdout.splitlines():
                if line.strip():
                    rec = json.loads(line)
                    detected[Path(rec["image"]).name] = np.array(
                        [d["box"] for d in rec["detections"]], np.float64).reshape(-1, 4)
            for name in names:
                shutil.rmtree(trace, ignore_errors=True)
                trace.mkdir(parents=True)
                path = folder / name
                p = subprocess.run([cli, "preprocess", "--model", model, "--spec", spec,
                                    str(path), "--out", str(trace / "x.npy"), "--trace",
                                    str(trace)], capture_output=True, text=True)
                if p.returncode != 0:
                    fail(f"lockstep preprocess failed: {p.stderr.strip()}")
                mine = C.CORRECT[spec_key](path, infer)
                for stage, file in [("resized", "1_resized"), ("normalized", "2_normalized"),
                                    ("quantized", "3_quantized")]:
                    theirs = np.load(trace / f"{file}.npy")
                    ours = mine[stage]
                    # lockstep's trace keeps a batch axis on the normalized stage: compare the
                    # values (and dtype) in C order.
                    if theirs.dtype != ours.dtype or theirs.size != ours.size or \
                            theirs.reshape(-1).tobytes() != ours.reshape(-1).tobytes():
                        fail(f"the independent correct {spec_key} pipeline differs from lockstep "
                             f"preprocess at {stage} for {set_name}/{name}: dtype "
                             f"{ours.dtype}/{theirs.dtype}, shape {ours.shape}/{theirs.shape}, "
                             f"max diff {np.abs(ours.astype(float).reshape(-1) - theirs.astype(float).reshape(-1)).max() if theirs.size == ours.size else 'n/a'}")
                if not np.array_equal(np.load(trace / "x.npy"), mine["quantized"]):
                    fail(f"lockstep preprocess --out differs from its trace for {name}")
                ref = detected.get(name, np.zeros((0, 4)))
                ours = mine["boxes"].astype(np.float64)
                if ref.shape != ours.shape or (ref.size and np.abs(ref - ours).max() > 1e-2):
                    fail(f"the independent correct {spec_key} boxes differ from lockstep detect "
                         f"for {set_name}/{name}: {ours.tolist()} vs {ref.tolist()}")
                checked += 1
    shutil.rmtree(trace, ignore_errors=True)
    return checked


def stage_equal(a, b):
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


def write_case(case, names, image_dirs, infer, correct_cache, case_dir):
    """Runs the case's pipeline on every image, checks its mistake is real, writes its stages.
    Returns the number of images whose mistake stage differs from the correct pipeline's."""
    import numpy as np
    import cases as C
    shutil.rmtree(case_dir, ignore_errors=True)
    case_dir.mkdir(parents=True)
    differing = 0
    first_dumped_differs = 0
    for name in names:
        path = image_dirs[case.images] / name
        key = (case.spec, case.images, name)
        if key not in correct_cache:
            correct_cache[key] = C.CORRECT[case.spec](path, infer)
        ref = correct_cache[key]
        got = case.pipeline(path, infer)
        if case.mistake_stage is None:
            for stage in C.STAGES:
                if not stage_equal(got[stage], ref[stage]):
                    raise AssertionError(f"{case.name}: no mistake planted, but {stage} differs "
                                         f"from the correct pipeline for {name}")
        else:
            k = C.STAGES.index(case.mistake_stage)
            for stage in C.STAGES[:k]:
                if not stage_equal(got[stage], ref[stage]):
                    raise AssertionError(f"{case.name}: {stage} (before the mistake stage "
                                         f"{case.mistake_stage}) differs for {name}")
            if not stage_equal(got[case.mistake_stage], ref[case.mistake_stage]):
                differing += 1
            if any(not stage_equal(got[s], ref[s]) for s in case.stages):
                first_dumped_differs += 1
        for stage in case.stages:
            np.save(case_dir / f"{name}.{stage}.npy", np.ascontiguousarray(got[stage]))
    if case.mistake_stage is not None and (differing == 0 or first_dumped_differs == 0):
        raise AssertionError(f"{case.name}: the planted mistake changes nothing in "
                             f"{'the ' + case.mistake_stage + ' stage' if differing == 0 else 'the dumped stages'} "
                             f"of {len(names)} images")
    return differing


# ------------------------------------------------------------------------------- the doctor
def run_doctor(cli, model, spec, images, case_dir, n, deploy_spec_required):
    cmd = [cli, "doctor", "--model", model, "--train-spec", spec]
    if deploy_spec_required:
        cmd += ["--deploy-spec", spec]
    cmd += ["--images", str(images), "--stage-tensors", str(case_dir), "--json", "-",
            "--max-images", str(n)]
    t0 = time.time()
    p = subprocess.run(cmd, capture_output=True, text=True)
    report = None
    try:
        report = json.loads(p.stdout) if p.stdout.strip() else None
    except json.JSONDecodeError:
        # Progress or summary lines around the JSON: take the outermost object.
        s, e = p.stdout.find("{"), p.stdout.rfind("}")
        if s >= 0 and e > s:
            try:
                report = json.loads(p.stdout[s:e + 1])
            except json.JSONDecodeError:
                report = None
    return p.returncode, report, p.stderr, time.time() - t0, cmd


def stage_of(field):
    rest = field[len("$stage_tensors"):].lstrip(".")
    return rest.split(".")[0].split("[")[0]


def cause_codes(finding):
    out = []
    for c in finding.get("causes") or []:
        code = c.get("code") if isinstance(c, dict) else c
        if isinstance(code, str):
            out.append(code)
    return out


def measured(report):
    """The doctor's measured agreement / cost, wherever the report keeps it."""
    if not isinstance(report, dict):
        return None
    for key in ("gate", "stage_tensors_gate", "agreement", "cost"):
        v = report.get(key)
        if isinstance(v, dict) and v:
            keep = {k: v[k] for k in v if isinstance(v[k], (int, float, str, bool))}
            return keep or v
        if isinstance(v, (int, float)):
            return {key: v}
    return None


def short_measure(m):
    if not m:
        return ""
    if isinstance(m.get("agreement"), (int, float)):
        s = f"agree {m['agreement']:.3f}"
        if "matched" in m and "training_detections" in m:
            s += f" ({m['matched']}/{m['training_detections']})"
        if "costly" in m:
            s += " costly" if m["costly"] else " cheap"
        return s
    return ", ".join(f"{k}={v}" for k, v in list(m.items())[:3])


def report_causes(report, finding):
    """The causes the doctor lists, in data-flow order: a "causes" list in the finding, else the
    report's top-level "causes" ([{"stage", "code", ...}]). Codes only; "unknown" kept."""
    listed = cause_codes(finding) if finding else []
    if not listed and isinstance(report, dict) and isinstance(report.get("causes"), list):
        listed = cause_codes({"causes": report["causes"]})
    out = []
    for c in listed:
        c = "unknown" if c in ("stage_tensor_differs", "unknown") else c
        if not out or out[-1] != c:
            out.append(c)
    return out


def doctors_answer(rc, report, combination=False):
    """(kind, codes, finding, below_error, causes): kind is "aligned", "unknown" or "named".
    codes: the first diverging stage's code; for a combination case followed by the further
    causes the doctor lists (causes: that list, whatever the case)."""
    import cases as C
    findings = []
    if isinstance(report, dict):
        findings = [f for f in report.get("findings", []) if isinstance(f, dict)]
        extra = report.get("stage_tensors")
        if isinstance(extra, list):
            findings += [f for f in extra if isinstance(f, dict)]
        elif isinstance(extra, dict) and isinstance(extra.get("findings"), list):
            findings += [f for f in extra["findings"] if isinstance(f, dict)]
    staged = [f for f in findings if str(f.get("field", "")).startswith("$stage_tensors")
              and stage_of(str(f.get("field", ""))) in C.STAGES]
    order = lambda f: C.STAGES.index(stage_of(f["field"]))  # noqa: E731
    errors = sorted([f for f in staged if f.get("severity") == "error"
                     and f.get("code") != "stage_tensor_matches"], key=order)
    # What the doctor named below error severity (a difference it judged harmless), for the table.
    others = sorted([f for f in staged if f.get("severity") != "error"
                     and f.get("code") != "stage_tensor_matches"], key=order)
    below = others[0] if others else None
    if rc == 0 or not errors:
        return "aligned", [], None, below, report_causes(report, None)
    first = errors[0]
    causes = report_causes(report, first)
    code = first.get("code", "")
    if code in ("stage_tensor_differs", "unknown"):
        return "unknown", [code], first, below, causes
    codes = [code]
    if combination:
        rest = causes[1:] if causes and causes[0] == code else causes
        for c in rest:
            if c != codes[-1]:
                codes.append(c)
    return "named", codes, first, below, causes


def alternatives(report, stage):
    """The codes of every fingerprint the report lists for the stage (the doctor's candidates)."""
    for s in (report or {}).get("stage_tensors") or []:
        if isinstance(s, dict) and s.get("stage") == stage:
            return [f.get("code") for f in s.get("fingerprints") or [] if isinstance(f, dict)]
    return []


def matches(expected, got):
    import cases as C
    return len(expected) == len(got) and all(g in C.accepted(e) for e, g in zip(expected, got))


def score(case, kind, codes, below=None):
    """right / wrong / unknown, and a note. A cause named below error counts when it is the
    expected one: the doctor measured it and found it costs less than its gate."""
    import cases as C
    if not case.expected:
        if case.control == "unknown":
            if kind == "unknown":
                return "right", ""
            if kind == "aligned":
                return "unknown", "no error reported for a real difference"
            return "wrong", "named a cause for random noise"
        return ("right", "") if kind == "aligned" else ("wrong", "an error where none is")
    if kind == "aligned":
        if case.aligned_ok:
            return "right", "judged harmless (aligned)"
        if below and len(case.expected) == 1 and below.get("code") in C.accepted(case.expected[0]):
            return "right", "named, measured below the gate"
        return "wrong", "missed: aligned"
    if kind == "unknown":
        return "unknown", ""
    if matches(case.expected, codes):
        return "right", ""
    exp_sets = [set(C.accepted(e)) for e in case.expected]
    hit = [any(g in s for s in exp_sets) for g in codes]
    if len(case.expected) > 1 and all(hit):
        covered = sum(any(g in s for g in codes) for s in exp_sets)
        if covered == len(case.expected):
            return "wrong", "right causes, other order"
        return "wrong", f"partial: {covered}/{len(case.expected)} causes named"
    if any(hit):
        return "wrong", "a right cause among wrong ones"
    return "wrong", "wrong cause"


# ------------------------------------------------------------------------------------ main
def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cli", required=True, help="the lockstep binary")
    ap.add_argument("--assets", required=True, help="the shared assets folder")
    ap.add_argument("--out", required=True, help="a scratch folder (images, tensors, reports)")
    ap.add_argument("--images", type=int, default=4, help="first N COCO128 images (sorted)")
    ap.add_argument("--cases", default="", help="comma-separated case names (default: all)")
    ap.add_argument("--min-right", type=int, default=0)
    ap.add_argument("--max-wrong", type=int, default=10**6)
    ap.add_argument("--json", help="write the results here")
    ap.add_argument("--jobs", type=int, default=2, help="doctor runs in parallel")
    args = ap.parse_args()
    args.assets = os.path.abspath(args.assets)  # the case images are symlinks into it
    t_start = time.time()

    model = Path(args.assets) / MODEL_REL
    if not model.is_file() or not (Path(args.assets) / IMAGES_REL).is_dir():
        log(f"run_cases: assets absent ({model} or {IMAGES_REL}): skipped")
        sys.exit(SKIP)
    cli = str(Path(args.cli).resolve())
    for _ in range(6):  # the binary may be mid-rebuild
        if os.access(cli, os.X_OK):
            break
        log(f"run_cases: {cli} missing, waiting")
        time.sleep(20)
    else:
        fail(f"{cli}: no executable")
    find_module(cli)
    try:
        import lockstep
    except ImportError as e:
        fail(f"the lockstep Python module is needed as the TFLite interpreter: {e}")
    import cases as C

    selected = C.CASES
    if args.cases:
        want = [s.strip() for s in args.cases.split(",") if s.strip()]
        unknown = [w for w in want if w not in C.by_name()]
        if unknown:
            fail(f"no such case(s): {', '.join(unknown)}; known: {', '.join(C.by_name())}")
        selected = [C.by_name()[w] for w in want]

    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    names, image_dirs = prepare_images(args.assets, out, args.images)
    engine = lockstep.Engine(str(model))
    infer = engine.run
    deploy_required = doctor_needs_deploy_spec(cli)
    log(f"run_cases: {len(selected)} cases x {len(names)} images; doctor "
        f"{'needs' if deploy_required else 'does not need'} --deploy-spec")

    checked = check_correct_pipelines(cli, str(model), image_dirs, names, infer, out)
    log(f"run_cases: the correct pipelines equal lockstep preprocess byte for byte and lockstep "
        f"detect's boxes ({checked} image x spec runs)")

    # Each case's tensors are written (one interpreter, this process) and its doctor run is
    # queued at once, so the doctor runs overlap the next cases' tensors.
    def one(case):
        rc, report, stderr, secs, cmd = run_doctor(
            cli, str(model), str(HERE / C.SPECS[case.spec]), image_dirs[case.images],
            out / "cases" / case.name, len(names), deploy_required)
        if report is not None:
            (out / "cases" / f"{case.name}.doctor.json").write_text(json.dumps(report, indent=1))
        return case, rc, report, stderr, secs, cmd

    correct_cache = {}
    planted = {}
    results = []
    keys_shown = False
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futures = []
        for case in selected:
            planted[case.name] = write_case(case, names, image_dirs, infer, correct_cache,
                                            out / "cases" / case.name)
            futures.append(pool.submit(one, case))
        log(f"run_cases: tensors written and checked after {time.time() - t_start:.1f} s")
        for i, fut in enumerate(futures):
            case, rc, report, stderr, secs, cmd = fut.result()
            if report is None:
                fail(f"{case.name}: the doctor gave no JSON (exit {rc}): {stderr.strip()[-500:]}"
                     f"\n  {' '.join(cmd)}")
            if not keys_shown:
                log(f"run_cases: doctor JSON keys: {sorted(report)}")
                keys_shown = True
            kind, codes, finding, below, causes = doctors_answer(
                rc, report, case.cls == "combination")
            verdict, note = score(case, kind, codes, below)
            answer = kind if kind == "aligned" else (" + ".join(codes) if codes else kind)
            row = {
                "case": case.name, "class": case.cls, "spec": case.spec,
                "stages": list(case.stages), "what": case.what,
                "expected": case.expected or [case.control],
                "answer": answer, "codes": codes, "kind": kind, "verdict": verdict,
                "note": note, "exit": rc, "seconds": round(secs, 2),
                "planted_images": planted[case.name],
                "stage": stage_of(finding["field"]) if finding else None,
                "evidence": finding.get("deployed") if finding else None,
                "below_error": ({"code": below.get("code"), "severity": below.get("severity"),
                                 "stage": stage_of(below.get("field", "")),
                                 "evidence": below.get("deployed")} if below else None),
                "measured": measured(report),
                "causes": causes,
                "alternatives": alternatives(report, stage_of(finding["field"]) if finding else None),
            }
            if case.cls != "combination" and len(causes) > 1:
                row["note"] += f" (causes listed: {' + '.join(causes)})"
            if kind == "aligned" and below and verdict != "right":
                row["note"] += f" (below error: {below.get('code')})"
            results.append(row)
            log(f"[{i + 1:2d}/{len(selected)}] {case.name:32s} {verdict:7s} expected "
                f"{'+'.join(row['expected'])} got {answer} (exit {rc}, {secs:.1f} s)")

    elapsed = time.time() - t_start
    import resource
    ru_self = resource.getrusage(resource.RUSAGE_SELF)
    ru_kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = ru_self.ru_utime + ru_self.ru_stime + ru_kids.ru_utime + ru_kids.ru_stime
    totals = {v: sum(r["verdict"] == v for r in results) for v in ("right", "wrong", "unknown")}

    w = [32, 12, 46, 46, 7, 4]
    print(f"{'case':{w[0]}} {'class':{w[1]}} {'expected':{w[2]}} {'doctor':{w[3]}} "
          f"{'verdict':{w[4]}} {'exit':{w[5]}} measured")
    for r in results:
        exp = "+".join(r["expected"])
        ans = r["answer"] + (f" @{r['stage']}" if r["stage"] else "")
        if r["kind"] == "aligned" and r["below_error"]:
            ans += f" ({r['below_error']['code']}:{r['below_error']['severity']})"
        print(f"{r['case']:{w[0]}} {r['class']:{w[1]}} {exp[:w[2]]:{w[2]}} {ans[:w[3]]:{w[3]}} "
              f"{r['verdict']:{w[4]}} {r['exit']:<{w[5]}} {short_measure(r['measured'])}"
              f"{'  # ' + r['note'] if r['note'] else ''}")
    print(f"\ntotals: {totals['right']} right, {totals['wrong']} wrong, {totals['unknown']} "
          f"unknown of {len(results)} cases, {len(names)} images, {elapsed:.1f} s "
          f"({cpu:.0f} s CPU: {ru_kids.ru_utime + ru_kids.ru_stime:.0f} s in lockstep runs, "
          f"{ru_self.ru_utime + ru_self.ru_stime:.0f} s in the Python pipelines; "
          f"{args.jobs} doctor runs at a time)")
    wrong = [r for r in results if r["verdict"] == "wrong"]
    if wrong:
        print("\nwrong answers, with the doctor's evidence:")
        for r in wrong:
            print(f"  {r['case']}: expected {'+'.join(r['expected'])}, got {r['answer']}"
                  f"{' @' + r['stage'] if r['stage'] else ''} ({r['note']})")
            if r["evidence"]:
                print(f"      {r['evidence']}")
            elif r["below_error"]:
                print(f"      (below error) {r['below_error']['evidence']}")

    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(
            {"images": len(names), "seconds": round(elapsed, 1), "cpu_seconds": round(cpu, 1),
             "totals": totals,
             "cases": results}, indent=1))
    if totals["right"] < args.min_right or totals["wrong"] > args.max_wrong:
        log(f"run_cases: FAILED: {totals['right']} right (floor {args.min_right}), "
            f"{totals['wrong']} wrong (ceiling {args.max_wrong})")
        sys.exit(1)


if __name__ == "__main__":
    main()
