/* Syscall dispatch and the handlers that are not about files: process
 * identity, exit, memory (delegated to mm.c), time, randomness, signals
 * (accepted, not delivered) and the prctl region markers. */
#include "kernel/syscall.h"

#include <asm/prctl.h>
#include <errno.h>
#include <linux/prctl.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/sysinfo.h>
#include <sys/time.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "guest/uaccess.h"
#include "util/err.h"

#ifndef ARCH_CET_STATUS
#define ARCH_CET_STATUS 0x3001
#endif
#define SIGSET_BYTES 8		/* the kernel's sigset_t on x86-64 */
#define GETRANDOM_MAX 33554431u /* Linux caps one getrandom at this */
#define NSIG_LINUX 64
#define RLIMIT_STACK_BYTES (8ull << 20)

void proc_init(struct proc *p, struct mm *mm, uint64_t mem_bytes)
{
	memset(p, 0, sizeof(*p));
	p->mm = mm;
	p->pt = mm->pt;
	p->mem_bytes = mem_bytes;
	p->fd_open[0] = p->fd_open[1] = p->fd_open[2] = true;
}

long proc_check_epipe(struct proc *p, long r)
{
	if (r == -EPIPE && !(p->sig_ignored & (1ull << (SIGPIPE - 1))))
		p->kill_signal = SIGPIPE;
	return r;
}

static long sys_exit(struct proc *p, const uint64_t a[6])
{
	p->exited = true;
	p->exit_status = (int)(a[0] & 0xff);
	return 0;
}

static long sys_getpid(struct proc *p, const uint64_t a[6])
{
	(void)p, (void)a;
	return getpid(); /* one process, one thread: pid == tid */
}

static long sys_getppid(struct proc *p, const uint64_t a[6])
{
	(void)p, (void)a;
	return getppid();
}
static long sys_getuid(struct proc *p, const uint64_t a[6])
{
	(void)p, (void)a;
	return getuid();
}
static long sys_geteuid(struct proc *p, const uint64_t a[6])
{
	(void)p, (void)a;
	return geteuid();
}
static long sys_getgid(struct proc *p, const uint64_t a[6])
{
	(void)p, (void)a;
	return getgid();
}
static long sys_getegid(struct proc *p, const uint64_t a[6])
{
	(void)p, (void)a;
	return getegid();
}
static long sys_zero(struct proc *p, const uint64_t a[6])
{
	(void)p, (void)a;
	return 0;
}
static long sys_nosys(struct proc *p, const uint64_t a[6])
{
	(void)p, (void)a;
	return -ENOSYS;
}

static long sys_set_tid_address(struct proc *p, const uint64_t a[6])
{
	p->clear_child_tid = a[0];
	return getpid();
}

static long sys_arch_prctl(struct proc *p, const uint64_t a[6])
{
	uint64_t v;

	switch (a[0]) {
	case ARCH_SET_FS:
	case ARCH_SET_GS:
		if (a[1] >= USER_TOP)
			return -EPERM;
		*(a[0] == ARCH_SET_FS ? &p->fs_base : &p->gs_base) = a[1];
		p->segbase_dirty = true;
		return 0;
	case ARCH_GET_FS:
	case ARCH_GET_GS:
		v = a[0] == ARCH_GET_FS ? p->fs_base : p->gs_base;
		return uaccess_write(p->pt, a[1], &v, sizeof(v));
	default:
		return -EINVAL; /* includes CET: not offered */
	}
}

static long sys_prctl(struct proc *p, const uint64_t a[6])
{
	switch (a[0]) {
	case PR_TASK_PERF_EVENTS_ENABLE:
	case PR_TASK_PERF_EVENTS_DISABLE:
		if (p->region_edge &&
		    p->region_edge(p->region_ctx, a[0] == PR_TASK_PERF_EVENTS_ENABLE) < 0)
			vmm_warn("%s", err_msg());
		return 0;
	case PR_SET_NAME:
	case PR_SET_VMA:
		return 0;
	default:
		return -EINVAL;
	}
}

/* There is no file system: the payload lives in "/". */
static long sys_getcwd(struct proc *p, const uint64_t a[6])
{
	static const char root[] = "/";

	if (a[1] < sizeof(root))
		return -ERANGE;
	return uaccess_write(p->pt, a[0], root, sizeof(root)) < 0 ? -EFAULT : (long)sizeof(root);
}

static long sys_uname(struct proc *p, const uint64_t a[6])
{
	struct utsname u;

	if (uname(&u) < 0)
		return -errno;
	return uaccess_write(p->pt, a[0], &u, sizeof(u));
}

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

static long sys_clock_gettime(struct proc *p, const uint64_t a[6])
{
	struct timespec ts;

	if (!clock_id_valid(a[0]))
		return -EINVAL;
	clock_gettime((clockid_t)a[0], &ts);
	return uaccess_write(p->pt, a[1], &ts, sizeof(ts));
}

static long sys_clock_getres(struct proc *p, const uint64_t a[6])
{
	struct timespec ts;

	if (!clock_id_valid(a[0]))
		return -EINVAL;
	clock_getres((clockid_t)a[0], &ts);
	return a[1] ? uaccess_write(p->pt, a[1], &ts, sizeof(ts)) : 0;
}

static long sys_gettimeofday(struct proc *p, const uint64_t a[6])
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	if (a[0] && uaccess_write(p->pt, a[0], &tv, sizeof(tv)) < 0)
		return -EFAULT;
	return 0;
}

static long sys_time(struct proc *p, const uint64_t a[6])
{
	int64_t t = (int64_t)time(NULL);

	if (a[0] && uaccess_write(p->pt, a[0], &t, sizeof(t)) < 0)
		return -EFAULT;
	return (long)t;
}

static bool timespec_valid(const struct timespec *ts)
{
	return ts->tv_sec >= 0 && ts->tv_nsec >= 0 && ts->tv_nsec < 1000000000;
}

/* Sleeps on the host; a timeout signal interrupts it with -EINTR. */
static long sleep_common(struct proc *p, clockid_t clk, int flags, gva_t req, gva_t rem)
{
	struct timespec ts, left;
	int r;

	if (uaccess_read(p->pt, &ts, req, sizeof(ts)) < 0)
		return -EFAULT;
	if (!timespec_valid(&ts))
		return -EINVAL;
	r = clock_nanosleep(clk, flags, &ts, &left);
	if (r == EINTR && rem && !(flags & TIMER_ABSTIME))
		uaccess_write(p->pt, rem, &left, sizeof(left));
	return -r;
}

static long sys_nanosleep(struct proc *p, const uint64_t a[6])
{
	return sleep_common(p, CLOCK_MONOTONIC, 0, a[0], a[1]);
}

static long sys_clock_nanosleep(struct proc *p, const uint64_t a[6])
{
	if (!clock_id_valid(a[0]) || a[0] == CLOCK_THREAD_CPUTIME_ID)
		return -EINVAL;
	return sleep_common(p, (clockid_t)a[0], (int)(a[1] & TIMER_ABSTIME), a[2], a[3]);
}

static long getrandom_piece(void *ctx, void *host, size_t n)
{
	(void)ctx;
	while (n) {
		ssize_t r = getrandom(host, n, 0);
		if (r < 0)
			return -errno;
		host = (uint8_t *)host + r;
		n -= (size_t)r;
	}
	return 0;
}

static long sys_getrandom(struct proc *p, const uint64_t a[6])
{
	uint64_t len = a[1] > GETRANDOM_MAX ? GETRANDOM_MAX : a[1];
	long r;

	if (a[2] & ~(uint64_t)(GRND_NONBLOCK | GRND_RANDOM | GRND_INSECURE))
		return -EINVAL;
	r = uaccess_each(p->pt, a[0], len, PT_WRITE, getrandom_piece, NULL);
	return r < 0 ? r : (long)len;
}

static long rlimit_get(uint64_t res, struct rlimit *rl)
{
	if (res >= RLIM_NLIMITS)
		return -EINVAL;
	if (res == RLIMIT_STACK) {
		rl->rlim_cur = rl->rlim_max = RLIMIT_STACK_BYTES; /* what mm.c maps */
		return 0;
	}
	return getrlimit((int)res, rl) < 0 ? -errno : 0;
}

static long sys_prlimit64(struct proc *p, const uint64_t a[6])
{
	struct rlimit rl;
	long r;

	if (a[0] != 0 && a[0] != (uint64_t)getpid())
		return -ESRCH;
	if (a[2])
		return -EPERM; /* limits are fixed by the VMM */
	r = rlimit_get(a[1], &rl);
	if (r == 0 && a[3])
		r = uaccess_write(p->pt, a[3], &rl, sizeof(rl));
	return r;
}

static long sys_getrlimit(struct proc *p, const uint64_t a[6])
{
	struct rlimit rl;
	long r = rlimit_get(a[0], &rl);

	return r ? r : uaccess_write(p->pt, a[1], &rl, sizeof(rl));
}

static long sys_sched_getaffinity(struct proc *p, const uint64_t a[6])
{
	uint64_t mask = 1; /* one vCPU */

	if (a[0] != 0 && a[0] != (uint64_t)getpid())
		return -ESRCH;
	if (a[1] < sizeof(mask) || (a[1] & (sizeof(long) - 1)))
		return -EINVAL;
	if (uaccess_write(p->pt, a[2], &mask, sizeof(mask)) < 0)
		return -EFAULT;
	return sizeof(mask);
}

static long sys_sysinfo(struct proc *p, const uint64_t a[6])
{
	struct sysinfo si;

	memset(&si, 0, sizeof(si));
	si.uptime = 1;
	si.totalram = p->mem_bytes;
	si.freeram = p->pt->frames->nfree * SZ_4K;
	si.procs = 1;
	si.mem_unit = 1;
	return uaccess_write(p->pt, a[0], &si, sizeof(si));
}

static long sys_getrusage(struct proc *p, const uint64_t a[6])
{
	struct rusage ru;

	if ((int)a[0] != RUSAGE_SELF && (int)a[0] != RUSAGE_THREAD && (int)a[0] != RUSAGE_CHILDREN)
		return -EINVAL;
	if (getrusage((int)a[0], &ru) < 0)
		return -errno;
	return uaccess_write(p->pt, a[1], &ru, sizeof(ru));
}

static long sys_rt_sigaction(struct proc *p, const uint64_t a[6])
{
	uint64_t act[4] = {0}, old[4] = {0}; /* struct kernel_sigaction */
	uint64_t bit = 1ull << ((a[0] - 1) & 63);

	if (a[0] < 1 || a[0] > NSIG_LINUX || a[3] != SIGSET_BYTES)
		return -EINVAL;
	if ((a[0] == SIGKILL || a[0] == SIGSTOP) && a[1])
		return -EINVAL;
	if (a[1] && uaccess_read(p->pt, act, a[1], sizeof(act)) < 0)
		return -EFAULT;
	old[0] =
	    (p->sig_ignored & bit) ? (uint64_t)(uintptr_t)SIG_IGN : (uint64_t)(uintptr_t)SIG_DFL;
	if (a[2] && uaccess_write(p->pt, a[2], old, sizeof(old)) < 0)
		return -EFAULT;
	/* Only SIG_IGN changes anything: handlers are accepted but never run,
	 * vmm delivers no signals yet. */
	if (a[1])
		p->sig_ignored = act[0] == (uint64_t)(uintptr_t)SIG_IGN ? p->sig_ignored | bit
									: p->sig_ignored & ~bit;
	return 0;
}

static long sys_rt_sigprocmask(struct proc *p, const uint64_t a[6])
{
	uint64_t old = p->sigmask, set;

	if (a[3] != SIGSET_BYTES || a[0] > SIG_SETMASK)
		return -EINVAL;
	if (a[1]) {
		if (uaccess_read(p->pt, &set, a[1], sizeof(set)) < 0)
			return -EFAULT;
		set &= ~((1ull << (SIGKILL - 1)) | (1ull << (SIGSTOP - 1)));
		p->sigmask = a[0] == SIG_BLOCK ? old | set : a[0] == SIG_UNBLOCK ? old & ~set : set;
	}
	return a[2] ? uaccess_write(p->pt, a[2], &old, sizeof(old)) : 0;
}

static long sys_sigaltstack(struct proc *p, const uint64_t a[6])
{
	uint8_t ss[24] = {0};

	ss[8] = SS_DISABLE;
	return a[1] ? uaccess_write(p->pt, a[1], ss, sizeof(ss)) : 0;
}

static long sys_brk(struct proc *p, const uint64_t a[6])
{
	return mm_sys_brk(p->mm, a[0]);
}
/* Linux would overcommit where vmm maps eagerly: say so once, since the
 * payload only sees ENOMEM. */
static long warn_if_out_of_memory(struct proc *p, long r, uint64_t len)
{
	if (r == -ENOMEM && !p->warned_oom && len > p->pt->frames->nfree * SZ_4K) {
		p->warned_oom = true;
		vmm_warn("mmap of %llu bytes: out of guest memory (%lluM of --mem %lluM free); "
			 "raise --mem",
			 (unsigned long long)len, (unsigned long long)(p->pt->frames->nfree >> 8),
			 (unsigned long long)(p->mem_bytes >> 20));
	}
	return r;
}

static long sys_mmap(struct proc *p, const uint64_t a[6])
{
	return warn_if_out_of_memory(p, mm_sys_mmap(p->mm, a[0], a[1], a[2], a[3], a[4], a[5]),
				     a[1]);
}
static long sys_munmap(struct proc *p, const uint64_t a[6])
{
	return mm_sys_munmap(p->mm, a[0], a[1]);
}
static long sys_mprotect(struct proc *p, const uint64_t a[6])
{
	return mm_sys_mprotect(p->mm, a[0], a[1], a[2]);
}
static long sys_madvise(struct proc *p, const uint64_t a[6])
{
	return mm_sys_madvise(p->mm, a[0], a[1], a[2]);
}
static long sys_mremap(struct proc *p, const uint64_t a[6])
{
	return mm_sys_mremap(p->mm, a[0], a[1], a[2], a[3], a[4]);
}

typedef long (*syscall_fn)(struct proc *p, const uint64_t a[6]);

struct syscall_def {
	const char *name;
	/* NULL: named but not implemented (-ENOSYS, warned once). sys_nosys:
	 * -ENOSYS is the expected answer and libc copes, so no warning. */
	syscall_fn fn;
};

/* x86-64 numbers, arch/x86/entry/syscalls/syscall_64.tbl. */
static const struct syscall_def syscall_table[] = {
    [0] = {"read", sys_read},
    [1] = {"write", sys_write},
    [2] = {"open", sys_open},
    [3] = {"close", sys_close},
    [4] = {"stat", NULL},
    [5] = {"fstat", sys_fstat},
    [6] = {"lstat", NULL},
    [7] = {"poll", NULL},
    [8] = {"lseek", sys_lseek},
    [9] = {"mmap", sys_mmap},
    [10] = {"mprotect", sys_mprotect},
    [11] = {"munmap", sys_munmap},
    [12] = {"brk", sys_brk},
    [13] = {"rt_sigaction", sys_rt_sigaction},
    [14] = {"rt_sigprocmask", sys_rt_sigprocmask},
    [15] = {"rt_sigreturn", NULL},
    [16] = {"ioctl", sys_ioctl},
    [19] = {"readv", sys_readv},
    [20] = {"writev", sys_writev},
    [21] = {"access", NULL},
    [24] = {"sched_yield", sys_zero},
    [25] = {"mremap", sys_mremap},
    [28] = {"madvise", sys_madvise},
    [35] = {"nanosleep", sys_nanosleep},
    [39] = {"getpid", sys_getpid},
    [60] = {"exit", sys_exit},
    [62] = {"kill", NULL},
    [63] = {"uname", sys_uname},
    [72] = {"fcntl", sys_fcntl},
    [79] = {"getcwd", sys_getcwd},
    [89] = {"readlink", sys_readlink},
    [96] = {"gettimeofday", sys_gettimeofday},
    [97] = {"getrlimit", sys_getrlimit},
    [98] = {"getrusage", sys_getrusage},
    [99] = {"sysinfo", sys_sysinfo},
    [102] = {"getuid", sys_getuid},
    [104] = {"getgid", sys_getgid},
    [107] = {"geteuid", sys_geteuid},
    [108] = {"getegid", sys_getegid},
    [110] = {"getppid", sys_getppid},
    [131] = {"sigaltstack", sys_sigaltstack},
    [157] = {"prctl", sys_prctl},
    [158] = {"arch_prctl", sys_arch_prctl},
    [186] = {"gettid", sys_getpid},
    [201] = {"time", sys_time},
    [202] = {"futex", NULL},
    [204] = {"sched_getaffinity", sys_sched_getaffinity},
    [218] = {"set_tid_address", sys_set_tid_address},
    [228] = {"clock_gettime", sys_clock_gettime},
    [229] = {"clock_getres", sys_clock_getres},
    [230] = {"clock_nanosleep", sys_clock_nanosleep},
    [231] = {"exit_group", sys_exit},
    [257] = {"openat", sys_openat},
    [262] = {"newfstatat", sys_newfstatat},
    [267] = {"readlinkat", NULL},
    [273] = {"set_robust_list", sys_nosys},
    [302] = {"prlimit64", sys_prlimit64},
    [318] = {"getrandom", sys_getrandom},
    [324] = {"membarrier", sys_nosys},
    [332] = {"statx", sys_nosys},
    [334] = {"rseq", sys_nosys},
};

const char *syscall_name(uint64_t nr)
{
	return nr < ARRAY_SIZE(syscall_table) ? syscall_table[nr].name : NULL;
}

static void syscall_warn_once(struct proc *p, uint64_t nr)
{
	uint64_t bit = nr < 512 ? nr : 511;
	const char *name = syscall_name(nr);

	if (p->warned[bit / 64] & (1ull << (bit % 64)))
		return;
	p->warned[bit / 64] |= 1ull << (bit % 64);
	if (name)
		vmm_warn("syscall %s (%llu) is not implemented: -ENOSYS", name,
			 (unsigned long long)nr);
	else
		vmm_warn("unknown syscall %llu: -ENOSYS", (unsigned long long)nr);
}

long syscall_dispatch(struct proc *p, uint64_t nr, const uint64_t args[6])
{
	const struct syscall_def *d = nr < ARRAY_SIZE(syscall_table) ? &syscall_table[nr] : NULL;

	p->nsyscalls++;
	if (!d || !d->fn) {
		syscall_warn_once(p, nr);
		return -ENOSYS;
	}
	return d->fn(p, args);
}
