// Package stubproc drives the host processes ("stubs") in which the ptrace
// and sigsys platforms run application code: ptrace requests on a stopped
// stub thread, the decoding of its stops, system calls injected at a site in
// the stub's code, and what a confined stub may keep (capabilities,
// securebits). Both platforms create, confine and reap stubs the same way;
// they differ only in how a running application thread comes back to uk.
//
// Every function that takes a tid requires the caller to be that thread's
// tracer (the OS thread that attached it) and, unless it says otherwise, the
// thread to be in a ptrace-stop.
package stubproc
