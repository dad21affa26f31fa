package inet

import (
	"reflect"
	"sync"
	"sync/atomic"
	"unsafe"

	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
)

// rcvMemUsedOffset is where tcp.Endpoint keeps its rcvMemUsed, found once
// by reflection (a count visits every endpoint of the stack, thousands in
// TIME_WAIT after a burst of connections, and a lookup by name each time
// cost more than the rest of the count); ok is false when this tcpip
// keeps no such field in the form read here.
var rcvMemUsedOffset = sync.OnceValues(func() (uintptr, bool) {
	f, found := reflect.TypeFor[tcp.Endpoint]().FieldByName("rcvMemUsed")
	if !found || len(f.Index) != 1 || f.Type.Kind() != reflect.Struct || f.Type.Size() != 4 {
		return 0, false
	}
	if v, found := f.Type.FieldByName("value"); !found || v.Offset != 0 || v.Type.Kind() != reflect.Int32 {
		return 0, false
	}
	return f.Offset, true
})

// tcpReceiveMem returns what tcpip's own accounting says the received
// segments of te hold (its rcvMemUsed: every segment with its overhead, in
// any of its queues, until freed), which it exports nowhere. The field is
// an atomicbitops.Int32 that tcpip updates atomically; it is read the same
// way. ok is false when this tcpip keeps no such field (a version whose
// fields moved): the caller then estimates.
func tcpReceiveMem(te *tcp.Endpoint) (n int64, ok bool) {
	off, ok := rcvMemUsedOffset()
	if !ok {
		return 0, false
	}
	return int64(atomic.LoadInt32((*int32)(unsafe.Add(unsafe.Pointer(te), off)))), true
}
