/* The run loop: KVM_RUN until the payload ends, dispatching each exit.
 * Syscalls and exceptions arrive as port writes from the stubs; anything
 * else is either the payload's fault or something vmm cannot explain.
 * Page-table changes reach the guest through the CPL0 batch routine. */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/time.h>
#include <time.h>

#include "guest/sysarea.h"
#include "kernel/syscall.h"
#include "kvm/cpu.h"
#include "util/err.h"
#include "vm/vm.h"

static volatile sig_atomic_t run_timed_out;
static struct kvm_run *run_timeout_run;

/* SIGALRM: make the current or next KVM_RUN return at once. */
static void run_on_alarm(int sig)
{
	(void)sig;
	run_timed_out = 1;
	if (run_timeout_run)
		run_timeout_run->immediate_exit = 1;
}

static int run_arm_timeout(struct vm *vm)
{
	struct sigaction sa = {.sa_handler = run_on_alarm};
	struct itimerval it = {0};
	double s = vm->cfg->timeout_s;

	if (s <= 0)
		return 0;
	run_timeout_run = vm->kvm.run;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGALRM, &sa, NULL) < 0)
		return err_set("run: sigaction(SIGALRM): %s", strerror(errno));
	it.it_value.tv_sec = (time_t)s;
	it.it_value.tv_usec = (suseconds_t)((s - (double)(time_t)s) * 1e6);
	if (it.it_value.tv_sec == 0 && it.it_value.tv_usec == 0)
		it.it_value.tv_usec = 1;
	if (setitimer(ITIMER_REAL, &it, NULL) < 0)
		return err_set("run: setitimer: %s", strerror(errno));
	return 0;
}

static int run_get_state(struct vm *vm)
{
	if (ioctl(vm->kvm.vcpu_fd, KVM_GET_REGS, &vm->regs) < 0)
		return err_set("run: KVM_GET_REGS: %s", strerror(errno));
	if (ioctl(vm->kvm.vcpu_fd, KVM_GET_SREGS, &vm->sregs) < 0)
		return err_set("run: KVM_GET_SREGS: %s", strerror(errno));
	return 0;
}

static int run_set_regs(struct vm *vm, const struct kvm_regs *r)
{
	if (ioctl(vm->kvm.vcpu_fd, KVM_SET_REGS, r) < 0)
		return err_set("run: KVM_SET_REGS: %s", strerror(errno));
	return 0;
}

static int run_set_sregs(struct vm *vm, const struct kvm_sregs *s)
{
	if (ioctl(vm->kvm.vcpu_fd, KVM_SET_SREGS, s) < 0)
		return err_set("run: KVM_SET_SREGS: %s", strerror(errno));
	return 0;
}

/* One KVM_RUN: 0 when the guest exited (run->exit_reason says why), 1 when
 * a signal interrupted it (the guest resumes where it stopped on the next
 * KVM_RUN), -1 on error. */
static int run_kvm(struct vm *vm)
{
	vm->stats.exits++;
	if (ioctl(vm->kvm.vcpu_fd, KVM_RUN, 0) == 0)
		return 0;
	if (errno == EINTR || errno == EAGAIN) {
		vm->kvm.run->immediate_exit = 0;
		return 1;
	}
	return err_set("run: KVM_RUN: %s", strerror(errno));
}

/* Runs one chunk of the batch routine at CPL0 and waits for its exit. */
static int run_batch_chunk(struct vm *vm, size_t nstores, size_t ninvlpg, bool flush_all)
{
	struct kvm_regs r = {
	    .rip = sysarea_batch_entry(),
	    .rsp = DIRECT_MAP_VA + SYS_KSTACK_TOP_GPA,
	    .rflags = RFLAGS_FIXED, /* IF=0: nothing may interrupt the batch */
	    .rdi = DIRECT_MAP_VA + SYS_BATCH_GPA,
	    .rsi = nstores,
	    .rdx = DIRECT_MAP_VA + SYS_INVLPG_GPA,
	    .rcx = ninvlpg,
	    .r8 = flush_all,
	};
	struct kvm_sregs s = vm->sregs;
	struct kvm_run *kr = vm->kvm.run;
	int t;

	cpu_kernel_segments(&s);
	if (run_set_regs(vm, &r) < 0 || run_set_sregs(vm, &s) < 0)
		return -1;
	/* A timeout waits until the batch is done, so the tables stay whole. */
	do
		t = run_kvm(vm);
	while (t == 1 || (t == 0 && kr->exit_reason == KVM_EXIT_INTR));
	if (t < 0)
		return -1;
	if (kr->exit_reason != KVM_EXIT_IO || kr->io.port != PORT_BATCH_DONE) {
		run_get_state(vm);
		trap_dump(vm, "page-table batch did not complete");
		return err_set("run: page-table batch: unexpected exit %u", kr->exit_reason);
	}
	return 0;
}

/* pt_commit's apply: the guest repeats the stores, then invalidates. Long
 * lists go in chunks that fit the batch pages; the invalidation starts in
 * the run that carries the last stores. */
static int run_apply_update(void *ctx, const struct pt_update *u)
{
	struct vm *vm = ctx;
	struct kvm_regs saved_regs = vm->regs;
	struct kvm_sregs saved_sregs = vm->sregs;
	const size_t store_chunk = SYS_BATCH_BYTES / sizeof(uint64_t[2]);
	const size_t inv_chunk = SYS_INVLPG_BYTES / sizeof(gva_t);
	uint64_t *batch = mem_ptr(&vm->mem, SYS_BATCH_GPA, SYS_BATCH_BYTES);
	gva_t *inv = mem_ptr(&vm->mem, SYS_INVLPG_GPA, SYS_INVLPG_BYTES);
	size_t s = 0, v = 0, i;

	do {
		size_t ns = u->nstores - s < store_chunk ? u->nstores - s : store_chunk;
		bool stores_done = s + ns == u->nstores;
		size_t nv = !stores_done		 ? 0
			    : u->ninvlpg - v < inv_chunk ? u->ninvlpg - v
							 : inv_chunk;

		for (i = 0; i < ns; i++) {
			batch[2 * i] = DIRECT_MAP_VA + u->stores[s + i].entry;
			batch[2 * i + 1] = u->stores[s + i].val;
		}
		memcpy(inv, u->invlpg + v, nv * sizeof(gva_t));
		if (run_batch_chunk(vm, ns, nv, stores_done && u->flush_all) < 0)
			return -1;
		vm->stats.pt_updates++;
		s += ns;
		v += nv;
	} while (s < u->nstores || v < u->ninvlpg);
	vm->regs = saved_regs;
	vm->sregs = saved_sregs;
	if (run_set_regs(vm, &saved_regs) < 0 || run_set_sregs(vm, &saved_sregs) < 0)
		return -1;
	return 0;
}

/* Region edges from the payload's prctl go to every observer: vmm's own
 * counters, whose implicit whole-run region ends unreported at the first
 * marker, and an outer perf stat, which sees only the payload's regions. */
static int run_region_edge(void *ctx, bool enable)
{
	struct vm *vm = ctx;
	struct counters *c = vm->counters;

	if (!vm->regions_marked) {
		vm->regions_marked = true;
		if (c && counters_in_region(c) && counters_region_end(c) < 0)
			return -1;
		if (c)
			counters_discard_regions(c);
	}
	if (c && enable != counters_in_region(c) &&
	    (enable ? counters_region_begin(c) : counters_region_end(c)) < 0)
		return -1;
	return perf_control_set(&vm->perf_ctl, enable);
}

static void run_sample_mappings(struct vm *vm)
{
	int i;

	kvm_pages_sample(&vm->kvm_pages);
	for (i = 0; i < PS_COUNT; i++)
		if (vm->pt.sum.leaves[i] > vm->leaves_peak[i])
			vm->leaves_peak[i] = vm->pt.sum.leaves[i];
}

int vm_resume_user(struct vm *vm)
{
	bool user_cs = (vm->sregs.cs.selector & 3) == 3;

	if (run_set_regs(vm, &vm->regs) < 0)
		return -1;
	if (user_cs && !vm->task.segbase_dirty)
		return 0; /* saves a KVM_SET_SREGS on PVM, where CS stays user */
	cpu_user_segments(&vm->sregs);
	vm->sregs.fs.base = vm->task.fs_base;
	vm->sregs.gs.base = vm->task.gs_base;
	vm->task.segbase_dirty = false;
	return run_set_sregs(vm, &vm->sregs);
}

void vm_regs_to_user(const struct kvm_regs *k, struct user_regs *u)
{
	*u = (struct user_regs){k->rax, k->rbx, k->rcx, k->rdx, k->rsi, k->rdi,
				k->rsp, k->rbp, k->r8,	k->r9,	k->r10, k->r11,
				k->r12, k->r13, k->r14, k->r15, k->rip, k->rflags};
}

void vm_regs_from_user(struct kvm_regs *k, const struct user_regs *u)
{
	*k = (struct kvm_regs){u->rax, u->rbx, u->rcx, u->rdx, u->rsi, u->rdi,
			       u->rsp, u->rbp, u->r8,  u->r9,  u->r10, u->r11,
			       u->r12, u->r13, u->r14, u->r15, u->rip, u->rflags};
}

/* A guest signal became pending while the payload ran (a timer): deliver
 * it now if the vCPU is in the payload's own code; inside a stub, its
 * exit comes next and delivers there. 0 to go on, 1 when it killed. */
static int run_signal_async(struct vm *vm)
{
	struct user_regs u;
	int kill;

	if (run_get_state(vm) < 0)
		return -1;
	if ((vm->sregs.cs.selector & 3) != 3 || sysarea_is_syscall_stub(vm->regs.rip) ||
	    sysarea_stub_vector(vm->regs.rip) >= 0)
		return 0;
	vm_regs_to_user(&vm->regs, &u);
	kill = signal_deliver_pending(&vm->task, &u);
	if (kill) {
		trap_kill(vm, kill, "asynchronous signal");
		return 1;
	}
	vm_regs_from_user(&vm->regs, &u);
	return run_set_regs(vm, &vm->regs);
}

/* process->fpu: the vCPU's XSAVE image for signal frames. */
static int run_fpu_save(void *ctx, void *buf, size_t size)
{
	struct vm *vm = ctx;
	struct kvm_xsave x;

	if (ioctl(vm->kvm.vcpu_fd, KVM_GET_XSAVE, &x) < 0)
		return err_set("run: KVM_GET_XSAVE: %s", strerror(errno));
	memcpy(buf, x.region, size);
	return 0;
}

static int run_fpu_restore(void *ctx, const void *buf, size_t size)
{
	struct vm *vm = ctx;
	struct kvm_xsave x;

	if (ioctl(vm->kvm.vcpu_fd, KVM_GET_XSAVE, &x) < 0)
		return -1;
	memcpy(x.region, buf, size);
	return ioctl(vm->kvm.vcpu_fd, KVM_SET_XSAVE, &x) < 0 ? -1 : 0;
}

/* process->kick: the host timer signal makes KVM_RUN return at once. */
static void run_kick(void *ctx)
{
	struct vm *vm = ctx;

	vm->kvm.run->immediate_exit = 1;
}

/* Resumes the payload after a syscall as sysret would (DESIGN.md 2): under
 * PVM `syscall` left CS at CPL3 and R11 unreliable, so state is set here. */
static int run_syscall(struct vm *vm)
{
	struct kvm_regs *r = &vm->regs;
	uint64_t args[6] = {r->rdi, r->rsi, r->rdx, r->r10, r->r8, r->r9};
	struct user_regs u;
	long ret;
	int kill;

	vm->stats.syscall_exits++;
	/* Before the syscall can unmap anything: the peak is what ran. */
	run_sample_mappings(vm);
	vm_regs_to_user(r, &u);
	ret = syscall_dispatch(&vm->task, r->rax, args);
	if (vm->mm.failed)
		return err_wrap("run: page-table update for syscall %llu failed",
				(unsigned long long)r->rax);
	if (vm->process.exited) {
		vm->end = RUN_EXITED;
		vm->status = vm->process.exit_status;
		return 1;
	}
	kill = signal_syscall_return(&vm->task, ret, &u);
	if (kill) {
		char why[80];

		snprintf(why, sizeof(why), "delivered at the return from syscall %s",
			 syscall_name(r->rax) ? syscall_name(r->rax) : "?");
		trap_kill(vm, kill, why);
		return 1;
	}
	vm_regs_from_user(&vm->regs, &u);
	return vm_resume_user(vm);
}

static void run_payload_port_io(struct vm *vm)
{
	/* Linux would raise #GP for port I/O at CPL3: SIGSEGV. */
	fprintf(stderr, "vmm: payload did port I/O (port 0x%x) at rip 0x%llx\n",
		vm->kvm.run->io.port, (unsigned long long)vm->regs.rip);
	(void)trap_exception(vm, -1); /* always ends the run */
}

/* Handles one exit: 0 to continue, 1 when the run ended, -1 on VMM error. */
static int run_exit(struct vm *vm)
{
	struct kvm_run *kr = vm->kvm.run;
	int vec;

	if (kr->exit_reason == KVM_EXIT_INTR)
		return 0;
	if (run_get_state(vm) < 0)
		return -1;
	if (kr->exit_reason == KVM_EXIT_IO && kr->io.direction == KVM_EXIT_IO_OUT) {
		if (kr->io.port == PORT_SYSCALL && sysarea_is_syscall_stub(vm->regs.rip))
			return run_syscall(vm);
		vec = sysarea_stub_vector(vm->regs.rip);
		if (kr->io.port == PORT_EXCEPTION && vec >= 0 && (vm->sregs.cs.selector & 3) == 0) {
			vm->stats.exception_exits++;
			return trap_exception(vm, vec);
		}
	}
	if (kr->exit_reason == KVM_EXIT_IO) {
		run_payload_port_io(vm);
		return 1;
	}
	trap_dump(vm, NULL);
	vm->end = RUN_VMM_ERROR;
	return 1;
}

void vm_run(struct vm *vm)
{
	struct timespec t0, t1;
	int r = 0;

	vm->mm.apply = run_apply_update;
	vm->mm.apply_ctx = vm;
	vm->process.region_edge = run_region_edge;
	vm->process.region_ctx = vm;
	vm->process.kick = run_kick;
	vm->process.kick_ctx = vm;
	vm->process.fpu = (struct signal_fpu){run_fpu_save, run_fpu_restore, vm,
					      sizeof(((struct kvm_xsave *)0)->region)};
	vm->pt.live = true;
	kvm_pages_open(&vm->kvm_pages, vm->kvm.vm_fd);
	if (run_arm_timeout(vm) < 0) {
		vm->end = RUN_VMM_ERROR;
		fprintf(stderr, "vmm: %s\n", err_msg());
		return;
	}
	if (vm->counters && counters_region_begin(vm->counters) < 0)
		vmm_warn("%s", err_msg());
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (r == 0) {
		/* Checked before every entry: the handler also makes a KVM_RUN
		 * that starts after this check return at once. */
		if (run_timed_out) {
			vm->end = RUN_TIMEOUT;
			fprintf(stderr, "vmm: timeout after %g s\n", vm->cfg->timeout_s);
			r = 1;
			break;
		}
		if (signal_pending(&vm->task) && (r = run_signal_async(vm)) != 0)
			break;
		r = run_kvm(vm);
		if (r == 1)
			r = 0; /* interrupted: check the timeout, enter again */
		else if (r == 0)
			r = run_exit(vm);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	vm->stats.run_ns =
	    (uint64_t)(t1.tv_sec - t0.tv_sec) * 1000000000ull + (uint64_t)(t1.tv_nsec - t0.tv_nsec);
	if (vm->counters && counters_in_region(vm->counters) &&
	    counters_region_end(vm->counters) < 0)
		vmm_warn("%s", err_msg());
	if (perf_control_set(&vm->perf_ctl, false) < 0)
		vmm_warn("%s", err_msg());
	if (vm->perf_ctl.ctl_fd >= 0 && !vm->regions_marked)
		vmm_warn("perf-control: the payload marked no regions (prctl "
			 "PR_TASK_PERF_EVENTS_ENABLE): perf counted nothing");
	run_sample_mappings(vm);
	if (r < 0) {
		vm->end = RUN_VMM_ERROR;
		fprintf(stderr, "vmm: %s\n", err_msg());
	}
}
