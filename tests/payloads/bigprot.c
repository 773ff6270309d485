/* mprotect over 64 MiB of live 4 KiB pages: one syscall whose page-table
 * update needs more guest stores than one batch holds (16384 leaves), and
 * removing permissions must reach the TLB. Prints a checksum. */
#include <stdio.h>
#include <sys/mman.h>

int main(void)
{
	size_t len = 64ul << 20, i;
	unsigned char *p =
	    mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	unsigned long sum = 0;

	if (p == MAP_FAILED || madvise(p, len, MADV_NOHUGEPAGE))
		return 2;
	for (i = 0; i < len; i += 4096)
		p[i] = (unsigned char)(i >> 12);
	if (mprotect(p, len, PROT_READ))
		return 3;
	for (i = 0; i < len; i += 4096)
		sum += p[i];
	if (mprotect(p, len, PROT_READ | PROT_WRITE))
		return 4;
	for (i = 0; i < len; i += 4096)
		p[i] ^= 1;
	if (mprotect(p + 4096 * 100, len - 4096 * 200, PROT_NONE) ||
	    mprotect(p + 4096 * 100, len - 4096 * 200, PROT_READ))
		return 5;
	for (i = 0; i < len; i += 4096)
		sum += p[i];
	printf("bigprot checksum %lu\n", sum);
	return 0;
}
