package kvm

import (
	"fmt"
	"math/rand"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"uk/arch"
	"uk/platform"
)

// TestStress runs what a multi-threaded program asks of the platform all
// at once: several threads, each on its own OS thread and vCPU, switching
// between an address space they share and one of their own that they
// replace now and then (exec), with syscalls, faults on pages another
// thread unmaps (shootdowns), kicks, and contexts released and made again
// (pooled vCPUs move between OS threads).
func TestStress(t *testing.T) {
	e := newEnv(t)
	d := 3 * time.Second
	if s := os.Getenv("UK_KVM_STRESS"); s != "" {
		d, _ = time.ParseDuration(s)
	}
	// loop: mov rbx, [data]; mov eax, 39; syscall; jmp loop
	prog := cat(movRbxAbs(dataAddr), []byte{0xb8, 39, 0, 0, 0}, insSyscall)
	prog = append(prog, 0xeb, byte(-(len(prog) + 2)))
	shared := e.newAS(t, prog)
	const workers = 3
	var (
		stop     atomic.Bool
		mu       sync.Mutex
		contexts []*Context
		wg       sync.WaitGroup
		errs     = make(chan error, workers)
	)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			errs <- func() error {
				rng := rand.New(rand.NewSource(int64(w)))
				own := e.newAS(t, prog)
				var c *Context
				defer func() {
					if c != nil {
						c.Release()
					}
				}()
				for i := 0; !stop.Load(); i++ {
					if c == nil || rng.Intn(50) == 0 {
						if c != nil {
							mu.Lock()
							for j, x := range contexts {
								if x == c {
									contexts = append(contexts[:j], contexts[j+1:]...)
									break
								}
							}
							mu.Unlock()
							c.Release()
						}
						c = e.newContext(t)
						mu.Lock()
						contexts = append(contexts, c)
						mu.Unlock()
					}
					if rng.Intn(30) == 0 {
						own.Release()
						pas, err := e.p.NewAddressSpace()
						if err != nil {
							return err
						}
						own = pas.(*AddressSpace)
						if err := own.MapFile(codeAddr, e.Code, arch.PageSize, platform.Read|platform.Exec); err != nil {
							return err
						}
					}
					as := shared
					if i%2 == 1 {
						as = own
					}
					st := initState()
					for k := 0; k < 5; k++ {
						trap, err := c.Switch(as, st)
						if err != nil {
							return fmt.Errorf("worker %d round %d: %w", w, i, err)
						}
						switch trap.Kind {
						case platform.TrapSyscall, platform.TrapInterrupt:
						case platform.TrapFault:
							if trap.Addr != dataAddr {
								return fmt.Errorf("worker %d: fault %+v at rip %#x", w, trap, st.Regs.Rip)
							}
							if err := as.MapFile(dataAddr, e.Data, arch.PageSize, platform.Read|platform.Write); err != nil {
								return err
							}
						default:
							return fmt.Errorf("worker %d: trap %+v at rip %#x", w, trap, st.Regs.Rip)
						}
					}
				}
				own.Release()
				return nil
			}()
		}(w)
	}
	// The chaos: unmap the shared data page (a shootdown of every vCPU in
	// it) and kick a thread, at random.
	rng := rand.New(rand.NewSource(99))
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		time.Sleep(time.Duration(rng.Intn(100)) * time.Microsecond)
		if rng.Intn(2) == 0 {
			shared.Unmap(dataAddr, arch.PageSize)
		} else {
			mu.Lock()
			if len(contexts) > 0 {
				contexts[rng.Intn(len(contexts))].Interrupt()
			}
			mu.Unlock()
		}
	}
	stop.Store(true)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}
