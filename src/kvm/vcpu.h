/* One virtual CPU: its fd, its shared kvm_run, a cache of its registers,
 * the host thread that runs it and the kick that makes that thread leave
 * KVM_RUN. Every ioctl on a vCPU goes through vcpu_ioctl, so each failure
 * names the vCPU and the ioctl: "vcpu 0: KVM_GET_REGS: Bad address". */
#ifndef VMM_VCPU_H
#define VMM_VCPU_H

#include <linux/kvm.h>
#include <signal.h>
#include <sys/types.h>
#include <time.h>

#include "kvm/kvm.h"
#include "util/types.h"

/* The signal of the kick and of the timeout timer. vcpu_create installs a
 * handler that only sets flags, so a KVM_RUN in progress returns EINTR. */
#define VCPU_KICK_SIGNAL SIGALRM

/* Register state: the cache holds what KVM has (valid) or what the vCPU
 * must get before it next enters the guest (dirty). KVM_RUN makes a clean
 * cache stale; a dirty one is written first. Kept apart per register set
 * so that a caller reads and writes only what it needs. */
struct vcpu_state_cache {
	bool valid, dirty;
};

struct vcpu {
	int index; /* KVM's vCPU id, for messages */
	int fd;	   /* -1 until vcpu_create */
	struct kvm_run *run;
	size_t run_size;
	pid_t tid; /* the host thread that calls vcpu_run (vcpu_bind_thread) */

	struct kvm_regs regs; /* read and write through vcpu_get/set_regs */
	struct kvm_sregs sregs;
	struct vcpu_state_cache regs_state, sregs_state;
	/* KVM_CAP_SYNC_REGS: KVM stores regs and sregs in run->s.regs at every
	 * exit and takes dirty ones from there at entry, without an ioctl.
	 * sync_fresh: run->s.regs holds what KVM has (a KVM_RUN returned since
	 * the last register ioctl could have made it stale). */
	bool sync_regs, sync_fresh;
	uint64_t reg_ioctls; /* KVM_GET/SET_REGS/SREGS made, for the report */

	/* Set by the timer or a kick, from a signal handler or another
	 * thread; read by the run loop before each entry (atomics). */
	int timed_out;
	int stop_requested;
	timer_t timer;
	bool timer_created;
};

/* Creates vCPU `index` of k's VM, maps its kvm_run, gives it the CPUID
 * KVM supports (k->cpuid) and binds it to the calling thread. On failure v
 * is safe to vcpu_destroy. */
int vcpu_create(struct vcpu *v, struct kvm *k, int index);
/* Stops the timer, unmaps kvm_run, closes the fd; v is then as after a
 * failed vcpu_create. Safe on a vcpu whose fd is -1. */
void vcpu_destroy(struct vcpu *v);
/* The thread that will run v: the kick and the timer signal it. */
void vcpu_bind_thread(struct vcpu *v);

/* The one checked ioctl on a vCPU (the KVM selftests' vcpu_ioctl): the
 * result of ioctl(2), or -1 with errno kept and the error "vcpu N: NAME:
 * strerror" recorded. Use the macro: it passes the request's name. */
int vcpu_ioctl_named(struct vcpu *v, unsigned long request, const char *name, void *arg);
#define vcpu_ioctl(v, request, arg) vcpu_ioctl_named((v), (request), #request, (arg))

/* Register state through the cache. get reads from KVM only when the cache
 * is stale; set changes the cache and marks it dirty: it reaches KVM at the
 * next vcpu_run or vcpu_flush. */
int vcpu_get_regs(struct vcpu *v, struct kvm_regs *r);
int vcpu_get_sregs(struct vcpu *v, struct kvm_sregs *s);
void vcpu_set_regs(struct vcpu *v, const struct kvm_regs *r);
void vcpu_set_sregs(struct vcpu *v, const struct kvm_sregs *s);
/* Writes the dirty register sets to KVM now, for state that must be in
 * place before another ioctl (XSETBV needs CR4.OSXSAVE). */
int vcpu_flush(struct vcpu *v);

/* What one vcpu_run did. */
enum vcpu_run_result {
	VCPU_RUN_EXIT = 0, /* the guest exited: v->run->exit_reason says why */
	VCPU_RUN_INTR = 1, /* a signal or a kick interrupted it: run again */
};
/* Writes dirty registers, then KVM_RUN once: a vcpu_run_result, or -1 on
 * error (recorded). After an interruption immediate_exit is cleared, so
 * the caller checks vcpu_should_stop before it enters again. */
int vcpu_run(struct vcpu *v);

/* Starts a one-shot timer of `seconds` (> 0) on v's thread; when it
 * expires v->timed_out is set and KVM_RUN returns at once. */
int vcpu_arm_timeout(struct vcpu *v, double seconds);
/* Makes v leave KVM_RUN as soon as possible (immediate_exit, so a KVM_RUN
 * about to start returns at once, and a signal to its thread for one in
 * progress). Async-signal-safe, callable from any thread: so no message,
 * -1 with errno on failure. */
int vcpu_kick(struct vcpu *v);
/* Sets stop_requested, then kicks. */
int vcpu_request_stop(struct vcpu *v);
/* The timer expired or someone asked v to stop: the run loop checks this
 * before each entry. */
static inline bool vcpu_should_stop(const struct vcpu *v)
{
	return __atomic_load_n(&v->timed_out, __ATOMIC_ACQUIRE) ||
	       __atomic_load_n(&v->stop_requested, __ATOMIC_ACQUIRE);
}

#endif
