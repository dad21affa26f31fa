package syscalls

import (
	"golang.org/x/sys/unix"
	"time"
	"uk/fs/timerfd"
	"uk/kernel"
)

func sysTimerfdCreate(t *kernel.Task, a [6]uint64) (uint64, error) {
	clock, flags := int32(a[0]), int(a[1])
	if flags&^(unix.TFD_CLOEXEC|unix.TFD_NONBLOCK) != 0 {
		return 0, unix.EINVAL
	}
	k := t.Kernel()
	d, err := timerfd.New(t, func(id int32) int64 { ns, _ := k.ClockNow(id, t); return ns }, clock, flags&^unix.TFD_CLOEXEC)
	if err != nil {
		return 0, err
	}
	timerfd.Of(d).SetWallClock(timerfd.WallClock{Follow: k.FollowWallClock, Unfollow: k.UnfollowWallClock})
	return installNew(t, d, func() (int32, error) {
		return t.Files.Install(d, 0, flags&unix.TFD_CLOEXEC != 0, t.NoFileLimit())
	})
}

func itimerspec(s timerfd.Spec) []byte {
	return append(timespec(int64(s.Interval)), timespec(int64(s.Value))...)
}

func timerfdOf(t *kernel.Task, fd int32) (*timerfd.File, func(), error) {
	d, err := t.FD(fd)
	if err != nil {
		return nil, nil, err
	}
	f := timerfd.Of(d)
	if f == nil {
		d.DecRef()
		return nil, nil, unix.EINVAL
	}
	return f, d.DecRef, nil
}

func sysTimerfdSettime(t *kernel.Task, a [6]uint64) (uint64, error) {
	f, done, err := timerfdOf(t, int32(a[0]))
	if err != nil {
		return 0, err
	}
	defer done()
	interval, err := getTimespec(t, a[2])
	if err != nil {
		return 0, err
	}
	value, err := getTimespec(t, a[2]+16)
	if err != nil {
		return 0, err
	}
	old, err := f.SetTime(int(a[1]), timerfd.Spec{Interval: time.Duration(interval), Value: time.Duration(value)})
	if err != nil {
		return 0, err
	}
	if a[3] != 0 {
		return 0, t.CopyOut(a[3], itimerspec(old))
	}
	return 0, nil
}

func sysTimerfdGettime(t *kernel.Task, a [6]uint64) (uint64, error) {
	f, done, err := timerfdOf(t, int32(a[0]))
	if err != nil {
		return 0, err
	}
	defer done()
	return 0, t.CopyOut(a[1], itimerspec(f.GetTime()))
}
