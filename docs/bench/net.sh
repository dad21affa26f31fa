#!/usr/bin/env bash
# Networking benchmarks of uk beside native Linux and, if it can be had,
# gVisor: runs the BenchmarkNet* benchmarks of net_test.go COUNT times each
# and prints a markdown table of the medians.
#
#   docs/bench/net.sh                  (env: COUNT=5 RUNSC=/path/to/runsc GVISOR=auto|no)
#
# Rows (each a median over COUNT runs of netperf, which itself prints the
# median of its samples):
#   TCP connect+close on loopback     netperf connrate 127.0.0.1:0 2000
#   UDP round trip on loopback        netperf udprr 127.0.0.1:0 5000 (64 bytes)
#   TCP throughput on loopback        netperf tput -local 127.0.0.1:0 3
#   TCP throughput over the link      netperf tput HOST:5201 3 send|recv to a
#                                     tput-serve on the host side: uk over a
#                                     TAP device, native and gVisor over veth
# Native loopback numbers are the host kernel's; uk runs with --net=none
# (its own netstack, loopback only) and gVisor with `runsc --network=none
# do` for the loopback rows.
#
# gVisor: RUNSC names a runsc binary; otherwise, unless GVISOR=no, runsc is
# built with `go install gvisor.dev/gvisor/runsc@<the version go.mod pins
# for pkg/tcpip>` into a temporary GOBIN (about 5 minutes the first time;
# the module cache keeps it). Its link rows need iptables (runsc do sets up
# NAT); without it they are left out.
#
# Needs root (network namespaces, TAP devices), /dev/net/tun, ip, gcc, go.
set -euo pipefail
cd "$(dirname "$0")/../.."

COUNT=${COUNT:-5}
GVISOR=${GVISOR:-auto}
RUNSC=${RUNSC:-}

if [[ -z $RUNSC && $GVISOR != no ]]; then
	ver=$(go list -m -f '{{.Version}}' gvisor.dev/gvisor 2>/dev/null || true)
	gobin=${TMPDIR:-/tmp}/uk-bench-runsc-$ver
	if [[ -x $gobin/runsc ]]; then
		RUNSC=$gobin/runsc
	elif [[ -n $ver ]]; then
		echo "net.sh: building runsc $ver into $gobin (once)" >&2
		if GOBIN=$gobin CGO_ENABLED=0 GOFLAGS=-mod=mod timeout 15m go install "gvisor.dev/gvisor/runsc@$ver" >&2; then
			RUNSC=$gobin/runsc
		else
			echo "net.sh: could not build runsc; no gVisor column" >&2
		fi
	fi
fi

args=(-run '^$' -bench 'BenchmarkNet' -benchtime 1x -count "$COUNT" -timeout 60m)
[[ -n $RUNSC ]] && args+=("-uk.runsc=$RUNSC")
out=$(mktemp)
trap 'rm -f "$out"' EXIT
# The package first: go test takes everything after a flag it does not
# know (-uk.runsc) for the test binary, and would test "." instead.
echo "net.sh: go test ./test/e2e ${args[*]}" >&2
CGO_ENABLED=0 go test ./test/e2e "${args[@]}" | tee "$out" >&2

# Lines look like "BenchmarkNetUDPRR/uk-2   1   163.6 us/roundtrip".
awk -v count="$COUNT" '
function median(list,    n, a, i, j, t) {
	n = split(list, a, " ")
	for (i = 2; i <= n; i++) {
		t = a[i]
		for (j = i - 1; j >= 1 && a[j] + 0 > t + 0; j--) a[j + 1] = a[j]
		a[j + 1] = t
	}
	return a[int((n + 1) / 2)]
}
/^BenchmarkNet/ && NF >= 4 {
	name = $1
	sub(/-[0-9]+$/, "", name)
	n = split(name, p, "/")
	bench = p[1]; rt = p[2]; dir = (n >= 3 ? p[3] : "")
	sub(/-(veth|tap)$/, "", rt)         # native-veth -> native, uk-sigsys-tap -> uk-sigsys
	row = bench (dir != "" ? "/" dir : "")
	vals[row, rt] = vals[row, rt] " " $3
	unit[row] = $4
	if (!(row in seen)) { seen[row] = 1; rows[++nrows] = row }
}
END {
	label["BenchmarkNetConnRate"] = "TCP connect+close, loopback"
	label["BenchmarkNetUDPRR"] = "UDP round trip (64 B), loopback"
	label["BenchmarkNetLoopbackTput"] = "TCP throughput, loopback"
	label["BenchmarkNetTAPTput/send"] = "TCP throughput over the link, sandbox sends"
	label["BenchmarkNetTAPTput/recv"] = "TCP throughput over the link, sandbox receives"
	printf "| benchmark (median of %d) | unit | native | uk (ptrace) | uk (sigsys) | gVisor (runsc) |\n", count
	print "|---|---|---:|---:|---:|---:|"
	for (i = 1; i <= nrows; i++) {
		r = rows[i]
		printf "| %s | %s", (r in label ? label[r] : r), unit[r]
		split("native uk-ptrace uk-sigsys gvisor", rts, " ")
		for (k = 1; k <= 4; k++) {
			v = ((r, rts[k]) in vals) ? median(vals[r, rts[k]]) : "n/a"
			printf " | %s", v
		}
		print " |"
	}
	print ""
	print "Link rows: uk over a TAP device; native and gVisor over a veth pair between network namespaces."
}' "$out"
