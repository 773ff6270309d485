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
	    .lock = PTHREAD_MUTEX_INITIALIZER,
	    .cwd = "/",
	    .umask = 022,
	};
	fdtable_init(&p->fds);
	signal_init_process(p);
}

void process_destroy(struct process *p)
{
	signal_destroy_process(p);
	fdtable_destroy(&p->fds);
}

void process_exit(struct process *p, int status)
{
	p->exited = true;
	p->exit_status = status & 0xff;
}

void task_init(struct task *t, struct process *p)
{
	*t = (struct task){.proc = p, .tid = getpid(), .altstack_flags = 2 /* SS_DISABLE */};
	p->nthreads++;
}
