/* Touching a PROT_NONE reservation: SIGSEGV (139). Prints first so the test
 * knows the mapping itself worked. */
#include <stdio.h>
#include <sys/mman.h>

int main(void)
{
	volatile char *p = mmap(NULL, 1 << 20, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return 2;
	printf("reserved\n");
	fflush(stdout);
	return p[4096];
}
