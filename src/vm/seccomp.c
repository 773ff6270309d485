/* Confinement after set-up: once the guest is built, vmm needs only a few
 * dozen syscalls to run it, and a seccomp filter (libseccomp) makes that
 * the whole of what a payload that took over vmm could ask of the host.
 * Installed once, just before the first KVM_RUN; README lists the filter. */
#include "vm/seccomp.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <linux/perf_event.h>
#include <seccomp.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <termios.h>
#include <unistd.h>

#include "util/err.h"
#include "util/types.h"
#include "vm/vm.h"

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

/* A forbidden call: say which, then end vmm as a VMM failure (125). Only
 * async-signal-safe calls; the line is built by hand and written at once. */
static void confine_on_sigsys(int sig, siginfo_t *si, void *uc)
{
	static const char head[] = "vmm: seccomp: forbidden syscall ";
	char line[128], num[16], *p = num + sizeof(num);
	const char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, si->si_syscall);
	unsigned n = (unsigned)si->si_syscall;
	size_t len = sizeof(head) - 1, k;

	(void)sig;
	(void)uc;
	memcpy(line, head, len);
	for (k = 0; name && name[k] && len < 64; k++)
		line[len++] = name[k];
	if (name)
		line[len++] = ' ';
	do
		*--p = (char)('0' + n % 10);
	while ((n /= 10) && p > num);
	memcpy(line + len, p, (size_t)(num + sizeof(num) - p));
	len += (size_t)(num + sizeof(num) - p);
	line[len++] = '\n';
	(void)!write(2, line, len);
	_exit(125);
}

/* libseccomp's SCMP_An() leave datum_b implicit, which clang warns about. */
static struct scmp_arg_cmp confine_arg(unsigned arg, enum scmp_compare op, uint64_t a, uint64_t b)
{
	return (struct scmp_arg_cmp){.arg = arg, .op = op, .datum_a = a, .datum_b = b};
}

static int confine_rules(scmp_filter_ctx ctx, const struct confine_fds *fds)
{
	const uint64_t exec = PROT_EXEC;
	size_t i;
	int r = 0;

	for (i = 0; i < ARRAY_SIZE(confine_any_args) && r == 0; i++)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, confine_any_args[i], 0);
	/* KVM's ioctls only on this VM and its vCPU (no new VMs, no /dev/kvm). */
	for (i = 0; i < ARRAY_SIZE(fds->kvm_fds) && r == 0; i++)
		if (fds->kvm_fds[i] >= 0)
			r = seccomp_rule_add(
			    ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
			    confine_arg(0, SCMP_CMP_EQ, (uint64_t)fds->kvm_fds[i], 0));
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

int confine_install(const struct confine_fds *fds)
{
	struct sigaction sa = {.sa_sigaction = confine_on_sigsys, .sa_flags = SA_SIGINFO};
	scmp_filter_ctx ctx;
	int r;

	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSYS, &sa, NULL) < 0)
		return err_set("seccomp: sigaction(SIGSYS): %s", strerror(errno));
	ctx = seccomp_init(SCMP_ACT_TRAP);
	if (!ctx)
		return err_set("seccomp: seccomp_init failed");
	r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
	if (r == 0)
		r = confine_rules(ctx, fds);
	if (r == 0)
		r = seccomp_load(ctx);
	seccomp_release(ctx);
	if (r < 0)
		return err_set("seccomp: installing the filter: %s (run with --no-seccomp to go "
			       "without)",
			       strerror(-r));
	return 0;
}

int confine_vm(const struct vm *vm)
{
	const struct confine_fds fds = {.kvm_fds = {vm->kvm.vm_fd, vm->vcpu.fd}};

	return vm->cfg->no_seccomp ? 0 : confine_install(&fds);
}
