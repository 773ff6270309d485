/* Permission upgrades followed by an access: a page goes read-only, is
 * read, goes read-write again and is written at once, argv[1] times
 * (default 100). Linux and vmm flush nothing on an upgrade, so where the
 * TLB kept the read-only entry the write takes a spurious #PF that the
 * kernel must absorb; every write must land either way. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

int main(int argc, char **argv)
{
	long n = argc > 1 ? strtol(argv[1], NULL, 10) : 100, i;
	volatile unsigned long *p =
	    mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	unsigned long sum = 0;

	if (p == MAP_FAILED || n <= 0)
		return 2;
	p[0] = 0;
	for (i = 0; i < n; i++) {
		if (mprotect((void *)p, 4096, PROT_READ))
			return 3;
		sum += p[0]; /* caches the read-only translation */
		if (mprotect((void *)p, 4096, PROT_READ | PROT_WRITE))
			return 4;
		p[0] = p[0] + 1; /* the access after the upgrade */
	}
	if (p[0] != (unsigned long)n || sum != (unsigned long)(n * (n - 1) / 2)) {
		printf("protupgrade: lost writes: %lu of %ld, sum %lu\n", p[0], n, sum);
		return 1;
	}
	printf("protupgrade: %ld upgrades, all writes seen\n", n);
	return 0;
}
