/* Hardware constants against the manuals (a typo in one of them is a guest
 * that triple-faults), and the stub lookup the run loop trusts. */
#include "guest/sysarea.h"
#include "kvm/cpu.h"
#include "unit.h"

START_TEST(control_register_bits)
{
	/* SDM Vol. 3A 2.5 (CR0, CR4) and 2.2.1 (EFER): bit positions. */
	static const struct {
		uint64_t v;
		int bit;
	} bits[] = {
	    {CR0_PE, 0},       {CR0_MP, 1},	     {CR0_ET, 4},	{CR0_NE, 5},
	    {CR0_WP, 16},      {CR0_AM, 18},	     {CR0_PG, 31},	{CR4_PAE, 5},
	    {CR4_OSFXSR, 9},   {CR4_OSXMMEXCPT, 10}, {CR4_OSXSAVE, 18}, {EFER_SCE, 0},
	    {EFER_LME, 8},     {EFER_LMA, 10},	     {EFER_NXE, 11},	{RFLAGS_IF, 9},
	    {RFLAGS_FIXED, 1},
	};

	for (size_t i = 0; i < sizeof(bits) / sizeof(bits[0]); i++)
		ck_assert_msg(bits[i].v == 1ull << bits[i].bit, "entry %zu", i);
}
END_TEST

START_TEST(msr_numbers)
{
	/* SDM Vol. 4 table 2-2. */
	ck_assert_uint_eq(MSR_STAR, 0xc0000081);
	ck_assert_uint_eq(MSR_LSTAR, 0xc0000082);
	ck_assert_uint_eq(MSR_SFMASK, 0xc0000084);
	ck_assert_uint_eq(MSR_FS_BASE, 0xc0000100);
	ck_assert_uint_eq(MSR_KERNEL_GS_BASE, 0xc0000102);
}
END_TEST

START_TEST(selectors_fit_star)
{
	/* sysret loads CS = STAR[63:48] + 16 and SS = STAR[63:48] + 8. */
	ck_assert_uint_eq((SEL_USER_CS32 & ~3) + 16, SEL_USER_CS & ~3);
	ck_assert_uint_eq((SEL_USER_CS32 & ~3) + 8, SEL_USER_DS & ~3);
	/* syscall loads CS = STAR[47:32] and SS = STAR[47:32] + 8. */
	ck_assert_uint_eq(SEL_KERNEL_CS + 8, SEL_KERNEL_DS);
	ck_assert_uint_eq(SEL_USER_CS & 3, 3);
	ck_assert_uint_eq(SEL_USER_DS & 3, 3);
}
END_TEST

START_TEST(stub_lookup)
{
	ck_assert_int_eq(sysarea_stub_vector(KTEXT_VA), 0);
	ck_assert_int_eq(sysarea_stub_vector(KTEXT_VA + 14 * KTEXT_STUB_SIZE + 2), 14);
	ck_assert_int_eq(sysarea_stub_vector(KTEXT_VA + KTEXT_NSTUBS * KTEXT_STUB_SIZE), -1);
	ck_assert_int_eq(sysarea_stub_vector(KTEXT_VA - 1), -1);
	ck_assert_int_eq(sysarea_stub_vector(0x401000), -1);
	ck_assert(sysarea_is_syscall_stub(UTEXT_VA));
	ck_assert(sysarea_is_syscall_stub(UTEXT_VA + 2));
	ck_assert(!sysarea_is_syscall_stub(UTEXT_VA + 3));
	ck_assert(!sysarea_is_syscall_stub(0x401000));
	/* The batch routine lies after the stubs, inside the text page. */
	ck_assert(sysarea_batch_entry() >= KTEXT_VA + KTEXT_NSTUBS * KTEXT_STUB_SIZE);
	ck_assert(sysarea_batch_entry() < KTEXT_VA + 4096);
}
END_TEST

START_TEST(system_area_layout)
{
	ck_assert(SYS_GDT_GPA + SYS_TSS_OFFSET + 104 <= SYS_IDT_GPA);
	ck_assert(SYS_KSTACK_TOP_GPA <= SYS_BATCH_GPA);
	ck_assert(SYS_BATCH_GPA + SYS_BATCH_BYTES <= SYS_INVLPG_GPA);
	ck_assert(SYS_INVLPG_GPA + SYS_INVLPG_BYTES <= SYS_AREA_END);
	/* The syscall page lies outside the payload's half, where Linux has
	 * its vsyscall page, and its stub on none of the vsyscall entries. */
	ck_assert_uint_eq(UTEXT_PAGE_VA, 0xffffffffff600000ull);
	ck_assert_uint_eq(UTEXT_VA & 0x3ff, 0);
	ck_assert_uint_ge(UTEXT_VA - UTEXT_PAGE_VA, 0xc00);
}
END_TEST

UNIT_SUITE_MAIN("cpu", NULL, NULL, 0, control_register_bits, msr_numbers, selectors_fit_star,
		stub_lookup, system_area_layout)
