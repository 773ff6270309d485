/* Guest exceptions as Linux's traps.c would turn them into signals, and the
 * spurious #PF that vmm absorbs. Pure decisions: the run loop reads the
 * frame and the page tables, run_end.c prints the report. */
#include "vm/trap.h"

#include <signal.h>

#include "guest/sysarea.h"
#include "guest/x86.h"

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

/* The table entry of a vector: NULL for port I/O and vectors Linux never
 * sees from user mode. */
static const struct trap_info *trap_info_of(int vector)
{
	if (vector < 0 || (size_t)vector >= ARRAY_SIZE(trap_table) || !trap_table[vector].name)
		return NULL;
	return &trap_table[vector];
}

bool trap_has_error(int vector)
{
	const struct trap_info *ti = trap_info_of(vector);

	return ti && ti->has_error;
}

bool trap_frame_gpa(uint64_t rsp, int vector, gpa_t *gpa, size_t *len)
{
	size_t n = (trap_has_error(vector) ? 6 : 5) * sizeof(uint64_t);

	/* The stubs run on the CPL0 stacks only: the IST page up to the top
	 * of the kernel stack, reached through the direct map. */
	if (rsp < DIRECT_MAP_VA)
		return false;
	*gpa = rsp - DIRECT_MAP_VA;
	*len = n;
	return *gpa >= SYS_IST_STACK_GPA && *gpa <= SYS_KSTACK_TOP_GPA - n;
}

void trap_frame_parse(const uint64_t *words, int vector, struct trap_frame *f)
{
	bool has_error = trap_has_error(vector);

	f->error = has_error ? words[0] : 0;
	words += has_error;
	f->rip = words[0];
	f->cs = words[1];
	f->rflags = words[2];
	f->rsp = words[3];
	f->ss = words[4];
}

enum pt_access trap_pf_access(uint64_t error)
{
	return error & PF_FETCH ? PT_EXEC : error & PF_WRITE ? PT_WRITE : PT_READ;
}

/* vmm does not invalidate when it adds a permission (as Linux does not),
 * so with EPT/NPT a stale TLB entry can fault on an access the tables now
 * allow. The CPU dropped that entry when it raised #PF (SDM 3A 4.10.4.3):
 * resuming is enough, like Linux's spurious-fault path. Shadow paging
 * absorbs these in KVM and never gets here. */
static bool trap_pf_spurious(const struct trap_event *ev, struct trap_spurious *s)
{
	uint64_t err = ev->frame.error;

	if (!(err & PF_USER) || (err & PF_RSVD) || !ev->pf_allowed)
		return false;
	s->repeats = ev->cr2 == s->addr && ev->pt_updates == s->pt_updates ? s->repeats + 1 : 1;
	s->addr = ev->cr2;
	s->pt_updates = ev->pt_updates;
	return s->repeats <= TRAP_SPURIOUS_REPEAT_MAX;
}

struct trap_decision trap_decide(const struct trap_event *ev, struct trap_spurious *streak)
{
	const struct trap_info *ti = trap_info_of(ev->vector);
	bool port_io = ev->vector < 0;
	struct trap_decision d = {
	    .verdict = TRAP_KILL,
	    .signo = ti ? ti->signo : SIGSEGV,
	    .name = ti ? ti->name : "port I/O at CPL3",
	    .has_error = ti && ti->has_error,
	    .user_mode = (ev->frame.cs & 3) == 3,
	};

	if (!port_io && !ev->frame_ok) {
		d.verdict = TRAP_VMM_ERROR;
		d.dump_what = "exception with an unreadable stack frame";
		return d;
	}
	/* Linux would panic, or the stub itself faulted: vmm's bug. */
	if (!port_io && (!ti || !ti->signo || !d.user_mode)) {
		d.verdict = TRAP_VMM_ERROR;
		d.mode_line = true;
		d.name = ti ? ti->name : "unexpected interrupt";
		return d;
	}
	if (ev->vector == VEC_PF && trap_pf_spurious(ev, streak)) {
		d.verdict = TRAP_SPURIOUS;
		return d;
	}
	d.pf_walk = ev->vector == VEC_PF;
	return d;
}

struct signal_fault trap_signal_fault(const struct trap_event *ev, const struct trap_decision *d)
{
	struct signal_fault f = {.signo = d->signo,
				 .code = 0x80 /* SI_KERNEL */,
				 .vector = ev->vector == TRAP_PORT_IO ? VEC_GP : ev->vector,
				 .error = ev->frame.error};

	switch (ev->vector) {
	case VEC_PF:
		f.code = (ev->frame.error & PF_PRESENT) ? 2 /* SEGV_ACCERR */ : 1 /* SEGV_MAPERR */;
		f.addr = f.cr2 = ev->cr2;
		break;
	case VEC_UD:
		f.code = 2; /* ILL_ILLOPN */
		f.addr = ev->frame.rip;
		break;
	case VEC_DE:
		f.code = 1; /* FPE_INTDIV */
		f.addr = ev->frame.rip;
		break;
	case VEC_AC:
		f.code = 1; /* BUS_ADRALN */
		break;
	}
	return f;
}
