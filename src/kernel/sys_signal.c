/* Signal syscalls: dispositions, masks, the alternate stack, waiting for
 * a signal, sending one to itself, and the timers that send them (alarm,
 * setitimer ITIMER_REAL, timer_create). Delivery itself is signal.c. A
 * guest timer is a host POSIX timer aimed at the calling host thread with
 * a real-time signal whose handler (installed without SA_RESTART) only
 * counts and kicks the vCPU out of KVM_RUN, so that a host call the
 * payload blocks in returns EINTR. */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "guest/uaccess.h"
#include "kernel/syscalls.h"
#include "util/err.h"

#define SIGSET_BYTES 8 /* the kernel's sigset_t on x86-64 */
#define SIG_HOST_TIMER (SIGRTMIN + 3)

long signal_check_epipe(struct task *t, long r)
{
	if (r == -EPIPE)
		signal_send(t, &(struct signal_info){.signo = SIGPIPE,
						     .u.kill = {.pid = getpid(), .uid = getuid()}});
	return r;
}

/* Linux sends SIGXFSZ to the writer as it sends SIGPIPE; the default
 * action ends the payload, a handler or SIG_IGN leaves it -EFBIG. */
long signal_xfsz(struct task *t)
{
	signal_send(t, &(struct signal_info){.signo = SIGXFSZ,
					     .u.kill = {.pid = getpid(), .uid = getuid()}});
	return -EFBIG;
}

/* Flags Linux accepts in sa_flags on x86-64 (others are ignored there too). */
long sys_rt_sigaction(struct task *t, const uint64_t a[6])
{
	struct process *p = t->proc;
	struct signal_action act, old;
	int signo = (int)a[0];

	if (a[0] < 1 || a[0] > SIGNAL_NSIG || a[3] != SIGSET_BYTES)
		return -EINVAL;
	if ((signo == SIGKILL || signo == SIGSTOP) && a[1])
		return -EINVAL;
	if (a[1] && uaccess_read(p->pt, &act, a[1], sizeof(act)) < 0)
		return -EFAULT;
	old = p->sigact[signo - 1];
	if (a[2] && uaccess_write(p->pt, a[2], &old, sizeof(old)) < 0)
		return -EFAULT;
	if (!a[1])
		return 0;
	act.mask &= ~SIGNAL_UNBLOCKABLE;
	p->sigact[signo - 1] = act;
	/* Setting SIG_IGN (or a default that ignores) discards it if pending. */
	if (act.handler == (uint64_t)(uintptr_t)SIG_IGN ||
	    (act.handler == (uint64_t)(uintptr_t)SIG_DFL &&
	     (signo == SIGCHLD || signo == SIGURG || signo == SIGWINCH)))
		t->pending &= ~signal_bit(signo);
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
		set &= ~SIGNAL_UNBLOCKABLE;
		t->sigmask = a[0] == SIG_BLOCK ? old | set : a[0] == SIG_UNBLOCK ? old & ~set : set;
	}
	return a[2] ? uaccess_write(t->proc->pt, a[2], &old, sizeof(old)) : 0;
}

long sys_rt_sigpending(struct task *t, const uint64_t a[6])
{
	uint64_t set;

	if (a[1] > SIGSET_BYTES)
		return -EINVAL;
	signal_pending(t); /* timers that fired count as pending */
	set = t->pending & t->sigmask;
	return uaccess_write(t->proc->pt, a[0], &set, a[1]);
}

/* The work is in signal_syscall_return, which sees the registers. */
long sys_rt_sigreturn(struct task *t, const uint64_t a[6])
{
	(void)t, (void)a;
	return 0;
}

/* As Linux's do_sigaltstack: the old stack says SS_ONSTACK while the
 * caller runs on it (never with SS_AUTODISARM, which disarmed it), and
 * a new one cannot be set from there (EPERM). The new stack is read
 * before anything changes, the old one written after. */
long sys_sigaltstack(struct task *t, const uint64_t a[6])
{
	struct {
		uint64_t sp;
		int32_t flags, pad;
		uint64_t size;
	} ss, old = {t->altstack_sp, 0, 0, t->altstack_size};
	bool disabled = (t->altstack_flags & SS_DISABLE) || !t->altstack_size;
	bool on = !disabled && !(t->altstack_flags & SIGNAL_SS_AUTODISARM) &&
		  t->user_sp > t->altstack_sp && t->user_sp - t->altstack_sp <= t->altstack_size;
	int mode;

	old.flags = (disabled ? SS_DISABLE
		     : on     ? SS_ONSTACK
			      : 0) |
		    (t->altstack_flags & SIGNAL_SS_AUTODISARM);
	if (a[0]) {
		if (uaccess_read(t->proc->pt, &ss, a[0], sizeof(ss)) < 0)
			return -EFAULT;
		if (on)
			return -EPERM;
		mode = ss.flags & ~SIGNAL_SS_AUTODISARM;
		if (mode != SS_DISABLE && mode != SS_ONSTACK && mode != 0)
			return -EINVAL;
		if (mode == SS_DISABLE) {
			t->altstack_sp = t->altstack_size = 0;
			t->altstack_flags = SS_DISABLE;
		} else if (ss.size < (uint64_t)MINSIGSTKSZ) {
			return -ENOMEM;
		} else {
			t->altstack_sp = ss.sp;
			t->altstack_size = ss.size;
			t->altstack_flags = ss.flags & SIGNAL_SS_AUTODISARM;
		}
	}
	if (a[1] && uaccess_write(t->proc->pt, a[1], &old, sizeof(old)) < 0)
		return -EFAULT;
	return 0;
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
	t->sigmask = set & ~SIGNAL_UNBLOCKABLE;
	return 0;
}

void signal_wait_done(struct task *t, long ret)
{
	if (t->restore_sigmask && ret != -EINTR) {
		t->sigmask = t->saved_sigmask;
		t->restore_sigmask = false;
	}
}

/* Blocks the host thread until a guest signal is pending or another host
 * signal (vmm's --timeout) arrives: -EINTR either way. The timer signal is
 * blocked between the check and the sleep, so none is lost. */
static long sig_sleep(struct task *t)
{
	sigset_t block, old, wait;

	sigemptyset(&block);
	sigaddset(&block, SIG_HOST_TIMER);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	if (!signal_pending(t)) {
		wait = old;
		sigdelset(&wait, SIG_HOST_TIMER);
		sigsuspend(&wait);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return -EINTR;
}

long sys_rt_sigsuspend(struct task *t, const uint64_t a[6])
{
	long r = signal_wait_mask(t, a[0], a[1]);

	if (r < 0)
		return r;
	if (!a[0])
		return -EFAULT;
	return sig_sleep(t);
}

long sys_pause(struct task *t, const uint64_t a[6])
{
	(void)a;
	return sig_sleep(t);
}

/* ---- sending to itself ---- */

/* Queues signo for `to` and makes it look soon (another thread may be in
 * KVM_RUN or asleep in a futex). */
static long sig_send_to(struct task *t, struct task *to, uint64_t signo, int code)
{
	if (signo > SIGNAL_NSIG)
		return -EINVAL;
	if (!signo)
		return 0;
	signal_send(to, &(struct signal_info){.signo = (int)signo,
					      .code = code,
					      .u.kill = {.pid = getpid(), .uid = getuid()}});
	if (to != t && t->proc->kick_task)
		t->proc->kick_task(t->proc->thread_ctx, to);
	return 0;
}

/* A signal for the whole process goes to a thread that does not block it,
 * the caller first (Linux's complete_signal prefers the current thread). */
static struct task *sig_pick_thread(struct task *t, uint64_t signo)
{
	struct process *p = t->proc;
	uint64_t bit = signo ? signal_bit((int)signo) : 0;

	if (!(t->sigmask & bit))
		return t;
	for (unsigned i = 0; i < p->nthreads; i++)
		if (!(p->tasks[i]->sigmask & bit))
			return p->tasks[i];
	return t;
}

long sys_kill(struct task *t, const uint64_t a[6])
{
	int64_t pid = (int32_t)a[0];

	if (pid != 0 && pid != getpid() && pid != -(int64_t)getpid())
		return a[1] > SIGNAL_NSIG ? -EINVAL : -ESRCH; /* no other process in the guest */
	if (a[1] > SIGNAL_NSIG)
		return -EINVAL;
	return sig_send_to(t, sig_pick_thread(t, a[1]), a[1], 0 /* SI_USER */);
}

long sys_tkill(struct task *t, const uint64_t a[6])
{
	struct task *to;

	if ((int32_t)a[0] <= 0)
		return -EINVAL;
	to = task_find(t->proc, (int32_t)a[0]);
	if (!to)
		return -ESRCH;
	return sig_send_to(t, to, a[1], -6 /* SI_TKILL */);
}

long sys_tgkill(struct task *t, const uint64_t a[6])
{
	struct task *to;

	if ((int32_t)a[0] <= 0 || (int32_t)a[1] <= 0)
		return -EINVAL;
	to = (int32_t)a[0] == getpid() ? task_find(t->proc, (int32_t)a[1]) : NULL;
	if (!to)
		return -ESRCH;
	return sig_send_to(t, to, a[2], -6 /* SI_TKILL */);
}

/* ---- timers ---- */

static void sig_host_timer(int s, siginfo_t *si, void *uc)
{
	struct signal_timer *tm = si->si_value.sival_ptr;

	(void)s, (void)uc;
	if (!tm)
		return;
	__atomic_add_fetch(&tm->fired, 1, __ATOMIC_SEQ_CST);
	if (tm->proc->kick)
		tm->proc->kick(tm->proc->kick_ctx);
}

static long sig_timer_create_host(struct process *p, int slot, clockid_t clk)
{
	static bool installed;
	struct signal_timer *tm = &p->timers[slot];
	struct sigevent sev = {.sigev_notify = SIGEV_THREAD_ID, .sigev_signo = SIG_HOST_TIMER};
	timer_t id;

	if (!installed) {
		struct sigaction sa = {.sa_sigaction = sig_host_timer, .sa_flags = SA_SIGINFO};

		sigemptyset(&sa.sa_mask);
		if (sigaction(SIG_HOST_TIMER, &sa, NULL) < 0)
			return -errno;
		installed = true;
	}
	sev.sigev_value.sival_ptr = tm;
	sev._sigev_un._tid = (pid_t)syscall(SYS_gettid); /* sigev_notify_thread_id */
	if (timer_create(clk, &sev, &id) < 0)
		return -errno;
	tm->host = id;
	tm->proc = p;
	tm->used = true;
	p->ntimers++;
	return 0;
}

static void sig_timer_free(struct process *p, int slot)
{
	struct signal_timer *tm = &p->timers[slot];

	if (!tm->used)
		return;
	timer_delete((timer_t)tm->host);
	memset(tm, 0, sizeof(*tm));
	p->ntimers--;
}

/* ITIMER_REAL is timer slot 0, SIGALRM, on the monotonic clock. */
static long sig_itimer_real(struct task *t, const struct itimerspec *in, struct itimerspec *out)
{
	struct process *p = t->proc;
	long r;

	if (!p->timers[0].used) {
		r = sig_timer_create_host(p, 0, CLOCK_MONOTONIC);
		if (r < 0)
			return r;
		p->timers[0].signo = SIGALRM;
	}
	return timer_settime((timer_t)p->timers[0].host, 0, in, out) < 0 ? -errno : 0;
}

long sys_alarm(struct task *t, const uint64_t a[6])
{
	struct itimerspec in = {.it_value.tv_sec = (time_t)(uint32_t)a[0]}, out;
	long r = sig_itimer_real(t, &in, &out);

	if (r < 0)
		return r;
	/* Remaining seconds, rounded as Linux does (up from half a second). */
	return out.it_value.tv_sec + (out.it_value.tv_nsec >= 500000000 ||
				      (out.it_value.tv_sec == 0 && out.it_value.tv_nsec > 0));
}

static void sig_tv_from_ts(struct timeval *tv, const struct timespec *ts)
{
	tv->tv_sec = ts->tv_sec;
	tv->tv_usec = ts->tv_nsec / 1000;
}

long sys_setitimer(struct task *t, const uint64_t a[6])
{
	struct itimerval nv = {0}, ov;
	struct itimerspec in, out;
	long r;

	if (a[0] != ITIMER_REAL)
		return a[0] <= ITIMER_PROF ? -ENOSYS : -EINVAL;
	if (a[1] && uaccess_read(t->proc->pt, &nv, a[1], sizeof(nv)) < 0)
		return -EFAULT;
	if (nv.it_value.tv_usec < 0 || nv.it_value.tv_usec >= 1000000 ||
	    nv.it_interval.tv_usec < 0 || nv.it_interval.tv_usec >= 1000000 ||
	    nv.it_value.tv_sec < 0 || nv.it_interval.tv_sec < 0)
		return -EINVAL;
	in.it_value.tv_sec = nv.it_value.tv_sec;
	in.it_value.tv_nsec = nv.it_value.tv_usec * 1000;
	in.it_interval.tv_sec = nv.it_interval.tv_sec;
	in.it_interval.tv_nsec = nv.it_interval.tv_usec * 1000;
	r = sig_itimer_real(t, &in, &out);
	if (r < 0)
		return r;
	sig_tv_from_ts(&ov.it_value, &out.it_value);
	sig_tv_from_ts(&ov.it_interval, &out.it_interval);
	return a[2] ? uaccess_write(t->proc->pt, a[2], &ov, sizeof(ov)) : 0;
}

long sys_getitimer(struct task *t, const uint64_t a[6])
{
	struct process *p = t->proc;
	struct itimerspec cur = {0};
	struct itimerval ov;

	if (a[0] != ITIMER_REAL)
		return a[0] <= ITIMER_PROF ? -ENOSYS : -EINVAL;
	if (p->timers[0].used && timer_gettime((timer_t)p->timers[0].host, &cur) < 0)
		return -errno;
	sig_tv_from_ts(&ov.it_value, &cur.it_value);
	sig_tv_from_ts(&ov.it_interval, &cur.it_interval);
	return uaccess_write(t->proc->pt, a[1], &ov, sizeof(ov));
}

/* struct sigevent as the kernel reads it: value, signo, notify, tid. */
struct sig_event {
	uint64_t value;
	int32_t signo, notify, tid;
};

long sys_timer_create(struct task *t, const uint64_t a[6])
{
	struct process *p = t->proc;
	struct sig_event ev = {.signo = SIGALRM, .notify = SIGEV_SIGNAL};
	int slot;
	long r;

	if (a[0] != CLOCK_MONOTONIC && a[0] != CLOCK_REALTIME && a[0] != CLOCK_BOOTTIME)
		return -EINVAL;
	if (a[1] && uaccess_read(p->pt, &ev, a[1], sizeof(ev)) < 0)
		return -EFAULT;
	if (ev.notify == SIGEV_THREAD_ID && ev.tid != t->tid)
		return -EINVAL;
	if (ev.notify != SIGEV_SIGNAL && ev.notify != SIGEV_NONE && ev.notify != SIGEV_THREAD_ID)
		return -EINVAL;
	if (ev.notify != SIGEV_NONE && (ev.signo < 1 || ev.signo > SIGNAL_NSIG))
		return -EINVAL;
	for (slot = 1; slot < SIGNAL_TIMERS && p->timers[slot].used; slot++)
		;
	if (slot == SIGNAL_TIMERS)
		return -EAGAIN;
	r = sig_timer_create_host(p, slot, (clockid_t)a[0]);
	if (r < 0)
		return r;
	p->timers[slot].signo = ev.notify == SIGEV_NONE ? 0 : ev.signo;
	p->timers[slot].value = a[1] ? ev.value : (uint64_t)slot;
	if (uaccess_write(p->pt, a[2], &slot, sizeof(slot)) < 0) {
		sig_timer_free(p, slot);
		return -EFAULT;
	}
	return 0;
}

static struct signal_timer *sig_timer_get(struct task *t, uint64_t id)
{
	return id >= 1 && id < SIGNAL_TIMERS && t->proc->timers[id].used ? &t->proc->timers[id]
									 : NULL;
}

long sys_timer_settime(struct task *t, const uint64_t a[6])
{
	struct signal_timer *tm = sig_timer_get(t, a[0]);
	struct itimerspec in, out;

	if (!tm)
		return -EINVAL;
	if (uaccess_read(t->proc->pt, &in, a[2], sizeof(in)) < 0)
		return -EFAULT;
	if (!timespec_valid(&in.it_value) || !timespec_valid(&in.it_interval) ||
	    (a[1] & ~(uint64_t)TIMER_ABSTIME))
		return -EINVAL;
	if (timer_settime((timer_t)tm->host, (int)a[1], &in, &out) < 0)
		return -errno;
	return a[3] ? uaccess_write(t->proc->pt, a[3], &out, sizeof(out)) : 0;
}

long sys_timer_gettime(struct task *t, const uint64_t a[6])
{
	struct signal_timer *tm = sig_timer_get(t, a[0]);
	struct itimerspec cur;

	if (!tm)
		return -EINVAL;
	if (timer_gettime((timer_t)tm->host, &cur) < 0)
		return -errno;
	return uaccess_write(t->proc->pt, a[1], &cur, sizeof(cur));
}

long sys_timer_getoverrun(struct task *t, const uint64_t a[6])
{
	struct signal_timer *tm = sig_timer_get(t, a[0]);

	return tm ? tm->overrun : -EINVAL;
}

long sys_timer_delete(struct task *t, const uint64_t a[6])
{
	if (!sig_timer_get(t, a[0]))
		return -EINVAL;
	sig_timer_free(t->proc, (int)a[0]);
	return 0;
}
