/* The Linux x86-64 syscall ABI as the payload's kernel: a table indexed by
 * the bounds-checked syscall number. Handlers return what the syscall
 * returns (a value or -errno) and validate every argument. */
#ifndef VMM_SYSCALL_H
#define VMM_SYSCALL_H

#include "kernel/proc.h"

long syscall_dispatch(struct proc *p, uint64_t nr, const uint64_t args[6]);
/* "write", or NULL for a number vmm has no name for. */
const char *syscall_name(uint64_t nr);

/* A write to a pipe without reader: Linux sends SIGPIPE, whose default
 * action kills the payload; with SIG_IGN the write just fails. Returns r. */
long proc_check_epipe(struct proc *p, long r);

/* Handlers for file descriptors, in sys_io.c. */
long sys_read(struct proc *p, const uint64_t a[6]);
long sys_write(struct proc *p, const uint64_t a[6]);
long sys_readv(struct proc *p, const uint64_t a[6]);
long sys_writev(struct proc *p, const uint64_t a[6]);
long sys_close(struct proc *p, const uint64_t a[6]);
long sys_ioctl(struct proc *p, const uint64_t a[6]);
long sys_fstat(struct proc *p, const uint64_t a[6]);
long sys_newfstatat(struct proc *p, const uint64_t a[6]);
long sys_lseek(struct proc *p, const uint64_t a[6]);
long sys_fcntl(struct proc *p, const uint64_t a[6]);
long sys_openat(struct proc *p, const uint64_t a[6]);
long sys_open(struct proc *p, const uint64_t a[6]);
long sys_readlink(struct proc *p, const uint64_t a[6]);

#endif
