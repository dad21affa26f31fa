#!/usr/bin/env bash
# Idle cost of uk: start `uk run -- /bin/busybox sleep S`, then sample the CPU
# time (utime+stime, all threads) of uk and every live descendant (the ptrace
# stubs) from /proc/PID/stat at T0 and T1; report the delta as % of one CPU.
#   idle.sh UK [S=5] [T0=0.5] [T1=4.5]
set -u
UK="$1"; S="${2:-5}"; T0="${3:-0.5}"; T1="${4:-4.5}"
HZ=$(getconf CLK_TCK)
tree_ticks() { # $1 = root pid; sum utime+stime over it and its descendants
	local pids="$1" frontier="$1" next p tot=0
	while [ -n "$frontier" ]; do
		next=""
		for p in $frontier; do
			next="$next $(awk -v pp=$p '{sub(/.*\) /,""); if ($2==pp) {split(FILENAME,a,"/"); print a[3]}}' /proc/[0-9]*/stat 2>/dev/null)"
		done
		next=$(echo $next)
		pids="$pids $next"; frontier="$next"
	done
	for p in $pids; do
		[ -r /proc/$p/stat ] || continue
		# fields 14,15 after the ")" of comm
		t=$(sed 's/.*) //' /proc/$p/stat | awk '{print $12+$13}')
		tot=$((tot + t))
	done
	echo "$tot $(echo $pids | wc -w)"
}
"$UK" run -- /bin/busybox sleep "$S" &
pid=$!
sleep "$T0"; read a n0 < <(tree_ticks $pid); t0=$(date +%s%N)
sleep "$(echo "$T1 - $T0" | bc -l)"; read b n1 < <(tree_ticks $pid); t1=$(date +%s%N)
wait $pid
el_ms=$(( (t1 - t0) / 1000000 ))
awk -v a=$a -v b=$b -v hz=$HZ -v ms=$el_ms -v n=$n1 'BEGIN{cpu=(b-a)*1000/hz; printf "idle cpu_ms %.0f over wall_ms %d = %.2f%% of one CPU (procs in tree: %d)\n", cpu, ms, 100*cpu/ms, n}'
