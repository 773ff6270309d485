/* The guest side of vmm's syscall floor (bench/vmm-costs): N getppid calls,
 * timed with clock_gettime (answered by the vDSO, so the clock itself makes
 * no exit). Prints {"n": N, "ns_per_call": X}. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? strtol(argv[1], NULL, 0) : 1000;
	double t0, t1;
	long i;

	if (n < 1)
		return 2;
	syscall(SYS_getppid); /* warm: the first call's page faults are not the floor */
	t0 = now_ns();
	for (i = 0; i < n; i++)
		syscall(SYS_getppid);
	t1 = now_ns();
	printf("{\"n\": %ld, \"ns_per_call\": %.1f}\n", n, (t1 - t0) / (double)n);
	return 0;
}
