/* The trap decisions, without /dev/kvm: which signal Linux would send for
 * each vector, which exceptions vmm cannot explain, when a #PF is spurious,
 * what the report shows, and where the stubs find the CPU's frame. */
#include <signal.h>
#include <string.h>

#include "guest/sysarea.h"
#include "guest/x86.h"
#include "unit.h"
#include "vm/trap.h"

#define FAULT_VA 0x7f0000001000ull

/* An exception taken at CPL3 whose frame was read. */
static struct trap_event user_event(int vector, uint64_t error)
{
	return (struct trap_event){
	    .vector = vector,
	    .frame_ok = true,
	    .frame = {.error = error, .rip = 0x401000, .cs = SEL_USER_CS, .rsp = 0x7ffff000},
	    .cr2 = FAULT_VA,
	};
}

static struct trap_decision decide(const struct trap_event *ev)
{
	struct trap_spurious s = {0};

	return trap_decide(ev, &s);
}

START_TEST(vector_to_signal_as_linux)
{
	/* Linux arch/x86/kernel/traps.c, for faults in user mode. */
	static const struct {
		int vector, signo;
		bool has_error;
		const char *name;
	} want[] = {
	    {VEC_DE, SIGFPE, false, "divide error (#DE)"},
	    {VEC_DB, SIGTRAP, false, "debug exception (#DB)"},
	    {VEC_BP, SIGTRAP, false, "breakpoint (#BP, int3)"},
	    {VEC_OF, SIGSEGV, false, "overflow (#OF)"},
	    {VEC_BR, SIGSEGV, false, "bound range (#BR)"},
	    {VEC_UD, SIGILL, false, "invalid opcode (#UD)"},
	    {VEC_NM, SIGFPE, false, "device not available (#NM)"},
	    {VEC_TS, SIGSEGV, true, "invalid TSS (#TS)"},
	    {VEC_NP, SIGBUS, true, "segment not present (#NP)"},
	    {VEC_SS, SIGBUS, true, "stack segment fault (#SS)"},
	    {VEC_GP, SIGSEGV, true, "general protection fault (#GP)"},
	    {VEC_PF, SIGSEGV, true, "page fault (#PF)"},
	    {VEC_MF, SIGFPE, false, "x87 floating point error (#MF)"},
	    {VEC_AC, SIGBUS, true, "alignment check (#AC)"},
	    {VEC_XM, SIGFPE, false, "SIMD floating point exception (#XM)"},
	    {VEC_CP, SIGSEGV, true, "control protection (#CP)"},
	};

	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		struct trap_event ev = user_event(want[i].vector, PF_USER | PF_WRITE);
		struct trap_decision d = decide(&ev);

		ck_assert_msg(d.verdict == TRAP_KILL, "vector %d", want[i].vector);
		ck_assert_int_eq(d.signo, want[i].signo);
		ck_assert_int_eq(d.has_error, want[i].has_error);
		ck_assert_int_eq(trap_has_error(want[i].vector), want[i].has_error);
		ck_assert_str_eq(d.name, want[i].name);
		ck_assert(!d.mode_line);
		ck_assert_int_eq(d.pf_walk, want[i].vector == VEC_PF);
	}
}
END_TEST

START_TEST(unexplained_vectors_are_vmm_errors)
{
	/* Linux panics or never sees these from user mode: vmm says so. */
	static const struct {
		int vector;
		const char *name;
	} want[] = {
	    {VEC_NMI, "NMI"},
	    {VEC_DF, "double fault (#DF)"},
	    {15, "reserved vector 15"},
	    {VEC_MC, "machine check (#MC)"},
	    {20, "virtualization exception (#VE)"},
	    {22, "unexpected interrupt"},
	    {31, "unexpected interrupt"},
	    {255, "unexpected interrupt"},
	};

	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		struct trap_event ev = user_event(want[i].vector, 0);
		struct trap_decision d = decide(&ev);

		ck_assert_msg(d.verdict == TRAP_VMM_ERROR, "vector %d", want[i].vector);
		ck_assert(d.mode_line && d.user_mode);
		ck_assert_ptr_null(d.dump_what);
		ck_assert_str_eq(d.name, want[i].name);
	}
	ck_assert(trap_has_error(VEC_DF));
	ck_assert(!trap_has_error(22));
}
END_TEST

START_TEST(kernel_mode_fault_is_vmm_error)
{
	/* The stub or the batch routine faulted: vmm's bug, not the payload's. */
	struct trap_event ev = user_event(VEC_PF, PF_WRITE);
	struct trap_decision d;

	ev.frame.cs = SEL_KERNEL_CS;
	d = decide(&ev);
	ck_assert_int_eq(d.verdict, TRAP_VMM_ERROR);
	ck_assert(d.mode_line);
	ck_assert(!d.user_mode);
	ck_assert_str_eq(d.name, "page fault (#PF)");
}
END_TEST

START_TEST(unreadable_frame_is_vmm_error)
{
	struct trap_event ev = user_event(VEC_UD, 0);
	struct trap_decision d;

	ev.frame_ok = false;
	d = decide(&ev);
	ck_assert_int_eq(d.verdict, TRAP_VMM_ERROR);
	ck_assert(!d.mode_line);
	ck_assert_str_eq(d.dump_what, "exception with an unreadable stack frame");
}
END_TEST

START_TEST(port_io_is_sigsegv)
{
	/* No frame to read: the run loop builds it from the exit. */
	struct trap_event ev = user_event(TRAP_PORT_IO, 0);
	struct trap_decision d;

	ev.frame_ok = false;
	d = decide(&ev);
	ck_assert_int_eq(d.verdict, TRAP_KILL);
	ck_assert_int_eq(d.signo, SIGSEGV);
	ck_assert_str_eq(d.name, "port I/O at CPL3");
	ck_assert(!d.has_error && !d.pf_walk && !d.mode_line);
}
END_TEST

START_TEST(spurious_pf_resumes_a_few_times)
{
	struct trap_spurious s = {0};
	struct trap_event a = user_event(VEC_PF, PF_USER | PF_WRITE | PF_PRESENT);
	struct trap_event b = a;
	struct trap_decision d;
	int i;

	a.pf_allowed = b.pf_allowed = true;
	b.cr2 = FAULT_VA + 0x1000;
	for (i = 0; i < TRAP_SPURIOUS_REPEAT_MAX; i++)
		ck_assert_int_eq(trap_decide(&a, &s).verdict, TRAP_SPURIOUS);
	/* One more at the same address: the tables and the CPU disagree. */
	d = trap_decide(&a, &s);
	ck_assert_int_eq(d.verdict, TRAP_KILL);
	ck_assert_int_eq(d.signo, SIGSEGV);
	ck_assert(d.pf_walk && d.has_error);
	/* Another address starts a new streak, and so does the first again. */
	ck_assert_int_eq(trap_decide(&b, &s).verdict, TRAP_SPURIOUS);
	ck_assert_int_eq(trap_decide(&a, &s).verdict, TRAP_SPURIOUS);
	ck_assert_uint_eq(s.repeats, 1);
}
END_TEST

/* Another thread replacing the page between the faults (a page-table update
 * each time) makes every fault a new one, however many there are. */
START_TEST(spurious_pf_streak_ends_at_an_update)
{
	struct trap_spurious s = {0};
	struct trap_event a = user_event(VEC_PF, PF_USER);
	int i;

	a.pf_allowed = true;
	for (i = 0; i < 4 * TRAP_SPURIOUS_REPEAT_MAX; i++) {
		a.pt_updates = (uint64_t)i;
		ck_assert_int_eq(trap_decide(&a, &s).verdict, TRAP_SPURIOUS);
	}
	for (i = 0; i < TRAP_SPURIOUS_REPEAT_MAX - 1; i++)
		ck_assert_int_eq(trap_decide(&a, &s).verdict, TRAP_SPURIOUS);
	ck_assert_int_eq(trap_decide(&a, &s).verdict, TRAP_KILL);
}
END_TEST

START_TEST(real_pf_is_sigsegv)
{
	struct trap_spurious s = {0};
	struct trap_event ev = user_event(VEC_PF, PF_USER | PF_WRITE);

	/* The tables do not allow the access. */
	ck_assert_int_eq(trap_decide(&ev, &s).verdict, TRAP_KILL);
	/* Reserved bits and supervisor accesses are never stale TLB entries. */
	ev.pf_allowed = true;
	ev.frame.error = PF_USER | PF_RSVD | PF_PRESENT;
	ck_assert_int_eq(trap_decide(&ev, &s).verdict, TRAP_KILL);
	ev.frame.error = PF_WRITE;
	ck_assert_int_eq(trap_decide(&ev, &s).verdict, TRAP_KILL);
	ck_assert_uint_eq(s.repeats, 0);
}
END_TEST

START_TEST(pf_access_kind)
{
	/* SDM 3A 4.7: instruction fetch wins over write, write over read. */
	ck_assert_int_eq(trap_pf_access(PF_USER), PT_READ);
	ck_assert_int_eq(trap_pf_access(PF_USER | PF_WRITE), PT_WRITE);
	ck_assert_int_eq(trap_pf_access(PF_USER | PF_FETCH), PT_EXEC);
	ck_assert_int_eq(trap_pf_access(PF_USER | PF_FETCH | PF_WRITE), PT_EXEC);
}
END_TEST

START_TEST(frame_location)
{
	gpa_t gpa;
	size_t len;

	ck_assert(trap_frame_gpa(DIRECT_MAP_VA + SYS_KSTACK_TOP_GPA - 40, VEC_UD, &gpa, &len));
	ck_assert_uint_eq(gpa, SYS_KSTACK_TOP_GPA - 40);
	ck_assert_uint_eq(len, 40);
	/* #PF pushes an error code too: 48 bytes do not fit below the top. */
	ck_assert(!trap_frame_gpa(DIRECT_MAP_VA + SYS_KSTACK_TOP_GPA - 40, VEC_PF, &gpa, &len));
	ck_assert(trap_frame_gpa(DIRECT_MAP_VA + SYS_KSTACK_TOP_GPA - 48, VEC_PF, &gpa, &len));
	ck_assert_uint_eq(len, 48);
	ck_assert(trap_frame_gpa(DIRECT_MAP_VA + SYS_IST_STACK_GPA, VEC_DF, &gpa, &len));
	/* Outside the CPL0 stacks: a user rsp, below the IST page, wrapped. */
	ck_assert(!trap_frame_gpa(0x7ffff000, VEC_UD, &gpa, &len));
	ck_assert(!trap_frame_gpa(DIRECT_MAP_VA + SYS_IST_STACK_GPA - 8, VEC_UD, &gpa, &len));
	ck_assert(!trap_frame_gpa(~0ull - 8, VEC_UD, &gpa, &len));
}
END_TEST

START_TEST(frame_parse)
{
	const uint64_t with_error[6] = {0x6,	 0x401000,   SEL_USER_CS,
					0x10246, 0x7ffff000, SEL_USER_DS};
	struct trap_frame f;

	trap_frame_parse(with_error, VEC_PF, &f);
	ck_assert_uint_eq(f.error, 0x6);
	ck_assert_uint_eq(f.rip, 0x401000);
	ck_assert_uint_eq(f.cs, SEL_USER_CS);
	ck_assert_uint_eq(f.rflags, 0x10246);
	ck_assert_uint_eq(f.rsp, 0x7ffff000);
	ck_assert_uint_eq(f.ss, SEL_USER_DS);
	trap_frame_parse(with_error + 1, VEC_UD, &f);
	ck_assert_uint_eq(f.error, 0);
	ck_assert_uint_eq(f.rip, 0x401000);
	ck_assert_uint_eq(f.ss, SEL_USER_DS);
}
END_TEST

/* What a handler of the payload's sees in siginfo and sigcontext: si_code
 * and si_addr as Linux's fault.c and traps.c set them. */
START_TEST(fault_as_the_handler_sees_it)
{
	struct trap_event ev = user_event(VEC_PF, PF_USER | PF_WRITE);
	struct trap_decision d = decide(&ev);
	struct signal_fault f = trap_signal_fault(&ev, &d);

	ck_assert_int_eq(f.signo, SIGSEGV);
	ck_assert_int_eq(f.code, SEGV_MAPERR);
	ck_assert_uint_eq(f.addr, FAULT_VA);
	ck_assert_uint_eq(f.cr2, FAULT_VA);
	ck_assert_int_eq(f.vector, VEC_PF);
	ck_assert_uint_eq(f.error, PF_USER | PF_WRITE);
	ev.frame.error |= PF_PRESENT;
	ck_assert_int_eq(trap_signal_fault(&ev, &d).code, SEGV_ACCERR);

	ev = user_event(VEC_UD, 0);
	d = decide(&ev);
	f = trap_signal_fault(&ev, &d);
	ck_assert_int_eq(f.signo, SIGILL);
	ck_assert_int_eq(f.code, ILL_ILLOPN);
	ck_assert_uint_eq(f.addr, 0x401000);

	ev = user_event(VEC_DE, 0);
	d = decide(&ev);
	f = trap_signal_fault(&ev, &d);
	ck_assert_int_eq(f.signo, SIGFPE);
	ck_assert_int_eq(f.code, FPE_INTDIV);

	/* #GP (also `int $N`, which the run loop turns into one) and port
	 * I/O: SI_KERNEL, no address; port I/O reads as a #GP. */
	ev = user_event(VEC_GP, 0x80 * 8 + 2);
	d = decide(&ev);
	f = trap_signal_fault(&ev, &d);
	ck_assert_int_eq(f.signo, SIGSEGV);
	ck_assert_int_eq(f.code, SI_KERNEL);
	ck_assert_uint_eq(f.addr, 0);
	ck_assert_uint_eq(f.error, 0x80 * 8 + 2);
	ev = user_event(TRAP_PORT_IO, 0);
	d = decide(&ev);
	f = trap_signal_fault(&ev, &d);
	ck_assert_int_eq(f.code, SI_KERNEL);
	ck_assert_int_eq(f.vector, VEC_GP);
}
END_TEST

UNIT_SUITE_MAIN("trap", NULL, NULL, 0, vector_to_signal_as_linux,
		unexplained_vectors_are_vmm_errors, kernel_mode_fault_is_vmm_error,
		unreadable_frame_is_vmm_error, port_io_is_sigsegv, spurious_pf_resumes_a_few_times,
		spurious_pf_streak_ends_at_an_update, real_pf_is_sigsegv, pf_access_kind,
		frame_location, frame_parse, fault_as_the_handler_sees_it)
