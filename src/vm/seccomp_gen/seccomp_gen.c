/* Build-time generator of vmm's seccomp filter: the policy, written with
 * libseccomp, exported as classic BPF into a C array that vm/seccomp.c
 * installs. Building the filter at run time cost about 0.35 ms of every
 * start-up (rule database and code generation), a tenth of what vmm adds
 * to the bare-KVM floor. The two KVM descriptors are not known here: the
 * rules name sentinels that vm/seccomp.c replaces, and this program checks
 * that each appears in exactly one comparison.
 *   seccomp_gen > seccomp_filter.inc */
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/kvm.h>
#include <linux/perf_event.h>
#include <seccomp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <termios.h>
#include <unistd.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
/* Stand-ins for the VM's and the first vCPU's fd (vm/seccomp.c). */
#define FD_SENTINEL_0 0x7e57f0d0u
#define FD_SENTINEL_1 0x7e57f0d1u

/* Allowed whatever the arguments. Grouped by who needs them. */
static const int confine_any_args[] = {
    /* I/O on descriptors: the payload's fds, counters, stats, perf's FIFOs,
     * the --json report; and the file and pipe calls of guest files. */
    SCMP_SYS(read),
    SCMP_SYS(write),
    SCMP_SYS(readv),
    SCMP_SYS(writev),
    SCMP_SYS(pread64),
    SCMP_SYS(pwrite64),
    SCMP_SYS(preadv),
    SCMP_SYS(pwritev),
    SCMP_SYS(lseek),
    SCMP_SYS(close),
    SCMP_SYS(openat),
    SCMP_SYS(openat2),
    SCMP_SYS(fstat),
    SCMP_SYS(newfstatat),
    SCMP_SYS(statx),
    SCMP_SYS(getdents64),
    SCMP_SYS(mkdirat),
    SCMP_SYS(unlinkat),
    SCMP_SYS(renameat),
    SCMP_SYS(renameat2),
    SCMP_SYS(ftruncate),
    SCMP_SYS(fsync),
    SCMP_SYS(fdatasync),
    SCMP_SYS(readlinkat),
    SCMP_SYS(pipe2),
    SCMP_SYS(dup3),
    SCMP_SYS(fcntl),
    SCMP_SYS(ppoll),
    SCMP_SYS(poll),
    SCMP_SYS(pselect6),
    SCMP_SYS(umask),
    SCMP_SYS(faccessat),
    SCMP_SYS(faccessat2),
    SCMP_SYS(symlinkat),
    SCMP_SYS(utimensat),
    SCMP_SYS(chmod),
    SCMP_SYS(fchmod),
    SCMP_SYS(fchmodat),
    SCMP_SYS(sendfile),
    /* The private /tmp, removed at exit (nftw, remove). */
    SCMP_SYS(unlink),
    SCMP_SYS(rmdir),
    /* Threads (vCPUs to come) and their synchronisation. */
    SCMP_SYS(futex),
    SCMP_SYS(clone),
    SCMP_SYS(clone3),
    SCMP_SYS(set_robust_list),
    SCMP_SYS(rseq),
    SCMP_SYS(sched_yield),
    SCMP_SYS(sched_getaffinity),
    SCMP_SYS(gettid),
    SCMP_SYS(getpid),
    SCMP_SYS(tgkill),
    SCMP_SYS(exit),
    SCMP_SYS(exit_group),
    /* Signals and timers: --timeout, SIGPIPE, the payload's sleeps. */
    SCMP_SYS(rt_sigaction),
    SCMP_SYS(rt_sigprocmask),
    SCMP_SYS(rt_sigreturn),
    SCMP_SYS(rt_sigsuspend),
    SCMP_SYS(timer_getoverrun),
    SCMP_SYS(restart_syscall),
    SCMP_SYS(setitimer),
    SCMP_SYS(getitimer),
    SCMP_SYS(timer_create),
    SCMP_SYS(timer_settime),
    SCMP_SYS(timer_gettime),
    SCMP_SYS(timer_delete),
    SCMP_SYS(clock_gettime),
    SCMP_SYS(clock_getres),
    SCMP_SYS(gettimeofday),
    SCMP_SYS(time),
    SCMP_SYS(nanosleep),
    SCMP_SYS(clock_nanosleep),
    /* vmm's own memory (malloc, freeing guest RAM at the end). */
    SCMP_SYS(munmap),
    SCMP_SYS(mremap),
    SCMP_SYS(madvise),
    SCMP_SYS(brk),
    /* What syscall handlers ask the host on the payload's behalf. */
    SCMP_SYS(getrandom),
    SCMP_SYS(uname),
    SCMP_SYS(sysinfo),
    SCMP_SYS(getppid),
    SCMP_SYS(getuid),
    SCMP_SYS(geteuid),
    SCMP_SYS(getgid),
    SCMP_SYS(getegid),
    SCMP_SYS(prlimit64),
    SCMP_SYS(getrusage),
    SCMP_SYS(prctl),
#ifdef __SANITIZE_ADDRESS__
    /* The ASan build only: LeakSanitizer's check at exit stops the
     * threads with a ptrace()ing helper that lists /proc/self/task with raw
     * open and getdents; its report reads /proc/self/exe with readlink. */
    SCMP_SYS(ptrace),
    SCMP_SYS(wait4),
    SCMP_SYS(sigaltstack),
    SCMP_SYS(open),
    SCMP_SYS(getdents),
    SCMP_SYS(readlink),
#endif
};

/* ioctl requests allowed on any fd: the terminal and FIONREAD questions
 * the payload's ioctl passes on, and counter control at region edges. */
static const unsigned long confine_any_fd_ioctls[] = {
    TCGETS,
    TIOCGWINSZ,
    FIONREAD,
    PERF_EVENT_IOC_ENABLE,
    PERF_EVENT_IOC_DISABLE,
    PERF_EVENT_IOC_RESET,
};

/* The vCPU ioctls vmm makes, allowed on any fd: the vCPUs of threads are
 * created after the filter (KVM_CREATE_VCPU on the VM's fd). None of them
 * creates anything, and on an fd that is not a vCPU they fail. */
static const unsigned long confine_vcpu_ioctls[] = {
    KVM_RUN,
    KVM_GET_REGS,
    KVM_SET_REGS,
    KVM_GET_SREGS,
    KVM_SET_SREGS,
    KVM_GET_VCPU_EVENTS, /* a shootdown's flush sets a queued exception aside */
    KVM_SET_VCPU_EVENTS,
    KVM_SET_CPUID2,
    KVM_GET_MSRS,
    KVM_SET_MSRS,
    KVM_SET_XCRS,
    KVM_GET_XSAVE,
    KVM_SET_XSAVE,
    KVM_GET_STATS_FD,
    KVM_SET_DEVICE_ATTR,
    KVM_GET_DEVICE_ATTR,
    KVM_GET_VCPU_MMAP_SIZE, /* on /dev/kvm, for the new vCPU's run area */
};

/* libseccomp's SCMP_An() leave datum_b implicit, which clang warns about. */
static struct scmp_arg_cmp confine_arg(unsigned arg, enum scmp_compare op, uint64_t a, uint64_t b)
{
	return (struct scmp_arg_cmp){.arg = arg, .op = op, .datum_a = a, .datum_b = b};
}

static int confine_rules(scmp_filter_ctx ctx, const int kvm_fds[2])
{
	const uint64_t exec = PROT_EXEC;
	size_t i;
	int r = 0;

	for (i = 0; i < ARRAY_SIZE(confine_any_args) && r == 0; i++)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, confine_any_args[i], 0);
	/* KVM's ioctls only on this VM and its vCPU (no new VMs, no /dev/kvm). */
	for (i = 0; i < 2 && r == 0; i++)
		if (kvm_fds[i] >= 0)
			r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
					     confine_arg(0, SCMP_CMP_EQ, (uint64_t)kvm_fds[i], 0));
	for (i = 0; i < ARRAY_SIZE(confine_vcpu_ioctls) && r == 0; i++)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
				     confine_arg(1, SCMP_CMP_MASKED_EQ, 0xffffffffu,
						 confine_vcpu_ioctls[i] & 0xffffffffu));
	for (i = 0; i < ARRAY_SIZE(confine_any_fd_ioctls) && r == 0; i++)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
				     confine_arg(1, SCMP_CMP_MASKED_EQ, 0xffffffffu,
						 confine_any_fd_ioctls[i] & 0xffffffffu));
	/* No new executable memory: vmm's code is all mapped by now. */
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1,
				     confine_arg(2, SCMP_CMP_MASKED_EQ, exec, 0));
	if (r == 0)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1,
				     confine_arg(2, SCMP_CMP_MASKED_EQ, exec, 0));
	return r;
}

/* The filter's instructions, exported by libseccomp through a memfd. */
static struct sock_filter *export_bpf(scmp_filter_ctx ctx, size_t *n)
{
	int fd = memfd_create("seccomp_gen", 0);
	struct sock_filter *f;
	off_t len;

	if (fd < 0 || seccomp_export_bpf(ctx, fd) < 0 || (len = lseek(fd, 0, SEEK_END)) <= 0 ||
	    len % sizeof(*f) != 0 || !(f = malloc((size_t)len)) ||
	    pread(fd, f, (size_t)len, 0) != len)
		return NULL;
	close(fd);
	*n = (size_t)len / sizeof(*f);
	return f;
}

static int sentinel_count(const struct sock_filter *f, size_t n, uint32_t k)
{
	int c = 0;

	for (size_t i = 0; i < n; i++)
		c += f[i].code == (BPF_JMP | BPF_JEQ | BPF_K) && f[i].k == k;
	return c;
}

int main(void)
{
	static const int sentinels[2] = {(int)FD_SENTINEL_0, (int)FD_SENTINEL_1};
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_TRAP);
	struct sock_filter *f;
	size_t n, i;

	if (!ctx || confine_rules(ctx, sentinels) != 0 || !(f = export_bpf(ctx, &n))) {
		fprintf(stderr, "seccomp_gen: libseccomp could not build the filter\n");
		return 1;
	}
	for (i = 0; i < 2; i++)
		if (sentinel_count(f, n, (uint32_t)sentinels[i]) != 1) {
			fprintf(stderr,
				"seccomp_gen: fd sentinel %zu is compared %d times, not once\n", i,
				sentinel_count(f, n, (uint32_t)sentinels[i]));
			return 1;
		}
	printf("/* Generated by src/vm/seccomp_gen/seccomp_gen.c: do not edit. */\n"
	       "#define CONFINE_FD_SENTINEL_0 0x%xu\n#define CONFINE_FD_SENTINEL_1 0x%xu\n"
	       "static const struct sock_filter confine_filter[%zu] = {\n",
	       FD_SENTINEL_0, FD_SENTINEL_1, n);
	for (i = 0; i < n; i++)
		printf("\t{0x%04x, %u, %u, 0x%08x},\n", f[i].code, f[i].jt, f[i].jf, f[i].k);
	printf("};\n");
	free(f);
	seccomp_release(ctx);
	return fflush(stdout) == 0 ? 0 : 1;
}
