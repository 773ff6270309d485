/* How a run ended, in words: the fault report a user needs to find the bug
 * (the signal, where, the faulting address and error code, the walk of that
 * address through the guest page tables, the code and the registers), the
 * dump of an exit vmm cannot explain, the timeout and the error line. */
#include <signal.h>
#include <string.h>

#include "guest/x86.h"
#include "vm/vm.h"

static void run_end_print_regs(const struct kvm_regs *r, FILE *f)
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

static void run_end_print_code(const struct vm *vm, gva_t rip, FILE *f)
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

static void run_end_print_walk(const struct vm *vm, const char *what, gva_t va, FILE *f)
{
	struct pt_walk w;

	pt_walk(&vm->pt, va, &w);
	fprintf(f, "  page walk of %s0x%llx:\n", what, (unsigned long long)va);
	pt_walk_print(&w, va, f);
}

static void run_end_describe_pf(uint64_t err, uint64_t addr, FILE *f)
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

/* After the first line of a kill by an exception: where, the fault, the
 * code and the user registers as the payload left them. */
static void run_end_print_trap(const struct vm *vm, FILE *f)
{
	const struct run_end_info *e = &vm->end_info;
	const struct trap_frame *fr = &e->event.frame;
	struct kvm_regs user = e->regs;

	user.rip = fr->rip;
	user.rsp = fr->rsp;
	user.rflags = fr->rflags ? fr->rflags : user.rflags;
	fprintf(f, "  rip 0x%llx  rsp 0x%llx", (unsigned long long)fr->rip,
		(unsigned long long)fr->rsp);
	if (e->decision.has_error)
		fprintf(f, "  error code 0x%llx", (unsigned long long)fr->error);
	fputc('\n', f);
	if (e->decision.pf_walk) {
		run_end_describe_pf(fr->error, e->event.cr2, f);
		run_end_print_walk(vm, "", e->event.cr2, f);
	}
	run_end_print_code(vm, fr->rip, f);
	run_end_print_regs(&user, f);
}

static void run_end_print_dump(const struct vm *vm, FILE *f)
{
	const struct run_end_info *e = &vm->end_info;
	const struct kvm_sregs *s = &e->sregs;

	fprintf(f, "vmm: %s: KVM exit reason %u", e->dump_what ? e->dump_what : "unexpected exit",
		e->exit.reason);
	if (e->exit.reason == KVM_EXIT_SHUTDOWN)
		fprintf(f, " (shutdown: triple fault)");
	else if (e->exit.reason == KVM_EXIT_INTERNAL_ERROR)
		fprintf(f, " (internal error, suberror %u)", e->exit.suberror);
	else if (e->exit.reason == KVM_EXIT_FAIL_ENTRY)
		fprintf(f, " (entry failed, reason 0x%llx)",
			(unsigned long long)e->exit.fail_reason);
	else if (e->exit.reason == KVM_EXIT_MMIO)
		fprintf(f, " (MMIO at guest physical 0x%llx)",
			(unsigned long long)e->exit.mmio_addr);
	else if (e->exit.reason == KVM_EXIT_IO)
		fprintf(f, " (port 0x%x)", e->exit.port);
	fputc('\n', f);
	fprintf(f, "  cs %04x ss %04x cr0 %llx cr2 %llx cr3 %llx cr4 %llx efer %llx\n",
		s->cs.selector, s->ss.selector, (unsigned long long)s->cr0,
		(unsigned long long)s->cr2, (unsigned long long)s->cr3, (unsigned long long)s->cr4,
		(unsigned long long)s->efer);
	run_end_print_regs(&e->regs, f);
	run_end_print_code(vm, e->regs.rip, f);
	run_end_print_walk(vm, "rip ", e->regs.rip, f);
}

void run_end_print(const struct vm *vm, FILE *f)
{
	const struct run_end_info *e = &vm->end_info;

	if (e->port_io)
		fprintf(f, "vmm: payload did port I/O (port 0x%x) at rip 0x%llx\n", e->port,
			(unsigned long long)e->regs.rip);
	if (e->trap && e->decision.mode_line)
		fprintf(f, "vmm: %s in %s mode\n", e->decision.name,
			e->decision.user_mode ? "user" : "kernel (vmm stub)");
	if (e->killed) {
		fprintf(f, "vmm: payload killed by SIG%s (%s, exit status %d): %s\n",
			sigabbrev_np(vm->status), strsignal(vm->status), 128 + vm->status, e->why);
		if (e->threaded)
			fprintf(f, "vmm: in thread %d (vCPU %d)\n", e->tid, e->cpu);
		if (e->trap)
			run_end_print_trap(vm, f);
	}
	if (e->dump)
		run_end_print_dump(vm, f);
	if (e->timeout)
		fprintf(f, "vmm: timeout after %g s\n", vm->cfg->timeout_s);
	if (e->error[0])
		fprintf(f, "vmm: %s\n", e->error);
}
