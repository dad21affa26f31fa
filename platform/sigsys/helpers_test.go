package sigsys

import (
	"bufio"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
)

type mapping struct {
	start, end uint64
	name       string
}

// readMaps parses /proc/PID/maps.
func readMaps(pid int) ([]mapping, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/maps", pid))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []mapping
	s := bufio.NewScanner(f)
	for s.Scan() {
		fields := strings.Fields(s.Text())
		r := strings.SplitN(fields[0], "-", 2)
		a, _ := strconv.ParseUint(r[0], 16, 64)
		b, _ := strconv.ParseUint(r[1], 16, 64)
		m := mapping{start: a, end: b}
		if len(fields) >= 6 {
			m.name = fields[5]
		}
		out = append(out, m)
	}
	return out, s.Err()
}

// listFDs lists the open fds of a process.
func listFDs(pid int) ([]int, error) {
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return nil, err
	}
	var fds []int
	for _, e := range ents {
		n, _ := strconv.Atoi(e.Name())
		fds = append(fds, n)
	}
	sort.Ints(fds)
	return fds, nil
}
