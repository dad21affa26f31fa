// Prints the kernel's signal-frame layout (uapi headers only, no libc
// signal.h) as "NAME value" lines for sigframe_test.go.
#include <stddef.h>
#include <stdio.h>
#include <asm/signal.h>
#include <asm/siginfo.h>
#include <asm/sigcontext.h>
#include <asm/ucontext.h>

// Not in uapi: arch/x86/include/asm/sigframe.h.
struct rt_sigframe {
	char *pretcode;
	struct ucontext uc;
	struct siginfo info;
};

#define P(name, x) printf("%s %lld\n", name, (long long)(x))
#define O(t, f) P(#t "." #f, offsetof(struct t, f))

int main(void) {
	P("sizeof.rt_sigframe", sizeof(struct rt_sigframe));
	P("sizeof.ucontext", sizeof(struct ucontext));
	P("sizeof.sigcontext", sizeof(struct sigcontext));
	P("sizeof.siginfo", sizeof(siginfo_t));
	P("sizeof.stack_t", sizeof(stack_t));
	O(rt_sigframe, uc); O(rt_sigframe, info);
	O(ucontext, uc_flags); O(ucontext, uc_link); O(ucontext, uc_stack);
	O(ucontext, uc_mcontext); O(ucontext, uc_sigmask);
	O(sigcontext, r8); O(sigcontext, r9); O(sigcontext, r10); O(sigcontext, r11);
	O(sigcontext, r12); O(sigcontext, r13); O(sigcontext, r14); O(sigcontext, r15);
	O(sigcontext, rdi); O(sigcontext, rsi); O(sigcontext, rbp); O(sigcontext, rbx);
	O(sigcontext, rdx); O(sigcontext, rax); O(sigcontext, rcx); O(sigcontext, rsp);
	O(sigcontext, rip); O(sigcontext, eflags); O(sigcontext, cs); O(sigcontext, gs);
	O(sigcontext, fs); O(sigcontext, ss); O(sigcontext, err); O(sigcontext, trapno);
	O(sigcontext, oldmask); O(sigcontext, cr2); O(sigcontext, fpstate);
	P("stack_t.ss_sp", offsetof(stack_t, ss_sp));
	P("stack_t.ss_flags", offsetof(stack_t, ss_flags));
	P("stack_t.ss_size", offsetof(stack_t, ss_size));
	P("_fpx_sw_bytes.magic1", offsetof(struct _fpstate_64, sw_reserved) + offsetof(struct _fpx_sw_bytes, magic1));
	P("_fpx_sw_bytes.extended_size", offsetof(struct _fpstate_64, sw_reserved) + offsetof(struct _fpx_sw_bytes, extended_size));
	P("_fpx_sw_bytes.xfeatures", offsetof(struct _fpstate_64, sw_reserved) + offsetof(struct _fpx_sw_bytes, xfeatures));
	P("_fpx_sw_bytes.xstate_size", offsetof(struct _fpstate_64, sw_reserved) + offsetof(struct _fpx_sw_bytes, xstate_size));
	P("FP_XSTATE_MAGIC1", FP_XSTATE_MAGIC1);
	P("FP_XSTATE_MAGIC2", FP_XSTATE_MAGIC2);
	P("UC_FP_XSTATE", UC_FP_XSTATE);
	P("UC_SIGCONTEXT_SS", UC_SIGCONTEXT_SS);
	P("UC_STRICT_RESTORE_SS", UC_STRICT_RESTORE_SS);
	P("siginfo.si_signo", offsetof(siginfo_t, si_signo));
	P("siginfo.si_errno", offsetof(siginfo_t, si_errno));
	P("siginfo.si_code", offsetof(siginfo_t, si_code));
	P("siginfo.si_pid", offsetof(siginfo_t, si_pid));
	P("siginfo.si_uid", offsetof(siginfo_t, si_uid));
	P("siginfo.si_tid", offsetof(siginfo_t, si_tid));
	P("siginfo.si_overrun", offsetof(siginfo_t, si_overrun));
	P("siginfo.si_value", offsetof(siginfo_t, si_value));
	P("siginfo.si_status", offsetof(siginfo_t, si_status));
	P("siginfo.si_utime", offsetof(siginfo_t, si_utime));
	P("siginfo.si_stime", offsetof(siginfo_t, si_stime));
	P("siginfo.si_addr", offsetof(siginfo_t, si_addr));
	P("siginfo.si_addr_lsb", offsetof(siginfo_t, si_addr_lsb));
	P("siginfo.si_lower", offsetof(siginfo_t, si_lower));
	P("siginfo.si_upper", offsetof(siginfo_t, si_upper));
	P("siginfo.si_pkey", offsetof(siginfo_t, si_pkey));
	P("siginfo.si_perf_data", offsetof(siginfo_t, si_perf_data));
	P("siginfo.si_perf_type", offsetof(siginfo_t, si_perf_type));
	P("siginfo.si_perf_flags", offsetof(siginfo_t, si_perf_flags));
	P("siginfo.si_band", offsetof(siginfo_t, si_band));
	P("siginfo.si_fd", offsetof(siginfo_t, si_fd));
	P("siginfo.si_call_addr", offsetof(siginfo_t, si_call_addr));
	P("siginfo.si_syscall", offsetof(siginfo_t, si_syscall));
	P("siginfo.si_arch", offsetof(siginfo_t, si_arch));
	return 0;
}
