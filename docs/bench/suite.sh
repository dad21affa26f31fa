#!/usr/bin/env bash
# The shared micro-benchmark suite (/work/shared/bench/run.sh) for the
# rows the sigsys issue asks: native, uk on sigsys and on ptrace (from
# --rootfs /, so fork_exec_true_wait finds its binary), and
# runsc --platform=systrap; then the same four pinned to one CPU
# (taskset -c 1). Tables by the suite's table.py.
#   docs/bench/suite.sh UK_BINARY OUTDIR     (env: REPS=3 WREPS=10 MREPS=3)
# Needs root for runsc do, and the suite built (its build.sh and
# build_runsc.sh: /tmp/benchroot, /usr/local/bin/runsc).
set -uo pipefail
UK="$1"; OUT="$2"
B=${BENCH:-/work/shared/bench}
RUNSC=${RUNSC:-/usr/local/bin/runsc}
export REPS="${REPS:-3}" WREPS="${WREPS:-10}" MREPS="${MREPS:-3}" RUNSC
rm -rf "$OUT" && mkdir -p "$OUT"
run() { # results-dir label prefix...
	local dir=$1 label=$2; shift 2
	RESULTS_DIR="$OUT/$dir" "$B/run.sh" cmd "$*" "$label" >/dev/null 2>&1 ||
		echo "suite.sh: $label failed (see $OUT/$dir/$label)" >&2
}
for pin in "" "taskset -c 1"; do
	dir=unpinned tag=
	[[ -n $pin ]] && dir=pinned tag=-1cpu
	if [[ -n $pin ]]; then
		run $dir native$tag $pin
	else
		RESULTS_DIR="$OUT/$dir" "$B/run.sh" native >/dev/null 2>&1
	fi
	run $dir uk-sigsys$tag $pin "$UK" run --platform=sigsys --rootfs / --
	run $dir uk-ptrace$tag $pin "$UK" run --platform=ptrace --rootfs / --
	BIN=/bench TMPD=/tmp BB=/bin/busybox run $dir runsc-systrap$tag $pin \
		"$RUNSC" --platform=systrap --network=none do -root "${BENCH_ROOT:-/tmp/benchroot}"
	python3 "$B/table.py" "$OUT/$dir" >"$OUT/$dir.md"
done
cat "$OUT/unpinned.md" "$OUT/pinned.md"
