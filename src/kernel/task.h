/* One thread of the payload: what Linux keeps per thread (identity, TLS
 * bases, signal mask, clear_child_tid) beside the process it belongs to.
 * Syscall handlers get the calling task and reach the process through it. */
#ifndef VMM_TASK_H
#define VMM_TASK_H

#include <time.h>

#include "kernel/process.h"

struct task {
	struct process *proc;
	int tid;

	uint64_t fs_base, gs_base; /* arch_prctl: the run loop loads them */
	bool segbase_dirty;

	gva_t clear_child_tid;
	uint64_t sigmask;
	uint64_t pending;			      /* bit N-1: signal N */
	struct signal_info pending_info[SIGNAL_NSIG]; /* of each pending one */
	uint64_t altstack_sp, altstack_size;	      /* sigaltstack */
	int altstack_flags;			      /* SS_DISABLE, SS_AUTODISARM */
	uint64_t user_sp;    /* rsp at the current syscall: sigaltstack's SS_ONSTACK */
	bool syscall_locked; /* the run loop holds proc->lock (once) for this syscall */
	/* ppoll/pselect6/rt_sigsuspend: the mask to restore after the wait
	 * (or after the handler that interrupted it). */
	uint64_t saved_sigmask;
	bool restore_sigmask;
	bool exited; /* exit(2): this thread is gone */
	int exit_code;
	int cpu;	   /* the vCPU it runs on: getcpu, the report */
	gva_t robust_list; /* set_robust_list: walked at exit(2) */
	/* Host sleep (futex waits): the thread sleeps on this word and
	 * task_wake bumps it, so a wake between the check and the sleep is
	 * never lost. Atomic: written by other threads and signal handlers. */
	uint32_t wake_seq;
	int stop; /* atomic: the run ends, leave any wait at once */

	uint64_t nsyscalls;
};

/* The first thread of p: its tid is the process id, as in Linux. */
void task_init(struct task *t, struct process *p);

/* A thread clone makes: the parent's mask and TLS bases, a fresh tid;
 * registered in p->tasks. The caller holds p->lock. */
void task_init_thread(struct task *t, struct task *parent);
/* Unregisters a thread that exited (or whose start failed); p->lock held. */
void task_unlink(struct task *t);
/* The live task with that tid, or NULL; p->lock held. */
struct task *task_find(struct process *p, int tid);

/* Sleeping on the host without losing a wake: read seq = task_wake_seq(t)
 * before checking the condition, then task_sleep(t, seq, ...), which
 * returns at once if a task_wake came in between. abs: an absolute time
 * on clk, or NULL for no limit. Returns 0 (woken, or the word moved),
 * -ETIMEDOUT, or -EINTR: a host signal, such as the kick of --timeout,
 * which the caller must not sleep through. */
uint32_t task_wake_seq(const struct task *t);
int task_sleep(struct task *t, uint32_t seq, int clk, const struct timespec *abs);
/* Async-signal-safe. */
void task_wake(struct task *t);
/* The thread must leave any wait: the run ends (exit_group, a fatal
 * signal, --timeout). */
static inline bool task_should_stop(const struct task *t)
{
	return __atomic_load_n(&t->stop, __ATOMIC_ACQUIRE) ||
	       __atomic_load_n(&t->proc->exited, __ATOMIC_ACQUIRE);
}

#endif
