/* The system area in guest memory: GDT, TSS with its I/O bitmap, IDT and
 * the stub code, and the mappings that make them reachable (the direct map
 * of guest RAM, the kernel text, the syscall page). Pure guest memory: no
 * KVM here, so it is testable without /dev/kvm. */
#include "guest/sysarea.h"

#include <string.h>

#include "guest/x86.h"
#include "util/err.h"

extern const uint8_t ktext_start[], ktext_batch[], ktext_end[];
extern const uint8_t utext_start[], utext_end[];

_Static_assert(sizeof(struct tss64) == 104, "TSS layout");
_Static_assert(SYS_TSS_OFFSET + sizeof(struct tss64) + IOBITMAP_BYTES <= 0x1000, "TSS fits");
_Static_assert(sizeof(struct idt_gate) == 16, "IDT gate layout");

static gva_t direct(gpa_t gpa)
{
	return DIRECT_MAP_VA + gpa;
}

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

static void tss_build(struct tss64 *tss, gpa_t rsp0)
{
	uint8_t *iobitmap = (uint8_t *)(tss + 1);

	memset(tss, 0, sizeof(*tss));
	tss->rsp[0] = direct(rsp0);
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

/* The tables give the kernel half no US bit, so that no leaf there can
 * become user-accessible by mistake; the syscall page is the one that must
 * be. Sets US on the table entries above its leaf only: the kernel text,
 * under the same PML4 entry, keeps a supervisor leaf (the CPU ANDs US over
 * the levels, SDM 3A 4.6.1). Done before the guest runs, so a host store. */
static int sysarea_open_to_user(struct guest_mem *mem, const struct page_tables *pt, gva_t va)
{
	struct pt_walk w;

	pt_walk(pt, va, &w);
	if (!w.mapped || w.levels != 4 || !(w.leaf & PTE_US))
		return err_set("sysarea: 0x%llx is not a 4K user leaf", (unsigned long long)va);
	for (int l = 0; l < 3; l++) {
		uint64_t *e = mem_ptr(mem, w.entry_gpa[l], sizeof(*e));

		if (!e)
			return err_set("sysarea: table entry outside guest RAM");
		*e |= PTE_US;
	}
	return 0;
}

int sysarea_build(struct guest_mem *mem, struct page_tables *pt)
{
	uint64_t *gdt = mem_ptr(mem, SYS_GDT_GPA, GDT_ENTRIES * 8);
	struct tss64 *tss =
	    mem_ptr(mem, SYS_GDT_GPA + SYS_TSS_OFFSET, sizeof(*tss) + IOBITMAP_BYTES);
	struct idt_gate *idt = mem_ptr(mem, SYS_IDT_GPA, IDT_VECTORS * sizeof(*idt));
	uint8_t *ktext = mem_ptr(mem, SYS_KTEXT_GPA, SZ_4K);
	uint8_t *utext = mem_ptr(mem, SYS_UTEXT_GPA, SZ_4K);

	if (!gdt || !tss || !idt || !ktext || !utext || mem->size < SYS_AREA_END)
		return err_set("sysarea: guest RAM too small for the system area");
	gdt_build(gdt);
	tss_build(tss, SYS_KSTACK_TOP_GPA);
	idt_build(idt);
	memcpy(ktext, ktext_start, (size_t)(ktext_end - ktext_start));
	memset(utext, 0xf4, SZ_4K); /* hlt: #GP at CPL3 */
	memcpy(utext + (UTEXT_VA - UTEXT_PAGE_VA), utext_start, (size_t)(utext_end - utext_start));

	if (pt_map_fixed(pt, DIRECT_MAP_VA, 0, mem->size, PTE_RW | PTE_NX) < 0 ||
	    pt_map_fixed(pt, KTEXT_VA, SYS_KTEXT_GPA, SZ_4K, 0) < 0 ||
	    pt_map_fixed(pt, UTEXT_PAGE_VA, SYS_UTEXT_GPA, SZ_4K, PTE_US) < 0 ||
	    sysarea_open_to_user(mem, pt, UTEXT_PAGE_VA) < 0)
		return err_wrap("sysarea: mapping the system area");
	return 0;
}

gva_t sysarea_batch_entry(void)
{
	return KTEXT_VA + (uint64_t)(ktext_batch - ktext_start);
}

int sysarea_stub_vector(gva_t rip)
{
	if (rip < KTEXT_VA || rip >= KTEXT_VA + (uint64_t)KTEXT_NSTUBS * KTEXT_STUB_SIZE)
		return -1;
	return (int)((rip - KTEXT_VA) / KTEXT_STUB_SIZE);
}

bool sysarea_is_syscall_stub(gva_t rip)
{
	/* Before or just after the `out`, depending on how KVM reports it. */
	return rip >= UTEXT_VA && rip <= UTEXT_VA + 2;
}

int sysarea_vcpu_tss(struct guest_mem *mem, gpa_t tss_gpa, gpa_t stack_gpa)
{
	struct tss64 *tss = mem_ptr(mem, tss_gpa, sizeof(*tss) + IOBITMAP_BYTES);

	if (!tss || (tss_gpa & (SZ_4K - 1)) || !mem_ptr(mem, stack_gpa, SZ_4K))
		return err_set("sysarea: vCPU TSS at 0x%llx, stack at 0x%llx: outside guest RAM",
			       (unsigned long long)tss_gpa, (unsigned long long)stack_gpa);
	tss_build(tss, stack_gpa + SZ_4K);
	return 0;
}
