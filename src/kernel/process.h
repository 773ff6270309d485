/* The payload as a Linux process: what all its threads share (memory, page
 * tables, file table, signal dispositions) and how it ended. The run loop
 * owns it; the syscall handlers change it through a task (task.h). */
#ifndef VMM_PROCESS_H
#define VMM_PROCESS_H

#include <pthread.h>

#include "kernel/fdtable.h"
#include "kernel/futex.h"
#include "kernel/mm.h"
#include "kernel/signal.h"

#define PROCESS_WARN_BITS 512	 /* syscall numbers warned about; above: one bit */
#define PROCESS_MAX_THREADS 1024 /* the most --max-threads allows */

struct process {
	struct mm *mm;
	struct page_tables *pt;
	uint64_t mem_bytes; /* guest RAM, for sysinfo */
	/* Guards what the threads share: mm and page tables, fds, signal
	 * dispositions, the task list. The run loop holds it around every
	 * syscall but those that may wait (futex, sleeps: syscall.c). */
	pthread_mutex_t lock;
	unsigned nthreads;			 /* live tasks: the last exit(2) ends the process */
	struct task *tasks[PROCESS_MAX_THREADS]; /* live ones, any order */
	unsigned max_threads;			 /* --max-threads: clone's EAGAIN beyond it */
	int next_tid;
	struct futex_table futex;
	/* Threads are vCPUs, which the vm layer owns: clone asks it for a
	 * task (NULL: none to be had, errno-style code in *err) and then
	 * starts it at the parent's syscall return with rax 0 and `sp`
	 * (0: the parent's). put drops a task that never started. */
	struct task *(*thread_alloc)(void *ctx, int *err);
	int (*thread_start)(void *ctx, struct task *child, gva_t sp);
	void (*thread_put)(void *ctx, struct task *child);
	/* Makes t leave KVM_RUN or a host wait soon, as a signal for it
	 * would (async-signal-safe). */
	void (*kick_task)(void *ctx, struct task *t);
	void *thread_ctx;

	bool exited;	 /* atomic: read by threads in waits */
	int exit_status; /* valid once exited */

	struct signal_action sigact[SIGNAL_NSIG]; /* [N-1]: signal N */
	struct signal_timer timers[SIGNAL_TIMERS];
	unsigned ntimers; /* in use: signal_pending polls them only then */
	/* Makes the vCPU leave KVM_RUN soon (async-signal-safe): set by the
	 * run loop, called from the host timer signal handler. */
	void (*kick)(void *ctx);
	void *kick_ctx;
	struct signal_fpu fpu; /* save/restore NULL: frames carry no FPU state */
	struct fdtable fds;    /* under lock */
	struct vfs *vfs;       /* the file system the user granted; NULL: none */
	char cwd[4096];	       /* guest path, normalized */
	unsigned umask;
	uint64_t warned[PROCESS_WARN_BITS / 64]; /* unimplemented syscalls said once */
	bool warned_oom;			 /* "out of guest memory" said once */
	bool warned_shared;			 /* MAP_SHARED writable file refused */
	bool warned_fork, warned_clone;		 /* fork/exec, clone flags refused */
	/* Why the vDSO sends clock reads to the syscall (the TSC is not
	 * usable), said once at the first such read; NULL when it does not. */
	const char *clock_fallback_why;
	bool warned_clock;
	/* --max-output: bytes the payload may write to its fds (0: no
	 * limit), like RLIMIT_FSIZE: cut at the limit, then SIGXFSZ. */
	uint64_t out_limit, out_bytes;

	/* prctl(PR_TASK_PERF_EVENTS_{ENABLE,DISABLE}) -> region edges. */
	int (*region_edge)(void *ctx, bool enable);
	void *region_ctx;
};

/* A process without threads yet (task_init adds them). Its lock is
 * statically initialized, so there is nothing to destroy. */
void process_init(struct process *p, struct mm *mm, uint64_t mem_bytes);
/* exit_group: the whole process ends with status & 0xff, as Linux does. */
void process_exit(struct process *p, int status);
/* Closes every host fd the payload held. */
void process_destroy(struct process *p);

#endif
