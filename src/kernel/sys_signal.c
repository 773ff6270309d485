/* Signal syscalls: dispositions (per process) and masks (per thread) are
 * kept and reported back as Linux would, but vmm delivers no signals yet:
 * handlers are accepted and never run. Only SIG_IGN changes behaviour
 * (SIGPIPE). */
#include <errno.h>
#include <signal.h>

#include "guest/uaccess.h"
#include "kernel/syscalls.h"

#define SIGSET_BYTES 8 /* the kernel's sigset_t on x86-64 */
#define NSIG_LINUX 64

static uint64_t sig_bit(int signo)
{
	return 1ull << ((signo - 1) & 63);
}

long signal_check_epipe(struct task *t, long r)
{
	if (r == -EPIPE && !(t->proc->sig_ignored & sig_bit(SIGPIPE)))
		t->kill_signal = SIGPIPE;
	return r;
}

long sys_rt_sigaction(struct task *t, const uint64_t a[6])
{
	struct process *p = t->proc;
	uint64_t act[4] = {0}, old[4] = {0}; /* struct kernel_sigaction */
	uint64_t bit = 1ull << ((a[0] - 1) & 63);

	if (a[0] < 1 || a[0] > NSIG_LINUX || a[3] != SIGSET_BYTES)
		return -EINVAL;
	if ((a[0] == SIGKILL || a[0] == SIGSTOP) && a[1])
		return -EINVAL;
	if (a[1] && uaccess_read(p->pt, act, a[1], sizeof(act)) < 0)
		return -EFAULT;
	old[0] =
	    (p->sig_ignored & bit) ? (uint64_t)(uintptr_t)SIG_IGN : (uint64_t)(uintptr_t)SIG_DFL;
	if (a[2] && uaccess_write(p->pt, a[2], old, sizeof(old)) < 0)
		return -EFAULT;
	/* Only SIG_IGN changes anything: handlers are accepted but never run,
	 * vmm delivers no signals yet. */
	if (a[1])
		p->sig_ignored = act[0] == (uint64_t)(uintptr_t)SIG_IGN ? p->sig_ignored | bit
									: p->sig_ignored & ~bit;
	return 0;
}

long sys_rt_sigprocmask(struct task *t, const uint64_t a[6])
{
	uint64_t old = t->sigmask, set;

	if (a[3] != SIGSET_BYTES || a[0] > SIG_SETMASK)
		return -EINVAL;
	if (a[1]) {
		if (uaccess_read(t->proc->pt, &set, a[1], sizeof(set)) < 0)
			return -EFAULT;
		set &= ~(sig_bit(SIGKILL) | sig_bit(SIGSTOP));
		t->sigmask = a[0] == SIG_BLOCK ? old | set : a[0] == SIG_UNBLOCK ? old & ~set : set;
	}
	return a[2] ? uaccess_write(t->proc->pt, a[2], &old, sizeof(old)) : 0;
}

long sys_sigaltstack(struct task *t, const uint64_t a[6])
{
	uint8_t ss[24] = {0}; /* stack_t: ss_sp, ss_flags, ss_size */

	ss[8] = SS_DISABLE;
	return a[1] ? uaccess_write(t->proc->pt, a[1], ss, sizeof(ss)) : 0;
}

long signal_wait_mask(struct task *t, gva_t set_gva, uint64_t size)
{
	uint64_t set;

	if (!set_gva)
		return 0;
	if (size != SIGSET_BYTES)
		return -EINVAL;
	if (uaccess_read(t->proc->pt, &set, set_gva, sizeof(set)) < 0)
		return -EFAULT;
	t->saved_sigmask = t->sigmask;
	t->restore_sigmask = true;
	t->sigmask = set & ~(sig_bit(SIGKILL) | sig_bit(SIGSTOP));
	return 0;
}

void signal_wait_done(struct task *t, long ret)
{
	if (t->restore_sigmask && ret != -EINTR) {
		t->sigmask = t->saved_sigmask;
		t->restore_sigmask = false;
	}
}
