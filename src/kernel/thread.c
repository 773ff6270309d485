/* Threads of the payload: clone and clone3 with the flags pthread_create
 * passes (each new thread is a vCPU the vm layer starts), thread exit with
 * CLONE_CHILD_CLEARTID's store and wake, the task list, and the host sleep
 * a waiting thread uses (task_sleep/task_wake on a per-task word). */
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <linux/sched.h>
#include <sched.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "guest/uaccess.h"
#include "kernel/syscalls.h"
#include "util/err.h"

/* What a thread shares with its parent in vmm: everything. CLONE_DETACHED
 * is ignored by Linux; CLONE_SYSVSEM has nothing to share (no SysV IPC). */
#define THREAD_SHARED                                                                              \
	(CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM)
#define THREAD_OPTIONAL                                                                            \
	(CLONE_SETTLS | CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID | CLONE_CHILD_SETTID |          \
	 CLONE_DETACHED)

/* ---- the task list ---- */

void task_init_thread(struct task *t, struct task *parent)
{
	struct process *p = parent->proc;

	*t = (struct task){
	    .proc = p,
	    .tid = p->next_tid++,
	    .fs_base = parent->fs_base,
	    .gs_base = parent->gs_base,
	    .segbase_dirty = true,
	    .sigmask = parent->sigmask,
	    .altstack_flags = SS_DISABLE, /* the child has no alternate stack */
	};
	p->tasks[p->nthreads++] = t;
}

void task_unlink(struct task *t)
{
	struct process *p = t->proc;

	for (unsigned i = 0; i < p->nthreads; i++)
		if (p->tasks[i] == t) {
			p->tasks[i] = p->tasks[--p->nthreads];
			p->tasks[p->nthreads] = NULL;
			return;
		}
}

struct task *task_find(struct process *p, int tid)
{
	for (unsigned i = 0; i < p->nthreads; i++)
		if (p->tasks[i]->tid == tid)
			return p->tasks[i];
	return NULL;
}

/* ---- host sleep ---- */

uint32_t task_wake_seq(const struct task *t)
{
	return __atomic_load_n(&t->wake_seq, __ATOMIC_ACQUIRE);
}

int task_sleep(struct task *t, uint32_t seq, int clk, const struct timespec *abs)
{
	int op = FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG |
		 (clk == CLOCK_REALTIME ? FUTEX_CLOCK_REALTIME : 0);
	long r = syscall(SYS_futex, &t->wake_seq, op, seq, abs, NULL, FUTEX_BITSET_MATCH_ANY);

	if (r < 0 && (errno == ETIMEDOUT || errno == EINTR))
		return -errno;
	return 0;
}

void task_wake(struct task *t)
{
	__atomic_add_fetch(&t->wake_seq, 1, __ATOMIC_RELEASE);
	syscall(SYS_futex, &t->wake_seq, FUTEX_WAKE | FUTEX_PRIVATE_FLAG, INT_MAX, NULL, NULL, 0);
}

/* ---- clone ---- */

/* What one clone asks, from clone's registers or clone3's struct. */
struct clone_req {
	uint64_t flags;
	gva_t stack; /* the child's rsp; 0: the parent's */
	gva_t tls, parent_tid, child_tid;
};

static long clone_refuse(struct task *t, long err, const char *why, uint64_t flags)
{
	struct process *p = t->proc;

	if (!p->warned_clone) {
		p->warned_clone = true;
		vmm_warn("clone: flags 0x%llx: %s: %s", (unsigned long long)flags, why,
			 err == -ENOSYS ? "-ENOSYS" : "-EINVAL");
	}
	return err;
}

/* Linux's own consistency rules first (copy_process: -EINVAL), then what
 * vmm can honour: a thread sharing everything. A new address space (fork)
 * is a later issue: -ENOSYS, as for fork itself. */
static long clone_check(struct task *t, uint64_t flags)
{
	if ((flags & CLONE_THREAD) && !(flags & CLONE_SIGHAND))
		return -EINVAL;
	if ((flags & CLONE_SIGHAND) && !(flags & CLONE_VM))
		return -EINVAL;
	if ((flags & CLONE_FS) && (flags & CLONE_NEWNS))
		return -EINVAL;
	if (!(flags & CLONE_VM) || !(flags & CLONE_THREAD))
		return proc_no_fork(t, (flags & CLONE_VM) ? "clone(CLONE_VM) (vfork)"
							  : "clone (fork)");
	if ((flags & ~(uint64_t)CSIGNAL & ~(uint64_t)(THREAD_SHARED | THREAD_OPTIONAL)) ||
	    (flags & THREAD_SHARED) != THREAD_SHARED)
		return clone_refuse(t, -EINVAL,
				    "a thread that does not share everything (vmm supports "
				    "what pthread_create asks)",
				    flags);
	return 0;
}

static long clone_do(struct task *t, const struct clone_req *c)
{
	struct process *p = t->proc;
	struct task *child;
	long r = clone_check(t, c->flags);
	int err = 0;
	int tid;

	if (r < 0)
		return r;
	if (!p->thread_alloc)
		return clone_refuse(t, -ENOSYS, "this vmm was built without threads", c->flags);
	if (__atomic_load_n(&p->exited, __ATOMIC_ACQUIRE))
		return -EINTR; /* the process is going: as Linux's fatal_signal_pending */
	if (p->nthreads >= p->max_threads)
		return -EAGAIN; /* as at RLIMIT_NPROC or threads-max */
	child = p->thread_alloc(p->thread_ctx, &err);
	if (!child)
		return err ? err : -EAGAIN;
	task_init_thread(child, t);
	tid = child->tid;
	if (c->flags & CLONE_SETTLS) {
		if (c->tls >= USER_TOP) {
			r = -EPERM; /* do_arch_prctl_64's answer for a kernel address */
			goto fail;
		}
		child->fs_base = c->tls;
	}
	if (c->flags & CLONE_CHILD_CLEARTID)
		child->clear_child_tid = c->child_tid;
	/* Both stores happen before the child runs, as in copy_process. */
	if ((c->flags & CLONE_PARENT_SETTID) &&
	    uaccess_write(p->pt, c->parent_tid, &tid, sizeof(tid)) < 0) {
		r = -EFAULT;
		goto fail;
	}
	if ((c->flags & CLONE_CHILD_SETTID) &&
	    uaccess_write(p->pt, c->child_tid, &tid, sizeof(tid)) < 0) {
		r = -EFAULT;
		goto fail;
	}
	if (p->thread_start(p->thread_ctx, child, c->stack) < 0) {
		vmm_warn("clone: %s", err_msg());
		r = -EAGAIN;
		goto fail;
	}
	return tid;
fail:
	task_unlink(child);
	p->thread_put(p->thread_ctx, child);
	return r;
}

/* clone(flags, stack, parent_tid, child_tid, tls) on x86-64. */
long sys_clone(struct task *t, const uint64_t a[6])
{
	struct clone_req c = {
	    .flags = a[0], .stack = a[1], .parent_tid = a[2], .child_tid = a[3], .tls = a[4]};

	return clone_do(t, &c);
}

/* struct clone_args, version 0 (64 bytes) and later ones. */
struct clone_args_ {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid,
	    set_tid_size, cgroup;
};
#define CLONE_ARGS_SIZE_VER0_ 64

long sys_clone3(struct task *t, const uint64_t a[6])
{
	struct clone_args_ ca = {0};
	size_t size = a[1];
	struct clone_req c;

	if (size < CLONE_ARGS_SIZE_VER0_ || size > 4096)
		return -EINVAL;
	if (uaccess_read(t->proc->pt, &ca, a[0], size < sizeof(ca) ? size : sizeof(ca)) < 0)
		return -EFAULT;
	/* Linux's clone3_args_valid: a thread has no exit signal, and the
	 * stack is a base and a size, both or neither. */
	if ((ca.flags & CSIGNAL) || ca.exit_signal > CSIGNAL ||
	    ((ca.flags & CLONE_THREAD) && ca.exit_signal) || (!ca.stack != !ca.stack_size) ||
	    ca.set_tid || ca.set_tid_size)
		return -EINVAL;
	c = (struct clone_req){.flags = ca.flags,
			       .stack = ca.stack ? ca.stack + ca.stack_size : 0,
			       .parent_tid = ca.parent_tid,
			       .child_tid = ca.child_tid,
			       .tls = ca.tls};
	return clone_do(t, &c);
}

/* ---- exit ---- */

/* The robust futexes a dying thread still holds (set_robust_list): each
 * marked FUTEX_OWNER_DIED with a waiter woken, as Linux's exit_robust_list.
 * The list is guest memory: bounded, and a bad pointer ends the walk. */
#define ROBUST_LIST_LIMIT 2048
static void thread_exit_robust(struct task *t)
{
	const struct page_tables *pt = t->proc->pt;
	struct {
		uint64_t next;
		int64_t futex_offset;
		uint64_t pending;
	} head;
	uint64_t entry;

	if (!t->robust_list || uaccess_read(pt, &head, t->robust_list, sizeof(head)) < 0)
		return;
	entry = head.next;
	for (int n = 0; n < ROBUST_LIST_LIMIT && (entry & ~1ull) != t->robust_list; n++) {
		uint64_t e = entry & ~1ull, next;

		if (uaccess_read(pt, &next, e, sizeof(next)) < 0)
			break;
		if (e != (head.pending & ~1ull))
			futex_owner_died(&t->proc->futex, pt, e + (uint64_t)head.futex_offset,
					 t->tid);
		entry = next;
	}
	if (head.pending)
		futex_owner_died(&t->proc->futex, pt,
				 (head.pending & ~1ull) + (uint64_t)head.futex_offset, t->tid);
}

/* exit(2) of one thread: CLONE_CHILD_CLEARTID's store and futex wake (what
 * pthread_join waits for), then the task leaves the process; the last
 * one ends it with its status. */
long sys_exit(struct task *t, const uint64_t a[6])
{
	struct process *p = t->proc;
	thread_exit_robust(t);
	if (t->clear_child_tid && futex_store(p->pt, t->clear_child_tid, 0) == 0)
		futex_wake(&p->futex, t->clear_child_tid, 1, FUTEX_BITSET_MATCH_ANY);
	t->exited = true;
	t->exit_code = (int)a[0] & 0xff;
	task_unlink(t);
	if (p->nthreads == 0)
		process_exit(p, (int)a[0]);
	return 0;
}

#define ROBUST_HEAD_BYTES 24 /* sizeof(struct robust_list_head), the only length */

long sys_set_robust_list(struct task *t, const uint64_t a[6])
{
	if (a[1] != ROBUST_HEAD_BYTES)
		return -EINVAL;
	t->robust_list = a[0];
	return 0;
}

long sys_get_robust_list(struct task *t, const uint64_t a[6])
{
	struct task *o = a[0] ? task_find(t->proc, (int)a[0]) : t;
	uint64_t len = ROBUST_HEAD_BYTES;

	if (!o)
		return -ESRCH;
	if (uaccess_write(t->proc->pt, a[1], &o->robust_list, sizeof(o->robust_list)) < 0 ||
	    uaccess_write(t->proc->pt, a[2], &len, sizeof(len)) < 0)
		return -EFAULT;
	return 0;
}

/* Each thread has its own vCPU on its own host thread: the host decides. */
long sys_sched_yield(struct task *t, const uint64_t a[6])
{
	(void)t, (void)a;
	sched_yield();
	return 0;
}

/* The CPUs are the vCPUs the process may have: one per allowed thread
 * (--max-threads). The size is Linux's: the mask in whole longs. */
long sys_sched_getaffinity(struct task *t, const uint64_t a[6])
{
	uint64_t mask[PROCESS_MAX_THREADS / 64] = {0};
	unsigned n = t->proc->max_threads;
	size_t bytes = (n + 63) / 64 * 8;

	if (a[0] != 0 && a[0] != (uint64_t)getpid() && !task_find(t->proc, (int)a[0]))
		return -ESRCH;
	if (a[1] < bytes || (a[1] & (sizeof(long) - 1)))
		return -EINVAL;
	for (unsigned i = 0; i < n; i++)
		mask[i / 64] |= 1ull << (i % 64);
	if (uaccess_write(t->proc->pt, a[2], mask, bytes) < 0)
		return -EFAULT;
	return (long)bytes;
}

/* The calling thread's vCPU, node 0. The cache argument is unused since
 * Linux 2.6.24. */
long sys_getcpu(struct task *t, const uint64_t a[6])
{
	const unsigned cpu = (unsigned)t->cpu, zero = 0;

	if (a[0] && uaccess_write(t->proc->pt, a[0], &cpu, sizeof(cpu)) < 0)
		return -EFAULT;
	if (a[1] && uaccess_write(t->proc->pt, a[1], &zero, sizeof(zero)) < 0)
		return -EFAULT;
	return 0;
}
