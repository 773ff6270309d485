/* Signals as Linux delivers them on x86-64: dispositions per process,
 * masks, pending sets and the alternate stack per task, the rt_sigframe
 * (ucontext with sigcontext, then siginfo) built on the payload's stack,
 * rt_sigreturn, faults turned into signals, and timers (alarm, setitimer,
 * timer_create) that interrupt a blocked syscall.
 *
 * The run loop's contract (all of it; kernel/ never sees KVM):
 *  - Registers travel as struct user_regs, copied from and back to the
 *    vCPU by the run loop.
 *  - After every syscall: copy the registers as they were at the syscall
 *    (rax = the number, rcx = the return address), call syscall_dispatch,
 *    then signal_syscall_return(t, ret, &regs): it writes the return
 *    (rax, rip, rflags, r11), restarts an interrupted call or returns
 *    -EINTR as SA_RESTART says, applies rt_sigreturn, and delivers pending
 *    signals. Nonzero: the payload dies of that signal (Linux's default
 *    action): end the run with 128 + signo. Else resume with the regs.
 *  - On a guest exception that Linux turns into signo:
 *    signal_from_fault(t, &fault, &regs) with the user state at the fault.
 *    true: a handler will run, resume with the regs. false: kill as before.
 *  - Before re-entering the guest after an interrupted KVM_RUN (a host
 *    signal: timers kick the vCPU with process->kick): when
 *    signal_pending(t) is true and the vCPU is at CPL3 outside vmm's stubs,
 *    copy the regs, call signal_deliver_pending(t, &regs) (same return as
 *    signal_syscall_return), copy back. Inside a stub, wait for its exit.
 *
 *  - The FPU/SSE/AVX state: process->fpu, when the run loop sets it, saves
 *    the vCPU's XSAVE image into the frame (uc_mcontext.fpstate, in the
 *    standard XSAVE format with Linux's FP_XSTATE magic) and restores it
 *    at rt_sigreturn. Without it (unit tests) fpstate is NULL. */
#ifndef VMM_SIGNAL_H
#define VMM_SIGNAL_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/types.h"

struct task;
struct process;

/* The user registers, in struct kvm_regs order. */
struct user_regs {
	uint64_t rax, rbx, rcx, rdx, rsi, rdi, rsp, rbp;
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t rip, rflags;
};

/* A guest exception as a signal, with what Linux puts in siginfo and
 * sigcontext. */
struct signal_fault {
	int signo, code; /* si_code: SEGV_MAPERR, ILL_ILLOPN, ... */
	gva_t addr;	 /* si_addr */
	int vector;	 /* sigcontext trapno */
	uint64_t error;	 /* sigcontext err */
	gva_t cr2;
};

#define SIGNAL_NSIG 64

/* signo's bit in a mask or pending set (signals 1..64). */
static inline uint64_t signal_bit(int signo)
{
	return 1ull << ((signo - 1) & 63);
}

/* sigaltstack's SS_AUTODISARM (1 << 31), which libc's headers may lack;
 * SS_ONSTACK and SS_DISABLE come from <signal.h>. */
#define SIGNAL_SS_AUTODISARM INT32_MIN

/* Neither can be blocked, caught or ignored. */
#define SIGNAL_UNBLOCKABLE (signal_bit(SIGKILL) | signal_bit(SIGSTOP))
#define SIGNAL_TIMERS 32 /* timer_create ids; slot 0 is ITIMER_REAL */

/* struct kernel_sigaction, as rt_sigaction passes it. */
struct signal_action {
	uint64_t handler, flags, restorer, mask;
};

/* Linux's siginfo_t: 128 bytes; the union starts at 16. */
struct signal_info {
	int32_t signo, errno_, code, pad;
	union {
		uint8_t raw[112];
		struct {
			int32_t pid;
			uint32_t uid;
			uint64_t value;
		} kill; /* SI_USER, SI_TKILL, SI_QUEUE */
		struct {
			int32_t tid, overrun;
			uint64_t value;
		} timer;
		struct {
			uint64_t addr;
		} fault;
	} u;
};

/* A host timer that stands for a guest one; the host signal handler
 * counts expiries in `fired`, signal_pending turns them into signals. */
struct signal_timer {
	bool used;
	int signo; /* 0: SIGEV_NONE */
	uint64_t value;
	void *host; /* timer_t */
	struct process *proc;
	volatile int fired;
	int overrun;
};

/* The vCPU's extended FPU state as an XSAVE image of `size` bytes (a
 * multiple of 64, at least 576): 0 or -1. Called from the syscall and
 * fault paths only, never from a host signal handler. */
struct signal_fpu {
	int (*save)(void *ctx, void *buf, size_t size);
	int (*restore)(void *ctx, const void *buf, size_t size);
	void *ctx;
	size_t size;
};

void signal_init_process(struct process *p);
void signal_destroy_process(struct process *p);

/* Queues signo for t (standard signals do not queue twice). An ignored
 * signal is dropped, as Linux drops it when it is generated. */
void signal_send(struct task *t, const struct signal_info *info);
/* A signal t would take now: pending and not blocked (timers included). */
bool signal_pending(struct task *t);
/* See the contract above. Return: 0, or the signal that kills. */
int signal_syscall_return(struct task *t, long ret, struct user_regs *r);
int signal_deliver_pending(struct task *t, struct user_regs *r);
bool signal_from_fault(struct task *t, const struct signal_fault *f, struct user_regs *r);

/* Linux's "restart" returns: a syscall interrupted by a signal. */
#define ERESTARTSYS 512
#define ERESTARTNOINTR 513
#define ERESTARTNOHAND 514

#endif
