/* Where the VMM's own pages live in the guest: GDT, TSS, IDT, stubs, CPL0
 * stacks and the page-table store batch, in guest physical memory and in
 * the guest's virtual address space. Included by C and by guest_stubs.S. */
#ifndef VMM_SYSAREA_H
#define VMM_SYSAREA_H

/* Ports the stubs write to; any other port access is a payload fault. */
#define PORT_EXCEPTION 0xf4
#define PORT_BATCH_DONE 0xf5
#define PORT_SYSCALL 0xf6

#define KTEXT_STUB_SIZE 8
#define KTEXT_NSTUBS 33 /* vectors 0..31, then one for all others */

/* Guest physical layout of the system area (reserved from the frames). */
#define SYS_GDT_GPA 0x1000 /* GDT, TSS at +0x800 */
#define SYS_TSS_OFFSET 0x800
#define SYS_IDT_GPA 0x2000
#define SYS_KTEXT_GPA 0x3000
#define SYS_UTEXT_GPA 0x4000
#define SYS_IST_STACK_GPA 0x5000 /* one page, for #DF/#NMI/#MC */
#define SYS_KSTACK_GPA 0x6000	 /* two pages, RSP0 at the top */
#define SYS_KSTACK_TOP_GPA 0x8000
#define SYS_BATCH_GPA 0x8000 /* page-table stores: 16 bytes each */
#define SYS_BATCH_BYTES 0x10000
#define SYS_INVLPG_GPA 0x18000 /* invlpg addresses: 8 bytes each */
#define SYS_INVLPG_BYTES 0x1000
#define SYS_AREA_END 0x19000

/* Guest virtual layout. All guest RAM is mapped at DIRECT_MAP_VA with
 * 4 KiB supervisor pages, so the batch routine can store to any table
 * (the same idea as Linux's direct map). */
#define DIRECT_MAP_VA 0xffff888000000000
#define KTEXT_VA 0xffffffff81000000
/* The syscall entry's page is where Linux has its vsyscall page, in the
 * kernel half: the payload's half stays all its own, [0, USER_TOP), as on
 * Linux, so no munmap/mmap/mprotect of the payload ever meets it. The page
 * is user-accessible (under PVM `syscall` runs the stub at CPL3) and full
 * of hlt but for the stub, at an offset that is none of the legacy
 * vsyscall entries (0, 0x400, 0x800): a call there ends in SIGSEGV, as on
 * a Linux booted with vsyscall=none. */
#define UTEXT_PAGE_VA 0xffffffffff600000
#define UTEXT_VA (UTEXT_PAGE_VA + 0xc00)

#ifndef __ASSEMBLER__
#include "guest/paging.h"

/* Writes GDT, TSS, IDT and stubs into the system area and maps it: the
 * direct map of all guest RAM, the kernel text and the syscall page. The
 * caller reserved [0, SYS_AREA_END) in the frames before pt_init. */
int sysarea_build(struct guest_mem *mem, struct page_tables *pt);

/* A TSS of its own for another vCPU (the stubs' frames must not meet on
 * one stack): in the page at tss_gpa, the same as vCPU 0's but for RSP0,
 * the top of the page at stack_gpa. Its tr.base is direct(tss_gpa). */
int sysarea_vcpu_tss(struct guest_mem *mem, gpa_t tss_gpa, gpa_t stack_gpa);

/* Guest virtual address of the CPL0 page-table batch routine. */
gva_t sysarea_batch_entry(void);
/* Exception vector of a stub rip, or -1 if rip is not in the stubs. */
int sysarea_stub_vector(gva_t rip);
bool sysarea_is_syscall_stub(gva_t rip);
#endif

#endif
