/* Private to the syscall layer: the handlers the dispatch table in
 * syscall.c points at, by family. Each takes the calling task and the six
 * raw argument registers. */
#ifndef VMM_SYSCALLS_H
#define VMM_SYSCALLS_H

#include "kernel/signal.h"
#include "kernel/task.h"

/* File descriptors, sys_io.c. */
/* The host fd behind a guest fd: -EBADF when closed, -EISDIR for a
 * directory vmm synthesizes (no host object). */
int io_host_fd(struct task *t, uint64_t fd);
long sys_read(struct task *t, const uint64_t a[6]);
long sys_write(struct task *t, const uint64_t a[6]);
long sys_pread64(struct task *t, const uint64_t a[6]);
long sys_pwrite64(struct task *t, const uint64_t a[6]);
long sys_readv(struct task *t, const uint64_t a[6]);
long sys_writev(struct task *t, const uint64_t a[6]);
long sys_preadv(struct task *t, const uint64_t a[6]);
long sys_pwritev(struct task *t, const uint64_t a[6]);
long sys_close(struct task *t, const uint64_t a[6]);
long sys_close_range(struct task *t, const uint64_t a[6]);
long sys_pipe(struct task *t, const uint64_t a[6]);
long sys_pipe2(struct task *t, const uint64_t a[6]);
long sys_dup(struct task *t, const uint64_t a[6]);
long sys_dup2(struct task *t, const uint64_t a[6]);
long sys_dup3(struct task *t, const uint64_t a[6]);
long sys_ioctl(struct task *t, const uint64_t a[6]);
long sys_lseek(struct task *t, const uint64_t a[6]);
long sys_fcntl(struct task *t, const uint64_t a[6]);
long sys_poll(struct task *t, const uint64_t a[6]);
long sys_ppoll(struct task *t, const uint64_t a[6]);
long sys_select(struct task *t, const uint64_t a[6]);
long sys_pselect6(struct task *t, const uint64_t a[6]);
long sys_sendfile(struct task *t, const uint64_t a[6]);

/* Paths and the file system the user granted, sys_fs.c. */
long sys_fstat(struct task *t, const uint64_t a[6]);
long sys_stat(struct task *t, const uint64_t a[6]);
long sys_lstat(struct task *t, const uint64_t a[6]);
long sys_newfstatat(struct task *t, const uint64_t a[6]);
long sys_statx(struct task *t, const uint64_t a[6]);
long sys_open(struct task *t, const uint64_t a[6]);
long sys_openat(struct task *t, const uint64_t a[6]);
long sys_openat2(struct task *t, const uint64_t a[6]);
long sys_creat(struct task *t, const uint64_t a[6]);
long sys_access(struct task *t, const uint64_t a[6]);
long sys_faccessat(struct task *t, const uint64_t a[6]);
long sys_faccessat2(struct task *t, const uint64_t a[6]);
long sys_readlink(struct task *t, const uint64_t a[6]);
long sys_readlinkat(struct task *t, const uint64_t a[6]);
long sys_mkdir(struct task *t, const uint64_t a[6]);
long sys_mkdirat(struct task *t, const uint64_t a[6]);
long sys_unlink(struct task *t, const uint64_t a[6]);
long sys_unlinkat(struct task *t, const uint64_t a[6]);
long sys_rmdir(struct task *t, const uint64_t a[6]);
long sys_rename(struct task *t, const uint64_t a[6]);
long sys_renameat(struct task *t, const uint64_t a[6]);
long sys_renameat2(struct task *t, const uint64_t a[6]);
long sys_truncate(struct task *t, const uint64_t a[6]);
long sys_ftruncate(struct task *t, const uint64_t a[6]);
long sys_fsync(struct task *t, const uint64_t a[6]);
long sys_fdatasync(struct task *t, const uint64_t a[6]);
long sys_getdents64(struct task *t, const uint64_t a[6]);
long sys_chdir(struct task *t, const uint64_t a[6]);
long sys_fchdir(struct task *t, const uint64_t a[6]);
long sys_getcwd(struct task *t, const uint64_t a[6]);
long sys_umask(struct task *t, const uint64_t a[6]);
long sys_fadvise64(struct task *t, const uint64_t a[6]);
long sys_fchmod(struct task *t, const uint64_t a[6]);
long sys_chmod(struct task *t, const uint64_t a[6]);
long sys_fchmodat(struct task *t, const uint64_t a[6]);
long sys_fchown(struct task *t, const uint64_t a[6]);
long sys_utimensat(struct task *t, const uint64_t a[6]);
long sys_symlink(struct task *t, const uint64_t a[6]);
long sys_symlinkat(struct task *t, const uint64_t a[6]);
long sys_sync(struct task *t, const uint64_t a[6]);

/* Memory, sys_mem.c (the work is in mm.c). */
long sys_brk(struct task *t, const uint64_t a[6]);
long sys_mmap(struct task *t, const uint64_t a[6]);
long sys_munmap(struct task *t, const uint64_t a[6]);
long sys_mprotect(struct task *t, const uint64_t a[6]);
long sys_madvise(struct task *t, const uint64_t a[6]);
long sys_mremap(struct task *t, const uint64_t a[6]);

/* Process and thread identity, life and limits, sys_proc.c. */
long sys_exit(struct task *t, const uint64_t a[6]);
long sys_exit_group(struct task *t, const uint64_t a[6]);
long sys_getpid(struct task *t, const uint64_t a[6]);
long sys_gettid(struct task *t, const uint64_t a[6]);
long sys_getppid(struct task *t, const uint64_t a[6]);
long sys_getuid(struct task *t, const uint64_t a[6]);
long sys_geteuid(struct task *t, const uint64_t a[6]);
long sys_getgid(struct task *t, const uint64_t a[6]);
long sys_getegid(struct task *t, const uint64_t a[6]);
long sys_sched_yield(struct task *t, const uint64_t a[6]);
long sys_set_tid_address(struct task *t, const uint64_t a[6]);
long sys_arch_prctl(struct task *t, const uint64_t a[6]);
long sys_prctl(struct task *t, const uint64_t a[6]);
long sys_sched_getaffinity(struct task *t, const uint64_t a[6]);
long sys_prlimit64(struct task *t, const uint64_t a[6]);
long sys_getrlimit(struct task *t, const uint64_t a[6]);
long sys_getrusage(struct task *t, const uint64_t a[6]);
/* Refused, with one warning that says why: one process, no exec. */
long sys_fork(struct task *t, const uint64_t a[6]);
long sys_vfork(struct task *t, const uint64_t a[6]);
long sys_clone(struct task *t, const uint64_t a[6]);
/* fork, vfork, execve and a clone that makes a process: -ENOSYS, said once. */
long proc_no_fork(struct task *t, const char *call);

/* Threads, thread.c (exit, yield, affinity and getcpu too) and futex.c. */
long sys_clone3(struct task *t, const uint64_t a[6]);
long sys_set_robust_list(struct task *t, const uint64_t a[6]);
long sys_get_robust_list(struct task *t, const uint64_t a[6]);
long sys_futex(struct task *t, const uint64_t a[6]);
long sys_execve(struct task *t, const uint64_t a[6]);
long sys_execveat(struct task *t, const uint64_t a[6]);
long sys_getcpu(struct task *t, const uint64_t a[6]);

/* Signals and the timers that send them, sys_signal.c (delivery: signal.c). */
long sys_rt_sigaction(struct task *t, const uint64_t a[6]);
long sys_rt_sigprocmask(struct task *t, const uint64_t a[6]);
long sys_rt_sigpending(struct task *t, const uint64_t a[6]);
long sys_rt_sigreturn(struct task *t, const uint64_t a[6]);
long sys_rt_sigsuspend(struct task *t, const uint64_t a[6]);
long sys_pause(struct task *t, const uint64_t a[6]);
long sys_sigaltstack(struct task *t, const uint64_t a[6]);
long sys_kill(struct task *t, const uint64_t a[6]);
long sys_tkill(struct task *t, const uint64_t a[6]);
long sys_tgkill(struct task *t, const uint64_t a[6]);
long sys_alarm(struct task *t, const uint64_t a[6]);
long sys_setitimer(struct task *t, const uint64_t a[6]);
long sys_getitimer(struct task *t, const uint64_t a[6]);
long sys_timer_create(struct task *t, const uint64_t a[6]);
long sys_timer_settime(struct task *t, const uint64_t a[6]);
long sys_timer_gettime(struct task *t, const uint64_t a[6]);
long sys_timer_getoverrun(struct task *t, const uint64_t a[6]);
long sys_timer_delete(struct task *t, const uint64_t a[6]);
/* A write to a pipe without reader: Linux sends SIGPIPE to the writer
 * (delivered on the way back to the payload). Returns r. */
long signal_check_epipe(struct task *t, long r);
/* ppoll, pselect6: the guest mask at set_gva (size bytes; 0: none) holds
 * while the call waits; signal_wait_done(t, ret) puts the old one back, or
 * leaves that to the signal frame when the wait was interrupted. */
long signal_wait_mask(struct task *t, gva_t set_gva, uint64_t size);
void signal_wait_done(struct task *t, long ret);
/* A write past --max-output: SIGXFSZ, whose default action ends the
 * payload (with SIG_IGN the write just fails). Returns -EFBIG. */
long signal_xfsz(struct task *t);

/* Clocks and sleeping, sys_time.c. */
struct timespec;
/* A time the payload passed: tv_sec >= 0 and tv_nsec in [0, 1e9). */
bool timespec_valid(const struct timespec *ts);
long sys_clock_gettime(struct task *t, const uint64_t a[6]);
long sys_clock_getres(struct task *t, const uint64_t a[6]);
long sys_clock_nanosleep(struct task *t, const uint64_t a[6]);
long sys_gettimeofday(struct task *t, const uint64_t a[6]);
long sys_time(struct task *t, const uint64_t a[6]);
long sys_nanosleep(struct task *t, const uint64_t a[6]);

/* The machine as the payload sees it, sys_info.c. */
long sys_uname(struct task *t, const uint64_t a[6]);
long sys_sysinfo(struct task *t, const uint64_t a[6]);
long sys_getrandom(struct task *t, const uint64_t a[6]);

#endif
