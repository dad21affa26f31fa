// Command timenow measures time.Now in a loop (the Go runtime reads the
// clock through the vDSO when there is one) and prints ns per call.
package main

import (
	"fmt"
	"os"
	"strconv"
	"time"
)

func main() {
	n := 1000000
	if len(os.Args) > 1 {
		if v, err := strconv.Atoi(os.Args[1]); err == nil && v > 0 {
			n = v
		}
	}
	var sink int64
	start := time.Now()
	for i := 0; i < n; i++ {
		sink += time.Now().UnixNano() & 1
	}
	el := time.Since(start)
	fmt.Printf("%d\n", el.Nanoseconds()/int64(n))
	if sink < 0 {
		fmt.Println(sink)
	}
}
