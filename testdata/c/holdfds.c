/* holdfds FILE...: opens every FILE read-only, prints "held N", and keeps
 * them open until its stdin ends. The suite looks at uk's own fd table
 * meanwhile (uk holds a host fd for each). */
#include "uktest.h"

#include <fcntl.h>

int main(int argc, char **argv) {
	int n = 0;
	for (int i = 1; i < argc; i++) {
		if (open(argv[i], O_RDONLY) < 0) {
			printf("FAIL open %s: %s\n", argv[i], errname(errno));
			return 1;
		}
		n++;
	}
	printf("held %d\n", n);
	char buf[64];
	while (read(0, buf, sizeof buf) > 0) {
	}
	return 0;
}
