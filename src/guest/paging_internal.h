/* Shared by the files of the page-table builder (paging.c, pt_log.c,
 * pt_walk.c, pt_range.c, pt_map.c, pt_pool.c) and by its unit tests; no other caller
 * includes it. Addresses here are 48-bit ("va48": the canonical address
 * with bits 63:48 dropped), so that a range is a plain [s, e). */
#ifndef VMM_PAGING_INTERNAL_H
#define VMM_PAGING_INTERNAL_H

#include "guest/paging.h"

#include <assert.h>

#define PT_ENTRIES 512u
/* 4-level paging translates 48-bit linear addresses; bits 63:48 must copy
 * bit 47 (canonical form, SDM 3A 3.3.7.1). */
#define PT_VA_MASK 0x0000ffffffffffffull
#define PT_VA_SIGN (1ull << 47)
#define PT_LOWER_END 0x0000800000000000ull
#define PT_UPPER_START 0xffff800000000000ull

/* Non-leaf entries: the CPU ANDs RW and US over all levels and ORs NX
 * (SDM 3A 4.6.1), so tables allow everything and the leaf decides; the
 * kernel half gets no US, so no leaf there can become user-accessible. */
#define PT_TABLE_USER (PTE_P | PTE_RW | PTE_US)
#define PT_TABLE_KERNEL (PTE_P | PTE_RW)

/* Internal results: -1 with err set; PT_OUT_OF_FRAMES when guest memory
 * ran out (err holds frames' message), so callers can say which range. */
#define PT_OUT_OF_FRAMES (-2)

/* ---- levels and entries ---- */

static inline uint64_t pt_span(int level)
{
	return SZ_4K << (9 * level);
}
static inline unsigned pt_index(uint64_t va48, int level)
{
	return (unsigned)(va48 >> (12 + 9 * level)) & 511u;
}
static inline gva_t pt_canon(uint64_t va48)
{
	return va48 & PT_VA_SIGN ? va48 | ~PT_VA_MASK : va48;
}
static inline bool pt_is_canonical(gva_t va)
{
	return va < PT_LOWER_END || va >= PT_UPPER_START;
}
static inline bool pt_is_leaf(uint64_t e, int level)
{
	return level == PT_LEVEL_PT || (e & PTE_PS);
}
static inline gpa_t pt_leaf_frame(uint64_t e, int level)
{
	return e & PTE_ADDR_MASK & ~(pt_span(level) - 1);
}
static inline gpa_t pt_table_of(uint64_t e)
{
	return e & PTE_ADDR_MASK;
}
static inline uint64_t pt_table_flags(uint64_t va48)
{
	return va48 & PT_VA_SIGN ? PT_TABLE_KERNEL : PT_TABLE_USER;
}
static inline const char *pt_size_name(int level)
{
	return level == 2 ? "1G" : level == 1 ? "2M" : "4K";
}

/* The 512 entries of one of our tables. Tables only ever link frames from
 * the allocator (the payload cannot write them: no user mapping covers
 * them), so this is an invariant, not a check of guest input. */
static inline uint64_t *pt_entries(const struct page_tables *pt, gpa_t table)
{
	uint64_t *p = mem_ptr(pt->mem, table, SZ_4K);

	assert(p && is_aligned(table, SZ_4K));
	return p;
}

/* The bits of a leaf with permission `perm` (PTE_PERM_MASK and
 * PTE_SW_PROTNONE bits), without address and PS. Leaves are written with
 * A set, and D when writable, as Linux leaves a page after its first
 * touch: otherwise the first access (and under shadow paging the first
 * write, as a separate fault) pays for setting them, inside whatever is
 * being measured. */
static inline uint64_t pt_leaf_bits(uint64_t perm)
{
	uint64_t v = (perm & PTE_PERM_MASK) | PTE_A;

	v |= (perm & PTE_SW_PROTNONE) ? PTE_SW_PROTNONE : PTE_P;
	if (perm & PTE_RW)
		v |= PTE_D;
	return v;
}

/* ---- fresh tables (allocated during the current update) ---- */

static inline bool pt_is_fresh(const struct page_tables *pt, gpa_t table)
{
	uint64_t f = table / SZ_4K;

	return pt->fresh[f / 64] >> (f % 64) & 1;
}

static inline void pt_set_fresh(struct page_tables *pt, gpa_t table, bool on)
{
	uint64_t f = table / SZ_4K;

	if (on)
		pt->fresh[f / 64] |= 1ull << (f % 64);
	else
		pt->fresh[f / 64] &= ~(1ull << (f % 64));
}

/* KVM may shadow this table: the guest must repeat stores into it. */
static inline bool pt_shadowed(const struct page_tables *pt, gpa_t table)
{
	return pt->live && !pt_is_fresh(pt, table);
}

/* ---- the tree (paging.c) ---- */

/* Doubles an array; NULL (err set) leaves it and *cap as they were. */
void *pt_grow(void *arr, size_t *cap, size_t elem);
/* Adds delta table pages at `level` to the summary. */
void pt_sum_tables(struct page_tables *pt, int level, int delta);
/* Makes a zero frame a fresh table of `level`. */
int pt_adopt_table(struct page_tables *pt, gpa_t table, int level);
/* Gives back a fresh table that never got linked. */
void pt_drop_fresh_table(struct page_tables *pt, gpa_t table, int level);
/* ---- the table pool (pt_pool.c) ---- */

/* A zero frame for a table, growing the pool from the frames when it is
 * empty: 0 or PT_OUT_OF_FRAMES (err set). Growth changes no table: the new
 * chunk enters the direct map at the next pt_commit (pt_pool_map_pending),
 * so a mapping call that is undone needs to undo nothing here. */
int pt_pool_take(struct page_tables *pt, gpa_t *out);
/* Gives back table frames or data frames alike, which must be zero: pool
 * frames return to the pool, others to the frames. */
void pt_frames_free(struct page_tables *pt, gpa_t gpa, uint64_t bytes);
/* Maps the chunks taken since the last call into the direct map. */
int pt_pool_map_pending(struct page_tables *pt);
void pt_pool_destroy(struct page_tables *pt);

/* A new fresh table: 0, PT_OUT_OF_FRAMES or -1. */
int pt_table_alloc(struct page_tables *pt, int level, gpa_t *out);
bool pt_table_empty(const struct page_tables *pt, gpa_t table);

/* Checks of caller input: -1 with "paging: WHAT 0x... (+0x...): ...".
 * pt_check_range (len > 0) also gives the range as va48 [*s48, *e48). */
int pt_check_range(const char *what, gva_t va, uint64_t len, uint64_t *s48, uint64_t *e48);
int pt_check_aligned_4k(const char *what, gva_t va, uint64_t len);
int pt_check_perm(const char *what, uint64_t perm, uint64_t allowed);

/* ---- the store log (pt_log.c) ---- */

enum pt_store_mode {
	PT_STORE_RECORD, /* the guest repeats it when the table may be shadowed */
	PT_STORE_QUIET,	 /* host only: the table is unlinked by a recorded store,
			  * or the store undoes one dropped from the update */
};

/* The one function that writes an entry into a table that may be linked
 * (only a fresh table being filled is written directly). */
int pt_store_entry(struct page_tables *pt, gpa_t table, unsigned idx, uint64_t val,
		   enum pt_store_mode mode);
/* Queues the invalidation of the page at va48; never fails. */
void pt_record_invlpg(struct page_tables *pt, uint64_t va48);
/* Queues [gpa, gpa + bytes) to be zeroed and freed at commit. */
int pt_defer_free(struct page_tables *pt, gpa_t gpa, uint64_t bytes);

/* ---- walks (pt_walk.c) ---- */

/* One entry met by pt_range_walk. */
struct pt_visit {
	gpa_t table;   /* the table holding the entry */
	unsigned idx;  /* its index there */
	int level;     /* the table's level */
	uint64_t lo;   /* first address the entry maps (va48) */
	uint64_t s, e; /* the part of the walked range inside the entry's span */
	uint64_t ent;  /* the entry as read before the visit */
	gpa_t child;   /* the table to descend into: the entry's, when it links one;
			* a visitor that replaced the entry sets it */
};

static inline bool pt_visit_whole(const struct pt_visit *v)
{
	return v->s == v->lo && v->e == v->lo + pt_span(v->level);
}

/* What a visit returns; negative values are errors and end the walk. */
enum pt_action {
	PT_NEXT = 0,	/* go on with the next entry */
	PT_DESCEND = 1, /* walk v->child over [v->s, v->e), then call leave */
	PT_STOP = 2,	/* end the walk: pt_range_walk returns PT_STOP */
};

struct pt_visitor {
	int (*visit)(struct pt_visit *v, void *ctx);
	/* After the descent below v (optional): 0 or as visit. */
	int (*leave)(struct pt_visit *v, void *ctx);
	void *ctx;
};

/* The one range walk: visits, in address order, every entry of `table` (at
 * `level`, its entry 0 mapping va48 `base`) that overlaps [s, e), and below
 * each entry whose visit asks for it the entries of its child table, level
 * by level. Empty entries are visited too. An empty range visits nothing.
 * Returns 0, PT_STOP or the first error. */
int pt_range_walk(const struct page_tables *pt, gpa_t table, int level, uint64_t base, uint64_t s,
		  uint64_t e, const struct pt_visitor *vis);

/* Where a descent for one address stopped. */
struct pt_slot {
	gpa_t table;  /* the table read last */
	unsigned idx; /* the address's entry there */
	int level;    /* that table's level */
	uint64_t ent; /* the entry */
};
/* Descends towards va48's entry at `level`; stops there or above it at the
 * first entry that is empty or a leaf. */
void pt_descend(const struct page_tables *pt, uint64_t va48, int level, struct pt_slot *out);

/* The first leaf (any, or only PTE_SW_FIXED ones) overlapping [s, e):
 * true and *at (canonical) when there is one. */
bool pt_range_has_leaf(const struct page_tables *pt, uint64_t s, uint64_t e, bool fixed_only,
		       uint64_t *at);
/* Whether `table` (at `level`, entry 0 at base) holds nothing outside
 * [s, e) at any depth. */
bool pt_only_in(const struct page_tables *pt, gpa_t table, int level, uint64_t base, uint64_t s,
		uint64_t e);

/* ---- range editing (pt_range.c) ---- */

/* Empties [s, e) again after a failed mapping call (pt_map.c), host-side
 * only: see txn_undo there. Cannot fail. */
void pt_range_undo(struct page_tables *pt, uint64_t s, uint64_t e);

#endif
