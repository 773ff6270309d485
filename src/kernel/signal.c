/* Signal delivery as Linux does it on x86-64 (arch/x86/kernel/signal.c,
 * kernel/signal.c): the lowest pending unblocked signal is taken at the
 * return to user mode, an rt_sigframe is built on the payload's stack (or
 * its alternate stack), and rt_sigreturn undoes it. All of it works on
 * guest memory through uaccess and on struct user_regs, so it runs and is
 * tested without KVM. */
#include "kernel/signal.h"

#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "guest/uaccess.h"
#include "guest/x86.h"
#include "kernel/task.h"
#include "util/err.h"

#define SA_RESTORER_ 0x04000000ull /* x86-64: libc always provides one */
#define UC_FP_XSTATE 0x1
#define UC_SIGCONTEXT_SS 0x2
#define UC_STRICT_RESTORE_SS 0x4
#define REDZONE 128 /* the x86-64 ABI's red zone below rsp */
/* The flags sigreturn may restore (Linux's FIX_EFLAGS). */
#define RFLAGS_FIX 0x50dd5ull /* AC|RF|OF|DF|TF|SF|ZF|AF|PF|CF */
#define RFLAGS_DF (1ull << 10)
#define RFLAGS_TF (1ull << 8)
#define RFLAGS_RF (1ull << 16)

/* ---- the frame, Linux's struct rt_sigframe on x86-64 ---- */

struct sig_context { /* struct sigcontext (64-bit), 256 bytes */
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip;
	uint64_t eflags;
	uint16_t cs, gs, fs, ss;
	uint64_t err, trapno, oldmask, cr2;
	uint64_t fpstate; /* NULL: the FPU state is not saved */
	uint64_t reserved1[8];
};

struct sig_ucontext {
	uint64_t uc_flags, uc_link;
	uint64_t ss_sp;
	int32_t ss_flags, ss_pad;
	uint64_t ss_size;
	struct sig_context mc;
	uint64_t sigmask;
};

struct sig_frame {
	uint64_t pretcode; /* the restorer: where the handler returns */
	struct sig_ucontext uc;
	struct signal_info info;
};

_Static_assert(sizeof(struct sig_context) == 256, "sigcontext is 256 bytes");
_Static_assert(sizeof(struct signal_info) == 128, "siginfo is 128 bytes");
_Static_assert(offsetof(struct sig_frame, uc.mc) == 48, "uc_mcontext at 40 in ucontext");
_Static_assert(offsetof(struct sig_frame, info) == 8 + 304, "siginfo after the ucontext");

/* The software-reserved bytes of the FXSAVE area (offset 464) that tell
 * a reader an XSAVE image follows (Linux's struct _fpx_sw_bytes). */
/* FP_XSTATE_MAGIC1 and 2 come with <signal.h> (bits/sigcontext.h). */
#define FPX_SW_OFFSET 464
#define XSAVE_HDR_OFFSET 512 /* XSTATE_BV: the features the image holds */

struct fpx_sw_bytes {
	uint32_t magic1, extended_size;
	uint64_t xfeatures;
	uint32_t xstate_size, padding[7];
};

/* Saves the FPU state below sp, 64-byte aligned, for the frame: its
 * address (0 when there is none to save), and the new sp through *sp.
 * -1 when it cannot be had or written. */
static int sig_save_fpu(struct task *t, uint64_t *sp, uint64_t *fpstate)
{
	const struct signal_fpu *fpu = &t->proc->fpu;
	size_t n = fpu->size;
	uint8_t *img;
	struct fpx_sw_bytes sw;
	uint32_t magic2 = FP_XSTATE_MAGIC2;
	uint64_t at;
	int r = -1;

	*fpstate = 0;
	if (!fpu->save)
		return 0;
	at = (*sp - n - sizeof(magic2)) & ~63ull;
	img = malloc(n);
	if (!img || fpu->save(fpu->ctx, img, n) < 0)
		goto out;
	sw = (struct fpx_sw_bytes){.magic1 = FP_XSTATE_MAGIC1,
				   .extended_size = (uint32_t)(n + sizeof(magic2)),
				   .xstate_size = (uint32_t)n};
	memcpy(&sw.xfeatures, img + XSAVE_HDR_OFFSET, sizeof(sw.xfeatures));
	memcpy(img + FPX_SW_OFFSET, &sw, sizeof(sw));
	if (uaccess_write(t->proc->pt, at, img, n) < 0 ||
	    uaccess_write(t->proc->pt, at + n, &magic2, sizeof(magic2)) < 0)
		goto out;
	*sp = at;
	*fpstate = at;
	r = 0;
out:
	free(img);
	return r;
}

/* rt_sigreturn's half: the image at fpstate back into the vCPU. An image
 * the CPU refuses (the payload scribbled on it) is a bad frame. */
static int sig_restore_fpu(struct task *t, uint64_t fpstate)
{
	const struct signal_fpu *fpu = &t->proc->fpu;
	uint8_t *img;
	int r = -1;

	if (!fpu->restore || !fpstate)
		return 0;
	img = malloc(fpu->size);
	if (img && uaccess_read(t->proc->pt, img, fpstate, fpu->size) == 0)
		r = fpu->restore(fpu->ctx, img, fpu->size);
	free(img);
	return r;
}

/* ---- dispositions ---- */

enum sig_default { SIGDFL_TERM, SIGDFL_CORE, SIGDFL_IGNORE, SIGDFL_STOP };

static enum sig_default sig_default_action(int signo)
{
	switch (signo) {
	case SIGCHLD:
	case SIGURG:
	case SIGWINCH:
	case SIGCONT:
		return SIGDFL_IGNORE;
	case SIGSTOP:
	case SIGTSTP:
	case SIGTTIN:
	case SIGTTOU:
		return SIGDFL_STOP;
	case SIGQUIT:
	case SIGILL:
	case SIGTRAP:
	case SIGABRT:
	case SIGBUS:
	case SIGFPE:
	case SIGSEGV:
	case SIGXCPU:
	case SIGXFSZ:
	case SIGSYS:
		return SIGDFL_CORE;
	default:
		return SIGDFL_TERM;
	}
}

static bool sig_ignored(const struct process *p, int signo)
{
	uint64_t h = p->sigact[signo - 1].handler;

	if (h == (uint64_t)(uintptr_t)SIG_IGN)
		return signo != SIGKILL && signo != SIGSTOP;
	return h == (uint64_t)(uintptr_t)SIG_DFL && sig_default_action(signo) == SIGDFL_IGNORE;
}

void signal_send(struct task *t, const struct signal_info *info)
{
	int signo = info->signo;

	if (signo < 1 || signo > SIGNAL_NSIG || sig_ignored(t->proc, signo))
		return;
	if (t->pending & signal_bit(signo))
		return; /* not queued twice (vmm does not queue real-time signals) */
	t->pending |= signal_bit(signo);
	t->pending_info[signo - 1] = *info;
}

/* ---- timers: host expiries become guest signals ---- */

static void signal_collect_timers(struct process *p, struct task *t)
{
	for (int i = 0; i < SIGNAL_TIMERS && p->ntimers; i++) {
		struct signal_timer *tm = &p->timers[i];
		int n;

		if (!tm->used || !tm->fired)
			continue;
		n = __atomic_exchange_n(&tm->fired, 0, __ATOMIC_SEQ_CST);
		if (!n || !tm->signo)
			continue;
		if (t->pending & signal_bit(tm->signo)) {
			tm->overrun += n;
			continue;
		}
		tm->overrun = n - 1;
		struct signal_info si = {.signo = tm->signo};
		if (i == 0) {
			si.code = 0x80; /* SI_KERNEL: alarm and setitimer */
		} else {
			si.code = -2; /* SI_TIMER */
			si.u.timer.tid = i;
			si.u.timer.overrun = tm->overrun;
			si.u.timer.value = tm->value;
		}
		signal_send(t, &si);
	}
}

bool signal_pending(struct task *t)
{
	if (t->proc->ntimers)
		signal_collect_timers(t->proc, t);
	return (t->pending & ~t->sigmask) != 0;
}

/* ---- building and undoing the frame ---- */

static bool sig_on_altstack(const struct task *t, uint64_t sp)
{
	return !(t->altstack_flags & SS_DISABLE) && sp - t->altstack_sp <= t->altstack_size &&
	       sp > t->altstack_sp;
}

static void sig_save_regs(struct sig_context *mc, const struct user_regs *r)
{
	*mc = (struct sig_context){
	    .r8 = r->r8,
	    .r9 = r->r9,
	    .r10 = r->r10,
	    .r11 = r->r11,
	    .r12 = r->r12,
	    .r13 = r->r13,
	    .r14 = r->r14,
	    .r15 = r->r15,
	    .rdi = r->rdi,
	    .rsi = r->rsi,
	    .rbp = r->rbp,
	    .rbx = r->rbx,
	    .rdx = r->rdx,
	    .rax = r->rax,
	    .rcx = r->rcx,
	    .rsp = r->rsp,
	    .rip = r->rip,
	    .eflags = r->rflags,
	    .cs = SEL_USER_CS,
	    .ss = SEL_USER_DS,
	};
}

/* Builds the frame for signo with action a; false when it cannot be
 * written (Linux then kills with SIGSEGV). */
static bool sig_setup_frame(struct task *t, int signo, const struct signal_action *a,
			    const struct signal_info *info, const struct signal_fault *f,
			    struct user_regs *r)
{
	struct sig_frame fr;
	uint64_t sp = r->rsp - REDZONE, fpstate;

	if (!(a->flags & SA_RESTORER_))
		return false;
	if ((a->flags & SA_ONSTACK) && !(t->altstack_flags & SS_DISABLE) &&
	    !sig_on_altstack(t, r->rsp))
		sp = t->altstack_sp + t->altstack_size;
	if (sig_save_fpu(t, &sp, &fpstate) < 0)
		return false;
	sp -= sizeof(fr);
	sp = (sp & ~15ull) - 8; /* as after a call: (sp + 8) 16-byte aligned */
	memset(&fr, 0, sizeof(fr));
	fr.pretcode = a->restorer;
	fr.uc.uc_flags = UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS | (fpstate ? UC_FP_XSTATE : 0);
	fr.uc.ss_sp = t->altstack_sp;
	fr.uc.ss_size = t->altstack_size;
	fr.uc.ss_flags = (t->altstack_flags & SS_DISABLE) ? SS_DISABLE
			 : sig_on_altstack(t, r->rsp)	  ? SS_ONSTACK
						      : (t->altstack_flags & SIGNAL_SS_AUTODISARM);
	sig_save_regs(&fr.uc.mc, r);
	fr.uc.mc.fpstate = fpstate;
	if (f) {
		fr.uc.mc.err = f->error;
		fr.uc.mc.trapno = (uint64_t)f->vector;
		fr.uc.mc.cr2 = f->cr2;
	}
	fr.uc.sigmask = t->restore_sigmask ? t->saved_sigmask : t->sigmask;
	fr.uc.mc.oldmask = fr.uc.sigmask;
	fr.info = *info;
	if (uaccess_write(t->proc->pt, sp, &fr, sizeof(fr)) < 0)
		return false;
	t->restore_sigmask = false;
	if ((a->flags & SA_ONSTACK) && (t->altstack_flags & SIGNAL_SS_AUTODISARM)) {
		t->altstack_flags = SS_DISABLE;
		t->altstack_sp = t->altstack_size = 0;
	}
	r->rdi = (uint64_t)signo;
	r->rsi = sp + offsetof(struct sig_frame, info);
	r->rdx = sp + offsetof(struct sig_frame, uc);
	r->rax = 0;
	r->rsp = sp;
	r->rip = a->handler;
	r->rflags &= ~(RFLAGS_DF | RFLAGS_TF | RFLAGS_RF);
	return true;
}

/* What happens with signo now: a handler frame (0), nothing (0), or the
 * signal that ends the process. */
static int sig_handle(struct task *t, int signo, const struct signal_info *info,
		      const struct signal_fault *f, struct user_regs *r)
{
	struct process *p = t->proc;
	struct signal_action *a = &p->sigact[signo - 1];
	struct signal_action act = *a;

	if (act.handler == (uint64_t)(uintptr_t)SIG_IGN)
		return 0;
	if (act.handler == (uint64_t)(uintptr_t)SIG_DFL) {
		switch (sig_default_action(signo)) {
		case SIGDFL_IGNORE:
			return 0;
		case SIGDFL_STOP:
			vmm_warn("signal %d would stop the payload; vmm does not stop it", signo);
			return 0;
		default:
			return signo;
		}
	}
	if (act.flags & SA_RESETHAND)
		a->handler = (uint64_t)(uintptr_t)SIG_DFL;
	if (!sig_setup_frame(t, signo, &act, info, f, r))
		return SIGSEGV; /* Linux's force_sigsegv for a frame it cannot write */
	t->sigmask |= act.mask & ~SIGNAL_UNBLOCKABLE;
	if (!(act.flags & SA_NODEFER))
		t->sigmask |= signal_bit(signo);
	return 0;
}

int signal_deliver_pending(struct task *t, struct user_regs *r)
{
	while (signal_pending(t)) {
		uint64_t ready = t->pending & ~t->sigmask;
		/* Synchronous signals first, as Linux dequeues them. */
		const uint64_t sync = signal_bit(SIGSEGV) | signal_bit(SIGBUS) |
				      signal_bit(SIGILL) | signal_bit(SIGTRAP) |
				      signal_bit(SIGFPE) | signal_bit(SIGSYS);
		int signo = __builtin_ctzll(ready & sync ? ready & sync : ready) + 1;
		struct signal_info info = t->pending_info[signo - 1];
		int kill;

		t->pending &= ~signal_bit(signo);
		kill = sig_handle(t, signo, &info, NULL, r);
		if (kill)
			return kill;
		if (r->rip == t->proc->sigact[signo - 1].handler)
			break; /* one frame per return, the rest at the next */
	}
	if (t->restore_sigmask) { /* the wait ended without a handler */
		t->sigmask = t->saved_sigmask;
		t->restore_sigmask = false;
	}
	return 0;
}

bool signal_from_fault(struct task *t, const struct signal_fault *f, struct user_regs *r)
{
	struct process *p = t->proc;
	struct signal_action *a = &p->sigact[f->signo - 1];
	struct signal_info info = {.signo = f->signo, .code = f->code};
	bool blocked = t->sigmask & signal_bit(f->signo);

	info.u.fault.addr = f->addr;
	/* Linux's force_sig_fault: a blocked or ignored fault signal cannot
	 * be held back; its action becomes the default one (death). */
	if (blocked || a->handler == (uint64_t)(uintptr_t)SIG_IGN) {
		a->handler = (uint64_t)(uintptr_t)SIG_DFL;
		t->sigmask &= ~signal_bit(f->signo);
	}
	if (a->handler == (uint64_t)(uintptr_t)SIG_DFL)
		return false;
	return sig_handle(t, f->signo, &info, f, r) == 0;
}

/* rt_sigreturn: the ucontext the handler's return popped its way to. */
static int sig_return(struct task *t, struct user_regs *r)
{
	struct sig_ucontext uc;
	const struct sig_context *mc = &uc.mc;

	if (uaccess_read(t->proc->pt, &uc, r->rsp, sizeof(uc)) < 0 ||
	    sig_restore_fpu(t, mc->fpstate) < 0)
		return SIGSEGV;
	*r = (struct user_regs){
	    .r8 = mc->r8,
	    .r9 = mc->r9,
	    .r10 = mc->r10,
	    .r11 = mc->r11,
	    .r12 = mc->r12,
	    .r13 = mc->r13,
	    .r14 = mc->r14,
	    .r15 = mc->r15,
	    .rdi = mc->rdi,
	    .rsi = mc->rsi,
	    .rbp = mc->rbp,
	    .rbx = mc->rbx,
	    .rdx = mc->rdx,
	    .rax = mc->rax,
	    .rcx = mc->rcx,
	    .rsp = mc->rsp,
	    .rip = mc->rip,
	    .rflags = (RFLAGS_USER & ~RFLAGS_FIX) | (mc->eflags & RFLAGS_FIX),
	};
	t->sigmask = uc.sigmask & ~SIGNAL_UNBLOCKABLE;
	if (!(uc.ss_flags & SS_DISABLE) && !sig_on_altstack(t, r->rsp)) {
		t->altstack_sp = uc.ss_sp;
		t->altstack_size = uc.ss_size;
		t->altstack_flags = uc.ss_flags & SIGNAL_SS_AUTODISARM;
	}
	return 0;
}

/* Which restart a syscall interrupted by a signal gets (Linux returns
 * -ERESTARTNOHAND from these: with a handler they fail with EINTR even
 * under SA_RESTART). */
static long sig_restart_kind(uint64_t nr)
{
	switch (nr) {
	case SYS_poll:
	case SYS_ppoll:
	case SYS_select:
	case SYS_pselect6:
	case SYS_nanosleep:
	case SYS_clock_nanosleep:
	case SYS_pause:
	case SYS_rt_sigsuspend:
		return -ERESTARTNOHAND;
	default:
		return -ERESTARTSYS;
	}
}

int signal_syscall_return(struct task *t, long ret, struct user_regs *r)
{
	uint64_t nr = r->rax, call_rip = r->rcx - 2; /* syscall is 0f 05 */
	int kill;

	if (nr == SYS_rt_sigreturn && ret == 0) {
		kill = sig_return(t, r);
		return kill ? kill : signal_deliver_pending(t, r);
	}
	if (ret == -EINTR)
		ret = sig_restart_kind(nr);
	r->rip = r->rcx;
	r->rflags = RFLAGS_USER;
	r->r11 = r->rflags;
	r->rax = (uint64_t)ret;
	if (ret != -ERESTARTSYS && ret != -ERESTARTNOHAND && ret != -ERESTARTNOINTR)
		return signal_deliver_pending(t, r);
	/* Interrupted: restart unless a handler runs and says otherwise. */
	if (signal_pending(t)) {
		int signo = __builtin_ctzll(t->pending & ~t->sigmask) + 1;
		const struct signal_action *a = &t->proc->sigact[signo - 1];
		bool handler = a->handler != (uint64_t)(uintptr_t)SIG_DFL &&
			       a->handler != (uint64_t)(uintptr_t)SIG_IGN;

		if (handler &&
		    (ret == -ERESTARTNOHAND || (ret == -ERESTARTSYS && !(a->flags & SA_RESTART)))) {
			r->rax = (uint64_t)-EINTR;
			return signal_deliver_pending(t, r);
		}
	}
	r->rax = nr;
	r->rip = call_rip;
	return signal_deliver_pending(t, r);
}

/* ---- process set-up ---- */

void signal_init_process(struct process *p)
{
	for (int i = 0; i < SIGNAL_NSIG; i++)
		p->sigact[i].handler = (uint64_t)(uintptr_t)SIG_DFL;
}

void signal_destroy_process(struct process *p)
{
	for (int i = 0; i < SIGNAL_TIMERS; i++)
		if (p->timers[i].used && p->timers[i].host)
			timer_delete((timer_t)p->timers[i].host);
	memset(p->timers, 0, sizeof(p->timers));
	p->ntimers = 0;
}
