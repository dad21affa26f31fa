package stubproc

import (
	"bufio"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
)

// Mapping is one line of /proc/PID/maps.
type Mapping struct {
	Start, End uint64
	Name       string
}

// ReadMaps parses /proc/PID/maps.
func ReadMaps(pid int) ([]Mapping, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/maps", pid))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []Mapping
	s := bufio.NewScanner(f)
	for s.Scan() {
		fields := strings.Fields(s.Text())
		r := strings.SplitN(fields[0], "-", 2)
		a, _ := strconv.ParseUint(r[0], 16, 64)
		b, _ := strconv.ParseUint(r[1], 16, 64)
		m := Mapping{Start: a, End: b}
		if len(fields) >= 6 {
			m.Name = fields[5]
		}
		out = append(out, m)
	}
	return out, s.Err()
}

// ListFDs lists the open fds of a process.
func ListFDs(pid int) ([]int, error) {
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
