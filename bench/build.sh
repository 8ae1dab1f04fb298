#!/usr/bin/env bash
# A newcomer's first answer: a fresh clone of this repository's committed HEAD, built with an
# empty target directory (crates already downloaded: `cargo fetch` runs first and is not
# timed), then `azemu serve`, timed until its health endpoint answers. Target: 3 minutes on
# this machine with nothing else running. Also prints where the build's time went, from
# cargo's --timings report. Loopback only; the clone is removed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
TARGET_SECS=180
cargo fetch --locked --quiet
source bench/lib.sh
git clone -q . "$work/azemu"
start=$(date +%s.%N)
(cd "$work/azemu" && cargo build --release --locked --quiet --timings 2>/dev/null)
built=$(date +%s.%N)
start_azemu "$work/azemu/target/release/azemu" --tls off
answered=$(date +%s.%N)
python3 - "$start" "$built" "$answered" "$TARGET_SECS" "$work/azemu/target/cargo-timings" <<'EOF'
import glob, json, re, sys
start, built, answered, target = map(float, sys.argv[1:5])
total = answered - start
print(f"fresh clone to first answer: {total:.0f} s ({total / target:.2f} of the {target:.0f} s target);"
      f" the build {built - start:.0f} s, start-up {answered - built:.1f} s")
report = sorted(glob.glob(sys.argv[5] + "/cargo-timing-*.html"))
if report:
    units = json.loads(re.search(r"const UNIT_DATA = (\[.*?\]);\n", open(report[-1]).read(), re.S).group(1))
    units.sort(key=lambda u: -u["duration"])
    print("longest units: " + ", ".join(
        f"{u['name']}{' (' + u['target'].strip() + ')' if u['target'].strip() else ''} {u['duration']:.0f} s"
        for u in units[:6]))
EOF
