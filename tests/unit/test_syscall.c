/* The syscall layer against guest memory without KVM: every pointer and
 * length the payload passes is checked through its page tables, so bad
 * ones come back as -EFAULT/-EINVAL and the VMM never touches host memory
 * outside guest RAM. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "guest/uaccess.h"
#include "guest_fixture.h"
#include "kernel/syscall.h"
#include "unit.h"

#define RW_PAGE 0x500000ull /* two writable pages */
#define RO_PAGE 0x502000ull /* one read-only page right after */

static struct guest_mem mem;
static struct frames fr;
static struct page_tables pt;
static struct mm mm;
static struct process proc;
static struct task task;

static void setup(void)
{
	process_fixture_up(&mem, &fr, &pt, &mm, &proc, &task, 32 * MB);
	ck_assert_int_eq(mm_map_fixed(&mm, RW_PAGE, 2 * SZ_4K, PROT_READ | PROT_WRITE, 0), 0);
	ck_assert_int_eq(mm_map_fixed(&mm, RO_PAGE, SZ_4K, PROT_READ, 0), 0);
}

static void teardown(void)
{
	process_fixture_down(&mem, &fr, &pt, &mm, &proc);
}

static long sys(uint64_t nr, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3)
{
	uint64_t a[6] = {a0, a1, a2, a3, 0, 0};

	return syscall_dispatch(&task, nr, a);
}

START_TEST(uaccess_ranges)
{
	char buf[SZ_4K * 3];

	memset(buf, 'x', sizeof(buf));
	ck_assert_int_eq(uaccess_write(&pt, RW_PAGE, buf, 2 * SZ_4K), 0);
	/* Crossing from writable into read-only memory is a fault for writes... */
	ck_assert_int_eq(uaccess_write(&pt, RW_PAGE + SZ_4K, buf, 2 * SZ_4K), -EFAULT);
	/* ...but fine for reads, and one byte past the mapping is not. */
	ck_assert_int_eq(uaccess_read(&pt, buf, RW_PAGE, 3 * SZ_4K), 0);
	ck_assert_int_eq(uaccess_read(&pt, buf, RW_PAGE, 3 * SZ_4K + 1), -EFAULT);
	ck_assert_int_eq(uaccess_read(&pt, buf, 0, 1), -EFAULT);
	ck_assert_int_eq(uaccess_read(&pt, buf, UINT64_MAX - 2, 8), -EFAULT);	     /* wraps */
	ck_assert_int_eq(uaccess_read(&pt, buf, 0xffff888000000000ull, 8), -EFAULT); /* kernel */
	ck_assert_int_eq(uaccess_read(&pt, buf, RW_PAGE, 0), 0);
}
END_TEST

START_TEST(strncpy_bounds)
{
	char s[16];

	ck_assert_int_eq(uaccess_write(&pt, RW_PAGE + SZ_4K - 3, "abcdef", 7), 0);
	ck_assert_int_eq(uaccess_strncpy(&pt, s, RW_PAGE + SZ_4K - 3, sizeof(s)), 6);
	ck_assert_str_eq(s, "abcdef");
	ck_assert_int_eq(uaccess_strncpy(&pt, s, RW_PAGE + SZ_4K - 3, 4), -ENAMETOOLONG);
	/* No NUL before the end of the mapping: a fault, not an overread. */
	gpa_t last;
	ck_assert_int_eq(pt_translate(&pt, RO_PAGE + SZ_4K - 1, PT_READ, &last), 0);
	*(char *)mem_ptr(&mem, last, 1) = 'z';
	ck_assert_int_eq(uaccess_strncpy(&pt, s, RO_PAGE + SZ_4K - 1, 16), -EFAULT);
}
END_TEST

START_TEST(io_bad_pointers)
{
	struct iovec iov[2] = {{(void *)RW_PAGE, 1}, {(void *)0x1000, 1}};

	ck_assert_int_eq(sys(SYS_write, 1, 0, 5, 0), -EFAULT);
	ck_assert_int_eq(sys(SYS_write, 1, 0xffff888000000000ull, 5, 0), -EFAULT);
	ck_assert_int_eq(sys(SYS_write, 9, RW_PAGE, 1, 0), -EBADF);
	ck_assert_int_eq(sys(SYS_write, (1ull << 40) + 9, RW_PAGE, 1, 0), -EBADF);
	ck_assert_int_eq(sys(SYS_fstat, (1ull << 40) + 1, RW_PAGE, 0, 0), 0); /* fd 1 */
	/* The whole count is checked before the clamp to MAX_RW_COUNT. */
	ck_assert_int_eq(sys(SYS_write, 1, RW_PAGE, UINT64_MAX, 0), -EFAULT);
	ck_assert_int_eq(sys(SYS_read, 0, RW_PAGE, 1ull << 47, 0), -EFAULT);
	ck_assert_int_eq(sys(SYS_read, 0, RO_PAGE, 1, 0), -EFAULT); /* read into read-only */
	ck_assert_int_eq(sys(SYS_writev, 1, 0, 2, 0), -EFAULT);
	ck_assert_int_eq(sys(SYS_writev, 1, RW_PAGE, 1u << 20, 0), -EINVAL); /* > IOV_MAX */
	ck_assert_int_eq(uaccess_write(&pt, RW_PAGE, iov, sizeof(iov)), 0);
	iov[0].iov_len = UINT64_MAX / 2 + 1;
	iov[1].iov_len = UINT64_MAX / 2 + 1; /* the total wraps */
	ck_assert_int_eq(uaccess_write(&pt, RW_PAGE, iov, sizeof(iov)), 0);
	ck_assert_int_eq(sys(SYS_writev, 1, RW_PAGE, 2, 0), -EINVAL);
	ck_assert_int_eq(sys(SYS_close, 2, 0, 0, 0), 0);
	ck_assert_int_eq(sys(SYS_write, 2, RW_PAGE, 1, 0), -EBADF);
	ck_assert_int_eq(sys(SYS_fstat, 1, RO_PAGE, 0, 0), -EFAULT);
	ck_assert_int_eq(sys(SYS_ioctl, 99, 0x5413, RW_PAGE, 0), -EBADF);
	/* Found by fuzz_syscall: close indexed its table with all 64 bits. */
	ck_assert_int_eq(sys(SYS_close, (1ull << 45) + 1, 0, 0, 0), 0);
	ck_assert_int_eq(sys(SYS_write, 1, RW_PAGE, 1, 0), -EBADF);
}
END_TEST

/* A pipe whose fd array the payload cannot write leaves no fds behind. */
START_TEST(pipe_and_poll_bad_pointers)
{
	int fds[2];

	ck_assert_int_eq(sys(SYS_pipe, RO_PAGE, 0, 0, 0), -EFAULT);
	ck_assert_int_eq(sys(SYS_pipe2, RW_PAGE, 0x1234, 0, 0), -EINVAL);
	ck_assert_int_eq(sys(SYS_pipe2, RW_PAGE, O_CLOEXEC, 0, 0), 0);
	ck_assert_int_eq(uaccess_read(&pt, fds, RW_PAGE, sizeof(fds)), 0);
	ck_assert_int_eq(fds[0], 3); /* the failed pipe took none */
	ck_assert_int_eq(fds[1], 4);
	ck_assert_int_eq(sys(SYS_fcntl, 3, F_GETFD, 0, 0), FD_CLOEXEC);
	ck_assert_int_eq(sys(SYS_poll, 0x1000, 1, 0, 0), -EFAULT);
	ck_assert_int_eq(sys(SYS_poll, RW_PAGE, FD_LIMIT + 1, 0, 0), -EINVAL);
	ck_assert_int_eq(sys(SYS_select, FD_LIMIT + 1, 0, 0, 0), -EINVAL);
	ck_assert_int_eq(sys(SYS_select, 8, 0x1000, 0, 0), -EFAULT);
	ck_assert_int_eq(sys(SYS_dup2, 3, FD_LIMIT, 0, 0), -EBADF);
	ck_assert_int_eq(sys(SYS_dup3, 3, 5, 0x1, 0), -EINVAL);
	/* The fds are unsigned int, as in Linux: high register bits ignored. */
	ck_assert_int_eq(sys(SYS_dup2, 3 | (1ull << 32), 3, 0, 0), 3);
	ck_assert_int_eq(sys(SYS_dup3, 3, 3 | (1ull << 40), 0, 0), -EINVAL);
	ck_assert_int_eq(sys(SYS_close_range, 5, 4, 0, 0), -EINVAL);
	ck_assert_int_eq(sys(SYS_close_range, 3, ~0u, 0, 0), 0);
	ck_assert_int_eq(sys(SYS_close, 3, 0, 0, 0), -EBADF);
	ck_assert_int_eq(sys(SYS_pread64, 1, RW_PAGE, 1, -1), -EINVAL);
}
END_TEST

START_TEST(time_and_identity)
{
	struct timespec ts;

	ck_assert_int_eq(sys(SYS_clock_gettime, CLOCK_MONOTONIC, RW_PAGE, 0, 0), 0);
	ck_assert_int_eq(uaccess_read(&pt, &ts, RW_PAGE, sizeof(ts)), 0);
	ck_assert(ts.tv_sec > 0 || ts.tv_nsec > 0);
	ck_assert_int_eq(sys(SYS_clock_gettime, 1234, RW_PAGE, 0, 0), -EINVAL);
	ck_assert_int_eq(sys(SYS_clock_gettime, CLOCK_MONOTONIC, RO_PAGE, 0, 0), -EFAULT);
	ck_assert_int_eq(sys(SYS_nanosleep, 0, 0, 0, 0), -EFAULT);
	ts.tv_sec = 0;
	ts.tv_nsec = 2000000000; /* invalid */
	ck_assert_int_eq(uaccess_write(&pt, RW_PAGE, &ts, sizeof(ts)), 0);
	ck_assert_int_eq(sys(SYS_nanosleep, RW_PAGE, 0, 0, 0), -EINVAL);
	ck_assert_int_eq(sys(SYS_uname, RO_PAGE, 0, 0, 0), -EFAULT);
	ck_assert_int_eq(sys(SYS_uname, RW_PAGE, 0, 0, 0), 0);
	ck_assert_int_eq(sys(SYS_getpid, 0, 0, 0, 0), getpid());
	ck_assert_int_eq(sys(SYS_gettid, 0, 0, 0, 0), getpid());
}
END_TEST

START_TEST(getcwd_is_root)
{
	char cwd[8];

	ck_assert_int_eq(sys(SYS_getcwd, RW_PAGE, 1, 0, 0), -ERANGE);
	ck_assert_int_eq(sys(SYS_getcwd, RO_PAGE, 8, 0, 0), -EFAULT);
	ck_assert_int_eq(sys(SYS_getcwd, RW_PAGE, 8, 0, 0), 2);
	ck_assert_int_eq(uaccess_read(&pt, cwd, RW_PAGE, 2), 0);
	ck_assert_str_eq(cwd, "/");
}
END_TEST

START_TEST(getrandom_sizes)
{
	ck_assert_int_eq(sys(SYS_getrandom, RW_PAGE, 64, 0, 0), 64);
	ck_assert_int_eq(sys(SYS_getrandom, RW_PAGE, UINT64_MAX, 0, 0), -EFAULT);
	ck_assert_int_eq(sys(SYS_getrandom, RW_PAGE, 16, 0x80, 0), -EINVAL);
	ck_assert_int_eq(sys(SYS_getrandom, RO_PAGE, 16, 0, 0), -EFAULT);
}
END_TEST

START_TEST(signals_and_limits)
{
	uint64_t set = 1ull << 9, old = 0;

	ck_assert_int_eq(sys(SYS_rt_sigaction, 0, 0, 0, 8), -EINVAL);
	ck_assert_int_eq(sys(SYS_rt_sigaction, 9, RW_PAGE, 0, 8), -EINVAL); /* SIGKILL */
	ck_assert_int_eq(sys(SYS_rt_sigaction, 11, 0, 0, 16), -EINVAL);
	ck_assert_int_eq(sys(SYS_rt_sigaction, 11, 0x10, 0, 8), -EFAULT);
	ck_assert_int_eq(uaccess_write(&pt, RW_PAGE, &set, sizeof(set)), 0);
	ck_assert_int_eq(sys(SYS_rt_sigprocmask, 0, RW_PAGE, RW_PAGE + 8, 8), 0);
	ck_assert_int_eq(sys(SYS_rt_sigprocmask, 0, 0, RW_PAGE + 8, 8), 0);
	ck_assert_int_eq(uaccess_read(&pt, &old, RW_PAGE + 8, sizeof(old)), 0);
	ck_assert_uint_eq(old, 1ull << 9);
	ck_assert_int_eq(sys(SYS_rt_sigprocmask, 7, 0, 0, 8), -EINVAL);
	ck_assert_int_eq(sys(SYS_prlimit64, 0, 3 /* STACK */, 0, RW_PAGE), 0);
	ck_assert_int_eq(sys(SYS_prlimit64, 0, 999, 0, RW_PAGE), -EINVAL);
	ck_assert_int_eq(sys(SYS_prlimit64, 0, 3, RW_PAGE, 0), -EPERM);
	ck_assert_int_eq(sys(SYS_sched_getaffinity, 0, 3, RW_PAGE, 0), -EINVAL);
	ck_assert_int_eq(sys(SYS_sched_getaffinity, 0, 8, RW_PAGE, 0), 8);
}
END_TEST

START_TEST(arch_prctl_and_unknown)
{
	ck_assert_int_eq(sys(SYS_arch_prctl, 0x1002 /* SET_FS */, USER_TOP, 0, 0), -EPERM);
	ck_assert_int_eq(sys(SYS_arch_prctl, 0x1002, 0x7f0000001000ull, 0, 0), 0);
	ck_assert(task.segbase_dirty);
	ck_assert_uint_eq(task.fs_base, 0x7f0000001000ull);
	ck_assert_int_eq(sys(SYS_arch_prctl, 0x1003 /* GET_FS */, RO_PAGE, 0, 0), -EFAULT);
	ck_assert_int_eq(sys(SYS_arch_prctl, 0x9999, 0, 0, 0), -EINVAL);
	ck_assert_int_eq(sys(100000, 0, 0, 0, 0), -ENOSYS);
	ck_assert_int_eq(sys(UINT64_MAX, 0, 0, 0, 0), -ENOSYS);
	/* Only eax counts, as in Linux: the high half of rax is ignored. */
	ck_assert_int_eq(sys((1ull << 32) + SYS_getpid, 0, 0, 0, 0), getpid());
	ck_assert_int_eq(sys(0x8000000000000000ull + SYS_getpid, 0, 0, 0, 0), getpid());
	/* prlimit64 reads the new limit first: a bad pointer is -EFAULT. */
	ck_assert_int_eq(sys(SYS_prlimit64, 0, RLIMIT_STACK, 0x1000, 0), -EFAULT);
	ck_assert_int_eq(sys(SYS_prlimit64, 0, RLIMIT_STACK, RO_PAGE, 0), -EPERM);
	/* futex reads the word at 0: no page there. */
	ck_assert_int_eq(sys(SYS_futex, 0, 0, 0, 0), -EFAULT);
	ck_assert_ptr_null(syscall_name(100000));
	ck_assert_str_eq(syscall_name(SYS_write), "write");
}
END_TEST

START_TEST(exit_group_status)
{
	ck_assert_int_eq(sys(SYS_exit_group, 0x1234, 0, 0, 0), 0);
	ck_assert(proc.exited);
	ck_assert_int_eq(proc.exit_status, 0x34); /* only the low 8 bits, like Linux */
}
END_TEST

/* Every number the installed kernel header defines has that name in the
 * table: warnings and reports name syscalls by it. */
START_TEST(names_match_the_kernel_header)
{
	FILE *f = fopen("/usr/include/x86_64-linux-gnu/asm/unistd_64.h", "r");
	char line[256], name[128];
	unsigned long nr;
	int n = 0;

	ck_assert_msg(f, "no <asm/unistd_64.h>: install linux-libc-dev");
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "#define __NR_%127s %lu", name, &nr) == 2) {
			ck_assert_msg(syscall_name(nr), "%lu (%s) has no name", nr, name);
			ck_assert_str_eq(syscall_name(nr), name);
			n++;
		}
	fclose(f);
	ck_assert_int_ge(n, 360);
	ck_assert_str_eq(syscall_name(462), "mseal"); /* newer than the header */
	ck_assert_ptr_null(syscall_name(335));	      /* unused on x86-64 */
	ck_assert_ptr_null(syscall_name(463));
}
END_TEST

/* What vmm says about the syscalls it lacks, captured from stderr. */
static void warnings_of(const uint64_t *nrs, int count, char *out, size_t size)
{
	FILE *tmp = tmpfile();
	int saved = dup(2);
	size_t n;

	ck_assert(tmp && saved >= 0);
	fflush(stderr);
	ck_assert_int_ge(dup2(fileno(tmp), 2), 0);
	for (int i = 0; i < count; i++)
		ck_assert_int_eq(sys(nrs[i], 0, 0, 0, 0), -ENOSYS);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	rewind(tmp);
	n = fread(out, 1, size - 1, tmp);
	out[n] = '\0';
	fclose(tmp);
}

START_TEST(unimplemented_syscalls_warn_once_by_name)
{
	static const uint64_t nrs[] = {SYS_msgget, SYS_msgget, 400, 100000,
				       100000,	   SYS_rseq,   462, UINT64_MAX};
	char out[1024];

	warnings_of(nrs, (int)ARRAY_SIZE(nrs), out, sizeof(out));
	ck_assert_str_eq(out, "vmm: warning: syscall msgget (68) is not implemented: -ENOSYS\n"
			      "vmm: warning: unknown syscall 400: -ENOSYS\n"
			      "vmm: warning: unknown syscall 100000: -ENOSYS\n"
			      "vmm: warning: syscall mseal (462) is not implemented: -ENOSYS\n");
}
END_TEST

/* Where the TSC cannot be the vDSO's clock, the first clock read that
 * reaches vmm says so once; CPU-time clocks never went through the TSC. */
START_TEST(clock_fallback_warns_once)
{
	unsigned cpu = 7, node = 7;

	ck_assert_int_eq(sys(SYS_clock_gettime, CLOCK_MONOTONIC, RW_PAGE, 0, 0), 0);
	ck_assert(!proc.warned_clock); /* a usable TSC: nothing to say */
	proc.clock_fallback_why = "test";
	ck_assert_int_eq(sys(SYS_clock_gettime, CLOCK_PROCESS_CPUTIME_ID, RW_PAGE, 0, 0), 0);
	ck_assert(!proc.warned_clock);
	ck_assert_int_eq(sys(SYS_gettimeofday, RW_PAGE, RW_PAGE + 16, 0, 0), 0);
	ck_assert(proc.warned_clock);
	/* getcpu answers the one vCPU, as the vDSO does. */
	ck_assert_int_eq(sys(SYS_getcpu, RW_PAGE, RW_PAGE + 4, 0, 0), 0);
	ck_assert_int_eq(uaccess_read(&pt, &cpu, RW_PAGE, 4), 0);
	ck_assert_int_eq(uaccess_read(&pt, &node, RW_PAGE + 4, 4), 0);
	ck_assert_uint_eq(cpu, 0);
	ck_assert_uint_eq(node, 0);
	ck_assert_int_eq(sys(SYS_getcpu, RO_PAGE, 0, 0, 0), -EFAULT);
}
END_TEST

UNIT_SUITE_MAIN("syscall", setup, teardown, 0, uaccess_ranges, strncpy_bounds, io_bad_pointers,
		pipe_and_poll_bad_pointers, time_and_identity, getrandom_sizes, getcwd_is_root,
		signals_and_limits, arch_prctl_and_unknown, exit_group_status,
		names_match_the_kernel_header, unimplemented_syscalls_warn_once_by_name,
		clock_fallback_warns_once)
