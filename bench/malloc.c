/* malloc/free of 200 KiB blocks in a loop: musl serves a block that large
 * with mmap and gives it back with munmap (above its mmap threshold), so
 * each iteration is two memory syscalls; glibc's threshold grows past the
 * block after the first free, so its twin stays in the heap after that.
 * With "page" as second argument each iteration is instead a bare mmap
 * of one 4 KiB page, a write to it and its munmap: the least a page-table
 * changing syscall pair costs; with "page-untouched" the same without the
 * write (no first-touch fault: what is left is the two syscalls and the
 * one table update munmap makes). Prints ns_per_iter; run natively and in
 * vmm by bench/vmm-costs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#define BLOCK (200 * 1024)

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	long iters = argc > 1 ? atol(argv[1]) : 10000;
	volatile unsigned sum = 0;
	double t0, t1;

	if (iters <= 0) {
		fprintf(stderr, "usage: malloc [ITERATIONS > 0 [page|page-untouched]]\n");
		return 2;
	}
	if (argc > 2 && (strcmp(argv[2], "page") == 0 || strcmp(argv[2], "page-untouched") == 0)) {
		int touch = strcmp(argv[2], "page") == 0;

		t0 = now_ns();
		for (long i = 0; i < iters; i++) {
			volatile char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
						MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

			if (p == MAP_FAILED)
				return 1;
			if (touch)
				p[0] = (char)i;
			munmap((void *)p, 4096);
		}
		t1 = now_ns();
		printf("ns_per_iter %.1f\n", (t1 - t0) / (double)iters);
		return 0;
	}
	t0 = now_ns();
	for (long i = 0; i < iters; i++) {
		unsigned char *p = malloc(BLOCK);

		if (!p)
			return 1;
		/* First and last page touched, as a program filling a buffer would. */
		p[0] = (unsigned char)i;
		p[BLOCK - 1] = (unsigned char)(i >> 8);
		sum += p[0] + p[BLOCK - 1];
		free(p);
	}
	t1 = now_ns();
	printf("ns_per_iter %.1f\n", (t1 - t0) / (double)iters);
	return sum == 0xffffffffu; /* keeps sum alive */
}
