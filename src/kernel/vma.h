/* The payload's address space as a sorted list of regions (Linux's VMAs):
 * what is reserved where, with which protection and advice. Pure
 * bookkeeping: the page tables are changed by mm.c. */
#ifndef VMM_VMA_H
#define VMM_VMA_H

#include "util/types.h"

/* vma.flags */
#define VMA_HUGE (1u << 0)   /* madvise(MADV_HUGEPAGE) */
#define VMA_NOHUGE (1u << 1) /* madvise(MADV_NOHUGEPAGE) */
#define VMA_STACK (1u << 2)
#define VMA_ELF (1u << 3)    /* loaded from the payload file */
#define VMA_HEAP (1u << 4)   /* brk area */
#define VMA_SYSTEM (1u << 5) /* the VMM's own user-visible page (syscall entry) */

struct vma {
	gva_t start, end; /* [start, end), 4 KiB aligned */
	int prot;	  /* PROT_READ | PROT_WRITE | PROT_EXEC, or PROT_NONE */
	unsigned flags;
};

/* About this many regions at most: Linux's default vm.max_map_count. Once
 * there, vma_reserve of more regions fails, so mmap and the munmap or
 * mprotect that would split a region give -ENOMEM, as in Linux (which
 * counts merged regions; vmm does not merge, so it gets there with fewer
 * calls). An operation started below it can end up to 2 regions above. */
#define VMA_MAX 65530

struct vma_list {
	struct vma *v; /* sorted by start, never overlapping */
	size_t n, cap;
};

void vma_list_init(struct vma_list *l);
void vma_list_free(struct vma_list *l);
/* Makes room for `extra` more regions, so that the next operations that
 * split at most that many times cannot fail (insert: 1, remove, protect,
 * set_flags: 2). Lets mm.c change page tables knowing the bookkeeping
 * afterwards will succeed. */
int vma_reserve(struct vma_list *l, size_t extra);
/* How many regions an operation on [start, end) splits (0-2): what it must
 * reserve, so that at VMA_MAX one that splits nothing still works. */
size_t vma_splits(const struct vma_list *l, gva_t start, gva_t end);

/* Adds [start, end); -1 (err) if it overlaps an existing region. Adjacent
 * regions with equal prot and flags are not merged (keeps splits visible). */
int vma_insert(struct vma_list *l, gva_t start, gva_t end, int prot, unsigned flags);
/* Removes [start, end) from whatever regions overlap it, splitting them. */
int vma_remove(struct vma_list *l, gva_t start, gva_t end);
/* Sets prot on [start, end), splitting at the edges. The whole range must be
 * covered by regions (else -1, nothing changed: mprotect's ENOMEM). */
int vma_protect(struct vma_list *l, gva_t start, gva_t end, int prot);
/* Sets/clears flags on the covered parts of [start, end), splitting. */
int vma_set_flags(struct vma_list *l, gva_t start, gva_t end, unsigned set, unsigned clear);

/* Index in l->v of the region containing addr, else of the first region
 * above it; l->n when there is none: where a scan of [addr, ...) starts. */
size_t vma_index(const struct vma_list *l, gva_t addr);
/* The region containing addr, or NULL. */
const struct vma *vma_find(const struct vma_list *l, gva_t addr);
/* True if no region overlaps [start, end). */
bool vma_is_free(const struct vma_list *l, gva_t start, gva_t end);
/* True if [start, end) is covered by regions without holes. */
bool vma_is_covered(const struct vma_list *l, gva_t start, gva_t end);

/* Finds a free range of len bytes, aligned to align, top-down below `top`
 * and at or above `bottom`, like Linux's mmap with a top-down layout.
 * 0 and *out set, or -1 when nothing fits. */
int vma_find_free(const struct vma_list *l, uint64_t len, uint64_t align, gva_t bottom, gva_t top,
		  gva_t *out);

#endif
