#!/bin/sh
# Builds vdso.so from src/vdso.c, src/vdso.lds and src/vdso.map. Run by
# `go generate ./kernel/vdso` (see generate.go) on a machine with gcc and
# binutils; the output is committed, so building uk needs neither. CI does
# not run this: vdso_test.go checks the committed image, and
# TestImageRebuild rebuilds it and says so if this toolchain's output
# differs. The C sources live in src/ because the go command refuses C files
# in a package directory when cgo is off.
set -eu
cd "$(dirname "$0")"
CC=${CC:-gcc}

$CC -std=gnu11 -O2 -Wall -Wextra -Werror \
	-nostdlib -shared -fPIC -ffreestanding -fno-builtin \
	-fno-stack-protector -fno-plt -fvisibility=hidden -fcf-protection=none \
	-fasynchronous-unwind-tables -mcmodel=small -mno-red-zone \
	-mno-sse -mno-mmx -mno-80387 -fno-common \
	-Wl,-T,src/vdso.lds -Wl,--version-script=src/vdso.map \
	-Wl,--hash-style=both -Wl,-soname=linux-vdso.so.1 \
	-Wl,--eh-frame-hdr -Wl,--no-undefined -Wl,-Bsymbolic -Wl,-z,max-page-size=4096 \
	-Wl,-z,noexecstack -Wl,--build-id=none -Wl,--strip-all \
	-o vdso.so.tmp src/vdso.c

# The image must need no relocation processing and no writable data.
if readelf -rW vdso.so.tmp | grep -q 'Relocation section'; then
	echo "gen.sh: vdso.so has relocations:" >&2
	readelf -rW vdso.so.tmp >&2
	exit 1
fi
if nm -D -u vdso.so.tmp | grep -q .; then
	echo "gen.sh: vdso.so has undefined symbols:" >&2
	nm -D -u vdso.so.tmp >&2
	exit 1
fi
mv vdso.so.tmp vdso.so
