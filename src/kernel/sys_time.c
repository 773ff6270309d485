/* Clock and sleep syscalls, answered from the host's clocks: guest time is
 * host time. Sleeps sleep on the host; a timeout signal interrupts them. */
#include <errno.h>
#include <sys/time.h>
#include <time.h>

#include "guest/uaccess.h"
#include "kernel/syscalls.h"
#include "util/err.h"

static bool clock_id_valid(uint64_t id)
{
	switch (id) {
	case CLOCK_REALTIME:
	case CLOCK_MONOTONIC:
	case CLOCK_PROCESS_CPUTIME_ID:
	case CLOCK_THREAD_CPUTIME_ID:
	case CLOCK_MONOTONIC_RAW:
	case CLOCK_REALTIME_COARSE:
	case CLOCK_MONOTONIC_COARSE:
	case CLOCK_BOOTTIME:
		return true;
	default:
		return false;
	}
}

/* A clock read the vDSO would have answered without an exit if the TSC
 * were usable: say so once, at the first one (a payload that never reads
 * the clock hears nothing). */
static void clock_note_fallback(struct task *t)
{
	struct process *p = t->proc;

	if (!p->clock_fallback_why || p->warned_clock)
		return;
	p->warned_clock = true;
	vmm_warn("vdso: clock reads exit to vmm: the guest TSC cannot serve as a clock (%s)",
		 p->clock_fallback_why);
}

long sys_clock_gettime(struct task *t, const uint64_t a[6])
{
	struct timespec ts;

	if (!clock_id_valid(a[0]))
		return -EINVAL;
	if (a[0] != CLOCK_PROCESS_CPUTIME_ID && a[0] != CLOCK_THREAD_CPUTIME_ID)
		clock_note_fallback(t);
	clock_gettime((clockid_t)a[0], &ts);
	return uaccess_write(t->proc->pt, a[1], &ts, sizeof(ts));
}

long sys_clock_getres(struct task *t, const uint64_t a[6])
{
	struct timespec ts;

	if (!clock_id_valid(a[0]))
		return -EINVAL;
	clock_getres((clockid_t)a[0], &ts);
	return a[1] ? uaccess_write(t->proc->pt, a[1], &ts, sizeof(ts)) : 0;
}

long sys_gettimeofday(struct task *t, const uint64_t a[6])
{
	struct timeval tv;
	struct timezone tz = {0};

	clock_note_fallback(t);
	gettimeofday(&tv, &tz);
	if (a[0] && uaccess_write(t->proc->pt, a[0], &tv, sizeof(tv)) < 0)
		return -EFAULT;
	if (a[1] && uaccess_write(t->proc->pt, a[1], &tz, sizeof(tz)) < 0)
		return -EFAULT;
	return 0;
}

long sys_time(struct task *t, const uint64_t a[6])
{
	int64_t now = (int64_t)time(NULL);

	clock_note_fallback(t);
	if (a[0] && uaccess_write(t->proc->pt, a[0], &now, sizeof(now)) < 0)
		return -EFAULT;
	return (long)now;
}

bool timespec_valid(const struct timespec *ts)
{
	return ts->tv_sec >= 0 && ts->tv_nsec >= 0 && ts->tv_nsec < 1000000000;
}

/* Sleeps on the host; a timeout signal interrupts it with -EINTR. */
static long sleep_common(struct task *t, clockid_t clk, int flags, gva_t req, gva_t rem)
{
	struct timespec ts, left;
	int r;

	if (uaccess_read(t->proc->pt, &ts, req, sizeof(ts)) < 0)
		return -EFAULT;
	if (!timespec_valid(&ts))
		return -EINVAL;
	r = clock_nanosleep(clk, flags, &ts, &left);
	if (r == EINTR && rem && !(flags & TIMER_ABSTIME))
		uaccess_write(t->proc->pt, rem, &left, sizeof(left));
	return -r;
}

long sys_nanosleep(struct task *t, const uint64_t a[6])
{
	return sleep_common(t, CLOCK_MONOTONIC, 0, a[0], a[1]);
}

long sys_clock_nanosleep(struct task *t, const uint64_t a[6])
{
	if (!clock_id_valid(a[0]) || a[0] == CLOCK_THREAD_CPUTIME_ID)
		return -EINVAL;
	return sleep_common(t, (clockid_t)a[0], (int)(a[1] & TIMER_ABSTIME), a[2], a[3]);
}
