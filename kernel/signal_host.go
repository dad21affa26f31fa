package kernel

import (
	"os"
	"os/signal"
	"syscall"

	"uk/arch"
)

// ForwardHostSignals delivers the signals uk itself receives (a user's
// kill of uk, ^C on a terminal not in raw mode, a terminal resize) to the
// sandbox's main process, as a container runtime forwards them to its
// init. The returned function stops forwarding.
func (k *Kernel) ForwardHostSignals() (stop func()) {
	ch := make(chan os.Signal, 16)
	signal.Notify(ch, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT,
		syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGWINCH, syscall.SIGCONT, syscall.SIGTSTP)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case s := <-ch:
				k.mu.Lock()
				tg := k.mainTG
				k.mu.Unlock()
				if tg != nil {
					sig := int32(s.(syscall.Signal))
					tg.SendSignal(&arch.SignalInfo{Signo: sig, Code: arch.SI_USER}, nil)
				}
			case <-done:
				return
			}
		}
	}()
	return func() {
		signal.Stop(ch)
		close(done)
	}
}
