/* Per-call cost of clock_gettime(CLOCK_MONOTONIC): N calls (argv[1],
 * default 1000000) timed by the clock itself; prints "ns_per_call X".
 * The same static binary runs natively and under vmm (bench/clock.sh). */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 1000000;
	struct timespec a, b, t;
	volatile long sink = 0;

	if (n <= 0)
		return 2;
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (long i = 0; i < n; i++) {
		clock_gettime(CLOCK_MONOTONIC, &t);
		sink += t.tv_nsec;
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("ns_per_call %.2f\n",
	       ((double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec)) / (double)n);
	return 0;
}
