#!/usr/bin/env bash
# The CI workload table of docs/BENCHMARKS.md: each job of the workload
# suite (test/e2e/workload_test.go, the same scripts `make test` checks)
# timed natively, under `uk run --rootfs /` on every platform of the test
# matrix, and under gVisor's `runsc --network=none do`, COUNT runs each,
# all in one go so that every column sees the same machine load; then
# `find /usr | wc -l` and the start-up of `uk run` with and without
# --rootfs /. Prints a markdown table of the medians.
#
#   docs/bench/workloads.sh        (env: COUNT=5 RUNSC=/path/to/runsc GVISOR=no FILTER=regexp RAW=file)
#
# A job's time is its wall time from start to exit (one job per benchmark
# iteration, `go test -bench BenchmarkWorkloads -benchtime 1x`); its
# fresh work directory is made outside the timer. uk and runsc both read
# the host's root as a read-only view with a private writable layer; uk
# binds the work directory (and, for go, the host's GOCACHE) read-write,
# runsc writes into its overlay.
#
# Needs root for runsc do; the tools of the suite (see .ci/run).
set -euo pipefail
cd "$(dirname "$0")/../.."
export PATH=/usr/local/go/bin:$PATH CGO_ENABLED=0

COUNT=${COUNT:-5}
RUNSC=${RUNSC:-$(command -v runsc || true)}
args=()
if [[ -n $RUNSC && ${GVISOR:-auto} != no ]]; then
	args+=("-uk.runsc=$RUNSC")
fi
raw=$(mktemp)
trap 'rm -f "$raw"' EXIT
if [[ -n ${RAW:-} ]]; then
	# RAW=FILE: only tabulate the go test output saved in FILE (more
	# runs of a row may be appended to it).
	cp "$RAW" "$raw"
else
	go test -count=1 -run '^$' -bench "BenchmarkWorkloads/${FILTER:-.}" -benchtime 1x -count "$COUNT" -timeout 90m \
		./test/e2e "${args[@]}" | tee "$raw" >&2
fi

# median of the numbers on stdin, one a line
median() { sort -n | awk '{a[NR] = $1} END {if (NR) print a[int((NR + 1) / 2)]}'; }

# The table: one row a job, one column a runner; uk and runsc also as a
# multiple of native.
runners=$(sed -n 's|^BenchmarkWorkloads/[^/]*/\([^ \t]*\)-[0-9]*[ \t].*|\1|p' "$raw" | awk '!seen[$0]++')
jobs=$(sed -n 's|^BenchmarkWorkloads/\([^/]*\)/.*|\1|p' "$raw" | awk '!seen[$0]++')
printf '| job |'
for r in $runners; do printf ' %s |' "$r"; done
printf '\n|---|'
for r in $runners; do printf -- '---|'; done
printf '\n'
for j in $jobs; do
	printf '| %s |' "$j"
	nat=$(grep -E "^BenchmarkWorkloads/$j/native-[0-9]+[[:space:]]" "$raw" | awk '{print $3}' | median)
	for r in $runners; do
		m=$(grep -E "^BenchmarkWorkloads/$j/$r-[0-9]+[[:space:]]" "$raw" | awk '{print $3}' | median)
		if [[ -z $m ]]; then
			printf ' - |'
		elif [[ $r == native ]]; then
			awk -v m="$m" 'BEGIN {printf " %.2f s |", m / 1e9}'
		else
			awk -v m="$m" -v n="$nat" 'BEGIN {printf " %.2f s (%.1fx) |", m / 1e9, m / n}'
		fi
	done
	printf '\n'
done

# find /usr and start-up: medians of COUNT (start-up: of 20) runs of the
# built uk, with native measured in the same run.
go build -o "$raw.uk" .
trap 'rm -f "$raw" "$raw.uk"' EXIT
ms() { # median wall time in ms of N runs of a command
	local n=$1
	shift
	for _ in $(seq 1 "$n"); do
		s=$(date +%s%N)
		"$@" >/dev/null 2>&1
		e=$(date +%s%N)
		echo $(((e - s) / 1000))
	done | median | awk '{printf "%.1f ms", $1 / 1000}'
}
echo
echo "| command | median |"
echo "|---|---|"
echo "| find /usr \| wc -l (native) | $(ms "$COUNT" sh -c 'find /usr | wc -l') |"
# The platforms of the test matrix (kvm is held back from it).
for p in $("$raw.uk" platforms 2>/dev/null | sed -n 's/^\([a-z_]*\): ok.*/\1/p' | grep -v '^kvm$'); do
	echo "| uk run --platform=$p --rootfs / -- /usr/bin/find /usr \| wc -l | $(ms "$COUNT" sh -c "$raw.uk run --platform=$p --rootfs / -- /usr/bin/find /usr | wc -l") |"
done
if [[ ${#args[@]} -gt 0 ]]; then
	echo "| runsc --network=none do find /usr \| wc -l | $(ms "$COUNT" sh -c "$RUNSC --network=none do /usr/bin/find /usr | wc -l") |"
fi
echo "| uk run -- /bin/busybox true (20 runs) | $(ms 20 "$raw.uk" run -- /bin/busybox true) |"
echo "| uk run --rootfs / -- /bin/busybox true (20 runs) | $(ms 20 "$raw.uk" run --rootfs / -- /bin/busybox true) |"
echo "| uk run --rootfs / -- /bin/true (dynamic; 20 runs) | $(ms 20 "$raw.uk" run --rootfs / -- /bin/true) |"
