#!/usr/bin/env bash
# Paired runs of the shared micro-benchmark suite (/work/shared/bench) for
# native and uk: PASSES passes, the runtime order reversed every other pass
# so that drifting background load hits all alike; then table.py.
#   paired.sh UK_BINARY OUTDIR     (env: PASSES=4 REPS=2 WRAP= TAG= RUNTIMES=)
# RUNTIMES (default "native uk uk-rootfs"):
#   native     the benchmark binaries on the host
#   uk         uk run -- BIN/<bench>: the sandbox root holds only the program
#              (fork_exec_true_wait fails: BIN/true_static is not inside)
#   uk-rootfs  uk run --rootfs /tmp/benchroot -- /bench/<bench>: the same
#              11 MB tree runsc gets (busybox + all bench binaries), copied
#              into uk's tmpfs at every start
# WRAP is put before every runtime, e.g. WRAP='taskset -c 1' TAG=-1cpu or
# WRAP='nice -n -10' TAG=-nice.  The read-only shared bench directory is
# copied to OUTDIR/bench first (its scripts write results next to themselves).
set -uo pipefail
UK="$1"; OUT="$2"
PASSES="${PASSES:-4}"; export REPS="${REPS:-2}"
WRAP="${WRAP:-}"; TAG="${TAG:-}"
RUNTIMES="${RUNTIMES:-native uk uk-rootfs}"
mkdir -p "$OUT"
[ -d "$OUT/bench" ] || { cp -r /work/shared/bench "$OUT/bench" && chmod -R u+w "$OUT/bench"; }
B="$OUT/bench"
[ -x "$B/bin/getpid" ] && [ -d /tmp/benchroot/bench ] || "$B/build.sh" >&2 || exit 1
for p in $(seq "$PASSES"); do
	order="$RUNTIMES"
	[ $((p % 2)) -eq 0 ] && order="$(echo $RUNTIMES | tr ' ' '\n' | tac | tr '\n' ' ')"
	for rt in $order; do
		echo "=== pass $p: $rt$TAG (load $(cut -d' ' -f1-3 /proc/loadavg))" >&2
		export RESULTS_DIR="$B/results$TAG/pass$p"
		case "$rt" in
		native)
			if [ -n "$WRAP" ]; then
				TMPD=/dev/shm "$B/run.sh" cmd "$WRAP" "native$TAG" >/dev/null
			else
				"$B/run.sh" native >/dev/null
			fi ;;
		uk)
			"$B/run.sh" cmd "${WRAP:+$WRAP }$UK run --" "uk$TAG" >/dev/null ;;
		uk-rootfs)
			BIN=/bench TMPD=/tmp BB=/bin/busybox \
				"$B/run.sh" cmd "${WRAP:+$WRAP }$UK run --rootfs /tmp/benchroot --" "uk-rootfs$TAG" >/dev/null ;;
		esac
	done
done
python3 "$B/table.py" "$B/results$TAG"/pass* | tee "$B/results$TAG/TABLE.md"
