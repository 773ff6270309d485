/* The payload's memory as Linux would manage it: mmap, munmap, mprotect,
 * madvise and brk over the region list (vma.c) and the page tables
 * (paging.c), with the guest-page policy the user chose. Functions named
 * mm_sys_* return what the syscall returns: a value or -errno.
 *
 * Memory is mapped eagerly: mmap allocates guest frames and maps them at
 * once (host memory still costs nothing until touched), so the payload's
 * measured code never takes a fault the VMM would have to serve. */
#ifndef VMM_MM_H
#define VMM_MM_H

#include "guest/paging.h"
#include "kernel/vma.h"

enum guest_page_policy {
	GUEST_PAGES_4K,	     /* 4 KiB pages only */
	GUEST_PAGES_2M,	     /* 2 MiB where aligned, 4 KiB elsewhere */
	GUEST_PAGES_1G,	     /* 1 GiB, then 2 MiB, then 4 KiB */
	GUEST_PAGES_MADVISE, /* 2 MiB only in madvise(MADV_HUGEPAGE) regions */
};
int guest_page_policy_parse(const char *s, enum guest_page_policy *out);
const char *guest_page_policy_name(enum guest_page_policy p);

/* Where the address space puts things (Linux x86-64 defaults). */
#define MM_MMAP_MIN 0x10000ull	   /* vm.mmap_min_addr */
#define MM_STACK_SIZE (8ull << 20) /* RLIMIT_STACK default */
/* Linux puts the stack's top a random 0..16 GiB (STACK_RND_MASK pages)
 * below TASK_SIZE (USER_TOP). vmm takes the lowest of those places, fixed:
 * runs stay reproducible, and a munmap or mprotect that reaches from the
 * stack upwards acts as it does natively wherever Linux could have put it
 * (within TASK_SIZE it succeeds; past it, -EINVAL in both). */
#define MM_STACK_RND_MAX (0x3fffffull << 12)
#define MM_STACK_TOP (USER_TOP - MM_STACK_RND_MAX)
#define MM_MMAP_BASE (MM_STACK_TOP - MM_STACK_SIZE - (128ull << 20)) /* stack gap */

struct mm_stats {
	uint64_t mmap, munmap, mprotect, madvise, brk; /* calls */
	uint64_t promoted_2m;	 /* 2 MiB pages made by madvise(MADV_HUGEPAGE) */
	uint64_t fallback_small; /* large pages the policy allowed but could not get */
	uint64_t split_nohuge;	 /* madvise(MADV_NOHUGEPAGE) calls that split large pages */
};

struct mm {
	struct page_tables *pt;
	struct vma_list vmas;
	enum guest_page_policy policy;
	gva_t brk_start, brk_end; /* heap: [brk_start, brk_end), brk_end page aligned up */
	gva_t brk_cur;		  /* what brk() last returned */
	/* How pending page-table changes reach the guest; NULL until it runs. */
	int (*apply)(void *ctx, const struct pt_update *u);
	void *apply_ctx;
	struct mm_stats stats;
	/* A change could not reach the guest (err set): its view of memory is
	 * no longer what the VMM recorded, so the caller must stop the VM. */
	bool failed;
};

void mm_init(struct mm *mm, struct page_tables *pt, enum guest_page_policy policy);
void mm_destroy(struct mm *mm);

/* For the loader: maps [start, start + len) (4 KiB aligned) with prot and
 * flags and zeroed memory, using the policy's page sizes. -1 with err set. */
int mm_map_fixed(struct mm *mm, gva_t start, uint64_t len, int prot, unsigned vma_flags);
/* Sets the heap to start at brk_start (page aligned, just above the ELF). */
void mm_set_brk(struct mm *mm, gva_t brk_start);

/* Syscalls. Arguments are the raw guest values; everything is checked. */
long mm_sys_brk(struct mm *mm, gva_t addr);
long mm_sys_mmap(struct mm *mm, gva_t addr, uint64_t len, uint64_t prot, uint64_t flags,
		 uint64_t fd, uint64_t off);
long mm_sys_munmap(struct mm *mm, gva_t addr, uint64_t len);
long mm_sys_mprotect(struct mm *mm, gva_t addr, uint64_t len, uint64_t prot);
long mm_sys_madvise(struct mm *mm, gva_t addr, uint64_t len, uint64_t advice);
long mm_sys_mremap(struct mm *mm, gva_t old, uint64_t old_len, uint64_t new_len, uint64_t flags,
		   gva_t new_addr);

#endif
