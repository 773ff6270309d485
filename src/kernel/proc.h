/* The payload as a Linux process: what the syscall layer keeps between
 * calls. The run loop owns it; syscall.c changes it. */
#ifndef VMM_PROC_H
#define VMM_PROC_H

#include <signal.h>

#include "kernel/mm.h"

#define PROC_NFDS 3 /* the payload has stdin, stdout and stderr only */

struct proc {
	struct mm *mm;
	struct page_tables *pt;
	uint64_t mem_bytes; /* guest RAM, for sysinfo */

	bool exited;
	int exit_status; /* valid once exited */

	uint64_t fs_base, gs_base; /* arch_prctl: the run loop loads them */
	bool segbase_dirty;

	gva_t clear_child_tid;
	uint64_t sigmask;
	uint64_t sig_ignored; /* bit N-1: signal N set to SIG_IGN */
	int kill_signal;      /* nonzero: Linux would kill the payload now */
	bool fd_open[PROC_NFDS];
	uint64_t warned[8]; /* unknown syscalls warned about (bitmap) */
	bool warned_oom;    /* "out of guest memory" said once */

	/* prctl(PR_TASK_PERF_EVENTS_{ENABLE,DISABLE}) -> region edges. */
	int (*region_edge)(void *ctx, bool enable);
	void *region_ctx;

	uint64_t nsyscalls;
};

void proc_init(struct proc *p, struct mm *mm, uint64_t mem_bytes);

#endif
