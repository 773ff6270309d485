/* The payload's threads: clone's callbacks (a vCPU from the pool or a new
 * one, a host thread to run it, registers from the parent's syscall), the
 * kick that reaches every thread, how the first end of the run stops all
 * others, and thread 0's wait for the rest. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "guest/sysarea.h"
#include "kvm/cpu.h"
#include "util/err.h"
#include "vm/vm.h"

#define THREADS_CONTAINER(t)                                                                       \
	((struct vm_thread *)((char *)(t)-offsetof(struct vm_thread, own_task)))

static struct vm_thread *threads_of_task(struct vm *vm, struct task *t)
{
	return t == &vm->task ? &vm->threads.main : THREADS_CONTAINER(t);
}

/* A page of the VMM's own for a vCPU: from the table pool, which the
 * direct map covers, so CPL0 code reaches it at DIRECT_MAP_VA + gpa. It is
 * mapped now, not on the way back to the payload (no deferred batch once
 * threads exist): the new vCPU may run first. */
static int threads_kernel_page(struct vm *vm, gpa_t *gpa)
{
	__atomic_store_n(&vm->threads.ever_threaded, true, __ATOMIC_RELEASE);
	if (pt_pool_take_page(&vm->pt, gpa) < 0)
		return -1;
	return pt_commit(&vm->pt, vm->mm.apply, vm->mm.apply_ctx);
}

/* A page of its own for the addresses a shootdown sends it. */
static int threads_inv_page(struct vm *vm, struct vm_thread *th)
{
	if (th->inv_gpa)
		return 0;
	return threads_kernel_page(vm, &th->inv_gpa);
}

/* Exceptions push their frame at RSP0: each vCPU needs its own stack, so
 * its own TSS (KVM takes the TSS from tr.base). */
static int threads_own_tss(struct vm *vm, struct vm_thread *th)
{
	struct kvm_sregs s;
	gpa_t tss;

	if (threads_kernel_page(vm, &tss) < 0 || threads_kernel_page(vm, &th->kstack_gpa) < 0 ||
	    sysarea_vcpu_tss(&vm->mem, tss, th->kstack_gpa) < 0 || vcpu_get_sregs(th->vcpu, &s) < 0)
		return -1;
	s.tr.base = DIRECT_MAP_VA + tss;
	vcpu_set_sregs(th->vcpu, &s);
	return vcpu_flush(th->vcpu);
}

/* A new vCPU for the pool, set up as vCPU 0 was (its registers come at
 * the start). */
static struct vm_thread *threads_new(struct vm *vm)
{
	struct vm_threads *ts = &vm->threads;
	struct vm_thread *th = calloc(1, sizeof(*th));

	if (!th || !(th->end_info = calloc(1, sizeof(*th->end_info)))) {
		free(th);
		err_set("threads: out of host memory");
		return NULL;
	}
	th->vm = vm;
	th->index = (int)ts->n;
	th->vcpu = &th->own_vcpu;
	th->task = &th->own_task;
	if (vcpu_create(th->vcpu, &vm->kvm, th->index) < 0 ||
	    cpu_vcpu_init(th->vcpu, &vm->kvm, vm->pt.root, 0, 0) < 0 ||
	    kvm_tsc_copy(th->vcpu, &vm->tsc) < 0 || threads_inv_page(vm, th) < 0 ||
	    threads_own_tss(vm, th) < 0) {
		vcpu_destroy(th->vcpu);
		free(th->end_info);
		free(th);
		return NULL;
	}
	/* Its KVM statistics join the sum; without them the run goes on and
	 * those counters say why they are missing. */
	if (vm->counters && counters_add_vcpu(vm->counters, th->vcpu->fd) < 0)
		vmm_warn("clone: %s", err_msg());
	ts->all[ts->n++] = th;
	pthread_mutex_lock(&ts->clock_lock); /* the data page's one writer */
	vclock_getcpu_per_vcpu(&vm->vclock);
	pthread_mutex_unlock(&ts->clock_lock);
	return th;
}

/* process->thread_alloc, in clone with the process lock held. */
static struct task *threads_alloc(void *ctx, int *err)
{
	struct vm *vm = ctx;
	struct vm_threads *ts = &vm->threads;
	struct vm_thread *th = NULL;

	pthread_mutex_lock(&ts->lock);
	if (ts->ended) { /* a fault or --timeout ends the run: no new thread */
		pthread_mutex_unlock(&ts->lock);
		*err = -EINTR;
		return NULL;
	}
	for (;;) {
		bool leaving = false;

		for (unsigned i = 1; i < ts->n && !th; i++) {
			if (!ts->all[i]->busy)
				th = ts->all[i];
			else if (ts->all[i]->task->exited)
				leaving = true;
		}
		/* A thread that called exit(2) gives its vCPU back as its host
		 * thread leaves the loop, just after: at the limit, wait. */
		if (th || ts->n < ts->max || !leaving)
			break;
		pthread_cond_wait(&ts->cond, &ts->lock);
	}
	if (th && th->joinable) { /* its last host thread has left its loop */
		pthread_mutex_unlock(&ts->lock);
		pthread_join(th->host, NULL);
		pthread_mutex_lock(&ts->lock);
		th->joinable = false;
	}
	if (!th && ts->n < ts->max)
		th = threads_new(vm);
	if (!th && ts->n < ts->max) {
		vmm_warn("clone: %s", err_msg());
		*err = -EAGAIN;
	}
	if (th && threads_inv_page(vm, &ts->main) < 0) {
		vmm_warn("clone: %s", err_msg());
		th = NULL;
		*err = -ENOMEM;
	}
	if (th) {
		__atomic_store_n(&th->busy, true, __ATOMIC_RELEASE);
		__atomic_store_n(&ts->ever_threaded, true, __ATOMIC_RELEASE);
		ts->clones++;
		if (vm->process.nthreads + 1 > ts->peak)
			ts->peak = vm->process.nthreads + 1;
	}
	pthread_mutex_unlock(&ts->lock);
	return th ? th->task : NULL;
}

static void threads_put(void *ctx, struct task *t)
{
	struct vm *vm = ctx;
	struct vm_thread *th = threads_of_task(vm, t);

	pthread_mutex_lock(&vm->threads.lock);
	__atomic_store_n(&th->busy, false, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&vm->threads.lock);
}

static void *threads_host_main(void *arg)
{
	struct vm_thread *th = arg;
	struct vm_threads *ts = &th->vm->threads;

	vcpu_bind_thread(th->vcpu);
	run_thread(th);
	pthread_mutex_lock(&ts->lock);
	__atomic_store_n(&th->busy, false, __ATOMIC_RELEASE);
	ts->running--;
	pthread_cond_broadcast(&ts->cond);
	pthread_mutex_unlock(&ts->lock);
	return NULL;
}

/* process->thread_start: the child at the parent's syscall return, rax 0,
 * its own stack and TLS, on a fresh TLB. */
static int threads_start(void *ctx, struct task *t, gva_t sp)
{
	struct vm *vm = ctx;
	struct vm_thread *th = threads_of_task(vm, t), *parent = NULL;
	struct vm_threads *ts = &vm->threads;
	struct kvm_regs r;
	struct kvm_sregs s;
	int e;

	/* The parent's registers at its clone syscall: the vCPU's cache has
	 * them (a page-table batch in the syscall puts them back). */
	parent = vm_threads_self();
	if (vcpu_get_regs(parent->vcpu, &r) < 0)
		return -1;
	r.rip = r.rcx;
	r.rflags = RFLAGS_USER;
	r.r11 = RFLAGS_USER;
	r.rax = 0;
	if (sp)
		r.rsp = sp;
	if (vcpu_get_sregs(th->vcpu, &s) < 0)
		return -1;
	cpu_user_segments(&s);
	s.fs.base = t->fs_base;
	s.gs.base = t->gs_base;
	t->segbase_dirty = false;
	t->cpu = th->index;
	th->last_tid = t->tid;
	vcpu_set_regs(th->vcpu, &r);
	vcpu_set_sregs(th->vcpu, &s);
	th->batch = (struct vm_batch){0};
	th->spurious = (struct trap_spurious){0};
	th->end = -1;
	memset(th->end_info, 0, sizeof(*th->end_info));
	pthread_mutex_lock(&ts->lock);
	/* A reused vCPU may still cache another thread's translations. */
	th->sd.flush_all = true;
	th->sd.npages = 0;
	th->sd.req++;
	ts->running++;
	pthread_mutex_unlock(&ts->lock);
	e = pthread_create(&th->host, NULL, threads_host_main, th);
	if (e) {
		pthread_mutex_lock(&ts->lock);
		ts->running--;
		pthread_mutex_unlock(&ts->lock);
		return err_set("threads: pthread_create: %s", strerror(e));
	}
	th->joinable = true;
	return 0;
}

static void threads_kick_one(struct vm_thread *th, bool stop)
{
	if (stop) {
		__atomic_store_n(&th->task->stop, 1, __ATOMIC_RELEASE);
		(void)vcpu_request_stop(th->vcpu);
	} else {
		(void)vcpu_kick(th->vcpu);
	}
	task_wake(th->task);
}

static void threads_kick_task(void *ctx, struct task *t)
{
	threads_kick_one(threads_of_task(ctx, t), false);
}

void vm_threads_kick_all(struct vm *vm, bool stop)
{
	struct vm_threads *ts = &vm->threads;
	unsigned n = __atomic_load_n(&ts->n, __ATOMIC_ACQUIRE);

	for (unsigned i = 0; i < n; i++)
		if (__atomic_load_n(&ts->all[i]->busy, __ATOMIC_ACQUIRE))
			threads_kick_one(ts->all[i], stop);
}

void vm_stop_all(struct vm *vm)
{
	vm_threads_kick_all(vm, true);
}

int vm_threads_init(struct vm *vm)
{
	struct vm_threads *ts = &vm->threads;
	struct process *p = &vm->process;
	int kvm_max = ioctl(vm->kvm.sys_fd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);

	pthread_mutex_init(&ts->lock, NULL);
	pthread_cond_init(&ts->cond, NULL);
	pthread_mutex_init(&ts->clock_lock, NULL);
	ts->main.vm = vm;
	ts->main.vcpu = &vm->vcpu;
	ts->main.task = &vm->task;
	__atomic_store_n(&ts->main.busy, true, __ATOMIC_RELEASE);
	ts->main.end = -1;
	ts->main.end_info = calloc(1, sizeof(*ts->main.end_info));
	if (!ts->main.end_info)
		return err_set("threads: out of host memory");
	ts->all[0] = &ts->main;
	ts->n = 1;
	ts->running = 1;
	ts->max = vm->cfg->max_threads ? vm->cfg->max_threads : 1;
	if (kvm_max > 0 && ts->max > (unsigned)kvm_max)
		ts->max = (unsigned)kvm_max;
	p->max_threads = ts->max;
	p->thread_alloc = threads_alloc;
	p->thread_start = threads_start;
	p->thread_put = threads_put;
	p->kick_task = threads_kick_task;
	p->thread_ctx = vm;
	ts->peak = 1;
	ts->main.last_tid = vm->task.tid;
	ts->kvm_remote_known =
	    kvm_stats_get(&vm->kvm_pages.stats, "remote_tlb_flush", &ts->kvm_remote_begin) == 0;
	return 0;
}

void vm_threads_collect(struct vm *vm)
{
	struct vm_threads *ts = &vm->threads;
	uint64_t end;

	if (ts->kvm_remote_known &&
	    kvm_stats_get(&vm->kvm_pages.stats, "remote_tlb_flush", &end) == 0)
		ts->kvm_remote_flushes = end - ts->kvm_remote_begin;
	else
		ts->kvm_remote_known = false;
	for (unsigned i = 0; i < ts->n; i++) {
		struct vm_thread *th = ts->all[i];
		struct kvm_stats st;

		if (kvm_stats_open(&st, th->vcpu->fd, "vcpu") < 0)
			continue;
		th->kvm_known = kvm_stats_get(&st, "exits", &th->kvm_exits) == 0 &&
				kvm_stats_get(&st, "tlb_flush", &th->kvm_tlb_flush) == 0;
		kvm_stats_close(&st);
	}
	err_clear();
}

uint64_t vm_threads_reg_ioctls(const struct vm *vm)
{
	const struct vm_threads *ts = &vm->threads;
	uint64_t n = 0;

	for (unsigned i = 0; i < ts->n; i++)
		n += ts->all[i]->vcpu->reg_ioctls;
	return ts->n ? n : vm->vcpu.reg_ioctls;
}

void vm_threads_end(struct vm_thread *th)
{
	struct vm *vm = th->vm;
	struct vm_threads *ts = &vm->threads;

	pthread_mutex_lock(&ts->lock);
	if (!ts->ended && th->end >= 0) {
		ts->ended = true;
		vm->end = th->end;
		vm->status = th->status;
		vm->end_info = *th->end_info;
		vm->end_info.tid = th->task->tid;
		vm->end_info.cpu = th->index;
		vm->end_info.threaded = ts->ever_threaded;
	}
	pthread_mutex_unlock(&ts->lock);
	vm_threads_kick_all(vm, true);
}

void vm_threads_wait(struct vm *vm)
{
	struct vm_threads *ts = &vm->threads;

	pthread_mutex_lock(&ts->lock);
	ts->running--; /* thread 0's own loop is over */
	__atomic_store_n(&ts->main.busy, false, __ATOMIC_RELEASE);
	while (ts->running > 0) {
		struct timespec ts_abs;

		/* Thread 0 may have left (pthread_exit) while the others run:
		 * its --timeout still ends the run. */
		if (vcpu_should_stop(&vm->vcpu) && !ts->ended) {
			ts->ended = true;
			vm->end = RUN_TIMEOUT;
			vm->end_info.timeout = vm->vcpu.timed_out;
			pthread_mutex_unlock(&ts->lock);
			vm_threads_kick_all(vm, true);
			pthread_mutex_lock(&ts->lock);
		}
		clock_gettime(CLOCK_REALTIME, &ts_abs);
		ts_abs.tv_nsec += 50 * 1000 * 1000;
		if (ts_abs.tv_nsec >= 1000000000) {
			ts_abs.tv_sec++;
			ts_abs.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&ts->cond, &ts->lock, &ts_abs);
	}
	pthread_mutex_unlock(&ts->lock);
	for (unsigned i = 1; i < ts->n; i++)
		if (ts->all[i]->joinable) {
			pthread_join(ts->all[i]->host, NULL);
			ts->all[i]->joinable = false;
		}
}

void vm_threads_destroy(struct vm *vm)
{
	struct vm_threads *ts = &vm->threads;

	for (unsigned i = 1; i < ts->n; i++) {
		vcpu_destroy(&ts->all[i]->own_vcpu);
		free(ts->all[i]->end_info);
		free(ts->all[i]);
		ts->all[i] = NULL;
	}
	ts->n = ts->n ? 1 : 0;
	free(ts->main.end_info);
	ts->main.end_info = NULL;
}
