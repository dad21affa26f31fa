package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/sys/unix"

	"uk/fs/tty"
	"uk/fs/vfs"
	"uk/kernel"
)

// cmdBoot boots an initramfs image: its /init (or rdinit=) runs as PID 1
// on uk's console; reboot(2) or PID 1's exit ends uk.
func cmdBoot(args []string) (int, error) {
	fs := flag.NewFlagSet("boot", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var c commonFlags
	c.register(fs)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Println("usage: uk boot [flags] IMAGE.cpio[.gz]")
			fs.SetOutput(os.Stdout)
			fs.PrintDefaults()
			return 0, nil
		}
		return 0, usageError{err.Error()}
	}
	if fs.NArg() != 1 {
		return 0, usageError{"boot: want exactly one image (uk boot [flags] IMAGE.cpio[.gz])"}
	}
	image := fs.Arg(0)
	if st, err := os.Stat(image); err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return 0, fmt.Errorf("%s: %w", image, err)
	} else if st.IsDir() {
		return 0, fmt.Errorf("%s: is a directory, want a cpio image", image)
	}
	k, ps, err := newKernel(&c)
	if err != nil {
		return 0, err
	}
	// The console is a terminal with a line discipline over uk's stdin
	// and stdout; a host terminal goes into raw mode until uk exits, and
	// the guard puts it back should uk die without doing it itself.
	guard, err := startTTYGuard(0)
	if err != nil {
		return 0, err
	}
	console, err := tty.NewConsole(0, 1)
	if err != nil {
		return 0, fmt.Errorf("console: %w", err)
	}
	defer func() {
		console.RestoreHost()
		guard.disarm()
	}()
	init, env := bootCommandLine(c.appendCL)
	root, init, err := buildRootFS(k, image, init, nil, console, c.etc)
	if err != nil {
		return 0, err
	}
	// init's fds 0, 1 and 2 are /dev/console, as the kernel gives them.
	files := vfs.NewFDTable()
	for fd := int32(0); fd < 3; fd++ {
		d := console.NewDescription(unix.O_RDWR)
		err := files.InstallAt(fd, d, false)
		d.DecRef()
		if err != nil {
			return 0, err
		}
	}
	// Forwarding runs until uk exits: undoing it first would only delay
	// the exit (a dozen rt_sigaction calls). It starts before the program
	// does: a signal that came after would otherwise kill uk itself.
	k.ForwardHostSignals()
	maxAddr := maxUserAddress(c.platform) // may look at /dev/kvm: before confineSelf
	if err := confineSelf(&c, ps, false); err != nil {
		return 0, err
	}
	err = k.StartInit(kernel.InitOptions{
		Exe:            kernel.Executable{Path: init},
		Argv:           []string{init},
		Envv:           mergeEnv([]string{"HOME=/", "TERM=linux"}, env),
		Files:          files,
		FS:             root,
		Attach:         ps.attach(k),
		MaxUserAddress: maxAddr,
	})
	if err != nil {
		return 0, fmt.Errorf("cannot start init: %w", err)
	}
	return c.finish(k.Wait()), nil
}

// bootCommandLine reads the kernel command line as Linux does for init:
// rdinit= names the program; other key=value words without a dot become
// init's environment.
func bootCommandLine(cmdline string) (init string, env []string) {
	init = "/init"
	for _, w := range strings.Fields(cmdline) {
		k, v, ok := strings.Cut(w, "=")
		switch {
		case !ok:
		case k == "rdinit":
			init = v
		case !strings.Contains(k, "."):
			env = append(env, w)
		}
	}
	return init, env
}
