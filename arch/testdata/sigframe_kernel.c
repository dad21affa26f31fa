// Lets the host kernel build real signal frames and dumps them, so that
// sigframe_test.go can build the same frames with BuildSignalFrame and
// compare byte for byte. Run 0 delivers on the normal stack, run 1 on an
// alternate stack (SA_ONSTACK). Output lines: "<run>.<key> <value>", with
// integers in decimal and the frame bytes in hex.
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static unsigned char saved[1 << 16];
static size_t saved_len;
static uintptr_t frame_addr, fp_addr, int_rsp;

static void handler(int sig, siginfo_t *info, void *ucv) {
	ucontext_t *uc = ucv;
	uintptr_t frame = (uintptr_t)uc - 8;
	uintptr_t fp = (uintptr_t)uc->uc_mcontext.fpregs;
	uint32_t xsize = *(uint32_t *)(fp + 480);
	size_t n = fp + xsize + 4 - frame;
	if (n > sizeof(saved))
		n = 0;
	memcpy(saved, (void *)frame, n);
	saved_len = n;
	frame_addr = frame;
	fp_addr = fp;
	int_rsp = uc->uc_mcontext.gregs[REG_RSP];
	(void)sig;
	(void)info;
}

static void run(int r, int onstack) {
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = handler;
	sa.sa_flags = SA_SIGINFO | (onstack ? SA_ONSTACK : 0);
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	stack_t ss = {0};
	if (onstack) {
		ss.ss_size = 1 << 16;
		ss.ss_sp = aligned_alloc(4096, ss.ss_size);
		ss.ss_flags = 0;
		sigaltstack(&ss, NULL);
	}
	syscall(SYS_tgkill, getpid(), gettid(), SIGUSR1);
	printf("%d.rsp %lld\n", r, (long long)int_rsp);
	printf("%d.frame %lld\n", r, (long long)frame_addr);
	printf("%d.fpstate %lld\n", r, (long long)fp_addr);
	printf("%d.ss_sp %lld\n", r, (long long)(uintptr_t)ss.ss_sp);
	printf("%d.ss_size %lld\n", r, (long long)ss.ss_size);
	printf("%d.hex ", r);
	for (size_t i = 0; i < saved_len; i++)
		printf("%02x", saved[i]);
	printf("\n");
	if (onstack) {
		ss.ss_flags = SS_DISABLE;
		sigaltstack(&ss, NULL);
	}
}

int main(void) {
	sigset_t m;
	sigemptyset(&m);
	sigaddset(&m, SIGUSR2);
	sigaddset(&m, SIGRTMIN + 3);
	sigprocmask(SIG_BLOCK, &m, NULL);
	run(0, 0);
	run(1, 1);
	return 0;
}
