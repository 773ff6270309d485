/* The guest's vDSO clocks, checked from inside: vdsoclock MODE N
 *   loop N     N clock_gettime(CLOCK_MONOTONIC) through libc, each >= the last
 *   cputime N  N clock_gettime(CLOCK_PROCESS_CPUTIME_ID): the vDSO's fallback
 *   refresh N  N ms of reads with a getppid every 50 us (vmm refreshes at exits)
 * Every mode first compares each clock libc reads with the raw syscall
 * (vmm's answer from the host's clock) between two libc reads, and checks
 * the fallbacks; the syscalls it makes do not depend on N, so vmm's exit
 * count tells whether the N reads left the guest. Prints "key value" lines. */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static int64_t ns_of(const struct timespec *ts)
{
	return (int64_t)ts->tv_sec * 1000000000 + ts->tv_nsec;
}

static int64_t libc_ns(clockid_t id)
{
	struct timespec ts;

	if (clock_gettime(id, &ts) != 0)
		return -1;
	return ns_of(&ts);
}

static int64_t sys_ns(clockid_t id)
{
	struct timespec ts;

	if (syscall(SYS_clock_gettime, id, &ts) != 0)
		return -1;
	return ns_of(&ts);
}

/* How far the syscall's value lies outside [libc before, libc after], in
 * ns (0 inside), the worst of a few rounds, beyond slack. */
static int64_t outside(clockid_t id, int64_t slack)
{
	int64_t worst = 0;

	for (int i = 0; i < 3; i++) {
		int64_t a = libc_ns(id), s = sys_ns(id), b = libc_ns(id), d = 0;

		if (a < 0 || s < 0 || b < 0)
			return INT64_MAX;
		if (s < a - slack)
			d = a - slack - s;
		if (s > b + slack)
			d = s - b - slack;
		worst = d > worst ? d : worst;
	}
	return worst;
}

static void checks(void)
{
	static const struct {
		clockid_t id;
		const char *name;
	} clocks[] = {
	    {CLOCK_REALTIME, "realtime"},
	    {CLOCK_MONOTONIC, "monotonic"},
	    {CLOCK_MONOTONIC_RAW, "monotonic_raw"},
	    {CLOCK_BOOTTIME, "boottime"},
	    {CLOCK_REALTIME_COARSE, "realtime_coarse"},
	    {CLOCK_MONOTONIC_COARSE, "monotonic_coarse"},
	};
	struct timespec res, ts;
	struct timeval tv;
	unsigned cpu = 99, node = 99;
	int r;

	printf("vdso %s\n", getauxval(AT_SYSINFO_EHDR) ? "yes" : "no");
	for (size_t i = 0; i < sizeof(clocks) / sizeof(clocks[0]); i++) {
		/* A coarse clock is the time of the host's last tick (which
		 * may come late), the vDSO's is rounded down to the tick
		 * length: they may differ by two ticks. */
		clock_getres(clocks[i].id, &res);
		printf("outside_ns %s %lld\n", clocks[i].name,
		       (long long)outside(clocks[i].id, 2 * ns_of(&res)));
	}
	/* Clocks the vDSO does not serve go to the syscall: a bad id is
	 * EINVAL, a CPU-time clock works. */
	errno = 0;
	r = clock_gettime((clockid_t)12345, &ts);
	printf("bad_clock %d %s\n", r, r ? strerror(errno) : "-");
	printf("cputime %s\n", libc_ns(CLOCK_PROCESS_CPUTIME_ID) >= 0 ? "ok" : "failed");
	clock_getres(CLOCK_MONOTONIC, &res);
	printf("res_monotonic %lld\n", (long long)ns_of(&res));
	gettimeofday(&tv, NULL);
	printf("time_agrees %s\n", labs((long)time(NULL) - (long)tv.tv_sec) <= 1 ? "yes" : "no");
	r = (int)syscall(SYS_getcpu, &cpu, &node, NULL);
	printf("getcpu_syscall %d %u %u\n", r, cpu, node);
	printf("sched_getcpu %d\n", sched_getcpu());
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "loop";
	long n = argc > 2 ? atol(argv[2]) : 1000000, backwards = 0;
	int64_t first_real, first_mono, prev, v = 0, t0;

	first_real = libc_ns(CLOCK_REALTIME);
	first_mono = libc_ns(CLOCK_MONOTONIC);
	checks();
	prev = libc_ns(CLOCK_MONOTONIC);
	if (strcmp(mode, "loop") == 0) {
		for (long i = 0; i < n; i++, prev = v)
			backwards += (v = libc_ns(CLOCK_MONOTONIC)) < prev;
	} else if (strcmp(mode, "cputime") == 0) {
		for (long i = 0; i < n; i++)
			backwards += libc_ns(CLOCK_PROCESS_CPUTIME_ID) < 0;
	} else if (strcmp(mode, "refresh") == 0) {
		for (t0 = prev; prev - t0 < n * 1000000; prev = v) {
			backwards += (v = libc_ns(CLOCK_MONOTONIC)) < prev;
			if (v - t0 > 0 && (v - t0) / 50000 != (prev - t0) / 50000)
				syscall(SYS_getppid);
		}
		printf("outside_ns_after monotonic %lld\n", (long long)outside(CLOCK_MONOTONIC, 0));
	} else {
		fprintf(stderr, "usage: vdsoclock loop|cputime|refresh N\n");
		return 2;
	}
	printf("backwards %ld\n", backwards);
	printf("first_realtime_ns %lld\nlast_realtime_ns %lld\n", (long long)first_real,
	       (long long)libc_ns(CLOCK_REALTIME));
	printf("first_monotonic_ns %lld\nlast_monotonic_ns %lld\n", (long long)first_mono,
	       (long long)libc_ns(CLOCK_MONOTONIC));
	return 0;
}
