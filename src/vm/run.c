/* The run loop: KVM_RUN until the payload ends, each exit handed to a
 * handler that says what happens next (enum exit_action). Only this file
 * enters the guest and puts the payload back at CPL3; the handlers decide.
 * Syscalls and exceptions arrive as port writes from the stubs; anything
 * else is either the payload's fault or something vmm cannot explain.
 * Page-table changes reach the guest through the CPL0 batch routine. */
#include <string.h>

#include "kernel/signal.h"

#include "guest/sysarea.h"
#include "kernel/syscall.h"
#include "kvm/cpu.h"
#include "util/err.h"
#include "vm/seccomp.h"
#include "vm/trap.h"
#include "vm/vm.h"

/* What an exit handler asks of the run loop. */
enum exit_action {
	EXIT_CONTINUE,	  /* enter the guest again where it stopped */
	EXIT_RESUME_USER, /* put the payload back at CPL3 with the handler's registers */
	EXIT_RUN_ENDED,	  /* th->end, th->status and th->end_info say how */
	EXIT_VMM_ERROR,	  /* vmm failed; the error is recorded (err.h) */
	EXIT_THREAD_GONE, /* this thread called exit(2); the others run on */
};

/* The vCPU at one exit, as the handlers read and change it. */
struct exit_state {
	struct kvm_regs regs;
	struct kvm_sregs sregs;
};

/* The thread whose vCPU this host thread runs (callbacks from the kernel
 * layer reach it here: they run in that thread's syscall). */
static __thread struct vm_thread *run_self;

/* One KVM_RUN, counted: a vcpu_run_result or -1. */
static int run_kvm(struct vm_thread *th)
{
	struct vm *vm = th->vm;
	__atomic_add_fetch(&vm->stats.exits, 1, __ATOMIC_RELAXED);
	th->exits++;
	return vcpu_run(th->vcpu);
}

/* Keeps for the report the KVM exit that ends the run, and the vCPU state
 * (fresh from KVM when a batch ran since the exit; on a failed read, what
 * the report had). */
static void run_note_exit(struct vm_thread *th)
{
	struct run_end_info *e = th->end_info;
	const struct kvm_run *kr = th->vcpu->run;

	e->exit.reason = kr->exit_reason;
	e->exit.suberror = kr->exit_reason == KVM_EXIT_INTERNAL_ERROR ? kr->internal.suberror : 0;
	e->exit.fail_reason = kr->exit_reason == KVM_EXIT_FAIL_ENTRY
				  ? kr->fail_entry.hardware_entry_failure_reason
				  : 0;
	e->exit.mmio_addr = kr->exit_reason == KVM_EXIT_MMIO ? kr->mmio.phys_addr : 0;
	e->exit.port = kr->exit_reason == KVM_EXIT_IO ? kr->io.port : 0;
	(void)vcpu_get_regs(th->vcpu, &e->regs);
	(void)vcpu_get_sregs(th->vcpu, &e->sregs);
}

static void run_note_dump(struct vm_thread *th, const char *what)
{
	run_note_exit(th);
	th->end_info->dump = true;
	th->end_info->dump_what = what;
}

/* Sets the vCPU to enter the batch routine at CPL0 with its arguments on
 * the stack top rsp; the other registers stay as r has them. */
static void run_batch_set(struct vm_thread *th, struct kvm_regs r, struct kvm_sregs s, uint64_t rsp,
			  size_t nstores, gva_t inv_va, size_t ninvlpg, bool flush_all)
{
	r.rip = sysarea_batch_entry();
	r.rsp = rsp;
	r.rflags = RFLAGS_FIXED; /* IF=0: nothing may interrupt the batch */
	r.rdi = DIRECT_MAP_VA + SYS_BATCH_GPA;
	r.rsi = nstores;
	r.rdx = inv_va;
	r.rcx = ninvlpg;
	r.r8 = flush_all;
	cpu_kernel_segments(&s);
	vcpu_set_regs(th->vcpu, &r);
	vcpu_set_sregs(th->vcpu, &s);
}

/* Runs one chunk of the batch routine at CPL0 and waits for its exit. */
static int run_batch_chunk_at(struct vm_thread *th, const struct kvm_sregs *user, size_t nstores,
			      size_t ninvlpg, bool flush_all, gva_t inv_va)
{
	const struct kvm_run *kr = th->vcpu->run;
	int t;

	run_batch_set(th, (struct kvm_regs){0}, *user, DIRECT_MAP_VA + SYS_KSTACK_TOP_GPA, nstores,
		      inv_va, ninvlpg, flush_all);
	/* A timeout waits until the batch is done, so the tables stay whole. */
	do
		t = run_kvm(th);
	while (t == VCPU_RUN_INTR || (t == VCPU_RUN_EXIT && kr->exit_reason == KVM_EXIT_INTR));
	if (t < 0)
		return -1;
	if (kr->exit_reason != KVM_EXIT_IO || kr->io.port != PORT_BATCH_DONE) {
		run_note_dump(th, "page-table batch did not complete");
		return err_set("run: page-table batch: unexpected exit %u", kr->exit_reason);
	}
	return 0;
}

static int run_batch_chunk(struct vm_thread *th, const struct kvm_sregs *user, size_t nstores,
			   size_t ninvlpg, bool flush_all)
{
	return run_batch_chunk_at(th, user, nstores, ninvlpg, flush_all,
				  DIRECT_MAP_VA + SYS_INVLPG_GPA);
}

/* Runs the chunk a syscall left pending now, with an exit: its batch pages
 * are about to be reused, or the run ends before the payload resumes. */
static int run_batch_drain(struct vm_thread *th)
{
	struct exit_state saved;

	if (!th->batch.pending)
		return 0;
	if (vcpu_get_regs(th->vcpu, &saved.regs) < 0 || vcpu_get_sregs(th->vcpu, &saved.sregs) < 0)
		return -1;
	th->batch.pending = false;
	if (run_batch_chunk(th, &saved.sregs, th->batch.nstores, th->batch.ninvlpg,
			    th->batch.flush_all) < 0)
		return -1;
	vcpu_set_regs(th->vcpu, &saved.regs);
	vcpu_set_sregs(th->vcpu, &saved.sregs);
	return 0;
}

/* pt_commit's apply: the guest repeats the stores, then invalidates. Long
 * lists go in chunks that fit the batch pages; the invalidation starts in
 * the run that carries the last stores. In a syscall the last chunk waits
 * in the batch pages and runs on the way back to the payload
 * (run_enter_batch), so that it costs no exit of its own. The payload's
 * registers are put back for the next entry. */
static int run_apply_update(void *ctx, const struct pt_update *u)
{
	struct vm *vm = ctx;
	struct vm_thread *th = run_self;
	struct exit_state saved;
	const size_t store_chunk = SYS_BATCH_BYTES / sizeof(uint64_t[2]);
	const size_t inv_chunk = SYS_INVLPG_BYTES / sizeof(gva_t);
	uint64_t *batch = mem_ptr(&vm->mem, SYS_BATCH_GPA, SYS_BATCH_BYTES);
	gva_t *inv = mem_ptr(&vm->mem, SYS_INVLPG_GPA, SYS_INVLPG_BYTES);
	size_t s = 0, v = 0, i;
	bool last;

	if (run_batch_drain(th) < 0)
		return -1;
	if (vcpu_get_regs(th->vcpu, &saved.regs) < 0 || vcpu_get_sregs(th->vcpu, &saved.sregs) < 0)
		return -1;
	/* KVM's gauges grow as the payload touches memory and fall only when
	 * the guest edits its tables: the last moment to see their peak. */
	kvm_pages_sample(&vm->kvm_pages);
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
		__atomic_add_fetch(&vm->stats.pt_updates, 1, __ATOMIC_RELAXED);
		s += ns;
		v += nv;
		last = s >= u->nstores && v >= u->ninvlpg;
		if (last && th->batch.defer && !vm->threads.ever_threaded) {
			th->batch.pending = true;
			th->batch.nstores = ns;
			th->batch.ninvlpg = nv;
			th->batch.flush_all = stores_done && u->flush_all;
			break;
		}
		if (run_batch_chunk(th, &saved.sregs, ns, nv, stores_done && u->flush_all) < 0)
			return -1;
	} while (!last);
	vcpu_set_regs(th->vcpu, &saved.regs);
	vcpu_set_sregs(th->vcpu, &saved.sregs);
	/* The other vCPUs may cache what changed: they invalidate too before
	 * the syscall returns, as an OS's shootdown IPIs make them. */
	if (vm->threads.ever_threaded && (u->ninvlpg || u->flush_all))
		shootdown_post(th, u->invlpg, u->ninvlpg, u->flush_all);
	return 0;
}

/* The way back to the payload through the pending chunk: the routine
 * applies it at CPL0, pops the payload's registers it used and iretq's to
 * the payload (RIP, CS, RFLAGS, RSP, SS), all in the next KVM_RUN. */
static int run_enter_batch(struct vm_thread *th)
{
	struct vm *vm = th->vm;
	struct kvm_regs u;
	struct kvm_sregs s;
	uint64_t *stack;
	const size_t words = 13;

	if (vcpu_get_regs(th->vcpu, &u) < 0 || vcpu_get_sregs(th->vcpu, &s) < 0)
		return -1;
	stack = mem_ptr(&vm->mem, SYS_KSTACK_TOP_GPA - words * 8, words * 8);
	if (!stack)
		return err_set("run: page-table batch: no kernel stack");
	th->batch.regs = u;
	th->batch.sregs = s;
	memcpy(stack,
	       (uint64_t[]){u.rax, u.rcx, u.rdx, u.rsi, u.rdi, u.r8, u.r9, u.r10, u.rip,
			    SEL_USER_CS, u.rflags, u.rsp, SEL_USER_DS},
	       words * 8);
	u.r10 = 1; /* the routine returns to the payload */
	run_batch_set(th, u, s, DIRECT_MAP_VA + SYS_KSTACK_TOP_GPA - words * 8, th->batch.nstores,
		      DIRECT_MAP_VA + SYS_INVLPG_GPA, th->batch.ninvlpg, th->batch.flush_all);
	th->batch.entered = true;
	return 0;
}

/* A stop before the routine has surely run: the payload's state back, and
 * the chunk applied with an exit, so that the tables stay whole. */
static int run_batch_finish(struct vm_thread *th)
{
	th->batch.entered = false;
	vcpu_set_regs(th->vcpu, &th->batch.regs);
	vcpu_set_sregs(th->vcpu, &th->batch.sregs);
	return run_batch_drain(th);
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

/* The payload's own leaf counts: in memory, cheap enough for every syscall. */
static void run_sample_leaves(struct vm *vm)
{
	int i;

	for (i = 0; i < PS_COUNT; i++)
		if (vm->pt.sum.leaves[i] > vm->leaves_peak[i])
			vm->leaves_peak[i] = vm->pt.sum.leaves[i];
}

/* Ends the run as Linux's default action for signo would. */
static enum exit_action run_end_killed(struct vm_thread *th, int signo, const char *why)
{
	th->end = RUN_SIGNALED;
	th->status = signo;
	th->end_info->killed = true;
	snprintf(th->end_info->why, sizeof(th->end_info->why), "%s", why);
	return EXIT_RUN_ENDED;
}

static void run_regs_to_user(const struct kvm_regs *k, struct user_regs *u)
{
	*u = (struct user_regs){k->rax, k->rbx, k->rcx, k->rdx, k->rsi, k->rdi,
				k->rsp, k->rbp, k->r8,	k->r9,	k->r10, k->r11,
				k->r12, k->r13, k->r14, k->r15, k->rip, k->rflags};
}

static void run_regs_from_user(struct kvm_regs *k, const struct user_regs *u)
{
	*k = (struct kvm_regs){u->rax, u->rbx, u->rcx, u->rdx, u->rsi, u->rdi,
			       u->rsp, u->rbp, u->r8,  u->r9,  u->r10, u->r11,
			       u->r12, u->r13, u->r14, u->r15, u->rip, u->rflags};
}

/* process->fpu: the vCPU's XSAVE image for signal frames. */
static int run_fpu_save(void *ctx, void *buf, size_t size)
{
	struct vm_thread *th = run_self;
	struct kvm_xsave x;

	(void)ctx;
	if (vcpu_ioctl(th->vcpu, KVM_GET_XSAVE, &x) < 0)
		return -1;
	memcpy(buf, x.region, size);
	return 0;
}

static int run_fpu_restore(void *ctx, const void *buf, size_t size)
{
	struct vm_thread *th = run_self;
	struct kvm_xsave x;

	(void)ctx;
	if (vcpu_ioctl(th->vcpu, KVM_GET_XSAVE, &x) < 0)
		return -1;
	memcpy(x.region, buf, size);
	return vcpu_ioctl(th->vcpu, KVM_SET_XSAVE, &x) < 0 ? -1 : 0;
}

/* process->kick: called from the host timer's signal handler, so that a
 * guest timer's signal is delivered soon: every thread looks, the first
 * that does not block it takes it (async-signal-safe). */
static void run_kick(void *ctx)
{
	vm_threads_kick_all(ctx, false);
}

/* Puts the payload back at CPL3 with st->regs: what sysret and iret would
 * do, for syscalls and for exceptions vmm absorbs. */
static void run_resume_user(struct vm_thread *th, struct exit_state *st)
{
	bool user_cs = (st->sregs.cs.selector & 3) == 3;

	vcpu_set_regs(th->vcpu, &st->regs);
	if (user_cs && !th->task->segbase_dirty)
		return; /* saves a KVM_SET_SREGS on PVM, where CS stays user */
	cpu_user_segments(&st->sregs);
	st->sregs.fs.base = th->task->fs_base;
	st->sregs.gs.base = th->task->gs_base;
	th->task->segbase_dirty = false;
	vcpu_set_sregs(th->vcpu, &st->sregs);
}

/* A syscall, resumed as sysret would: under PVM `syscall` left CS at CPL3
 * and R11 unreliable, so the state is set here. */
static enum exit_action run_syscall(struct vm_thread *th, struct exit_state *st)
{
	struct vm *vm = th->vm;
	struct kvm_regs *r = &st->regs;
	uint64_t args[6] = {r->rdi, r->rsi, r->rdx, r->r10, r->r8, r->r9};
	struct user_regs u;
	bool locked;
	long ret;
	int kill;

	__atomic_add_fetch(&vm->stats.syscall_exits, 1, __ATOMIC_RELAXED);
	th->syscalls++;
	th->batch.defer = true;
	run_regs_to_user(r, &u);
	/* One lock for what threads share, but not across a wait (kernel/
	 * syscall.h): a futex or a sleep must not stop the others. */
	locked = !syscall_may_wait(r->rax);
	if (locked) {
		pthread_mutex_lock(&vm->process.lock);
		/* Before the syscall can unmap anything: the peak is what ran.
		 * KVM's gauges are sampled by run_apply_update, only when
		 * tables change. */
		run_sample_leaves(vm);
	}
	th->task->user_sp = u.rsp;
	th->task->syscall_locked = locked;
	ret = syscall_dispatch(th->task, r->rax, args);
	th->task->syscall_locked = false;
	th->batch.defer = false;
	if (vm->mm.failed) {
		if (locked)
			pthread_mutex_unlock(&vm->process.lock);
		err_wrap("run: page-table update for syscall %llu failed",
			 (unsigned long long)r->rax);
		return EXIT_VMM_ERROR;
	}
	if (__atomic_load_n(&vm->process.exited, __ATOMIC_ACQUIRE)) {
		if (locked)
			pthread_mutex_unlock(&vm->process.lock);
		th->end = RUN_EXITED;
		th->status = vm->process.exit_status;
		return EXIT_RUN_ENDED;
	}
	if (th->task->exited) {
		if (locked)
			pthread_mutex_unlock(&vm->process.lock);
		return EXIT_THREAD_GONE;
	}
	if (!locked)
		pthread_mutex_lock(&vm->process.lock);
	/* The return as sysret makes it, or a restart, rt_sigreturn, or a
	 * handler's frame (kernel/signal.h). */
	kill = signal_syscall_return(th->task, ret, &u);
	pthread_mutex_unlock(&vm->process.lock);
	if (vm->mm.failed) {
		err_wrap("run: page-table update for a signal frame failed");
		return EXIT_VMM_ERROR;
	}
	if (kill) {
		char why[sizeof(th->end_info->why)];

		snprintf(why, sizeof(why), "at the return from syscall %s",
			 syscall_name(r->rax) ? syscall_name(r->rax) : "?");
		return run_end_killed(th, kill, why);
	}
	run_regs_from_user(r, &u);
	return EXIT_RESUME_USER;
}

/* `int $N` at CPL3 through a DPL0 gate is a #GP (error code N * 8 + 2,
 * SDM 3A 6.12.1.1), which Linux makes SIGSEGV; PVM raises #UD for it
 * instead. True, with that error code, when the #UD is such an `int`. */
static bool run_int_n_as_gp(const struct vm *vm, gva_t rip, uint64_t *error)
{
	uint8_t insn[2];
	gpa_t gpa;

	for (int i = 0; i < 2; i++) {
		const uint8_t *p;

		if (pt_translate(&vm->pt, rip + (gva_t)i, PT_EXEC, &gpa) < 0 ||
		    !(p = mem_ptr(&vm->mem, gpa, 1)))
			return false;
		insn[i] = *p;
	}
	if (insn[0] != 0xcd)
		return false;
	*error = (uint64_t)insn[1] * 8 + 2;
	return true;
}

/* Where the stub's frame is: vCPU 0's on the system stacks (trap.c),
 * another vCPU's on its own stack page. */
static bool run_frame_gpa(const struct vm_thread *th, uint64_t rsp, int vector, gpa_t *gpa,
			  size_t *len)
{
	bool sys = trap_frame_gpa(rsp, vector, gpa, len);

	if (sys || !th->kstack_gpa || rsp < DIRECT_MAP_VA)
		return sys;
	return *gpa >= th->kstack_gpa && *gpa + *len <= th->kstack_gpa + SZ_4K;
}

/* The facts trap_decide needs: the frame the CPU pushed on the CPL0 stack
 * (port I/O has none: the exit's own rip and rsp), and for a #PF whether
 * the tables allow the access now. */
static void run_trap_event(const struct vm_thread *th, const struct exit_state *st, int vector,
			   struct trap_event *ev)
{
	struct vm *vm = th->vm;
	uint64_t words[6];
	const void *p;
	gpa_t gpa;
	size_t len;

	*ev = (struct trap_event){.vector = vector, .cr2 = st->sregs.cr2};
	if (vector == TRAP_PORT_IO) {
		ev->frame = (struct trap_frame){
		    .rip = st->regs.rip, .rsp = st->regs.rsp, .cs = SEL_USER_CS};
		ev->frame_ok = true;
		return;
	}
	if (!run_frame_gpa(th, st->regs.rsp, vector, &gpa, &len) || len > sizeof(words) ||
	    !(p = mem_ptr(&vm->mem, gpa, len)))
		return;
	memcpy(words, p, len);
	trap_frame_parse(words, vector, &ev->frame);
	ev->frame_ok = true;
	if (vector == VEC_UD && run_int_n_as_gp(vm, ev->frame.rip, &ev->frame.error))
		ev->vector = VEC_GP;
	/* Under the process lock: another thread's mmap(MAP_FIXED) or mremap
	 * replaces a translation in steps (old entry cleared, new one written)
	 * and a fault seen between them must wait for the end, as Linux's
	 * mmap_lock makes it; then the fault is spurious and the payload goes
	 * on, never killed by a hole it could not see natively. */
	if (vector == VEC_PF) {
		pthread_mutex_lock(&vm->process.lock);
		ev->pf_allowed =
		    pt_translate(&vm->pt, ev->cr2, trap_pf_access(ev->frame.error), &gpa) == 0;
		ev->pt_updates = vm->pt.tlb.updates;
		pthread_mutex_unlock(&vm->process.lock);
	}
}

/* A guest exception, already identified by its stub (or TRAP_PORT_IO). */
static enum exit_action run_exception(struct vm_thread *th, struct exit_state *st, int vector)
{
	struct vm *vm = th->vm;
	struct run_end_info *e = th->end_info;
	struct trap_event ev;
	struct trap_decision d;

	if (vector == VEC_PF) /* vmm:page-faults */
		__atomic_add_fetch(&th->vm->stats.page_faults, 1, __ATOMIC_RELAXED);
	run_trap_event(th, st, vector, &ev);
	d = trap_decide(&ev, &th->spurious);
	if (d.verdict == TRAP_SPURIOUS) {
		__atomic_add_fetch(&vm->stats.spurious_faults, 1, __ATOMIC_RELAXED);
		st->regs.rip = ev.frame.rip;
		st->regs.rsp = ev.frame.rsp;
		st->regs.rflags = ev.frame.rflags;
		return EXIT_RESUME_USER;
	}
	if (d.verdict == TRAP_KILL) {
		/* A handler the payload installed runs instead of the report. */
		struct signal_fault sf = trap_signal_fault(&ev, &d);
		struct user_regs u;
		bool handled;

		st->regs.rip = ev.frame.rip;
		st->regs.rsp = ev.frame.rsp;
		st->regs.rflags = ev.frame.rflags ? ev.frame.rflags : st->regs.rflags;
		run_regs_to_user(&st->regs, &u);
		pthread_mutex_lock(&vm->process.lock);
		handled = signal_from_fault(th->task, &sf, &u);
		pthread_mutex_unlock(&vm->process.lock);
		if (handled) {
			run_regs_from_user(&st->regs, &u);
			return EXIT_RESUME_USER;
		}
		if (vm->mm.failed) {
			err_wrap("run: page-table update for a signal frame failed");
			return EXIT_VMM_ERROR;
		}
	}
	run_note_exit(th);
	e->trap = true;
	e->event = ev;
	e->decision = d;
	if (d.verdict == TRAP_KILL)
		return run_end_killed(th, d.signo, d.name);
	e->dump = true;
	e->dump_what = d.dump_what;
	th->end = RUN_VMM_ERROR;
	return EXIT_RUN_ENDED;
}

/* Linux would raise #GP for port I/O at CPL3: SIGSEGV. */
static enum exit_action run_payload_port_io(struct vm_thread *th, struct exit_state *st)
{
	th->end_info->port_io = true;
	th->end_info->port = th->vcpu->run->io.port;
	return run_exception(th, st, TRAP_PORT_IO);
}

/* Hands one exit to its handler. */
static enum exit_action run_exit(struct vm_thread *th, struct exit_state *st)
{
	struct vm *vm = th->vm;
	const struct kvm_run *kr = th->vcpu->run;
	int vec;

	/* Re-anchors the vDSO's clocks when due; one vCPU at a time, and
	 * none waits for another's turn. */
	if (pthread_mutex_trylock(&vm->threads.clock_lock) == 0) {
		vclock_tick(&vm->vclock);
		pthread_mutex_unlock(&vm->threads.clock_lock);
	}
	if (kr->exit_reason == KVM_EXIT_INTR)
		return EXIT_CONTINUE;
	if (vcpu_get_regs(th->vcpu, &st->regs) < 0 || vcpu_get_sregs(th->vcpu, &st->sregs) < 0)
		return EXIT_VMM_ERROR;
	if (kr->exit_reason == KVM_EXIT_IO && kr->io.direction == KVM_EXIT_IO_OUT) {
		if (kr->io.port == PORT_SYSCALL && sysarea_is_syscall_stub(st->regs.rip))
			return run_syscall(th, st);
		vec = sysarea_stub_vector(st->regs.rip);
		if (kr->io.port == PORT_EXCEPTION && vec >= 0 && (st->sregs.cs.selector & 3) == 0) {
			__atomic_add_fetch(&vm->stats.exception_exits, 1, __ATOMIC_RELAXED);
			return run_exception(th, st, vec);
		}
	}
	if (kr->exit_reason == KVM_EXIT_IO)
		return run_payload_port_io(th, st);
	run_note_dump(th, NULL);
	th->end = RUN_VMM_ERROR;
	return EXIT_RUN_ENDED;
}

/* A guest signal became pending while the payload ran (a timer's): it is
 * delivered now if the vCPU is in the payload's own code; inside a stub,
 * the stub's exit comes next and delivers there. */
static enum exit_action run_signal_async(struct vm_thread *th, struct exit_state *st)
{
	struct vm *vm = th->vm;
	struct user_regs u;
	int kill;

	if (vcpu_get_regs(th->vcpu, &st->regs) < 0 || vcpu_get_sregs(th->vcpu, &st->sregs) < 0)
		return EXIT_VMM_ERROR;
	if ((st->sregs.cs.selector & 3) != 3 || sysarea_is_syscall_stub(st->regs.rip) ||
	    sysarea_stub_vector(st->regs.rip) >= 0)
		return EXIT_CONTINUE;
	run_regs_to_user(&st->regs, &u);
	kill = signal_deliver_pending(th->task, &u);
	if (vm->mm.failed) {
		err_wrap("run: page-table update for a signal frame failed");
		return EXIT_VMM_ERROR;
	}
	if (kill)
		return run_end_killed(th, kill, "asynchronous signal");
	run_regs_from_user(&st->regs, &u);
	return EXIT_RESUME_USER;
}

/* Enters the guest until a handler ends the run. */
static enum exit_action run_loop(struct vm_thread *th)
{
	struct vm *vm = th->vm;
	struct process *p = &vm->process;
	struct exit_state st;
	enum exit_action act;
	bool intr;
	int t;

	for (;;) {
		/* Checked before every entry: the timer also makes a KVM_RUN
		 * that starts after this check return at once. */
		if (vcpu_should_stop(th->vcpu) || th->vm->stop_signal) {
			if (th->batch.entered && run_batch_finish(th) < 0)
				return EXIT_VMM_ERROR;
			if (th->vm->stop_signal) { /* vm_request_stop */
				th->end = RUN_INTERRUPTED;
				th->status = th->vm->stop_signal;
				return EXIT_RUN_ENDED;
			}
			/* The timer, or another thread that ended the run (its
			 * end is recorded first: this one does not count). */
			th->end = RUN_TIMEOUT;
			th->end_info->timeout = th->vcpu->timed_out;
			return EXIT_RUN_ENDED;
		}
		if (signal_pending(th->task)) {
			pthread_mutex_lock(&p->lock);
			act = run_signal_async(th, &st);
			pthread_mutex_unlock(&p->lock);
			if (act == EXIT_RESUME_USER)
				run_resume_user(th, &st);
			else if (act != EXIT_CONTINUE)
				return act;
		}
		if (shootdown_enter(th) < 0)
			return EXIT_VMM_ERROR;
		t = run_kvm(th);
		intr = t == VCPU_RUN_INTR ||
		       (t == VCPU_RUN_EXIT && th->vcpu->run->exit_reason == KVM_EXIT_INTR);
		if (shootdown_leave(th, intr && !th->batch.entered) < 0)
			return EXIT_VMM_ERROR;
		if (t < 0)
			return EXIT_VMM_ERROR;
		if (t == VCPU_RUN_INTR)
			continue; /* check the stop flags, enter again */
		if (th->vcpu->run->exit_reason != KVM_EXIT_INTR)
			th->batch.entered = th->batch.pending = false; /* it ran */
		act = run_exit(th, &st);
		if (act == EXIT_RESUME_USER) {
			run_resume_user(th, &st);
			if (th->batch.pending && run_enter_batch(th) < 0)
				return EXIT_VMM_ERROR;
		} else if (act != EXIT_CONTINUE) {
			/* The run ends: a waiting chunk still reaches KVM. */
			if (act != EXIT_VMM_ERROR && run_batch_drain(th) < 0)
				return EXIT_VMM_ERROR;
			return act;
		}
	}
}

/* A kick can take a vCPU out of KVM_RUN while it delivers one of the
 * payload's exceptions (a #PF racing with the shootdown): KVM keeps it
 * queued and would deliver it inside the flush routine. The flush runs
 * with nothing queued and puts the events back after, as a migration
 * saves and restores them; *aside says whether there was anything. */
static int run_events_set_aside(struct vm_thread *th, struct kvm_vcpu_events *saved, bool *aside)
{
	struct kvm_vcpu_events clear;

	if (vcpu_ioctl(th->vcpu, KVM_GET_VCPU_EVENTS, saved) < 0)
		return -1;
	*aside = saved->exception.injected || saved->exception.pending ||
		 saved->interrupt.injected || saved->nmi.injected;
	if (!*aside)
		return 0;
	clear = *saved;
	clear.exception.injected = clear.exception.pending = 0;
	clear.interrupt.injected = 0;
	clear.nmi.injected = 0;
	return vcpu_ioctl(th->vcpu, KVM_SET_VCPU_EVENTS, &clear);
}

int run_flush_chunk(struct vm_thread *th, size_t n, bool flush_all)
{
	struct exit_state saved;
	struct kvm_vcpu_events events;
	bool aside;

	if (vcpu_get_regs(th->vcpu, &saved.regs) < 0 ||
	    vcpu_get_sregs(th->vcpu, &saved.sregs) < 0 ||
	    run_events_set_aside(th, &events, &aside) < 0)
		return -1;
	if (run_batch_chunk_at(th, &saved.sregs, 0, n, flush_all, DIRECT_MAP_VA + th->inv_gpa) < 0)
		return -1;
	vcpu_set_regs(th->vcpu, &saved.regs);
	vcpu_set_sregs(th->vcpu, &saved.sregs);
	/* The registers first: the queued exception belongs to them. */
	if (aside &&
	    (vcpu_flush(th->vcpu) < 0 || vcpu_ioctl(th->vcpu, KVM_SET_VCPU_EVENTS, &events) < 0))
		return -1;
	return 0;
}

struct vm_thread *vm_threads_self(void)
{
	return run_self;
}

/* A VMM failure ends the run; its message is kept before anything else can
 * record another. */
static void run_end_error(struct vm_thread *th)
{
	th->end = RUN_VMM_ERROR;
	snprintf(th->end_info->error, sizeof(th->end_info->error), "%s", err_msg());
}

void run_thread(struct vm_thread *th)
{
	enum exit_action act;

	run_self = th;
	act = run_loop(th);
	if (act == EXIT_VMM_ERROR)
		run_end_error(th);
	if (act != EXIT_THREAD_GONE)
		vm_threads_end(th);
}

/* Closes the regions and the outer perf stat's window; warnings only. */
static void run_finish_counters(struct vm *vm)
{
	if (vm->counters && counters_in_region(vm->counters) &&
	    counters_region_end(vm->counters) < 0)
		vmm_warn("%s", err_msg());
	if (perf_control_set(&vm->perf_ctl, false) < 0)
		vmm_warn("%s", err_msg());
	if (vm->perf_ctl.ctl_fd >= 0 && !vm->regions_marked)
		vmm_warn("perf-control: the payload marked no regions (prctl "
			 "PR_TASK_PERF_EVENTS_ENABLE): perf counted nothing");
}

/* Where vm_run fails before the payload ever ran. */
static struct run_result run_fail(struct vm *vm)
{
	vm->end = RUN_VMM_ERROR;
	snprintf(vm->end_info.error, sizeof(vm->end_info.error), "%s", err_msg());
	return (struct run_result){vm->end, vm->status};
}

struct run_result vm_run(struct vm *vm)
{
	struct vm_thread *th = &vm->threads.main;
	uint64_t t0;

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
	if (vm_threads_init(vm) < 0)
		return run_fail(vm);
	if (vm->cfg->timeout_s > 0 && vcpu_arm_timeout(th->vcpu, vm->cfg->timeout_s) < 0)
		return run_fail(vm);
	/* seccomp before the first KVM_RUN (vm/seccomp.h); the counters then,
	 * so that installing the filter is not counted as the payload's. */
	if (confine_vm(vm) < 0)
		return run_fail(vm);
	if (vm->counters && counters_region_begin(vm->counters) < 0)
		vmm_warn("%s", err_msg());
	t0 = vm_now_ns();
	run_thread(th);
	vm_threads_wait(vm);
	vm->stats.run_ns = vm_now_ns() - t0;
	run_finish_counters(vm);
	kvm_pages_sample(&vm->kvm_pages);
	run_sample_leaves(vm);
	vm_threads_collect(vm);
	return (struct run_result){vm->end, vm->status};
}
