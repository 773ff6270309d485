/* The guest dimension of translation (guest virtual -> guest physical):
 * x86-64 4-level page tables that the VMM builds in guest memory.
 *
 * Live tables and KVM shadow paging: once the guest has run, KVM may shadow
 * any table page and does not see host writes to it (measured: a guest
 * kept the old translation after a CR3 reload). So every change to a
 * table that existed before the current update is written to host memory
 * AND recorded as a (entry gpa, value) store in `pt->upd`; the VMM then
 * has the guest itself repeat those stores at CPL0 and perform the TLB
 * invalidation recorded there (pt_commit). Table pages allocated during
 * the current update are "fresh": no one can have shadowed them yet, so the
 * host fills them directly and only the store that links them into the
 * tree goes through the guest. Frames freed by an update (data or tables)
 * are released only after the guest applied it, as Linux's mmu_gather does.
 *
 * Implementation: paging.c (the tree), pt_log.c (the update), pt_walk.c
 * (walks), pt_range.c (unmap, protect, split), pt_map.c (mapping), pt_pool.c
 * (where table pages come from, and their direct map). */
#ifndef VMM_PAGING_H
#define VMM_PAGING_H

#include "guest/frames.h"
#include "guest/mem.h"
#include "util/types.h"

/* Page-table entry bits, Intel SDM Vol. 3A section 4.5 (tables 4-14..4-20). */
#define PTE_P (1ull << 0)   /* present */
#define PTE_RW (1ull << 1)  /* writable */
#define PTE_US (1ull << 2)  /* user (CPL3) accessible */
#define PTE_PWT (1ull << 3) /* write-through */
#define PTE_PCD (1ull << 4) /* cache disable */
#define PTE_A (1ull << 5)   /* accessed */
#define PTE_D (1ull << 6)   /* dirty (leaves only) */
#define PTE_PS (1ull << 7)  /* page size: leaf in a PDPTE (1G) or PDE (2M) */
#define PTE_G (1ull << 8)   /* global */
/* Software bit (ignored by hardware, SDM 4.5): a PROT_NONE leaf whose frame
 * is kept; P is clear so any access faults, the address bits stay valid. */
#define PTE_SW_PROTNONE (1ull << 9)
/* Software bit (ignored by hardware, SDM 4.5): a leaf of the VMM's own
 * (pt_map_fixed) that owns no frame and that pt_unmap/pt_protect refuse. */
#define PTE_SW_FIXED (1ull << 10)
#define PTE_NX (1ull << 63) /* execute disable, needs EFER.NXE */
#define PTE_ADDR_MASK 0x000ffffffffff000ull
/* Permission bits a caller may ask for in a leaf. */
#define PTE_PERM_MASK (PTE_RW | PTE_US | PTE_NX)

/* Levels as the SDM names them; index into arrays below. */
enum pt_level { PT_LEVEL_PT = 0, PT_LEVEL_PD = 1, PT_LEVEL_PDPT = 2, PT_LEVEL_PML4 = 3 };

/* Above this many pages an update flushes the whole TLB (CR3 reload)
 * instead of invlpg per page: Linux's tlb_single_page_flush_ceiling. The
 * default of page_tables.invlpg_ceiling (--tlb-flush auto); 0 makes every
 * invalidation a full flush (full), SIZE_MAX never (page). */
#define PT_INVLPG_CEILING 33

struct pt_store {
	gpa_t entry;  /* guest physical address of the 8-byte entry */
	uint64_t val; /* the value the guest must store there */
};

struct pt_freed {
	gpa_t gpa;
	uint64_t bytes;
};

/* Pending changes to live tables, applied by the guest (see top). */
struct pt_update {
	struct pt_store *stores;
	size_t nstores, cap_stores;
	gva_t *invlpg; /* one address per leaf page changed or removed */
	size_t ninvlpg, cap_invlpg;
	bool flush_all;		/* set when ninvlpg would exceed PT_INVLPG_CEILING;
				 * invlpg is then emptied: a CR3 reload covers it */
	struct pt_freed *freed; /* frames to zero and free after the guest applied */
	size_t nfreed, cap_freed;
};

/* What the tables hold, for the report. */
struct pt_summary {
	uint64_t tables[4];	   /* table pages per level (index enum pt_level) */
	uint64_t leaves[PS_COUNT]; /* payload (user) leaf pages, per page size */
	uint64_t kernel_leaves;	   /* 4 KiB leaves of the VMM's own mappings */
	uint64_t bytes_tables;	   /* guest memory used by table pages */
	/* Places where pt_populate could use a large page (alignment and
	 * length allowed it) but found no free frame of that size and used
	 * smaller pages instead: one per such place. */
	uint64_t fallback_small;
};

/* TLB invalidations performed by committed updates. */
struct pt_tlb_stats {
	uint64_t flush_all; /* full flushes (CR3 reloads) */
	uint64_t invlpg;    /* single-page invalidations executed */
	uint64_t updates;   /* commits that needed the guest at all */
	uint64_t stores;    /* live entries the guest stored */
};

/* Where table pages come from: chunks of guest RAM (2 MiB, or 4 KiB when
 * no 2 MiB block is free) taken from the frames as the tables grow and
 * kept for tables only, so that the direct map, which the CPL0 batch
 * routine stores through, needs to cover the pool alone (pt_pool.c). */
struct pt_chunk {
	gpa_t gpa;
	uint64_t bytes;
};

struct pt_pool {
	uint64_t *owned; /* bitmap per frame: the frame belongs to the pool */
	gpa_t *free;	 /* zeroed pool frames, a stack */
	size_t nfree, cap_free;
	uint64_t nframes;	 /* frames the pool owns */
	struct pt_chunk *chunks; /* in the order taken */
	size_t nchunks, cap_chunks;
	size_t nmapped;	 /* chunks[0, nmapped) are in the direct map */
	gva_t direct_va; /* where gpa 0 is mapped; 0: no direct map (yet) */
	uint64_t perm;	 /* permission of direct-map leaves */
};

struct page_tables {
	struct guest_mem *mem;
	struct frames *frames;
	gpa_t root;	       /* PML4 */
	bool live;	       /* the guest has run: tables may be shadowed */
	size_t invlpg_ceiling; /* pages above which an update flushes everything */
	uint64_t *fresh;       /* bitmap per frame: table allocated this update */
	gpa_t *fresh_list;     /* the frames set in `fresh`, so commit clears only those */
	size_t nfresh, cap_fresh;
	struct pt_pool pool;
	struct pt_update upd;
	struct pt_summary sum;
	struct pt_tlb_stats tlb;
};

int pt_init(struct page_tables *pt, struct guest_mem *mem, struct frames *frames);
void pt_destroy(struct page_tables *pt);

/* Maps one page of the given size at va -> pa with `perm` (PTE_PERM_MASK
 * bits; P is implied unless PTE_SW_PROTNONE is given). Both addresses must
 * be aligned to the size. Refuses (-1, err) to map over an existing leaf or
 * to put a large page where a table already is. Does not own pa's frame
 * until mapped: afterwards pt_unmap frees it. */
int pt_map(struct page_tables *pt, gva_t va, gpa_t pa, enum page_size size, uint64_t perm);

/* Allocates zeroed frames and maps [va, va + len) with them, using the
 * largest page <= max where va, the frame and the remaining length line up,
 * smaller pages elsewhere (also when no aligned large frame is free).
 * va and len must be 4 KiB aligned; the range must be unmapped. On failure
 * nothing stays mapped. */
int pt_populate(struct page_tables *pt, gva_t va, uint64_t len, uint64_t perm, enum page_size max);

/* Removes every leaf in [va, va + len) (4 KiB aligned), splitting large
 * leaves that straddle an edge, freeing emptied tables (not the PML4) and
 * queueing invalidations. Unmapped holes are fine. */
int pt_unmap(struct page_tables *pt, gva_t va, uint64_t len);

/* Sets the permission of every leaf in [va, va + len) to perm (as pt_map),
 * splitting large leaves that straddle an edge. Holes are skipped. */
int pt_protect(struct page_tables *pt, gva_t va, uint64_t len, uint64_t perm);

/* Splits every large leaf overlapping [va, va + len) down to 4 KiB leaves
 * (same frames, same permissions). */
int pt_split(struct page_tables *pt, gva_t va, uint64_t len);

/* Applies the pending update: calls apply(ctx, &pt->upd) when the guest has
 * stores or invalidations to perform (never before pt->live), then zeroes and
 * frees the deferred frames and makes fresh tables live. apply returns 0 on
 * success. With apply == NULL the update is taken as applied (unit tests,
 * and everything before the first KVM_RUN). */
int pt_commit(struct page_tables *pt, int (*apply)(void *ctx, const struct pt_update *u),
	      void *ctx);

/* One walk of va through the tables, for fault reports and translation. */
struct pt_walk {
	int levels;	    /* entries read, 1..4 */
	gpa_t entry_gpa[4]; /* [0] = PML4 entry, [1] = PDPTE, ... */
	uint64_t entry[4];
	bool mapped;	     /* reached a present leaf */
	enum page_size size; /* of that leaf */
	gpa_t gpa;	     /* va translated */
	uint64_t leaf;	     /* the leaf entry */
};
void pt_walk(const struct page_tables *pt, gva_t va, struct pt_walk *w);
/* Writes the walk as lines "  PML4E[255] @gpa 0x... = 0x... (P RW US)". */
void pt_walk_print(const struct pt_walk *w, gva_t va, void *file /* FILE * */);

/* Access checks as the CPU makes them for a CPL3 access. */
enum pt_access { PT_READ = 0, PT_WRITE = 1, PT_EXEC = 2 };
/* Translates a user access of va: 0 and *gpa set, or -1 when CPL3 code could
 * not make that access (not present, PROT_NONE, supervisor page, read-only,
 * NX), no message. The effective permission is the AND over all levels. */
int pt_translate(const struct page_tables *pt, gva_t va, enum pt_access acc, gpa_t *gpa);

/* Maps every table page, now and as the pool grows, at direct_va + its
 * gpa with 4 KiB supervisor leaves of `perm`: the CPL0 batch routine's
 * view of the tables. Chunks taken later are mapped by the next pt_commit,
 * before the guest can need them (a table is stored to by the guest only
 * after the commit that made it live). */
int pt_direct_map(struct page_tables *pt, gva_t direct_va, uint64_t perm);
/* A zero page from the table pool for the VMM's own per-vCPU pages (TSS,
 * exception stack, shootdown list): in the direct map once the next
 * pt_commit ran. 0, or -1 with err set. */
int pt_pool_take_page(struct page_tables *pt, gpa_t *out);
/* Guest memory held by the table pool (used by tables or free for them). */
uint64_t pt_pool_bytes(const struct page_tables *pt);

/* Maps [va, va + len) -> [pa, ...) with 4 KiB pages and perm, for the VMM's
 * own mappings (direct map, system area), counted in sum.kernel_leaves. No
 * frame ownership: pt_unmap must never be called on them. */
int pt_map_fixed(struct page_tables *pt, gva_t va, gpa_t pa, uint64_t len, uint64_t perm);

#endif
