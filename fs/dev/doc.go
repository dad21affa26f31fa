// Package dev holds uk's devices: the host stream that carries the
// application's standard streams and /dev/console to uk's own stdin,
// stdout and stderr; the memory devices (null, zero, full, random,
// urandom, kmsg) registered by (major, minor) in a vfs.DeviceRegistry; and
// the builder of a devtmpfs with the usual nodes and links.
package dev
