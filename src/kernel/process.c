/* The process and its threads' life cycle: what exists before the first
 * syscall, and how exit(2) and exit_group(2) end it. */
#include "kernel/process.h"

#include <unistd.h>

#include "kernel/task.h"

void process_init(struct process *p, struct mm *mm, uint64_t mem_bytes)
{
	*p = (struct process){
	    .mm = mm,
	    .pt = mm->pt,
	    .mem_bytes = mem_bytes,
	    /* Recursive: the fd helpers take it inside a syscall that holds it. */
	    .lock = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP,
	    .cwd = "/",
	    .umask = 022,
	    .max_threads = 1,
	    .next_tid = getpid() + 1,
	};
	fdtable_init(&p->fds);
	futex_init(&p->futex);
	signal_init_process(p);
}

void process_destroy(struct process *p)
{
	signal_destroy_process(p);
	fdtable_destroy(&p->fds);
}

void process_exit(struct process *p, int status)
{
	if (__atomic_load_n(&p->exited, __ATOMIC_ACQUIRE))
		return; /* the first exit_group (or the last exit) decides */
	p->exit_status = status & 0xff;
	__atomic_store_n(&p->exited, true, __ATOMIC_RELEASE);
}

void task_init(struct task *t, struct process *p)
{
	*t = (struct task){.proc = p, .tid = getpid(), .altstack_flags = SS_DISABLE};
	p->tasks[p->nthreads++] = t;
}
