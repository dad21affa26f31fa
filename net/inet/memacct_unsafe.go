package inet

import (
	"reflect"
	"sync/atomic"
	"unsafe"

	"gvisor.dev/gvisor/pkg/tcpip/transport/tcp"
)

// tcpReceiveMem returns what tcpip's own accounting says the received
// segments of te hold (its rcvMemUsed: every segment with its overhead, in
// any of its queues, until freed), which it exports nowhere. The field is
// an atomicbitops.Int32 that tcpip updates atomically; it is read the same
// way. ok is false when this tcpip keeps no such field (a version whose
// fields moved): the caller then estimates.
func tcpReceiveMem(te *tcp.Endpoint) (n int64, ok bool) {
	f := reflect.ValueOf(te).Elem().FieldByName("rcvMemUsed")
	if !f.IsValid() || f.Kind() != reflect.Struct || f.Type().Size() != 4 {
		return 0, false
	}
	if v, found := f.Type().FieldByName("value"); !found || v.Offset != 0 || v.Type.Kind() != reflect.Int32 {
		return 0, false
	}
	return int64(atomic.LoadInt32((*int32)(unsafe.Pointer(f.UnsafeAddr())))), true
}
