#!/usr/bin/env bash
# build-initramfs.sh — build uk's test initramfs (a u-root v0.16.0 image).
#
# Usage: scripts/build-initramfs.sh [-uinitcmd "CMD ARGS..."] [-files SRC[:DST]]... [OUT]
#
#   OUT        the cpio to write (default testdata/initramfs/out/uroot.cpio)
#   -uinitcmd  command u-root's init runs before the shell (e.g. "gosh /etc/uinit.sh");
#              without it the image boots straight into the default shell, gosh
#   -files     extra file for the image, as u-root's -files flag (repeatable)
#
# The recipe is the Go module in testdata/initramfs: go.mod pins
# github.com/u-root/u-root v0.16.0, go.sum pins everything below it, tools.go
# lists the commands (keep COMMANDS below in step with it). Modules come from
# the Go module proxy only (GOPROXY as configured, with "direct" removed), and
# the committed go.sum is never changed (-mod=readonly).
#
# Idempotent and cached: the u-root tool is installed once into
# testdata/initramfs/out/bin, and OUT is rebuilt only when the recipe, this
# script, the Go version, the arguments or the contents of a -files source
# changed; the hash of those inputs is kept in OUT.inputs. A build takes
# 15-45 s on a 2-core machine; an up-to-date check takes well under a second.
# OUT is written to a temporary file first, so an interrupted build never
# leaves a truncated image that a later run would take as current.
#
# Exit status: 0 on success (built or up to date), 1 on a build failure,
# 2 on bad usage, 3 when the Go module proxy cannot be reached (callers such
# as boot_test.go skip on 3).
set -euo pipefail

UROOT_VERSION=v0.16.0
COMMANDS=(init gosh echo cat ls ps mount sleep shutdown uname mkdir rm cp pwd kill ip ping wget dhclient)

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
recipe=$root/testdata/initramfs

usage() {
	sed -n '3,10p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

uinitcmd=
files=()
out=
while (($#)); do
	case $1 in
	-uinitcmd | --uinitcmd)
		(($# >= 2)) || usage
		uinitcmd=$2
		shift 2
		;;
	-uinitcmd=* | --uinitcmd=*)
		uinitcmd=${1#*=}
		shift
		;;
	-files | --files)
		(($# >= 2)) || usage
		files+=("$2")
		shift 2
		;;
	-files=* | --files=*)
		files+=("${1#*=}")
		shift
		;;
	-h | --help) usage ;;
	-*)
		echo "build-initramfs: unknown flag $1" >&2
		usage
		;;
	*)
		[[ -z $out ]] || usage
		out=$1
		shift
		;;
	esac
done
out=${out:-$recipe/out/uroot.cpio}
mkdir -p "$(dirname "$out")"
out=$(cd "$(dirname "$out")" && pwd)/$(basename "$out")

# -files sources are resolved from the caller's directory, as u-root would;
# u-root itself runs in the recipe directory, so pass it absolute paths.
abs_files=()
for spec in "${files[@]+"${files[@]}"}"; do
	src=${spec%%:*}
	dst=
	[[ $spec == *:* ]] && dst=${spec#*:}
	if [[ ! -e $src ]]; then
		echo "build-initramfs: -files $spec: $src does not exist" >&2
		exit 2
	fi
	src=$(cd "$(dirname "$src")" && pwd)/$(basename "$src")
	abs_files+=("$src${dst:+:$dst}")
done

export GOTOOLCHAIN=local CGO_ENABLED=0 GOOS=linux GOARCH=amd64
# The module proxy only: drop "direct" (and "off") from the configured list.
proxy=$(go env GOPROXY | tr ',|' '\n\n' | grep -v -x -e direct -e off -e '' | paste -sd, -)
if [[ -z $proxy ]]; then
	echo "build-initramfs: GOPROXY ($(go env GOPROXY)) names no module proxy" >&2
	exit 3
fi
export GOPROXY=$proxy
# Keep the caller's GOFLAGS except any -mod=, which would fight the recipe
# (the tool is built with -mod=readonly; u-root's bb builder makes its own module).
goflags=
for f in $(go env GOFLAGS); do
	[[ $f == -mod=* ]] || goflags+=" $f"
done
export GOFLAGS=${goflags# }

# What the image depends on. Any change rebuilds it.
inputs() {
	echo "u-root $UROOT_VERSION"
	echo "commands ${COMMANDS[*]}"
	echo "uinitcmd $uinitcmd"
	go version
	sha256sum "$recipe/go.mod" "$recipe/go.sum" "$recipe/tools.go" "${BASH_SOURCE[0]}" | awk '{print $1}'
	for spec in "${abs_files[@]+"${abs_files[@]}"}"; do
		echo "files $spec"
		src=${spec%%:*}
		if [[ -d $src ]]; then
			(cd "$src" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0r sha256sum)
		else
			sha256sum <"$src"
		fi
	done
}
want=$(inputs | sha256sum | awk '{print $1}')
if [[ -s $out && -f $out.inputs && $(cat "$out.inputs") == "$want" ]]; then
	echo "build-initramfs: $out is up to date" >&2
	exit 0
fi

cd "$recipe"

# Fetch what the recipe needs, and tell an unreachable proxy apart from a
# broken build.
if ! dl=$(GOFLAGS="$GOFLAGS -mod=readonly" go mod download github.com/u-root/u-root 2>&1); then
	echo "$dl" >&2
	echo "build-initramfs: cannot download the pinned modules from the Go module proxy ($GOPROXY)" >&2
	exit 3
fi

# The image builder, at the version go.mod pins, built once.
gobin=$recipe/out/bin
tool=$gobin/u-root
stamp=$gobin/u-root.version
toolwant="$UROOT_VERSION $(go version) $(sha256sum go.sum | awk '{print $1}')"
if [[ ! -x $tool || ! -f $stamp || $(cat "$stamp") != "$toolwant" ]]; then
	echo "build-initramfs: building the u-root tool $UROOT_VERSION into $gobin" >&2
	mkdir -p "$gobin"
	GOBIN=$gobin GOFLAGS="$GOFLAGS -mod=readonly" go install github.com/u-root/u-root
	echo "$toolwant" >"$stamp"
fi

args=(-o "$out.tmp" -defaultsh gosh)
[[ -n $uinitcmd ]] && args+=(-uinitcmd "$uinitcmd")
for spec in "${abs_files[@]+"${abs_files[@]}"}"; do
	args+=(-files "$spec")
done
pkgs=()
for c in "${COMMANDS[@]}"; do
	pkgs+=("github.com/u-root/u-root/cmds/core/$c")
done

echo "build-initramfs: building $out (${#COMMANDS[@]} commands${uinitcmd:+, uinit \"$uinitcmd\"})" >&2
start=$SECONDS
rm -f "$out.tmp" "$out.inputs"
if ! "$tool" "${args[@]}" "${pkgs[@]}"; then
	rm -f "$out.tmp"
	echo "build-initramfs: u-root failed" >&2
	exit 1
fi
mv -f "$out.tmp" "$out"
echo "$want" >"$out.inputs"
echo "build-initramfs: wrote $out ($(stat -c %s "$out") bytes) in $((SECONDS - start)) s" >&2
