/* The payload's threads as vCPUs: each guest thread has a vCPU of its own
 * and a host thread that runs it; all share the one page-table tree. KVM
 * cannot destroy a vCPU, so those of exited threads wait in the pool for
 * the next clone. Private to the vm layer (run.c, threads.c, shootdown.c). */
#ifndef VMM_THREADS_H
#define VMM_THREADS_H

#include <pthread.h>

#include "kernel/task.h"
#include "kvm/vcpu.h"
#include "vm/config.h"
#include "vm/trap.h"

struct vm;

/* What run.c keeps of a syscall's last page-table batch chunk, left in
 * the batch pages to run on the way back to the payload (one exit per
 * table change). Only while the payload has one thread: the batch pages
 * are shared by all vCPUs. */
struct vm_batch {
	bool defer;   /* in a syscall: the last chunk may wait */
	bool pending; /* a chunk waits in the batch pages */
	bool entered; /* the vCPU is set to enter the routine */
	size_t nstores, ninvlpg;
	bool flush_all;
	struct kvm_regs regs; /* the payload's, while entered */
	struct kvm_sregs sregs;
};

/* A TLB shootdown as one vCPU receives it (vm/shootdown.c): the pages it
 * must invalidate before it next runs the payload, or all of them. Under
 * vm->threads.lock. */
#define SHOOTDOWN_PAGES 64
struct vm_shootdown_cpu {
	bool in_guest;	/* inside KVM_RUN (or about to enter): must be waited for */
	uint64_t req;	/* requests posted to it */
	uint64_t done;	/* requests it has carried out */
	bool flush_all; /* more pages than fit, or a full flush asked */
	size_t npages;
	gva_t pages[SHOOTDOWN_PAGES];
	uint64_t received, flushes; /* for the report */
};

/* How one thread's run ended, before vm_run knows whose end counts. */
struct vm_thread {
	struct vm *vm;
	int index;	   /* its vCPU's id */
	struct vcpu *vcpu; /* thread 0: &vm->vcpu, else &own_vcpu */
	struct task *task; /* thread 0: &vm->task, else &own_task */
	struct vcpu own_vcpu;
	struct task own_task;
	gpa_t inv_gpa;	  /* its own page of invalidation addresses (shootdowns) */
	gpa_t kstack_gpa; /* vCPUs but 0: the page its TSS's RSP0 tops (0: none) */
	pthread_t host;
	bool joinable; /* host thread started and not yet joined */
	bool busy;     /* a guest thread has it (else: in the pool) */
	struct vm_batch batch;
	struct trap_spurious spurious;
	struct vm_shootdown_cpu sd;
	uint64_t exits, syscalls; /* this vCPU's share, for the report */
	int last_tid;		  /* the last guest thread it ran */
	/* KVM's own per-vCPU statistics at the end (vm_threads_collect). */
	bool kvm_known;
	uint64_t kvm_exits, kvm_tlb_flush;
	/* Where the handlers record an end of the run; vm_run keeps the
	 * first thread's that ended it (threads.c: vm_threads_end). */
	int end; /* enum run_end */
	int status;
	struct run_end_info *end_info;
};

struct vm_threads {
	pthread_mutex_t lock;			   /* the pool, the shootdown state, the end */
	pthread_cond_t cond;			   /* a thread stopped; a shootdown was served */
	pthread_mutex_t clock_lock;		   /* vclock_tick, from any vCPU's exit */
	struct vm_thread *all[CONFIG_MAX_THREADS]; /* index: vCPU id */
	unsigned n;				   /* vCPUs created */
	unsigned running;			   /* host threads in a run loop */
	unsigned max;				   /* --max-threads, capped by KVM */
	bool ended;				   /* the run's end is decided */
	bool ever_threaded;			   /* a clone happened: no deferred batch */
	struct vm_thread main;
	/* Shootdowns, for the report (vm/shootdown.c): how many, to how
	 * many vCPUs inside KVM_RUN (waited for) and outside (lazy), the
	 * time spent waiting; KVM's VM statistic remote_tlb_flush beside. */
	uint64_t sd_count, sd_targets, sd_wait_ns, sd_lazy;
	bool kvm_remote_known;
	uint64_t kvm_remote_begin, kvm_remote_flushes;
	unsigned peak; /* most guest threads alive at once */
	uint64_t clones;
};

/* threads.c */
/* Thread 0 (vm->vcpu, vm->task) and the process's thread callbacks. */
int vm_threads_init(struct vm *vm);
/* Kicks every thread out of KVM_RUN or a wait; with stop, for good.
 * Async-signal-safe. */
void vm_threads_kick_all(struct vm *vm, bool stop);
/* th's run ended the run (th->end...): the first such end is the run's,
 * and every other thread is stopped. */
void vm_threads_end(struct vm_thread *th);
/* Thread 0's host thread, after its own loop: until no thread runs, then
 * joins them all. */
void vm_threads_wait(struct vm *vm);
void vm_threads_destroy(struct vm *vm);
/* At the end of the run: KVM's per-vCPU statistics and remote_tlb_flush. */
void vm_threads_collect(struct vm *vm);
/* The sum of every vCPU's register ioctls. */
uint64_t vm_threads_reg_ioctls(const struct vm *vm);

/* run.c: the thread this host thread runs (in a syscall: the caller). */
struct vm_thread *vm_threads_self(void);
/* run.c: one thread's run loop to its end (recorded in th). */
void run_thread(struct vm_thread *th);
/* run.c: the batch routine with no stores: invalidates th's own list of
 * n pages (at th->inv_gpa), or everything. */
int run_flush_chunk(struct vm_thread *th, size_t n, bool flush_all);

/* shootdown.c */
/* After self changed live translations (the process lock held): every
 * other vCPU invalidates pages[0..n) (or all) before it runs the payload
 * again; returns once those inside KVM_RUN have done it. */
void shootdown_post(struct vm_thread *self, const gva_t *pages, size_t n, bool flush_all);
/* Before KVM_RUN: carries out what was posted, then counts as inside. */
int shootdown_enter(struct vm_thread *th);
/* After KVM_RUN: an interrupted run serves a shootdown at once (that is
 * what the kick asked); then th counts as outside. */
int shootdown_leave(struct vm_thread *th, bool interrupted);

#endif
