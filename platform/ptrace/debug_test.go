package ptrace

var debugStops = false
