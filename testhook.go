package main

import (
	"os"

	"uk/kernel"
)

// panicHook makes the syscall named by $UK_TEST_PANIC panic, standing in
// for a bug of uk's in a syscall handler: the end-to-end tests check how
// uk then ends (one line naming the syscall, exit status 70, no stub left,
// the host terminal restored). Without the variable it does nothing.
func panicHook(t *kernel.SyscallTable) {
	name := os.Getenv("UK_TEST_PANIC")
	if name == "" {
		return
	}
	for i := range t.Entries {
		if t.Entries[i].Name == name {
			t.Entries[i].Fn = func(*kernel.Task, [6]uint64) (uint64, error) {
				panic("UK_TEST_PANIC: a stand-in bug in " + name)
			}
		}
	}
}
