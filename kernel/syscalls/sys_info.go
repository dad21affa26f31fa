package syscalls

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"math"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"uk/arch"
	"uk/kernel"
)

// sysSysinfo is sysinfo(2), from the sandbox's own accounting: its
// uptime, its memory as /proc/meminfo reports it (the --mem budget and
// what is free of it), no swap, and its number of threads. GNU sort sizes
// its buffer from this; without it sort spilled to thousands of
// temporary files.
func sysSysinfo(t *kernel.Task, a [6]uint64) (uint64, error) {
	k := t.Kernel()
	src := k.ProcSource()
	// struct sysinfo on x86-64: 112 bytes.
	var b [112]byte
	le := binary.LittleEndian
	// uptime: whole seconds of CLOCK_BOOTTIME in the caller's time
	// namespace, rounded up, as Linux's do_sysinfo.
	up := k.Uptime(t)
	le.PutUint64(b[0:], uint64((up+time.Second-1)/time.Second))
	// loads[3] at 8, 16, 24: uk keeps no load average (/proc/loadavg is 0).
	le.PutUint64(b[32:], src.MemTotal()) // totalram
	le.PutUint64(b[40:], src.MemFree())  // freeram
	// sharedram, bufferram, totalswap, freeswap at 48..72 stay 0.
	procs := len(src.PIDs())
	le.PutUint16(b[80:], uint16(min(procs, 0xffff))) // procs
	// totalhigh, freehigh at 88, 96 stay 0.
	le.PutUint32(b[104:], 1) // mem_unit
	return 0, t.CopyOut(a[0], b[:])
}

// sysGetcpu is getcpu(2): a CPU the task may run on. uk runs a task's
// code on host threads that move between CPUs and does not pin them to
// its mask, so it reports the CPU uk's thread serving the call runs on
// when the task's mask holds it, else the lowest CPU of the mask (after
// sched_setaffinity to one CPU, that one, as LTP's getcpu01 checks); node
// 0 always. The third argument (tcache) is unused since Linux 2.6.24.
func sysGetcpu(t *kernel.Task, a [6]uint64) (uint64, error) {
	mask := t.Affinity(cpuMaskBytes())
	in := func(c int) bool { return c >= 0 && c/8 < len(mask) && mask[c/8]&(1<<(c%8)) != 0 }
	cpu := -1
	if aux, ok := arch.TSCAux(); ok && in(int(aux&0xfff)) {
		cpu = int(aux & 0xfff)
	}
	for c := 0; cpu < 0 && c < 8*len(mask); c++ {
		if in(c) {
			cpu = c
		}
	}
	cpu = max(cpu, 0)
	var b [4]byte
	for i, addr := range a[:2] {
		if addr == 0 {
			continue
		}
		v := uint32(0) // the node
		if i == 0 {
			v = uint32(cpu)
		}
		binary.LittleEndian.PutUint32(b[:], v)
		if err := t.CopyOut(addr, b[:]); err != nil {
			return 0, err
		}
	}
	return 0, nil
}

// uname26 is the UNAME26 personality: uname's release reads as 2.6.x for
// programs that parse it and know only version 2 numbers.
const uname26 = 0x0020000

// release26 is Linux's override_release: "2.6.(60+minor)" and what
// follows the version's digits ("6.12.0-uk" reads "2.6.72-uk").
func release26(r string) string {
	var minor int
	rest := r
	if _, after, ok := strings.Cut(r, "."); ok {
		fmt.Sscanf(after, "%d", &minor)
	}
	dots := 0
	for i, c := range r {
		if c == '.' {
			if dots++; dots >= 3 {
				rest = r[i:]
				break
			}
			continue
		}
		if c < '0' || c > '9' {
			rest = r[i:]
			break
		}
		rest = r[len(r):]
	}
	return fmt.Sprintf("2.6.%d%s", 60+minor, rest)
}

func sysUname(t *kernel.Task, a [6]uint64) (uint64, error) {
	// struct utsname: six fields of 65 bytes.
	var u [6 * 65]byte
	host, domain := t.UTSNamespace().Names()
	release := kernel.Release
	if t.Personality()&uname26 != 0 {
		release = release26(release)
	}
	fields := []string{"Linux", host, release, kernel.Version, "x86_64", domain}
	for i, f := range fields {
		copy(u[i*65:i*65+64], f)
	}
	return 0, t.CopyOut(a[0], u[:])
}

func sysReboot(t *kernel.Task, a [6]uint64) (uint64, error) {
	if uint32(a[0]) != rebootMagic1 || (uint32(a[1]) != rebootMagic2 && uint32(a[1]) != 85072278 &&
		uint32(a[1]) != 369367448 && uint32(a[1]) != 537993216) {
		return 0, unix.EINVAL
	}
	if !t.Credentials().Privileged {
		return 0, unix.EPERM
	}
	switch uint32(a[2]) {
	case unix.LINUX_REBOOT_CMD_POWER_OFF, unix.LINUX_REBOOT_CMD_HALT, unix.LINUX_REBOOT_CMD_RESTART,
		unix.LINUX_REBOOT_CMD_RESTART2:
		t.Kernel().PowerOff()
		t.ExitGroup(0)
		return 0, kernel.ErrNoReturnValue
	case unix.LINUX_REBOOT_CMD_CAD_ON, unix.LINUX_REBOOT_CMD_CAD_OFF:
		return 0, nil
	}
	return 0, unix.EINVAL
}

func sysGetrandom(t *kernel.Task, a [6]uint64) (uint64, error) {
	addr, n, flags := a[0], a[1], a[2]
	if flags&^uint64(unix.GRND_NONBLOCK|unix.GRND_RANDOM|0x4 /* GRND_INSECURE */) != 0 ||
		flags&0x4 != 0 && flags&unix.GRND_RANDOM != 0 {
		return 0, unix.EINVAL
	}
	// Up to INT_MAX bytes in one call, as Linux since 5.18, which stops
	// early only for a signal (then the bytes so far count).
	n = min(n, math.MaxInt32)
	buf := make([]byte, min(n, 64<<10))
	var done uint64
	for done < n {
		if done > 0 && t.Interrupted() {
			return done, nil
		}
		chunk := buf[:min(uint64(len(buf)), n-done)]
		rand.Read(chunk)
		if err := t.CopyOut(addr+done, chunk); err != nil {
			if done > 0 {
				return done, nil
			}
			return 0, err
		}
		done += uint64(len(chunk))
	}
	return done, nil
}

// sysSethostname and sysSetdomainname change the sandbox's names: EPERM
// without privilege (CAP_SYS_ADMIN), then EINVAL for a length outside
// 0..64, then EFAULT, as Linux.
func sysSethostname(t *kernel.Task, a [6]uint64) (uint64, error) {
	return 0, setUTSName(t, a[0], int32(a[1]), false)
}

func sysSetdomainname(t *kernel.Task, a [6]uint64) (uint64, error) {
	return 0, setUTSName(t, a[0], int32(a[1]), true)
}

func setUTSName(t *kernel.Task, addr uint64, n int32, domain bool) error {
	if !t.Credentials().Privileged {
		return unix.EPERM
	}
	if n < 0 || n > 64 {
		return unix.EINVAL
	}
	b := make([]byte, n)
	if err := t.CopyIn(addr, b); err != nil {
		return err
	}
	t.UTSNamespace().SetName(string(b), domain)
	return nil
}

// sysPersonality returns the thread's execution domain and sets it unless
// asked 0xffffffff (a query). uk runs Linux programs only: the flags are
// kept and reported (inherited by fork), and change nothing else.
func sysPersonality(t *kernel.Task, a [6]uint64) (uint64, error) {
	old := t.Personality()
	if p := uint32(a[0]); p != 0xffffffff {
		t.SetPersonality(p)
	}
	return uint64(old), nil
}
