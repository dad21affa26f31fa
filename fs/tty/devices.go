package tty

import (
	"sync"

	"golang.org/x/sys/unix"

	"uk/fs/vfs"
)

// Device numbers.
const (
	ttyMajor  = 5   // TTYAUX_MAJOR: 5:0 /dev/tty, 5:1 /dev/console, 5:2 /dev/ptmx
	ptsMajor  = 136 // UNIX98_PTY_SLAVE_MAJOR: 136:N is /dev/pts/N
	ptyMaxDef = 4096
)

// Devices is the kernel's set of terminals: it opens /dev/tty, /dev/console,
// /dev/ptmx and /dev/pts/N, and it is the "devpts" filesystem type. All
// devpts mounts show one instance (the options of the latest mount apply
// to new slaves), which is what a sandbox with one mount namespace needs.
type Devices struct {
	reg     *vfs.DeviceRegistry
	console *Console
	// hostTTY is what /dev/tty opens for a caller without a controlling
	// terminal (RegisterPtys); nil: ENXIO.
	hostTTY vfs.Device

	mu      sync.Mutex
	jc      JobControl
	ptys    map[int]*pty
	opts    devptsOptions
	fs      *devptsFS
	hungUp  map[int32]int32 // session → foreground group at its terminal's hangup
	ptmxIno ptmxNode
}

// Register creates the terminal devices and registers 5:0 (/dev/tty, the
// caller's controlling terminal), 5:1 (/dev/console, if console is not
// nil) and 5:2 (/dev/ptmx) in reg, replacing earlier registrations (call
// it after dev.RegisterStandard, or pass nil there). Pty slaves 136:N are
// registered as they are created. jc may be nil and set later with
// SetJobControl. Register the result as the "devpts" filesystem type:
// v.RegisterType("devpts", d).
func Register(reg *vfs.DeviceRegistry, console *Console, jc JobControl) *Devices {
	d := &Devices{reg: reg, console: console, jc: jc, ptys: make(map[int]*pty),
		opts: defaultDevptsOptions(), hungUp: make(map[int32]int32)}
	d.ptmxIno = ptmxNode{d: d}
	d.fs = newDevptsFS(d)
	reg.RegisterChar(ttyMajor, 0, vfs.DeviceFunc(d.openTTY))
	if console != nil {
		console.t.devs.Store(d)
		reg.RegisterChar(ttyMajor, 1, vfs.DeviceFunc(d.openConsole))
	}
	reg.RegisterChar(ttyMajor, 2, vfs.DeviceFunc(d.openPtmx))
	return d
}

// RegisterPtys is Register for a sandbox whose console is not one of uk's
// terminals (uk run, whose programs' standard streams are the host's): it
// registers 5:2 (/dev/ptmx), and 5:0 (/dev/tty), which opens the caller's
// controlling terminal (a pty the caller's session took) and, for a caller
// without one, hostTTY (uk run's host stream; nil: ENXIO, as Linux's).
// It leaves 5:1 (/dev/console) alone.
func RegisterPtys(reg *vfs.DeviceRegistry, hostTTY vfs.Device, jc JobControl) *Devices {
	d := Register(reg, nil, jc)
	d.hostTTY = hostTTY
	return d
}

// SetJobControl installs the kernel's job control.
func (d *Devices) SetJobControl(jc JobControl) {
	d.mu.Lock()
	d.jc = jc
	d.mu.Unlock()
}

func (d *Devices) jobControl() JobControl {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.jc
}

// LeaderExited is what the kernel calls when the leader of session sid
// exits (Linux's disassociate_ctty(1)), without holding its own locks;
// ctty is the session's controlling terminal (nil if none). A console is
// hung up (its foreground group gets SIGHUP; files opened through
// /dev/console keep working); a pty's foreground group gets SIGHUP; if the
// session lost its terminal to a hangup before, the foreground group of
// then gets SIGHUP and SIGCONT.
func (d *Devices) LeaderExited(sid int32, ctty *Terminal) {
	if ctty != nil && ctty.leaderExited(sid) {
		return
	}
	d.mu.Lock()
	pg, ok := d.hungUp[sid]
	delete(d.hungUp, sid)
	jc := d.jc
	d.mu.Unlock()
	if ok && jc != nil {
		jc.SignalGroup(pg, unix.SIGHUP)
		jc.SignalGroup(pg, unix.SIGCONT)
	}
}

func (d *Devices) rememberHungUp(sid, pgrp int32) {
	d.mu.Lock()
	d.hungUp[sid] = pgrp
	d.mu.Unlock()
}

// openTTY opens /dev/tty: the caller's controlling terminal, ENXIO if it
// has none.
func (d *Devices) openTTY(ctx vfs.Context, p vfs.Path, flags uint32) (vfs.FileImpl, vfs.FileOptions, error) {
	jc := d.jobControl()
	if jc == nil {
		return nil, vfs.FileOptions{}, unix.ENXIO
	}
	t := jc.ControllingTerminal(ctx)
	if t == nil && d.hostTTY != nil {
		return d.hostTTY.Open(ctx, p, flags)
	}
	if t == nil {
		return nil, vfs.FileOptions{}, unix.ENXIO
	}
	f, err := t.newFile(false)
	if err != nil {
		return nil, vfs.FileOptions{}, err
	}
	return f, vfs.FileOptions{}, nil
}

// openConsole opens /dev/console (never acquires a controlling terminal).
func (d *Devices) openConsole(vfs.Context, vfs.Path, uint32) (vfs.FileImpl, vfs.FileOptions, error) {
	f, err := d.console.t.newFile(true)
	if err != nil {
		return nil, vfs.FileOptions{}, err
	}
	return f, vfs.FileOptions{}, nil
}

// openPtmx opens /dev/ptmx: a new pty pair with the lowest free index;
// its slave is locked until TIOCSPTLCK 0.
func (d *Devices) openPtmx(ctx vfs.Context, _ vfs.Path, _ uint32) (vfs.FileImpl, vfs.FileOptions, error) {
	creds := ctx.Credentials()
	d.mu.Lock()
	idx := -1
	for i := 0; i < d.opts.max; i++ {
		if _, used := d.ptys[i]; !used {
			idx = i
			break
		}
	}
	if idx < 0 {
		d.mu.Unlock()
		return nil, vfs.FileOptions{}, unix.ENOSPC
	}
	p := newPty(d, idx)
	uid, gid := creds.FSUID, creds.FSGID
	if d.opts.setUID {
		uid = d.opts.uid
	}
	if d.opts.setGID {
		gid = d.opts.gid
	}
	p.node = newPtsNode(p, d.opts.mode, uid, gid)
	d.ptys[idx] = p
	d.mu.Unlock()
	d.reg.RegisterChar(ptsMajor, uint32(idx), vfs.DeviceFunc(d.openSlave))
	return &masterFile{p: p}, vfs.FileOptions{}, nil
}

// openSlave opens 136:N: the pty of the devpts node opened, or for a node
// elsewhere (mknod) the pty with that index.
func (d *Devices) openSlave(ctx vfs.Context, path vfs.Path, flags uint32) (vfs.FileImpl, vfs.FileOptions, error) {
	var p *pty
	if path.Dentry != nil {
		if n, ok := path.Dentry.Inode().(*ptsNode); ok {
			p = n.p
		}
	}
	if p == nil && path.Dentry != nil {
		st, err := path.Dentry.Inode().Stat(ctx)
		if err != nil {
			return nil, vfs.FileOptions{}, err
		}
		d.mu.Lock()
		p = d.ptys[int(unix.Minor(st.Rdev))]
		d.mu.Unlock()
	}
	if p == nil {
		return nil, vfs.FileOptions{}, unix.EIO
	}
	return p.openSlave(ctx, flags)
}

// removePty frees a pty's index and its /dev/pts node (master closed).
func (d *Devices) removePty(p *pty) {
	d.mu.Lock()
	if d.ptys[p.index] == p {
		delete(d.ptys, p.index)
	}
	d.mu.Unlock()
}

func (d *Devices) lookupPty(idx int) *pty {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.ptys[idx]
}
