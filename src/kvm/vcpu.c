/* The vCPU object: creation, the one checked vcpu_ioctl, the register cache
 * the run loop reads and writes through, and how a vCPU is made to leave
 * KVM_RUN (a timer or a kick: immediate_exit plus a signal to its thread). */
#include "kvm/vcpu.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "util/err.h"

/* glibc 2.36 has the field but not the name the man page uses. */
#ifndef sigev_notify_thread_id
#define sigev_notify_thread_id _sigev_un._tid
#endif

/* The timer's signal names its vCPU (si_value); a kick's signal needs no
 * work here, its sender set immediate_exit before sending it. */
static void vcpu_on_signal(int sig, siginfo_t *si, void *uc)
{
	struct vcpu *v = si->si_code == SI_TIMER ? si->si_value.sival_ptr : NULL;

	(void)sig;
	(void)uc;
	if (!v)
		return;
	__atomic_store_n(&v->timed_out, 1, __ATOMIC_RELEASE);
	if (v->run)
		__atomic_store_n(&v->run->immediate_exit, 1, __ATOMIC_RELEASE);
}

static int vcpu_install_handler(struct vcpu *v)
{
	struct sigaction sa = {.sa_sigaction = vcpu_on_signal, .sa_flags = SA_SIGINFO};

	sigemptyset(&sa.sa_mask);
	if (sigaction(VCPU_KICK_SIGNAL, &sa, NULL) < 0)
		return err_set("vcpu %d: sigaction(SIG%s): %s", v->index,
			       sigabbrev_np(VCPU_KICK_SIGNAL), strerror(errno));
	return 0;
}

/* Register state through the run area where KVM offers it for both sets:
 * each register ioctl is a host syscall more per exit. */
static void vcpu_probe_sync_regs(struct vcpu *v, struct kvm *k)
{
	const int want = KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS;
	int r = ioctl(k->vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_SYNC_REGS);

	if (r < 0 || (r & want) != want)
		return;
	v->sync_regs = true;
	v->run->kvm_valid_regs = (uint64_t)want;
}

int vcpu_create(struct vcpu *v, struct kvm *k, int index)
{
	int sz;

	memset(v, 0, sizeof(*v));
	v->index = index;
	v->fd = ioctl(k->vm_fd, KVM_CREATE_VCPU, (unsigned long)index);
	if (v->fd < 0)
		return err_set("vcpu %d: KVM_CREATE_VCPU: %s", index, strerror(errno));
	vcpu_bind_thread(v);
	/* Now, so that a kick never meets the default action (termination). */
	if (vcpu_install_handler(v) < 0)
		return -1;
	sz = ioctl(k->sys_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (sz < (int)sizeof(struct kvm_run))
		return err_set("vcpu %d: KVM_GET_VCPU_MMAP_SIZE: %s", index, strerror(errno));
	v->run_size = (size_t)sz;
	v->run = mmap(NULL, v->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
	if (v->run == MAP_FAILED) {
		v->run = NULL;
		return err_set("vcpu %d: mmap of the run area: %s", index, strerror(errno));
	}
	vcpu_probe_sync_regs(v, k);
	return vcpu_ioctl(v, KVM_SET_CPUID2, k->cpuid) < 0 ? -1 : 0;
}

void vcpu_destroy(struct vcpu *v)
{
	/* The timer first: its signal handler writes to v->run. */
	if (v->timer_created)
		timer_delete(v->timer);
	if (v->run)
		munmap(v->run, v->run_size);
	if (v->fd >= 0)
		close(v->fd);
	memset(v, 0, sizeof(*v));
	v->fd = -1;
}

void vcpu_bind_thread(struct vcpu *v)
{
	__atomic_store_n(&v->tid, gettid(), __ATOMIC_RELEASE);
}

int vcpu_ioctl_named(struct vcpu *v, unsigned long request, const char *name, void *arg)
{
	int r = ioctl(v->fd, request, arg);

	if (r < 0) {
		int e = errno;
		err_set("vcpu %d: %s: %s", v->index, name, strerror(e));
		errno = e;
	}
	return r;
}

int vcpu_get_regs(struct vcpu *v, struct kvm_regs *r)
{
	if (!v->regs_state.valid) {
		if (v->sync_fresh)
			v->regs = v->run->s.regs.regs;
		else if (v->reg_ioctls++, vcpu_ioctl(v, KVM_GET_REGS, &v->regs) < 0)
			return -1;
		v->regs_state.valid = true;
	}
	*r = v->regs;
	return 0;
}

int vcpu_get_sregs(struct vcpu *v, struct kvm_sregs *s)
{
	if (!v->sregs_state.valid) {
		if (v->sync_fresh)
			v->sregs = v->run->s.regs.sregs;
		else if (v->reg_ioctls++, vcpu_ioctl(v, KVM_GET_SREGS, &v->sregs) < 0)
			return -1;
		v->sregs_state.valid = true;
	}
	*s = v->sregs;
	return 0;
}

void vcpu_set_regs(struct vcpu *v, const struct kvm_regs *r)
{
	v->regs = *r;
	v->regs_state = (struct vcpu_state_cache){.valid = true, .dirty = true};
}

void vcpu_set_sregs(struct vcpu *v, const struct kvm_sregs *s)
{
	v->sregs = *s;
	v->sregs_state = (struct vcpu_state_cache){.valid = true, .dirty = true};
}

int vcpu_flush(struct vcpu *v)
{
	/* sregs first, as a guest would see it: segments, then registers. */
	if (v->sregs_state.dirty) {
		v->reg_ioctls++;
		if (vcpu_ioctl(v, KVM_SET_SREGS, &v->sregs) < 0)
			return -1;
		v->sregs_state.dirty = false;
		v->sync_fresh = false;
	}
	if (v->regs_state.dirty) {
		v->reg_ioctls++;
		if (vcpu_ioctl(v, KVM_SET_REGS, &v->regs) < 0)
			return -1;
		v->regs_state.dirty = false;
		v->sync_fresh = false;
	}
	return 0;
}

/* Before KVM_RUN: dirty sets go through the run area where KVM reads them
 * at entry (regs, then sregs, before it looks at immediate_exit), else by
 * ioctl. Only a KVM_RUN that stored them can leave the area fresh. */
static int vcpu_flush_for_run(struct vcpu *v)
{
	if (!v->sync_regs || !v->sync_fresh)
		return vcpu_flush(v);
	if (v->sregs_state.dirty) {
		v->run->s.regs.sregs = v->sregs;
		v->run->kvm_dirty_regs |= KVM_SYNC_X86_SREGS;
		v->sregs_state.dirty = false;
	}
	if (v->regs_state.dirty) {
		v->run->s.regs.regs = v->regs;
		v->run->kvm_dirty_regs |= KVM_SYNC_X86_REGS;
		v->regs_state.dirty = false;
	}
	return 0;
}

int vcpu_run(struct vcpu *v)
{
	int r;

	if (vcpu_flush_for_run(v) < 0)
		return -1;
	/* Whatever KVM_RUN did, the guest may have changed its registers. */
	v->regs_state.valid = v->sregs_state.valid = false;
	v->sync_fresh = false;
	r = vcpu_ioctl(v, KVM_RUN, NULL);
	/* KVM stores the synced sets on every return that reached the
	 * vCPU, EINTR from immediate_exit included. */
	if (r == 0 || errno == EINTR || errno == EAGAIN)
		v->sync_fresh = v->sync_regs;
	if (r == 0)
		return VCPU_RUN_EXIT;
	if (errno == EINTR || errno == EAGAIN) {
		err_clear(); /* not a failure: the caller looks why and enters again */
		__atomic_store_n(&v->run->immediate_exit, 0, __ATOMIC_RELEASE);
		return VCPU_RUN_INTR;
	}
	return -1;
}

int vcpu_arm_timeout(struct vcpu *v, double seconds)
{
	struct sigevent sev = {
	    .sigev_notify = SIGEV_THREAD_ID,
	    .sigev_signo = VCPU_KICK_SIGNAL,
	    .sigev_value.sival_ptr = v,
	};
	struct itimerspec it = {0};

	sev.sigev_notify_thread_id = v->tid;
	if (!v->timer_created) {
		if (timer_create(CLOCK_MONOTONIC, &sev, &v->timer) < 0)
			return err_set("vcpu %d: timer_create: %s", v->index, strerror(errno));
		v->timer_created = true;
	}
	it.it_value.tv_sec = (time_t)seconds;
	it.it_value.tv_nsec = (long)((seconds - (double)(time_t)seconds) * 1e9);
	if (it.it_value.tv_sec == 0 && it.it_value.tv_nsec == 0)
		it.it_value.tv_nsec = 1; /* zero would disarm it */
	if (timer_settime(v->timer, 0, &it, NULL) < 0)
		return err_set("vcpu %d: timer_settime: %s", v->index, strerror(errno));
	return 0;
}

int vcpu_kick(struct vcpu *v)
{
	if (v->run)
		__atomic_store_n(&v->run->immediate_exit, 1, __ATOMIC_RELEASE);
	return tgkill(getpid(), __atomic_load_n(&v->tid, __ATOMIC_ACQUIRE), VCPU_KICK_SIGNAL);
}

int vcpu_request_stop(struct vcpu *v)
{
	__atomic_store_n(&v->stop_requested, 1, __ATOMIC_RELEASE);
	return vcpu_kick(v);
}
