package vdso

// vdso.so is built from vdso.c by gen.sh and committed; uk embeds it.
//go:generate sh gen.sh
