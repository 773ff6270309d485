/* Process and thread syscalls: identity (the payload's pid is vmm's own),
 * exit, thread-local storage bases, prctl's region markers, CPU affinity
 * and resource limits. */
#include <asm/prctl.h>
#include <errno.h>
#include <linux/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "guest/uaccess.h"
#include "kernel/syscalls.h"
#include "util/err.h"

#define RLIMIT_STACK_BYTES (8ull << 20)

long sys_exit_group(struct task *t, const uint64_t a[6])
{
	process_exit(t->proc, (int)a[0]);
	return 0;
}

long sys_getpid(struct task *t, const uint64_t a[6])
{
	(void)t, (void)a;
	return getpid();
}

long sys_gettid(struct task *t, const uint64_t a[6])
{
	(void)a;
	return t->tid;
}

long sys_getppid(struct task *t, const uint64_t a[6])
{
	(void)t, (void)a;
	return getppid();
}

long sys_getuid(struct task *t, const uint64_t a[6])
{
	(void)t, (void)a;
	return getuid();
}

long sys_geteuid(struct task *t, const uint64_t a[6])
{
	(void)t, (void)a;
	return geteuid();
}

long sys_getgid(struct task *t, const uint64_t a[6])
{
	(void)t, (void)a;
	return getgid();
}

long sys_getegid(struct task *t, const uint64_t a[6])
{
	(void)t, (void)a;
	return getegid();
}

long sys_set_tid_address(struct task *t, const uint64_t a[6])
{
	t->clear_child_tid = a[0];
	return t->tid;
}

long sys_arch_prctl(struct task *t, const uint64_t a[6])
{
	uint64_t v;

	switch (a[0]) {
	case ARCH_SET_FS:
	case ARCH_SET_GS:
		if (a[1] >= USER_TOP)
			return -EPERM;
		*(a[0] == ARCH_SET_FS ? &t->fs_base : &t->gs_base) = a[1];
		t->segbase_dirty = true;
		return 0;
	case ARCH_GET_FS:
	case ARCH_GET_GS:
		v = a[0] == ARCH_GET_FS ? t->fs_base : t->gs_base;
		return uaccess_write(t->proc->pt, a[1], &v, sizeof(v));
	default:
		return -EINVAL; /* includes CET: not offered */
	}
}

long sys_prctl(struct task *t, const uint64_t a[6])
{
	struct process *p = t->proc;

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

static long rlimit_get(uint64_t res, struct rlimit *rl)
{
	if (res >= RLIM_NLIMITS)
		return -EINVAL;
	if (res == RLIMIT_STACK) {
		rl->rlim_cur = rl->rlim_max = RLIMIT_STACK_BYTES; /* what mm.c maps */
		return 0;
	}
	if (res == RLIMIT_NOFILE) {
		rl->rlim_cur = rl->rlim_max = FD_LIMIT; /* the guest fd table's size */
		return 0;
	}
	return getrlimit((int)res, rl) < 0 ? -errno : 0;
}

long sys_prlimit64(struct task *t, const uint64_t a[6])
{
	struct rlimit rl;
	long r;

	if (a[0] != 0 && a[0] != (uint64_t)getpid())
		return -ESRCH;
	/* Linux copies the new limit in before anything else: -EFAULT first. */
	if (a[2] && uaccess_read(t->proc->pt, &rl, a[2], sizeof(rl)) < 0)
		return -EFAULT;
	if (a[2])
		return -EPERM; /* limits are fixed by the VMM */
	r = rlimit_get(a[1], &rl);
	if (r == 0 && a[3])
		r = uaccess_write(t->proc->pt, a[3], &rl, sizeof(rl));
	return r;
}

long sys_getrlimit(struct task *t, const uint64_t a[6])
{
	struct rlimit rl;
	long r = rlimit_get(a[0], &rl);

	return r ? r : uaccess_write(t->proc->pt, a[1], &rl, sizeof(rl));
}

long sys_getrusage(struct task *t, const uint64_t a[6])
{
	struct rusage ru;

	if ((int)a[0] != RUSAGE_SELF && (int)a[0] != RUSAGE_THREAD && (int)a[0] != RUSAGE_CHILDREN)
		return -EINVAL;
	if (getrusage((int)a[0], &ru) < 0)
		return -errno;
	return uaccess_write(t->proc->pt, a[1], &ru, sizeof(ru));
}

/* One process, no exec: said once, naming what programs call, so a shell
 * that cannot run a pipeline says why. */
long proc_no_fork(struct task *t, const char *call)
{
	struct process *p = t->proc;

	if (!p->warned_fork) {
		p->warned_fork = true;
		vmm_warn("%s: the payload is the guest's only process: fork, vfork, clone of a "
			 "process and execve are not supported: -ENOSYS",
			 call);
	}
	return -ENOSYS;
}

long sys_fork(struct task *t, const uint64_t a[6])
{
	(void)a;
	return proc_no_fork(t, "fork");
}
long sys_vfork(struct task *t, const uint64_t a[6])
{
	(void)a;
	return proc_no_fork(t, "vfork");
}
long sys_execve(struct task *t, const uint64_t a[6])
{
	(void)a;
	return proc_no_fork(t, "execve");
}
long sys_execveat(struct task *t, const uint64_t a[6])
{
	(void)a;
	return proc_no_fork(t, "execveat");
}
