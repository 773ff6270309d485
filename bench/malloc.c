/* malloc/free of 200 KiB blocks in a loop: musl serves a block that large
 * with mmap and gives it back with munmap (above its mmap threshold), so
 * each iteration is two memory syscalls; glibc's threshold grows past the
 * block after the first free, so its twin stays in the heap after that.
 * Prints ns_per_iter; run natively and in vmm by bench/malloc. */
#include <stdio.h>
#include <stdlib.h>
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
		fprintf(stderr, "usage: malloc [ITERATIONS > 0]\n");
		return 2;
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
