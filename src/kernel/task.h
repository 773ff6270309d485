/* One thread of the payload: what Linux keeps per thread (identity, TLS
 * bases, signal mask, clear_child_tid) beside the process it belongs to.
 * Syscall handlers get the calling task and reach the process through it. */
#ifndef VMM_TASK_H
#define VMM_TASK_H

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
	/* ppoll/pselect6/rt_sigsuspend: the mask to restore after the wait
	 * (or after the handler that interrupted it). */
	uint64_t saved_sigmask;
	bool restore_sigmask;
	bool exited; /* exit(2): this thread is gone */

	uint64_t nsyscalls;
};

/* The first thread of p: its tid is the process id, as in Linux. */
void task_init(struct task *t, struct process *p);

#endif
