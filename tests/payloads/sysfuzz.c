#define _GNU_SOURCE
/* The guest is untrusted: throws random syscall numbers with random
 * pointers, lengths and flags at the VMM, and random mmap/munmap/mprotect/
 * madvise/mremap calls inside a scratch window, then prints how many calls
 * it survived. Only calls that would end or wreck the process itself are
 * left out (exit, munmap of its own code, sleeping for years, ...).
 * Natively it may well kill itself (the kernel honours calls that vmm
 * refuses), so only the guest run is a test: the VMM must survive it.
 * With a second argument "paths" it also throws random paths (.., /,
 * symlink names, overlong ones) at the path syscalls: NEVER run that
 * natively, it renames and removes whatever it reaches. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#define WINDOW (64ul << 20)

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static int skipped(long nr)
{
	switch (nr) {
	case SYS_exit:
	case SYS_exit_group:
	case SYS_rt_sigreturn:
	case SYS_munmap:
	case SYS_mprotect:
	case SYS_mremap:
	case SYS_madvise:
	case SYS_brk:
	case SYS_mmap:
	case SYS_arch_prctl:
	case SYS_nanosleep:
	case SYS_clock_nanosleep:
	case SYS_close:
	case SYS_close_range:
	case SYS_read:
	case SYS_readv:
	case SYS_pause:
	case SYS_kill:
	case SYS_tgkill:
	case SYS_tkill:
	case SYS_vfork:
	case SYS_fork:
	case SYS_clone:
	case SYS_clone3:
	case SYS_execve:
	case SYS_execveat:
	case SYS_rt_sigsuspend:
	case SYS_select:
	case SYS_pselect6:
	case SYS_poll:
	case SYS_ppoll:
	case SYS_epoll_wait:
	case SYS_epoll_pwait:
	case SYS_futex:
	case SYS_wait4:
	case SYS_waitid:
	case SYS_shmat:
	case SYS_set_tid_address:
	case SYS_rt_sigtimedwait:
	case SYS_alarm:
	case SYS_setitimer:
	case SYS_timer_settime:
	case SYS_sched_setaffinity:
	case SYS_setrlimit:
	case SYS_prlimit64:
	case SYS_prctl:
	case SYS_seccomp:
	case SYS_ptrace:
	case SYS_reboot:
	case SYS_process_vm_writev:
	case SYS_mlockall:
	case SYS_munlockall:
	case SYS_ioctl:
	case SYS_dup2:
	case SYS_dup3:
	case SYS_sigaltstack:
	case SYS_personality:
	case SYS_unshare:
	case SYS_setns:
		return 1;
	default:
		return 0;
	}
}

static uint64_t arg(char *scratch)
{
	switch (next() % 6) {
	case 0:
		return next(); /* anything */
	case 1:
		return next() % 4096; /* small number or null page */
	case 2:
		return (uint64_t)(uintptr_t)scratch + next() % 8192; /* valid-ish pointer */
	case 3:
		return 0xffff800000000000ull + next() % (1ull << 40); /* kernel half */
	case 4:
		return 0x7ffffffff000ull - next() % 8192; /* the top of user space */
	default:
		return -(next() % 4096); /* -errno-like, huge lengths */
	}
}

static void fuzz_memory(char *win)
{
	uint64_t off = (next() % (WINDOW / 4096)) * 4096, len = (next() % 64 + 1) * 4096;
	int prot = (int)(next() % 8) & 3;

	if (next() % 16 == 0)
		len = next(); /* huge, wrapping */
	if (off + (len & 0xffffffff) > WINDOW)
		len = WINDOW - off;
	switch (next() % 6) {
	case 0:
		mmap(win + off, len, prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
		break;
	case 1:
		munmap(win + off, len);
		break;
	case 2:
		mprotect(win + off, len, prot);
		break;
	case 3:
		madvise(win + off, len, (int)(next() % 16));
		break;
	case 4:
		mremap(win + off, len, (next() % 64 + 1) * 4096, 0);
		break;
	default:
		if (prot & PROT_WRITE)
			mprotect(win + off, 4096, PROT_READ | PROT_WRITE);
		break;
	}
	/* Leave the window mapped so that nothing else lands in it. */
	mmap(win + off, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
}

/* Path syscalls and the argument positions that hold a path. */
static const struct {
	long nr;
	unsigned paths; /* bit i: argument i is a path */
} path_calls[] = {
    {SYS_open, 1},	 {SYS_openat, 2},     {SYS_creat, 1},	   {SYS_stat, 1},
    {SYS_lstat, 1},	 {SYS_newfstatat, 2}, {SYS_statx, 2},	   {SYS_access, 1},
    {SYS_faccessat2, 2}, {SYS_mkdir, 1},      {SYS_mkdirat, 2},	   {SYS_unlink, 1},
    {SYS_unlinkat, 2},	 {SYS_rmdir, 1},      {SYS_rename, 3},	   {SYS_renameat2, 10},
    {SYS_chdir, 1},	 {SYS_readlink, 1},   {SYS_symlink, 3},	   {SYS_truncate, 1},
    {SYS_chmod, 1},	 {SYS_utimensat, 2},  {SYS_readlinkat, 2}, {SYS_getcwd, 0},
};

static void random_path(char *p, size_t cap)
{
	static const char *const parts[] = {"/",  "..",	 ".",	   "tmp",  "dev",  "null",
					    "g",  "abs", "up",	   "sub",  "file", "x",
					    "//", "etc", "passwd", "\xff", ""};
	size_t n = 0, k = next() % 12;

	if (next() % 32 == 0) { /* longer than PATH_MAX */
		memset(p, 'a', cap - 1);
		p[cap - 1] = '\0';
		return;
	}
	while (k-- && n + 16 < cap) {
		const char *s = parts[next() % (sizeof(parts) / sizeof(parts[0]))];

		n += (size_t)snprintf(p + n, cap - n, "%s%s", n && next() % 2 ? "/" : "", s);
	}
	p[n] = '\0';
}

static void fuzz_path(char *scratch, char *paths)
{
	size_t i = next() % (sizeof(path_calls) / sizeof(path_calls[0]));
	uint64_t a[6];

	random_path(paths, 5000);
	random_path(paths + 5000, 5000);
	for (int k = 0; k < 6; k++)
		a[k] = (path_calls[i].paths & (1u << k))
			   ? (uint64_t)(uintptr_t)(paths + 5000 * (next() % 2))
		       : k == 0 && path_calls[i].paths & 2
			   ? (uint64_t)(int64_t)(next() % 2 ? -100 : (long)(next() % 8))
			   : arg(scratch);
	syscall(path_calls[i].nr, a[0], a[1], a[2], a[3], a[4], a[5]);
}

/* Pointers near the top of user space (arg() case 4) fall in the initial
 * stack, and calls that write there (uname, getrusage, ...) would overwrite
 * live frames: whether that crashed the payload depended on the size of the
 * environment. The loop's frames live below that zone; main never returns. */
#define TOP_ZONE 8192

static __attribute__((noinline)) int fuzz(long n, int with_paths)
{
	long i, done = 0;
	char *scratch = malloc(16384), *paths = malloc(10000);
	char *win = mmap(NULL, WINDOW, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (!scratch || !paths || win == MAP_FAILED)
		return 2;
	memset(scratch, 0, 16384);
	for (i = 0; i < n; i++) {
		long nr = (long)(next() % 460);

		if (with_paths && i % 4 == 1) {
			fuzz_path(scratch, paths);
			done++;
			continue;
		}
		if (i % 4 == 0) {
			fuzz_memory(win);
			done++;
			continue;
		}
		if (skipped(nr) || nr == SYS_write || nr == SYS_writev || nr == SYS_pwrite64)
			continue;
		syscall(nr, arg(scratch), arg(scratch), arg(scratch), arg(scratch), arg(scratch),
			arg(scratch));
		done++;
	}
	printf("sysfuzz: survived %ld calls\n", done);
	return 0;
}

int main(int argc, char **argv)
{
	char below_top_zone[2 * TOP_ZONE];

	__asm__ volatile("" : : "r"(below_top_zone) : "memory"); /* keep it on the stack */
	exit(fuzz(argc > 1 ? atol(argv[1]) : 5000, argc > 2 && strcmp(argv[2], "paths") == 0));
}
