/* hi: the smallest program: one write(2) and exit_group(0). Used by the
 * --strace test, which looks for exactly these two calls. */
#include <unistd.h>

int main(void) {
	write(1, "hi\n", 3);
	return 0;
}
