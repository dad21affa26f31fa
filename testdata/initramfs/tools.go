//go:build tools

// Package tools pins the u-root commands that go into uk's test initramfs.
//
// Nothing builds this package; the build tag keeps it out of every build.
// Importing the commands here keeps them, and everything they depend on, in
// this module's go.mod and go.sum, so `scripts/build-initramfs.sh` builds
// exactly these versions with GOFLAGS=-mod=readonly and nothing is resolved
// anew at build time. The list must match COMMANDS in that script.
package tools

import (
	_ "github.com/u-root/u-root/cmds/core/cat"
	_ "github.com/u-root/u-root/cmds/core/cp"
	_ "github.com/u-root/u-root/cmds/core/dhclient"
	_ "github.com/u-root/u-root/cmds/core/echo"
	_ "github.com/u-root/u-root/cmds/core/gosh"
	_ "github.com/u-root/u-root/cmds/core/init"
	_ "github.com/u-root/u-root/cmds/core/ip"
	_ "github.com/u-root/u-root/cmds/core/kill"
	_ "github.com/u-root/u-root/cmds/core/ls"
	_ "github.com/u-root/u-root/cmds/core/mkdir"
	_ "github.com/u-root/u-root/cmds/core/mount"
	_ "github.com/u-root/u-root/cmds/core/ping"
	_ "github.com/u-root/u-root/cmds/core/ps"
	_ "github.com/u-root/u-root/cmds/core/pwd"
	_ "github.com/u-root/u-root/cmds/core/rm"
	_ "github.com/u-root/u-root/cmds/core/shutdown"
	_ "github.com/u-root/u-root/cmds/core/sleep"
	_ "github.com/u-root/u-root/cmds/core/uname"
	_ "github.com/u-root/u-root/cmds/core/wget"

	// The u-root command itself (the image builder), pinned with the rest so
	// that go.sum covers it; the script installs it with `go install`.
	_ "github.com/u-root/u-root"
)
