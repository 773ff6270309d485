/* Syscall dispatch: x86-64 syscalls by number and name, with the handler
 * vmm has for each (sys_*.c, by family) or none. The number from the
 * guest's rax is bounds-checked before it indexes the table. */
#include "kernel/syscall.h"

#include <errno.h>

#include "kernel/syscalls.h"
#include "util/err.h"

typedef long (*syscall_fn)(struct task *t, const uint64_t a[6]);

struct syscall_def {
	const char *name;
	/* NULL: not implemented (-ENOSYS, warned once). sys_nosys: -ENOSYS is
	 * the expected answer and libc copes, so no warning. */
	syscall_fn fn;
};

/* -ENOSYS for syscalls that libcs probe and fall back from. */
static long sys_nosys(struct task *t, const uint64_t a[6])
{
	(void)t, (void)a;
	return -ENOSYS;
}

#define IMPL(nr, name) [nr] = {#name, sys_##name}
#define QUIET(nr, name) [nr] = {#name, sys_nosys}
#define NOSYS(nr, name) [nr] = {#name, NULL}

/* x86-64 numbers, arch/x86/entry/syscalls/syscall_64.tbl. */
static const struct syscall_def syscall_table[] = {
    IMPL(0, read),
    IMPL(1, write),
    IMPL(2, open),
    IMPL(3, close),
    NOSYS(4, stat),
    IMPL(5, fstat),
    NOSYS(6, lstat),
    NOSYS(7, poll),
    IMPL(8, lseek),
    IMPL(9, mmap),
    IMPL(10, mprotect),
    IMPL(11, munmap),
    IMPL(12, brk),
    IMPL(13, rt_sigaction),
    IMPL(14, rt_sigprocmask),
    NOSYS(15, rt_sigreturn),
    IMPL(16, ioctl),
    IMPL(19, readv),
    IMPL(20, writev),
    NOSYS(21, access),
    IMPL(24, sched_yield),
    IMPL(25, mremap),
    IMPL(28, madvise),
    IMPL(35, nanosleep),
    IMPL(39, getpid),
    IMPL(60, exit),
    NOSYS(62, kill),
    IMPL(63, uname),
    IMPL(72, fcntl),
    IMPL(79, getcwd),
    IMPL(89, readlink),
    IMPL(96, gettimeofday),
    IMPL(97, getrlimit),
    IMPL(98, getrusage),
    IMPL(99, sysinfo),
    IMPL(102, getuid),
    IMPL(104, getgid),
    IMPL(107, geteuid),
    IMPL(108, getegid),
    IMPL(110, getppid),
    IMPL(131, sigaltstack),
    IMPL(157, prctl),
    IMPL(158, arch_prctl),
    IMPL(186, gettid),
    IMPL(201, time),
    NOSYS(202, futex),
    IMPL(204, sched_getaffinity),
    IMPL(218, set_tid_address),
    IMPL(228, clock_gettime),
    IMPL(229, clock_getres),
    IMPL(230, clock_nanosleep),
    IMPL(231, exit_group),
    IMPL(257, openat),
    IMPL(262, newfstatat),
    NOSYS(267, readlinkat),
    QUIET(273, set_robust_list),
    IMPL(302, prlimit64),
    IMPL(318, getrandom),
    QUIET(324, membarrier),
    QUIET(332, statx),
    QUIET(334, rseq),
};

#undef IMPL
#undef QUIET
#undef NOSYS

const char *syscall_name(uint64_t nr)
{
	return nr < ARRAY_SIZE(syscall_table) ? syscall_table[nr].name : NULL;
}

static void syscall_warn_once(struct process *p, uint64_t nr)
{
	uint64_t bit = nr < PROCESS_WARN_BITS ? nr : PROCESS_WARN_BITS - 1;
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

long syscall_dispatch(struct task *t, uint64_t nr, const uint64_t args[6])
{
	const struct syscall_def *d = nr < ARRAY_SIZE(syscall_table) ? &syscall_table[nr] : NULL;

	t->nsyscalls++;
	if (!d || !d->fn) {
		syscall_warn_once(t->proc, nr);
		return -ENOSYS;
	}
	return d->fn(t, args);
}
