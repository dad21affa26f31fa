// Command hello is the smallest static Go program for uk's tests: the Go
// runtime's start-up (threads, signals, memory reservations) and one write.
// It prints its arguments so that argv reaching the program can be checked.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Println("hello from Go")
	for i, a := range os.Args[1:] {
		fmt.Printf("arg %d: %q\n", i+1, a)
	}
}
