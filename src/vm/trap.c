/* Guest exceptions as Linux would turn them into signals, and the report a
 * user needs to find the bug: what happened, where, the faulting address
 * and error code, the walk of that address through the guest page tables,
 * and the registers. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "guest/sysarea.h"
#include "kvm/cpu.h"
#include "vm/vm.h"

struct trap_info {
	const char *name;
	int signo;	/* 0: vmm cannot explain it (exit 125) */
	bool has_error; /* the CPU pushes an error code */
};

/* What Linux's traps.c does with each vector taken in user mode. */
static const struct trap_info trap_table[] = {
    [VEC_DE] = {"divide error (#DE)", SIGFPE, false},
    [VEC_DB] = {"debug exception (#DB)", SIGTRAP, false},
    [VEC_NMI] = {"NMI", 0, false},
    [VEC_BP] = {"breakpoint (#BP, int3)", SIGTRAP, false},
    [VEC_OF] = {"overflow (#OF)", SIGSEGV, false},
    [VEC_BR] = {"bound range (#BR)", SIGSEGV, false},
    [VEC_UD] = {"invalid opcode (#UD)", SIGILL, false},
    [VEC_NM] = {"device not available (#NM)", SIGFPE, false},
    [VEC_DF] = {"double fault (#DF)", 0, true},
    [9] = {"coprocessor segment overrun", SIGFPE, false},
    [VEC_TS] = {"invalid TSS (#TS)", SIGSEGV, true},
    [VEC_NP] = {"segment not present (#NP)", SIGBUS, true},
    [VEC_SS] = {"stack segment fault (#SS)", SIGBUS, true},
    [VEC_GP] = {"general protection fault (#GP)", SIGSEGV, true},
    [VEC_PF] = {"page fault (#PF)", SIGSEGV, true},
    [15] = {"reserved vector 15", 0, false},
    [VEC_MF] = {"x87 floating point error (#MF)", SIGFPE, false},
    [VEC_AC] = {"alignment check (#AC)", SIGBUS, true},
    [VEC_MC] = {"machine check (#MC)", 0, false},
    [VEC_XM] = {"SIMD floating point exception (#XM)", SIGFPE, false},
    [20] = {"virtualization exception (#VE)", 0, false},
    [VEC_CP] = {"control protection (#CP)", SIGSEGV, true},
};

/* The frame the CPU pushed on the CPL0 stack, SDM Vol. 3A 6.14.2. */
struct trap_frame {
	uint64_t error, rip, cs, rflags, rsp, ss;
};

static bool trap_read_frame(struct vm *vm, bool has_error, struct trap_frame *f)
{
	uint64_t words[6];
	gpa_t gpa = vm->regs.rsp - DIRECT_MAP_VA;
	size_t n = has_error ? 6 : 5;
	const uint64_t *p;

	if (vm->regs.rsp < DIRECT_MAP_VA || gpa < SYS_IST_STACK_GPA ||
	    gpa + n * 8 > SYS_KSTACK_TOP_GPA)
		return false;
	p = mem_ptr(&vm->mem, gpa, n * 8);
	if (!p)
		return false;
	memcpy(words, p, n * 8);
	f->error = has_error ? words[0] : 0;
	memcpy(&f->rip, &words[has_error ? 1 : 0], 5 * 8);
	return true;
}

static void trap_print_regs(const struct kvm_regs *r, FILE *f)
{
	fprintf(f,
		"  rax %016llx rbx %016llx rcx %016llx rdx %016llx\n"
		"  rsi %016llx rdi %016llx rbp %016llx rsp %016llx\n"
		"  r8  %016llx r9  %016llx r10 %016llx r11 %016llx\n"
		"  r12 %016llx r13 %016llx r14 %016llx r15 %016llx\n"
		"  rip %016llx rflags %08llx\n",
		r->rax, r->rbx, r->rcx, r->rdx, r->rsi, r->rdi, r->rbp, r->rsp, r->r8, r->r9,
		r->r10, r->r11, r->r12, r->r13, r->r14, r->r15, r->rip, r->rflags);
}

static void trap_print_code(struct vm *vm, gva_t rip, FILE *f)
{
	gpa_t gpa;
	const uint8_t *code;
	size_t i, n;

	if (pt_translate(&vm->pt, rip, PT_READ, &gpa) < 0 || !(code = mem_ptr(&vm->mem, gpa, 1))) {
		fprintf(f, "  code at rip: not readable\n");
		return;
	}
	n = SZ_4K - (gpa & (SZ_4K - 1)); /* stay inside the page */
	fprintf(f, "  code at rip:");
	for (i = 0; i < 16 && i < n; i++)
		fprintf(f, " %02x", code[i]);
	fputc('\n', f);
}

static void trap_describe_pf(uint64_t err, uint64_t addr, FILE *f)
{
	fprintf(f, "  %s of 0x%llx: %s%s%s (error code 0x%llx)\n",
		err & PF_FETCH	 ? "instruction fetch"
		: err & PF_WRITE ? "write"
				 : "read",
		(unsigned long long)addr,
		err & PF_PRESENT ? "protection violation" : "page not present",
		err & PF_USER ? ", user mode" : ", supervisor mode",
		err & PF_RSVD ? ", reserved bit set" : "", (unsigned long long)err);
}

/* Gives up on a "spurious" fault at the same address after this many in a
 * row: then the tables and the CPU disagree for real. */
#define SPURIOUS_REPEAT_MAX 3

/* vmm does not invalidate when it adds a permission (as Linux does not),
 * so with EPT/NPT a stale TLB entry can fault on an access the tables now
 * allow. The CPU dropped that entry when it raised #PF (SDM 3A 4.10.4.3):
 * resuming is enough, like Linux's spurious-fault path. Shadow paging
 * absorbs these in KVM and never gets here. */
static int trap_spurious_pf(struct vm *vm, const struct trap_frame *fr)
{
	gva_t addr = vm->sregs.cr2;
	enum pt_access acc = fr->error & PF_FETCH   ? PT_EXEC
			     : fr->error & PF_WRITE ? PT_WRITE
						    : PT_READ;
	gpa_t gpa;

	if (!(fr->error & PF_USER) || (fr->error & PF_RSVD) ||
	    pt_translate(&vm->pt, addr, acc, &gpa) < 0)
		return 1;
	vm->spurious_repeats = addr == vm->spurious_addr ? vm->spurious_repeats + 1 : 1;
	vm->spurious_addr = addr;
	if (vm->spurious_repeats > SPURIOUS_REPEAT_MAX)
		return 1;
	vm->stats.spurious_faults++;
	vm->regs.rip = fr->rip;
	vm->regs.rsp = fr->rsp;
	vm->regs.rflags = fr->rflags;
	return vm_resume_user(vm) < 0 ? -1 : 0;
}

/* si_code and si_addr as Linux's traps.c and fault.c set them. */
static struct signal_fault trap_fault(const struct vm *vm, int vector, int signo,
				      const struct trap_frame *fr)
{
	struct signal_fault f = {.signo = signo,
				 .code = 0x80 /* SI_KERNEL */,
				 .vector = vector < 0 ? VEC_GP : vector,
				 .error = fr->error};

	switch (vector) {
	case VEC_PF:
		f.code = (fr->error & PF_PRESENT) ? 2 /* SEGV_ACCERR */ : 1 /* SEGV_MAPERR */;
		f.addr = f.cr2 = vm->sregs.cr2;
		break;
	case VEC_UD:
		f.code = 2; /* ILL_ILLOPN */
		f.addr = fr->rip;
		break;
	case VEC_DE:
		f.code = 1; /* FPE_INTDIV */
		f.addr = fr->rip;
		break;
	case VEC_AC:
		f.code = 1; /* BUS_ADRALN */
		break;
	}
	return f;
}

void trap_kill(struct vm *vm, int signo, const char *why)
{
	fprintf(stderr, "vmm: payload killed by SIG%s (%s, exit status %d): %s\n",
		sigabbrev_np(signo), strsignal(signo), 128 + signo, why);
	vm->end = RUN_SIGNALED;
	vm->status = signo;
}

int trap_exception(struct vm *vm, int vector)
{
	const struct trap_info *ti =
	    vector >= 0 && (size_t)vector < ARRAY_SIZE(trap_table) && trap_table[vector].name
		? &trap_table[vector]
		: NULL;
	struct trap_frame fr = {.rip = vm->regs.rip, .rsp = vm->regs.rsp, .cs = SEL_USER_CS};
	struct kvm_regs user = vm->regs;
	int signo = ti ? ti->signo : SIGSEGV;
	FILE *f = stderr;

	if (vector >= 0 && !trap_read_frame(vm, ti && ti->has_error, &fr)) {
		trap_dump(vm, "exception with an unreadable stack frame");
		vm->end = RUN_VMM_ERROR;
		return 1;
	}
	if (vector >= 0 && (!ti || !ti->signo || (fr.cs & 3) != 3)) {
		fprintf(f, "vmm: %s in %s mode\n", ti ? ti->name : "unexpected interrupt",
			(fr.cs & 3) == 3 ? "user" : "kernel (vmm stub)");
		trap_dump(vm, NULL);
		vm->end = RUN_VMM_ERROR;
		return 1;
	}
	if (vector == VEC_PF) {
		int r = trap_spurious_pf(vm, &fr);
		if (r <= 0)
			return r;
	}
	user.rip = fr.rip;
	user.rsp = fr.rsp;
	user.rflags = fr.rflags ? fr.rflags : user.rflags;
	{ /* a handler the payload installed runs instead of the report */
		struct signal_fault sf = trap_fault(vm, vector, signo, &fr);
		struct user_regs u;

		vm_regs_to_user(&user, &u);
		if (signal_from_fault(&vm->task, &sf, &u)) {
			vm_regs_from_user(&vm->regs, &u);
			return vm_resume_user(vm) < 0 ? -1 : 0;
		}
	}
	trap_kill(vm, signo, ti ? ti->name : "port I/O at CPL3");
	fprintf(f, "  rip 0x%llx  rsp 0x%llx", (unsigned long long)fr.rip,
		(unsigned long long)fr.rsp);
	if (ti && ti->has_error)
		fprintf(f, "  error code 0x%llx", (unsigned long long)fr.error);
	fputc('\n', f);
	if (vector == VEC_PF) {
		struct pt_walk w;

		trap_describe_pf(fr.error, vm->sregs.cr2, f);
		pt_walk(&vm->pt, vm->sregs.cr2, &w);
		fprintf(f, "  page walk of 0x%llx:\n", (unsigned long long)vm->sregs.cr2);
		pt_walk_print(&w, vm->sregs.cr2, f);
	}
	trap_print_code(vm, fr.rip, f);
	trap_print_regs(&user, f);
	return 1;
}

void trap_dump(struct vm *vm, const char *what)
{
	struct kvm_run *kr = vm->kvm.run;
	FILE *f = stderr;
	struct pt_walk w;

	fprintf(f, "vmm: %s: KVM exit reason %u", what ? what : "unexpected exit", kr->exit_reason);
	if (kr->exit_reason == KVM_EXIT_SHUTDOWN)
		fprintf(f, " (shutdown: triple fault)");
	else if (kr->exit_reason == KVM_EXIT_INTERNAL_ERROR)
		fprintf(f, " (internal error, suberror %u)", kr->internal.suberror);
	else if (kr->exit_reason == KVM_EXIT_FAIL_ENTRY)
		fprintf(f, " (entry failed, reason 0x%llx)",
			(unsigned long long)kr->fail_entry.hardware_entry_failure_reason);
	else if (kr->exit_reason == KVM_EXIT_MMIO)
		fprintf(f, " (MMIO at guest physical 0x%llx)",
			(unsigned long long)kr->mmio.phys_addr);
	else if (kr->exit_reason == KVM_EXIT_IO)
		fprintf(f, " (port 0x%x)", kr->io.port);
	fputc('\n', f);
	fprintf(f, "  cs %04x ss %04x cr0 %llx cr2 %llx cr3 %llx cr4 %llx efer %llx\n",
		vm->sregs.cs.selector, vm->sregs.ss.selector, (unsigned long long)vm->sregs.cr0,
		(unsigned long long)vm->sregs.cr2, (unsigned long long)vm->sregs.cr3,
		(unsigned long long)vm->sregs.cr4, (unsigned long long)vm->sregs.efer);
	trap_print_regs(&vm->regs, f);
	trap_print_code(vm, vm->regs.rip, f);
	pt_walk(&vm->pt, vm->regs.rip, &w);
	fprintf(f, "  page walk of rip 0x%llx:\n", (unsigned long long)vm->regs.rip);
	pt_walk_print(&w, vm->regs.rip, f);
}
