/* stracereq: one call each of ioctl, prctl, fcntl and arch_prctl with a
 * request word --strace must name, and an ioctl it has no name for (shown
 * by its _IOC fields). The --strace test looks for these lines; the
 * results do not matter. */
#include <asm/prctl.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

int main(void) {
	struct termios t;
	unsigned long fs;
	ioctl(1, TCGETS, &t);
	ioctl(1, 0xc0306201, 0);
	prctl(PR_SET_NAME, "stracereq", 0, 0, 0);
	fcntl(1, F_GETFD);
	syscall(SYS_arch_prctl, ARCH_GET_FS, &fs);
	return 0;
}
