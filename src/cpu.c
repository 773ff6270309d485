/* The guest CPU: descriptor tables and stubs in guest memory, and the
 * vCPU state that starts the payload directly in long mode at CPL3.
 * SSE/AVX must work because glibc's string functions use them, so CR4 and
 * XCR0 follow CPUID (DESIGN.md section 2). */
#include "cpu.h"

#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>

#include "err.h"
#include "sysarea.h"

extern const uint8_t ktext_start[], ktext_batch[], ktext_end[];
extern const uint8_t utext_start[], utext_end[];

/* GDT descriptors, SDM Vol. 3A 3.4.5: flat 4 GiB limit, G=1. */
#define GDT_KERNEL_CODE64 0x00af9a000000ffffull /* L=1, DPL0, execute/read */
#define GDT_KERNEL_DATA 0x00cf92000000ffffull   /* DPL0, read/write */
#define GDT_USER_CODE32 0x00cffa000000ffffull   /* DPL3, compat mode, unused */
#define GDT_USER_DATA 0x00cff2000000ffffull     /* DPL3, read/write */
#define GDT_USER_CODE64 0x00affa000000ffffull   /* L=1, DPL3, execute/read */
#define GDT_ENTRIES 8                           /* TSS takes the last two */

/* Segment types, SDM Vol. 3A 3.4.5.1 and 3.5. */
#define SEG_TYPE_CODE_XRA 0xb /* execute/read, accessed */
#define SEG_TYPE_DATA_RWA 0x3 /* read/write, accessed */
#define SEG_TYPE_TSS64_BUSY 0xb

/* 64-bit IDT gate, SDM Vol. 3A 6.14.1. */
#define IDT_GATE_INTR 0xe
#define IDT_VECTORS 256
#define VEC_NMI 2
#define VEC_BP 3
#define VEC_OF 4
#define VEC_DF 8
#define VEC_MC 18

/* 64-bit TSS, SDM Vol. 3A 8.7. */
struct tss64 {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
} __attribute__((packed));

struct idt_gate {
	uint16_t offset_lo;
	uint16_t selector;
	uint8_t ist;
	uint8_t type_attr;
	uint16_t offset_mid;
	uint32_t offset_hi;
	uint32_t reserved;
} __attribute__((packed));

/* The TSS is followed by an I/O permission bitmap (SDM Vol. 1 19.5.2) that
 * opens exactly one port to CPL3: the syscall stub's. Under PVM `syscall`
 * reaches the stub still at CPL3, where any other port write raises #GP. */
#define IOBITMAP_PORTS 256
#define IOBITMAP_BYTES (IOBITMAP_PORTS / 8 + 1) /* + the required 0xff byte */
#define TSS_LIMIT (sizeof(struct tss64) + IOBITMAP_BYTES - 1)

_Static_assert(sizeof(struct tss64) == 104, "TSS layout");
_Static_assert(SYS_TSS_OFFSET + sizeof(struct tss64) + IOBITMAP_BYTES <= 0x1000, "TSS fits");
_Static_assert(sizeof(struct idt_gate) == 16, "IDT gate layout");

static gva_t direct(gpa_t gpa) { return DIRECT_MAP_VA + gpa; }

static void gdt_build(uint64_t *gdt)
{
	uint64_t tss = direct(SYS_GDT_GPA + SYS_TSS_OFFSET), limit = TSS_LIMIT;

	gdt[0] = 0;
	gdt[SEL_KERNEL_CS >> 3] = GDT_KERNEL_CODE64;
	gdt[SEL_KERNEL_DS >> 3] = GDT_KERNEL_DATA;
	gdt[SEL_USER_CS32 >> 3] = GDT_USER_CODE32;
	gdt[SEL_USER_DS >> 3] = GDT_USER_DATA;
	gdt[SEL_USER_CS >> 3] = GDT_USER_CODE64;
	/* System descriptor: 16 bytes (SDM 3A 8.2.3), present, busy 64-bit TSS. */
	gdt[SEL_TSS >> 3] = (limit & 0xffff) | ((tss & 0xffffff) << 16) |
			    ((uint64_t)SEG_TYPE_TSS64_BUSY << 40) | (1ull << 47) |
			    (((limit >> 16) & 0xf) << 48) | (((tss >> 24) & 0xff) << 56);
	gdt[(SEL_TSS >> 3) + 1] = tss >> 32;
}

static void tss_build(struct tss64 *tss)
{
	uint8_t *iobitmap = (uint8_t *)(tss + 1);

	memset(tss, 0, sizeof(*tss));
	tss->rsp[0] = direct(SYS_KSTACK_TOP_GPA);
	tss->ist[0] = direct(SYS_IST_STACK_GPA + SZ_4K); /* IST1 */
	tss->iomap_base = sizeof(*tss);
	memset(iobitmap, 0xff, IOBITMAP_BYTES); /* a set bit denies the port */
	iobitmap[PORT_SYSCALL / 8] &= (uint8_t) ~(1u << (PORT_SYSCALL % 8));
}

static void idt_build(struct idt_gate *idt)
{
	int v;

	for (v = 0; v < IDT_VECTORS; v++) {
		int stub = v < KTEXT_NSTUBS - 1 ? v : KTEXT_NSTUBS - 1;
		uint64_t off = KTEXT_VA + (uint64_t)stub * KTEXT_STUB_SIZE;
		/* int3 and into are meant to be used from user mode (DPL3). */
		int dpl = (v == VEC_BP || v == VEC_OF) ? 3 : 0;
		bool ist = v == VEC_DF || v == VEC_NMI || v == VEC_MC;

		idt[v] = (struct idt_gate){
		    .offset_lo = off & 0xffff,
		    .selector = SEL_KERNEL_CS,
		    .ist = ist ? 1 : 0,
		    .type_attr = (uint8_t)(0x80 | (dpl << 5) | IDT_GATE_INTR),
		    .offset_mid = (off >> 16) & 0xffff,
		    .offset_hi = (uint32_t)(off >> 32),
		};
	}
}

int cpu_sysarea_build(struct guest_mem *mem, struct page_tables *pt)
{
	uint64_t *gdt = mem_ptr(mem, SYS_GDT_GPA, GDT_ENTRIES * 8);
	struct tss64 *tss = mem_ptr(mem, SYS_GDT_GPA + SYS_TSS_OFFSET, sizeof(*tss) + IOBITMAP_BYTES);
	struct idt_gate *idt = mem_ptr(mem, SYS_IDT_GPA, IDT_VECTORS * sizeof(*idt));
	uint8_t *ktext = mem_ptr(mem, SYS_KTEXT_GPA, SZ_4K);
	uint8_t *utext = mem_ptr(mem, SYS_UTEXT_GPA, SZ_4K);

	if (!gdt || !tss || !idt || !ktext || !utext || mem->size < SYS_AREA_END)
		return err_set("cpu: guest RAM too small for the system area");
	gdt_build(gdt);
	tss_build(tss);
	idt_build(idt);
	memcpy(ktext, ktext_start, (size_t)(ktext_end - ktext_start));
	memcpy(utext, utext_start, (size_t)(utext_end - utext_start));

	if (pt_map_fixed(pt, DIRECT_MAP_VA, 0, mem->size, PTE_RW | PTE_NX) < 0 ||
	    pt_map_fixed(pt, KTEXT_VA, SYS_KTEXT_GPA, SZ_4K, 0) < 0 ||
	    pt_map_fixed(pt, UTEXT_VA, SYS_UTEXT_GPA, SZ_4K, PTE_US) < 0)
		return err_wrap("cpu: mapping the system area");
	return 0;
}

gva_t cpu_batch_entry(void) { return KTEXT_VA + (uint64_t)(ktext_batch - ktext_start); }

int cpu_stub_vector(gva_t rip)
{
	if (rip < KTEXT_VA || rip >= KTEXT_VA + (uint64_t)KTEXT_NSTUBS * KTEXT_STUB_SIZE)
		return -1;
	return (int)((rip - KTEXT_VA) / KTEXT_STUB_SIZE);
}

bool cpu_is_syscall_stub(gva_t rip)
{
	/* Before or just after the `out`, depending on how KVM reports it. */
	return rip >= UTEXT_VA && rip <= UTEXT_VA + 2;
}

static void seg_set(struct kvm_segment *s, uint16_t sel, uint8_t type, bool code)
{
	*s = (struct kvm_segment){
	    .base = 0, .limit = 0xffffffff, .selector = sel, .type = type, .present = 1,
	    .dpl = sel & 3, .db = code ? 0 : 1, .s = 1, .l = code ? 1 : 0, .g = 1,
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
	    .base = direct(SYS_GDT_GPA + SYS_TSS_OFFSET), .limit = TSS_LIMIT,
	    .selector = SEL_TSS, .type = SEG_TYPE_TSS64_BUSY, .present = 1,
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

static int msrs_set(struct kvm *k)
{
	static const uint32_t idx[] = {MSR_STAR, MSR_LSTAR, MSR_CSTAR, MSR_SFMASK,
				       MSR_FS_BASE, MSR_GS_BASE, MSR_KERNEL_GS_BASE};
	const uint64_t val[] = {
	    /* syscall loads CS/SS from 47:32; sysret from 63:48 (+16 / +8). */
	    ((uint64_t)(SEL_USER_CS32 & ~3) << 48) | ((uint64_t)SEL_KERNEL_CS << 32),
	    UTEXT_VA, UTEXT_VA,
	    /* Clear TF, DF, IF, AC on entry, as Linux does. */
	    (1u << 8) | (1u << 10) | (1u << 9) | (1u << 18),
	    0, 0, 0,
	};
	struct {
		struct kvm_msrs hdr;
		struct kvm_msr_entry e[ARRAY_SIZE(idx)];
	} m = {.hdr.nmsrs = ARRAY_SIZE(idx)};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(idx); i++)
		m.e[i] = (struct kvm_msr_entry){.index = idx[i], .data = val[i]};
	if (ioctl(k->vcpu_fd, KVM_SET_MSRS, &m) != (int)ARRAY_SIZE(idx))
		return err_set("cpu: KVM_SET_MSRS: could not set the syscall MSRs");
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

static int xcr0_set(struct kvm *k)
{
	const struct kvm_cpuid_entry2 *leafd = kvm_cpuid_find(k, 0xd, 0);
	struct kvm_xcrs xcrs = {.nr_xcrs = 1};

	if (!cpu_has_xsave(k) || !leafd)
		return 0;
	xcrs.xcrs[0].xcr = 0;
	xcrs.xcrs[0].value = (((uint64_t)leafd->edx << 32) | leafd->eax) & XCR0_WANTED;
	xcrs.xcrs[0].value |= 1; /* x87 must be set */
	if (ioctl(k->vcpu_fd, KVM_SET_XCRS, &xcrs) < 0)
		return err_set("cpu: KVM_SET_XCRS 0x%llx: %s",
			       (unsigned long long)xcrs.xcrs[0].value, strerror(errno));
	return 0;
}

int cpu_vcpu_init(struct kvm *k, gpa_t cr3, gva_t entry, gva_t sp)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs = {.rip = entry, .rsp = sp, .rflags = RFLAGS_USER};

	if (ioctl(k->vcpu_fd, KVM_GET_SREGS, &sregs) < 0)
		return err_set("cpu: KVM_GET_SREGS: %s", strerror(errno));
	/* sregs must be set before XCR0: XSETBV needs CR4.OSXSAVE. */
	sregs_build(&sregs, cr3, cpu_has_xsave(k));
	if (ioctl(k->vcpu_fd, KVM_SET_SREGS, &sregs) < 0)
		return err_set("cpu: KVM_SET_SREGS: %s", strerror(errno));
	if (xcr0_set(k) < 0 || msrs_set(k) < 0)
		return -1;
	if (ioctl(k->vcpu_fd, KVM_SET_REGS, &regs) < 0)
		return err_set("cpu: KVM_SET_REGS: %s", strerror(errno));
	return 0;
}
