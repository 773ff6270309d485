/* The Linux x86-64 syscall ABI as the payload's kernel: a table indexed by
 * the bounds-checked syscall number, one handler per syscall, grouped by
 * family in sys_*.c. Handlers return what the syscall returns (a value or
 * -errno) and validate every argument. */
#ifndef VMM_SYSCALL_H
#define VMM_SYSCALL_H

#include "kernel/task.h"

/* Runs syscall nr for task t. Unimplemented numbers give -ENOSYS with a
 * warning, once per number and process. */
long syscall_dispatch(struct task *t, uint64_t nr, const uint64_t args[6]);
/* "write", or NULL for a number x86-64 Linux does not define. */
const char *syscall_name(uint64_t nr);
/* True for the syscalls that may block for long (futex, the sleeps,
 * sched_yield): the run loop calls them without the process lock, so
 * that a waiting thread never stops the others. Their handlers touch
 * only the calling task, the futex table and guest memory. */
bool syscall_may_wait(uint64_t nr);

#endif
