/* x86-64 architectural constants and structures vmm builds the guest
 * from: control registers, MSRs, selectors, descriptors, TSS and IDT gates,
 * each checked against the manual by tests/unit/test_cpu.c. */
#ifndef VMM_GUEST_X86_H
#define VMM_GUEST_X86_H

#include <stdint.h>

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

/* GDT descriptors, SDM Vol. 3A 3.4.5: flat 4 GiB limit, G=1. */
#define GDT_KERNEL_CODE64 0x00af9a000000ffffull /* L=1, DPL0, execute/read */
#define GDT_KERNEL_DATA 0x00cf92000000ffffull	/* DPL0, read/write */
#define GDT_USER_CODE32 0x00cffa000000ffffull	/* DPL3, compat mode, unused */
#define GDT_USER_DATA 0x00cff2000000ffffull	/* DPL3, read/write */
#define GDT_USER_CODE64 0x00affa000000ffffull	/* L=1, DPL3, execute/read */
#define GDT_ENTRIES 8				/* TSS takes the last two */

/* Segment types, SDM Vol. 3A 3.4.5.1 and 3.5. */
#define SEG_TYPE_CODE_XRA 0xb /* execute/read, accessed */
#define SEG_TYPE_DATA_RWA 0x3 /* read/write, accessed */
#define SEG_TYPE_TSS64_BUSY 0xb

/* Exception vectors, SDM Vol. 3A table 6-1. */
enum {
	VEC_DE = 0,
	VEC_DB = 1,
	VEC_NMI = 2,
	VEC_BP = 3,
	VEC_OF = 4,
	VEC_BR = 5,
	VEC_UD = 6,
	VEC_NM = 7,
	VEC_DF = 8,
	VEC_TS = 10,
	VEC_NP = 11,
	VEC_SS = 12,
	VEC_GP = 13,
	VEC_PF = 14,
	VEC_MF = 16,
	VEC_AC = 17,
	VEC_MC = 18,
	VEC_XM = 19,
	VEC_CP = 21
};

/* #PF error code bits, SDM Vol. 3A 4.7. */
#define PF_PRESENT (1u << 0)
#define PF_WRITE (1u << 1)
#define PF_USER (1u << 2)
#define PF_RSVD (1u << 3)
#define PF_FETCH (1u << 4)

/* 64-bit IDT gate, SDM Vol. 3A 6.14.1. */
#define IDT_GATE_INTR 0xe
#define IDT_VECTORS 256

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

#endif
