package kernel

import (
	"golang.org/x/sys/unix"

	"uk/arch"
)

// XPerm returns the XSAVE components the process may use
// (arch_prctl(ARCH_GET_XCOMP_PERM), or ARCH_GET_XCOMP_GUEST_PERM when
// guest): the host's default set and the dynamic components it was granted.
func (tg *ThreadGroup) XPerm(guest bool) uint64 {
	p := &tg.xperm
	if guest {
		p = &tg.xpermGuest
	}
	return arch.HostXSave().DefaultFeatures() | p.Load()
}

// RequestXPerm implements arch_prctl(ARCH_REQ_XCOMP_PERM, feature) (or
// ARCH_REQ_XCOMP_GUEST_PERM when guest) as Linux's xstate_request_perm:
// EINVAL for a feature number past XFEATURE_MAX, EOPNOTSUPP for one that is
// no dynamic facility or that the host did not enable, and ENOSPC when a
// thread of the process has an alternate stack too small for the larger
// signal frame (guest permission, for KVM vCPUs, leaves frames alone).
func (tg *ThreadGroup) RequestXPerm(feature uint64, guest bool) error {
	if feature >= arch.XFeatureMax {
		return unix.EINVAL
	}
	l := arch.HostXSave()
	req := arch.XCompRequest(feature)
	if req == 0 || l.Supported()&req != req {
		return unix.EOPNOTSUPP
	}
	p := &tg.xperm
	if guest {
		p = &tg.xpermGuest
	}
	tg.mu.Lock()
	defer tg.mu.Unlock()
	if p.Load()&req == req {
		return nil
	}
	if !guest {
		need := l.PermStackSize(l.DefaultFeatures() | p.Load() | req)
		for _, t := range tg.tasks {
			t.mu.Lock()
			s := t.altStack
			t.mu.Unlock()
			if s.Size != 0 && s.Flags&arch.SS_DISABLE == 0 && s.Size < need {
				return unix.ENOSPC
			}
		}
	}
	p.Store(p.Load() | req)
	return nil
}

// SetSigAltStack installs s as sigaltstack(2)'s new alternate stack once
// the caller has made its own checks, refusing with ENOMEM a stack that
// cannot hold a frame with the dynamic XSAVE components the process may
// use (Linux's sigaltstack_size_valid). The check and the change are one
// step under the process lock, so that ARCH_REQ_XCOMP_PERM in another
// thread sees either the old stack or the new one.
func (t *Task) SetSigAltStack(s arch.StackT) error {
	tg := t.tg
	tg.mu.Lock()
	defer tg.mu.Unlock()
	if s.Flags&arch.SS_DISABLE == 0 && !arch.HostXSave().SigAltStackSizeValid(s.Size, tg.XPerm(false)) {
		return unix.ENOMEM
	}
	t.SetAltStack(s)
	return nil
}
