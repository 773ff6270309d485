/* The guest's vDSO: clock_gettime, gettimeofday, time, getcpu and
 * clock_getres answered from the TSC and vmm's data page (guest/vvar.h),
 * without an exit. Built freestanding into a small shared object that vmm
 * embeds and maps into every guest; whatever it cannot answer it passes to
 * the real syscall, as Linux's vDSO does. */
#include "guest/vvar.h"

/* The kernel's x86-64 ABI types; there is no libc here. */
struct vdso_timespec {
	int64_t tv_sec, tv_nsec;
};
struct vdso_timeval {
	int64_t tv_sec, tv_usec;
};
struct vdso_timezone {
	int32_t tz_minuteswest, tz_dsttime;
};

#define NSEC_PER_SEC 1000000000ull
#define NR_gettimeofday 96
#define NR_time 201
#define NR_clock_gettime 228
#define NR_clock_getres 229
#define NR_getcpu 309

enum {
	CLK_REALTIME = 0,
	CLK_MONOTONIC = 1,
	CLK_MONOTONIC_RAW = 4,
	CLK_REALTIME_COARSE = 5,
	CLK_MONOTONIC_COARSE = 6,
	CLK_BOOTTIME = 7,
};

/* The data page, one page below the image (vdso.lds.S); hidden, so the
 * access is rip-relative and the image needs no relocation. */
extern const volatile struct vvar_data vvar_page __attribute__((visibility("hidden")));

static long vdso_syscall(long nr, long a, long b, long c)
{
	long ret;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "0"(nr), "D"(a), "S"(b), "d"(c)
			 : "rcx", "r11", "memory");
	return ret;
}

/* lfence orders rdtsc after earlier loads (the seqlock's), as Linux's
 * rdtsc_ordered does. */
static uint64_t vdso_rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi)::"memory");
	return ((uint64_t)hi << 32) | lo;
}

static uint32_t seq_begin(void)
{
	uint32_t s;

	while ((s = vvar_page.seq) & 1)
		__asm__ volatile("pause");
	__asm__ volatile("" ::: "memory"); /* x86 keeps loads in order */
	return s;
}

static int seq_retry(uint32_t s)
{
	__asm__ volatile("" ::: "memory");
	return vvar_page.seq != s;
}

/* The base a clock id reads and the resolution it is rounded down to:
 * 0 when the vDSO does not serve that clock. */
static int clock_base(long clk, enum vvar_base *b, uint64_t *round)
{
	*round = 1;
	switch (clk) {
	case CLK_REALTIME:
		*b = VVAR_REALTIME;
		return 1;
	case CLK_MONOTONIC:
		*b = VVAR_MONOTONIC;
		return 1;
	case CLK_MONOTONIC_RAW:
		*b = VVAR_MONOTONIC_RAW;
		return 1;
	case CLK_BOOTTIME:
		*b = VVAR_BOOTTIME;
		return 1;
	case CLK_REALTIME_COARSE:
		*b = VVAR_REALTIME;
		*round = 0;
		return 1;
	case CLK_MONOTONIC_COARSE:
		*b = VVAR_MONOTONIC;
		*round = 0;
		return 1;
	default:
		return 0;
	}
}

/* Nanoseconds of base b now: 0 when the data page says the TSC is not
 * usable (the caller falls back to the syscall). */
static int read_ns(enum vvar_base b, int coarse, uint64_t *ns)
{
	uint32_t s;
	uint64_t v, res;

	do {
		s = seq_begin();
		if (vvar_page.clock_mode != VVAR_CLOCK_TSC)
			return 0;
		v = vvar_ns((const struct vvar_data *)&vvar_page, b, vdso_rdtsc());
		res = vvar_page.coarse_res_ns;
	} while (seq_retry(s));
	if (coarse && res > 1)
		v -= v % res;
	*ns = v;
	return 1;
}

int __vdso_clock_gettime(long clk, struct vdso_timespec *ts)
{
	enum vvar_base b;
	uint64_t round, ns;

	if (clock_base(clk, &b, &round) && read_ns(b, round == 0, &ns)) {
		ts->tv_sec = (int64_t)(ns / NSEC_PER_SEC);
		ts->tv_nsec = (int64_t)(ns % NSEC_PER_SEC);
		return 0;
	}
	return (int)vdso_syscall(NR_clock_gettime, clk, (long)ts, 0);
}

int __vdso_gettimeofday(struct vdso_timeval *tv, struct vdso_timezone *tz)
{
	uint64_t ns;

	if (tv) {
		if (!read_ns(VVAR_REALTIME, 0, &ns))
			return (int)vdso_syscall(NR_gettimeofday, (long)tv, (long)tz, 0);
		tv->tv_sec = (int64_t)(ns / NSEC_PER_SEC);
		tv->tv_usec = (int64_t)(ns % NSEC_PER_SEC / 1000);
	}
	if (tz) {
		tz->tz_minuteswest = vvar_page.tz_minuteswest;
		tz->tz_dsttime = vvar_page.tz_dsttime;
	}
	return 0;
}

long __vdso_time(long *t)
{
	uint64_t ns;
	long sec;

	if (!read_ns(VVAR_REALTIME, 0, &ns))
		return vdso_syscall(NR_time, (long)t, 0, 0);
	sec = (long)(ns / NSEC_PER_SEC);
	if (t)
		*t = sec;
	return sec;
}

int __vdso_getcpu(unsigned *cpu, unsigned *node, void *cache)
{
	if (vvar_page.getcpu_mode != VVAR_GETCPU_FIXED)
		return (int)vdso_syscall(NR_getcpu, (long)cpu, (long)node, (long)cache);
	if (cpu)
		*cpu = vvar_page.cpu;
	if (node)
		*node = vvar_page.node;
	return 0;
}

int __vdso_clock_getres(long clk, struct vdso_timespec *res)
{
	enum vvar_base b;
	uint64_t round;

	if (!clock_base(clk, &b, &round) || vvar_page.clock_mode != VVAR_CLOCK_TSC)
		return (int)vdso_syscall(NR_clock_getres, clk, (long)res, 0);
	if (res) {
		res->tv_sec = 0;
		res->tv_nsec = round ? vvar_page.hres_res_ns : vvar_page.coarse_res_ns;
	}
	return 0;
}

/* The unprefixed names Linux's vDSO exports as weak aliases. */
int clock_gettime(long, struct vdso_timespec *)
    __attribute__((weak, alias("__vdso_clock_gettime")));
int gettimeofday(struct vdso_timeval *, struct vdso_timezone *)
    __attribute__((weak, alias("__vdso_gettimeofday")));
long time(long *) __attribute__((weak, alias("__vdso_time")));
int getcpu(unsigned *, unsigned *, void *) __attribute__((weak, alias("__vdso_getcpu")));
int clock_getres(long, struct vdso_timespec *) __attribute__((weak, alias("__vdso_clock_getres")));
