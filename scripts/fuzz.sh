#!/usr/bin/env bash
# Fuzzes lockstep's readers of untrusted input with libFuzzer (Debian's clang-16): builds the
# targets in fuzz/ with AddressSanitizer, UndefinedBehaviorSanitizer and float-cast-overflow,
# makes seed corpora from the repo and the assets, and runs each target for a fixed time.
# Exit 1 on any finding (crash, sanitizer report, leak, timeout, out-of-memory, an exception
# other than lockstep::Error); its reproducer is left in BUILD_DIR/findings/.
#
# Usage: scripts/fuzz.sh [BUILD_DIR] [SECONDS_PER_TARGET] [TARGET...]
#   LOCKSTEP_FUZZ_RUNS=N   run each target for N executions instead of a time (a campaign)
#   LOCKSTEP_ASSETS_DIR    the assets (default ../shared/assets beside the clone)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build-fuzz}
seconds=${2:-30}
shift $(($# < 2 ? $# : 2))
targets=("$@")
((${#targets[@]})) || targets=(spec model image coco npy tensor_compare)
assets=${LOCKSTEP_ASSETS_DIR:-$root/../shared/assets}
py=/usr/bin/python3

missing=()
for p in clang-16 libclang-rt-16-dev; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done || true
if ((${#missing[@]})); then
  echo "fuzz: installing ${missing[*]}" >&2
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
fi
[ -f "$root/third_party/tflite/lib/libtensorflowlite_c.so" ] || {
  echo "fuzz: run scripts/setup.sh first (it fetches the TensorFlow Lite C library)" >&2
  exit 2
}

# Warnings are errors: the compiler is pinned (clang-16), and the suite runs in this build too.
CC=clang-16 CXX=clang++-16 cmake -S "$root" -B "$build" -DLOCKSTEP_FUZZ=ON -DLOCKSTEP_WERROR=ON \
  -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" --target fuzzers -j"$(nproc)"

# Seeds: the repo's own, generated ones, and small files of each kind from the assets.
seeds=$build/seeds
rm -rf "$seeds" && mkdir -p "$seeds"/{spec,model,image,coco,npy,tensor_compare}
cp "$root"/fuzz/seeds/spec/*.json "$seeds/spec/"
"$py" "$root/fuzz/make_seeds.py" "$seeds" "$assets"
if [ -d "$assets" ]; then
  find "$assets/models" -name '*.tflite' -size -600k -exec cp {} "$seeds/model/" \;
  find "$assets/images" "$assets/datasets" \( -name '*.jpg' -o -name '*.png' -o -name '*.bmp' \) \
    -size -48k -exec cp {} "$seeds/image/" \;
fi

# Stack traces with function names and lines.
for s in llvm-symbolizer-16 llvm-symbolizer; do
  command -v "$s" >/dev/null && export ASAN_SYMBOLIZER_PATH=$(command -v "$s") && break
done || true
status=0
mkdir -p "$build/findings"
printf '%-16s %12s %8s %8s  %s\n' target executions cov ft result
for t in "${targets[@]}"; do
  corpus=$build/corpus/$t
  mkdir -p "$corpus"
  dict=$root/fuzz/dict/$t.dict
  [ "$t" = spec ] && dict=$root/fuzz/dict/json.dict
  [ "$t" = model ] && dict=$root/fuzz/dict/tflite.dict
  args=(-rss_limit_mb=2560 -malloc_limit_mb=2048 -timeout=20 -print_final_stats=1
    -artifact_prefix="$build/findings/$t-")
  [ -f "$dict" ] && args+=(-dict="$dict")
  if [ -n "${LOCKSTEP_FUZZ_RUNS:-}" ]; then
    args+=(-runs="$LOCKSTEP_FUZZ_RUNS")
  else
    args+=(-max_total_time="$seconds")
  fi
  log=$build/$t.log
  if "$build/fuzz/fuzz_$t" "${args[@]}" "$corpus" "$seeds/$t" >"$log" 2>&1; then
    result=ok
  else
    result="FINDING (see $log and $build/findings/)"
    status=1
  fi
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  printf '%-16s %12s %8s %8s  %s\n' "$t" "${runs:-?}" "${cov:-?}" "${ft:-?}" "$result"
  [ "$result" = ok ] || grep -m3 -E 'ERROR|runtime error|uncaught|deadly|Timeout|out-of-memory' "$log" >&2 || true
done || true
exit $status
