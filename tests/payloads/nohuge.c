/* madvise(MADV_NOHUGEPAGE) on a 4 MiB anonymous mapping (2 MiB aligned),
 * then every page touched: with --guest-pages 2m vmm must map it with
 * 4 KiB pages ("nohuge"), or with two 2 MiB pages (no argument). */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#define LEN (4ul << 20)
#define HUGE (2ul << 20)

int main(int argc, char **argv)
{
	/* 6 MiB, then the 2 MiB-aligned 4 MiB inside it. */
	char *raw =
	    mmap(NULL, LEN + HUGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *p;

	if (raw == MAP_FAILED)
		return 1;
	p = (char *)(((uintptr_t)raw + HUGE - 1) & ~(HUGE - 1));
	if (argc > 1 && !strcmp(argv[1], "nohuge") && madvise(p, LEN, MADV_NOHUGEPAGE) != 0)
		return 2;
	for (size_t off = 0; off < LEN; off += 4096)
		p[off] = (char)off;
	for (size_t off = 0; off < LEN; off += 4096)
		if (p[off] != (char)off)
			return 3;
	printf("touched %lu pages at %p\n", LEN / 4096, (void *)p);
	return 0;
}
