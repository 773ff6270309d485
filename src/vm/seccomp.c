/* Confinement after set-up: once the guest is built, vmm needs only a few
 * dozen syscalls to run it, and a seccomp filter makes that the whole of
 * what a payload that took over vmm could ask of the host. The policy is
 * in src/vm/seccomp_gen/seccomp_gen.c, which libseccomp compiles to BPF at
 * build time; here the VM's descriptors go into it and it is installed,
 * once, just before the first KVM_RUN. README lists the filter. */
#include "vm/seccomp.h"

#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util/err.h"
#include "util/types.h"
#include "vm/vm.h"

/* build/gen/vm/seccomp_filter.inc (build/asan/gen/vm/ for the ASan build):
 * confine_filter[] and the sentinels standing for the two KVM fds. */
#include "vm/seccomp_filter.inc"

/* An unused descriptor slot: as a 64-bit argument no fd can equal it. */
#define CONFINE_NO_FD 0xffffffffu

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

/* The filter with the sentinels replaced by fds (CONFINE_NO_FD for -1);
 * false if a sentinel is not there exactly once (the generator checks). */
static bool confine_bind_fds(struct sock_filter *f, const struct confine_fds *fds)
{
	static const uint32_t sentinel[2] = {CONFINE_FD_SENTINEL_0, CONFINE_FD_SENTINEL_1};

	for (size_t j = 0; j < ARRAY_SIZE(sentinel); j++) {
		int found = 0;

		for (size_t i = 0; i < ARRAY_SIZE(confine_filter); i++)
			if (f[i].code == (BPF_JMP | BPF_JEQ | BPF_K) && f[i].k == sentinel[j]) {
				f[i].k = fds->kvm_fds[j] >= 0 ? (uint32_t)fds->kvm_fds[j]
							      : CONFINE_NO_FD;
				found++;
			}
		if (found != 1)
			return false;
	}
	return true;
}

int confine_install(const struct confine_fds *fds)
{
	struct sigaction sa = {.sa_sigaction = confine_on_sigsys, .sa_flags = SA_SIGINFO};
	struct sock_filter f[ARRAY_SIZE(confine_filter)];
	struct sock_fprog prog = {.len = ARRAY_SIZE(confine_filter), .filter = f};

	memcpy(f, confine_filter, sizeof(f));
	if (!confine_bind_fds(f, fds))
		return err_set("seccomp: the generated filter lacks its fd comparisons");
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSYS, &sa, NULL) < 0)
		return err_set("seccomp: sigaction(SIGSYS): %s", strerror(errno));
	/* Every thread at once (TSYNC): a vCPU thread may already run. */
	errno = 0;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	    syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &prog) != 0)
		return err_set("seccomp: installing the filter: %s (run with --no-seccomp to go "
			       "without)",
			       errno ? strerror(errno) : "a thread could not be synchronized");
	return 0;
}

int confine_vm(const struct vm *vm)
{
	const struct confine_fds fds = {.kvm_fds = {vm->kvm.vm_fd, vm->vcpu.fd}};

	return vm->cfg->no_seccomp ? 0 : confine_install(&fds);
}
