/* One guest running one payload: everything `vmm run` builds, in the order
 * data flows (config -> kvm, memory, tables, ELF -> run loop -> report). */
#ifndef VMM_VM_H
#define VMM_VM_H

#include "counters/counters.h"
#include "counters/perf_control.h"
#include "guest/frames.h"
#include "guest/mem.h"
#include "guest/paging.h"
#include "kernel/elf.h"
#include "kernel/loader.h"
#include "kernel/mm.h"
#include "kernel/process.h"
#include "kernel/task.h"
#include "kernel/vfs.h"
#include "kvm/kvm.h"
#include "kvm/kvm_pages.h"
#include "vm/config.h"

/* How a run ended; decides the exit status (env(1)/timeout(1) style). */
enum run_end {
	RUN_EXITED,    /* the payload called exit: its status */
	RUN_SIGNALED,  /* it faulted the way Linux would signal it: 128 + signal */
	RUN_TIMEOUT,   /* --timeout expired: 124 */
	RUN_VMM_ERROR, /* triple fault, unexpected exit, VMM failure: 125 */
};

#define EXIT_TIMEOUT 124
#define EXIT_VMM 125
#define EXIT_NOEXEC 126
#define EXIT_NOENT 127

struct run_stats {
	uint64_t exits; /* KVM_RUN returns */
	uint64_t syscall_exits;
	uint64_t exception_exits;
	uint64_t pt_updates;	  /* guest batch runs for page-table stores */
	uint64_t spurious_faults; /* #PF on a translation already fixed: resumed */
	uint64_t setup_ns, run_ns;
};

struct vm {
	const struct config *cfg;
	struct kvm kvm;
	struct guest_mem mem;
	struct frames frames;
	struct page_tables pt;
	struct mm mm;
	struct elf_image elf;
	struct load_info load;
	struct process process;
	struct task task; /* the payload's one thread */
	struct vfs vfs;	  /* what the payload may see of the host's files */
	struct counters *counters;
	struct kvm_paging_info paging;
	struct kvm_pages kvm_pages;	/* what KVM mapped: sampled per syscall */
	uint64_t leaves_peak[PS_COUNT]; /* payload leaves of the guest tables, peak */
	bool regions_marked;		/* the payload used prctl region markers */
	gva_t spurious_addr;		/* last spurious #PF address, and how often */
	unsigned spurious_repeats;
	struct perf_control perf_ctl; /* an outer perf stat, or fds -1 */

	struct kvm_regs regs; /* the vCPU state at the last exit */
	struct kvm_sregs sregs;

	enum run_end end;
	int status; /* exit status or signal number */
	struct run_stats stats;
};

/* Builds the guest. On failure returns the exit status to use (125, 126 or
 * 127) with err set; 0 on success. */
int vm_setup(struct vm *vm, const struct config *cfg);
/* Runs the payload to its end; fills vm->end and vm->status. */
void vm_run(struct vm *vm);
int vm_exit_status(const struct vm *vm);
void vm_destroy(struct vm *vm);

/* Puts the payload back at CPL3 with vm->regs (in run.c): what sysret and
 * iret would do, for syscalls and for exceptions vmm absorbs. */
int vm_resume_user(struct vm *vm);
/* The payload's registers between KVM's layout and the kernel layer's. */
void vm_regs_to_user(const struct kvm_regs *k, struct user_regs *u);
void vm_regs_from_user(struct kvm_regs *k, const struct user_regs *u);

/* In trap.c: a guest exception, already identified by its stub (vector -1:
 * port I/O by the payload). Returns 0 when the payload was resumed (a
 * spurious page fault), 1 when the run ended (vm->end/status set, report
 * printed), -1 on a VMM error. */
int trap_exception(struct vm *vm, int vector);
/* Ends the run as Linux's default action for signo would, with the first
 * line of the report: "vmm: payload killed by SIGSEGV (...): why". */
void trap_kill(struct vm *vm, int signo, const char *why);
/* Register dump and the walk of rip, for exits vmm cannot explain. */
void trap_dump(struct vm *vm, const char *what);

#endif
