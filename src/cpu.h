/* The guest CPU the payload starts on: 64-bit long mode at CPL3 from the
 * first instruction, with the GDT, TSS, IDT and stubs of sysarea.h. */
#ifndef VMM_CPU_H
#define VMM_CPU_H

#include "kvm.h"
#include "paging.h"

/* Segment selectors (Linux's order, so STAR works for syscall/sysret). */
#define SEL_KERNEL_CS 0x08
#define SEL_KERNEL_DS 0x10
#define SEL_USER_CS32 0x1b
#define SEL_USER_DS 0x23
#define SEL_USER_CS 0x2b
#define SEL_TSS 0x30

/* Control register and EFER bits, Intel SDM Vol. 3A 2.5 and 2.2.1. */
#define CR0_PE (1ull << 0)
#define CR0_MP (1ull << 1)
#define CR0_ET (1ull << 4)
#define CR0_NE (1ull << 5)
#define CR0_WP (1ull << 16)
#define CR0_AM (1ull << 18)
#define CR0_PG (1ull << 31)
#define CR4_PAE (1ull << 5)
#define CR4_OSFXSR (1ull << 9)
#define CR4_OSXMMEXCPT (1ull << 10)
#define CR4_OSXSAVE (1ull << 18)
#define EFER_SCE (1ull << 0)
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)
#define EFER_NXE (1ull << 11)
#define RFLAGS_FIXED (1ull << 1) /* bit 1 is always 1 */
#define RFLAGS_IF (1ull << 9)
#define RFLAGS_USER (RFLAGS_FIXED | RFLAGS_IF)

/* MSRs, SDM Vol. 4 table 2-2. */
#define MSR_STAR 0xc0000081
#define MSR_LSTAR 0xc0000082
#define MSR_CSTAR 0xc0000083
#define MSR_SFMASK 0xc0000084
#define MSR_FS_BASE 0xc0000100
#define MSR_GS_BASE 0xc0000101
#define MSR_KERNEL_GS_BASE 0xc0000102

/* Writes GDT, TSS, IDT and stubs into the system area and maps it: the
 * direct map of all guest RAM, the kernel text and the syscall page. The
 * caller reserved [0, SYS_AREA_END) in the frames before pt_init. */
int cpu_sysarea_build(struct guest_mem *mem, struct page_tables *pt);

/* Sets the vCPU's registers, segments, control registers, MSRs, XCR0 and
 * CPUID so that it starts at CPL3 at entry with stack pointer sp. */
int cpu_vcpu_init(struct kvm *k, gpa_t cr3, gva_t entry, gva_t sp);

/* The user-mode code and stack segments, for resuming the payload. */
void cpu_user_segments(struct kvm_sregs *s);
/* The kernel segments, for running the batch routine at CPL0. */
void cpu_kernel_segments(struct kvm_sregs *s);

/* Guest-physical/virtual addresses of the stub code. */
gva_t cpu_batch_entry(void);
/* Exception vector of a stub rip, or -1 if rip is not in the stubs. */
int cpu_stub_vector(gva_t rip);
bool cpu_is_syscall_stub(gva_t rip);

#endif
