/* The guest CPU: the vCPU state that starts the payload directly in long
 * mode at CPL3 over the system area that guest/sysarea.c built.
 * SSE/AVX must work because glibc's string functions use them, so CR4 and
 * XCR0 follow CPUID. */
#include "kvm/cpu.h"

#include <string.h>

#include "guest/sysarea.h"
#include "guest/x86.h"
#include "util/err.h"

static gva_t direct(gpa_t gpa)
{
	return DIRECT_MAP_VA + gpa;
}

static void seg_set(struct kvm_segment *s, uint16_t sel, uint8_t type, bool code)
{
	*s = (struct kvm_segment){
	    .base = 0,
	    .limit = 0xffffffff,
	    .selector = sel,
	    .type = type,
	    .present = 1,
	    .dpl = sel & 3,
	    .db = code ? 0 : 1,
	    .s = 1,
	    .l = code ? 1 : 0,
	    .g = 1,
	};
}

void cpu_user_segments(struct kvm_sregs *s)
{
	seg_set(&s->cs, SEL_USER_CS, SEG_TYPE_CODE_XRA, true);
	seg_set(&s->ss, SEL_USER_DS, SEG_TYPE_DATA_RWA, false);
}

void cpu_kernel_segments(struct kvm_sregs *s)
{
	seg_set(&s->cs, SEL_KERNEL_CS, SEG_TYPE_CODE_XRA, true);
	seg_set(&s->ss, SEL_KERNEL_DS, SEG_TYPE_DATA_RWA, false);
}

static void sregs_build(struct kvm_sregs *s, gpa_t cr3, bool xsave)
{
	cpu_user_segments(s);
	seg_set(&s->ds, SEL_USER_DS, SEG_TYPE_DATA_RWA, false);
	s->es = s->fs = s->gs = s->ds;
	s->tr = (struct kvm_segment){
	    .base = direct(SYS_GDT_GPA + SYS_TSS_OFFSET),
	    .limit = TSS_LIMIT,
	    .selector = SEL_TSS,
	    .type = SEG_TYPE_TSS64_BUSY,
	    .present = 1,
	};
	s->ldt = (struct kvm_segment){.type = 2, .present = 1, .unusable = 1};
	s->gdt.base = direct(SYS_GDT_GPA);
	s->gdt.limit = GDT_ENTRIES * 8 - 1;
	s->idt.base = direct(SYS_IDT_GPA);
	s->idt.limit = IDT_VECTORS * sizeof(struct idt_gate) - 1;
	s->cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_AM | CR0_PG;
	s->cr3 = cr3;
	s->cr4 = CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT | (xsave ? CR4_OSXSAVE : 0);
	s->efer = EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE;
}

static int msrs_set(struct vcpu *v)
{
	static const uint32_t idx[] = {MSR_STAR,    MSR_LSTAR,	 MSR_CSTAR,	    MSR_SFMASK,
				       MSR_FS_BASE, MSR_GS_BASE, MSR_KERNEL_GS_BASE};
	const uint64_t val[] = {
	    /* syscall loads CS/SS from 47:32; sysret from 63:48 (+16 / +8). */
	    ((uint64_t)(SEL_USER_CS32 & ~3) << 48) | ((uint64_t)SEL_KERNEL_CS << 32),
	    UTEXT_VA,
	    UTEXT_VA,
	    /* Clear TF, DF, IF, AC on entry, as Linux does. */
	    (1u << 8) | (1u << 10) | (1u << 9) | (1u << 18),
	    0,
	    0,
	    0,
	};
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e[ARRAY_SIZE(idx)];
	} m = {.hdr.nmsrs = ARRAY_SIZE(idx)};
	size_t i;
	int n;

	for (i = 0; i < ARRAY_SIZE(idx); i++)
		m.e[i] = (struct kvm_msr_entry){.index = idx[i], .data = val[i]};
	/* KVM_SET_MSRS returns how many it set: it stops at the first refusal. */
	n = vcpu_ioctl(v, KVM_SET_MSRS, &m);
	if (n < 0)
		return -1;
	if (n != (int)ARRAY_SIZE(idx))
		return err_set(
		    "vcpu %d: KVM_SET_MSRS: set %d of the %zu syscall MSRs, refused 0x%x", v->index,
		    n, ARRAY_SIZE(idx), idx[n]);
	return 0;
}

/* XCR0 bits vmm enables when CPUID offers them: x87, SSE, AVX, AVX-512
 * (opmask, ZMM_Hi256, Hi16_ZMM). AMX needs a permission dance; not used. */
#define XCR0_WANTED 0xe7ull

#define CPUID1_ECX_XSAVE (1u << 26)

static bool cpu_has_xsave(const struct kvm *k)
{
	const struct kvm_cpuid_entry2 *leaf1 = kvm_cpuid_find(k, 1, 0);

	return leaf1 && (leaf1->ecx & CPUID1_ECX_XSAVE);
}

static int xcr0_set(struct vcpu *v, const struct kvm *k)
{
	const struct kvm_cpuid_entry2 *leafd = kvm_cpuid_find(k, 0xd, 0);
	struct kvm_xcrs xcrs = {.nr_xcrs = 1};

	if (!cpu_has_xsave(k) || !leafd)
		return 0;
	xcrs.xcrs[0].xcr = 0;
	xcrs.xcrs[0].value = (((uint64_t)leafd->edx << 32) | leafd->eax) & XCR0_WANTED;
	xcrs.xcrs[0].value |= 1; /* x87 must be set */
	if (vcpu_ioctl(v, KVM_SET_XCRS, &xcrs) < 0)
		return err_wrap("cpu: XCR0 0x%llx", (unsigned long long)xcrs.xcrs[0].value);
	return 0;
}

int cpu_vcpu_init(struct vcpu *v, const struct kvm *k, gpa_t cr3, gva_t entry, gva_t sp)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs = {.rip = entry, .rsp = sp, .rflags = RFLAGS_USER};

	if (vcpu_get_sregs(v, &sregs) < 0)
		return -1;
	sregs_build(&sregs, cr3, cpu_has_xsave(k));
	vcpu_set_sregs(v, &sregs);
	/* sregs must reach KVM before XCR0: XSETBV needs CR4.OSXSAVE. */
	if (vcpu_flush(v) < 0 || xcr0_set(v, k) < 0 || msrs_set(v) < 0)
		return -1;
	vcpu_set_regs(v, &regs);
	/* Now, not at the first entry: a refusal is a setup error. */
	return vcpu_flush(v);
}
