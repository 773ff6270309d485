/* One guest running one payload: everything `vmm run` builds, in the order
 * data flows (config -> kvm, memory, tables, ELF -> run loop -> report). */
#ifndef VMM_VM_H
#define VMM_VM_H

#include <signal.h>
#include <stdio.h>

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
#include "kernel/vclock.h"
#include "kernel/vfs.h"
#include "kvm/kvm.h"
#include "kvm/kvm_pages.h"
#include "kvm/kvm_tsc.h"
#include "kvm/vcpu.h"
#include "util/err.h"
#include "vm/config.h"
#include "vm/threads.h"
#include "vm/trap.h"

/* How a run ended; decides the exit status (env(1)/timeout(1) style). */
enum run_end {
	RUN_EXITED,	 /* the payload called exit: its status */
	RUN_SIGNALED,	 /* it faulted the way Linux would signal it: 128 + signal */
	RUN_TIMEOUT,	 /* --timeout expired: 124 */
	RUN_VMM_ERROR,	 /* triple fault, unexpected exit, VMM failure: 125 */
	RUN_INTERRUPTED, /* vmm got a signal (vm_request_stop): 128 + signal */
};

#define EXIT_TIMEOUT 124
#define EXIT_VMM 125
#define EXIT_NOEXEC 126
#define EXIT_NOENT 127

/* What vm_run returns: how the run ended and its status. */
struct run_result {
	enum run_end end;
	int status; /* RUN_EXITED: exit status; RUN_SIGNALED: the signal */
};

/* How the run ended, in the words main prints (run_end_print): each part
 * that is set, in this order. Filled by the run loop as it ends the run. */
struct run_end_info {
	bool port_io; /* "vmm: payload did port I/O (port P) at rip R" */
	uint16_t port;
	bool trap; /* an exception: the event and trap_decide's verdict */
	struct trap_event event;
	struct trap_decision decision;
	bool killed; /* "vmm: payload killed by SIGx (...): why", then the trap */
	char why[64];
	bool dump;	       /* the exit, the registers and the walk of rip */
	const char *dump_what; /* its headline; NULL: "unexpected exit" */
	struct {
		uint32_t reason, suberror, port;
		uint64_t fail_reason, mmio_addr;
	} exit;		      /* the KVM exit that ended the run */
	struct kvm_regs regs; /* the vCPU at that exit */
	struct kvm_sregs sregs;
	bool timeout;		 /* "vmm: timeout after S s" */
	bool threaded;		 /* the payload had threads: the line names the one */
	int tid, cpu;		 /* the thread whose end ended the run, its vCPU */
	char error[ERR_MSG_MAX]; /* "vmm: error", when not empty */
};

struct run_stats {
	uint64_t exits; /* KVM_RUN returns */
	uint64_t syscall_exits;
	uint64_t exception_exits;
	uint64_t pt_updates;	  /* guest batch runs for page-table stores */
	uint64_t spurious_faults; /* #PF on a translation already fixed: resumed */
	uint64_t page_faults;	  /* every #PF exit of the payload vmm handled */
	uint64_t setup_ns, run_ns;
};

struct vm {
	const struct config *cfg;
	struct kvm kvm;
	struct vcpu vcpu; /* vCPU 0: the payload's first thread runs on it */
	struct guest_mem mem;
	struct frames frames;
	struct page_tables pt;
	struct mm mm;
	struct elf_image elf;
	char payload_path[4096]; /* cfg->payload, looked up in PATH as env(1) does */
	struct load_info load;
	struct process process;
	struct task task; /* the payload's first thread */
	struct vfs vfs;	  /* what the payload may see of the host's files */
	struct counters *counters;
	struct kvm_paging_info paging;
	struct kvm_pages kvm_pages;	/* what KVM mapped: sampled per syscall */
	uint64_t leaves_peak[PS_COUNT]; /* payload leaves of the guest tables, peak */
	bool regions_marked;		/* the payload used prctl region markers */
	struct vm_threads threads;	/* the payload's threads, one vCPU each */
	struct perf_control perf_ctl;	/* an outer perf stat, or fds -1 */
	struct kvm_tsc tsc;		/* the guest TSC, probed when there is a vDSO */
	struct vclock vclock;		/* the vDSO's clocks; data NULL without a vDSO */

	/* vm_request_stop's signal, 0: none; written by a signal handler. */
	volatile sig_atomic_t stop_signal;
	enum run_end end; /* as vm_run returned them, for the report */
	int status;	  /* exit status or signal number (RUN_SIGNALED, RUN_INTERRUPTED) */
	struct run_end_info end_info;
	struct run_stats stats;
};

/* Builds the guest. On failure returns the exit status to use (125, 126 or
 * 127) with err set; 0 on success. */
int vm_setup(struct vm *vm, const struct config *cfg);
/* Runs the payload to its end and returns how it ended (also kept in
 * vm->end, vm->status and, in words, vm->end_info). Prints nothing but
 * warnings: main says how the run ended with run_end_print. */
struct run_result vm_run(struct vm *vm);
/* The exit status of vmm for that end (env(1)/timeout(1) style). */
int run_exit_status(struct run_result r);
int vm_exit_status(const struct vm *vm);
void vm_destroy(struct vm *vm);
/* CLOCK_MONOTONIC in ns: the wall times of set-up, run and shootdown waits. */
uint64_t vm_now_ns(void);
/* Makes every vCPU stop soon (SIGINT, SIGTERM): the run then ends as a
 * --timeout does. Async-signal-safe. */
void vm_stop_all(struct vm *vm);

/* In vm_stop.c: stops the VM (every vCPU) as soon as it can, because vmm
 * got signal sig; the run ends as RUN_INTERRUPTED with status sig.
 * Async-signal-safe: a signal handler calls it. -1 with errno if a kick
 * failed. */
int vm_request_stop(struct vm *vm, int sig);

/* In run_end.c: writes what vm->end_info holds, the lines a user needs to
 * find the bug: the fault report (signal, where, the faulting address and
 * error code, the walk of that address, the code and the registers), the
 * register dump of an exit vmm cannot explain, the timeout, the error. */
void run_end_print(const struct vm *vm, FILE *f);

#endif
