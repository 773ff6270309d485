/* The guest dimension of translation: builds and edits x86-64 4-level page
 * tables in guest memory, records every change to a table the guest may
 * already use as a store the guest itself repeats (see paging.h), and walks
 * the tables for translation checks and fault reports. */
#include "guest/paging.h"

#include "util/err.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PT_ENTRIES 512u
/* 4-level paging translates 48-bit linear addresses; bits 63:48 must copy
 * bit 47 (canonical form, SDM 3A 3.3.7.1). */
#define VA_MASK 0x0000ffffffffffffull
#define VA_SIGN (1ull << 47)
#define LOWER_END 0x0000800000000000ull
#define UPPER_START 0xffff800000000000ull

/* Non-leaf entries: the CPU ANDs RW and US over all levels and ORs NX
 * (SDM 3A 4.6.1), so tables allow everything and the leaf decides; the
 * kernel half gets no US, so no leaf there can become user-accessible. */
#define TABLE_USER (PTE_P | PTE_RW | PTE_US)
#define TABLE_KERNEL (PTE_P | PTE_RW)

/* Internal results: -1 with err set; OUT_OF_FRAMES when guest memory ran
 * out (err holds frames' message), so callers can say which range. */
#define OUT_OF_FRAMES (-2)

enum store_mode {
	STORE_RECORD, /* the guest repeats it when the table may be shadowed */
	STORE_QUIET,  /* host only: the table is unlinked by a recorded store,
		       * or the store undoes one dropped from the update */
};

static uint64_t span_of(int level)
{
	return SZ_4K << (9 * level);
}
static unsigned index_of(uint64_t va48, int level)
{
	return (unsigned)(va48 >> (12 + 9 * level)) & 511u;
}
static gva_t canon(uint64_t va48)
{
	return va48 & VA_SIGN ? va48 | ~VA_MASK : va48;
}
static bool is_canonical(gva_t va)
{
	return va < LOWER_END || va >= UPPER_START;
}
static bool is_leaf(uint64_t e, int level)
{
	return level == PT_LEVEL_PT || (e & PTE_PS);
}
static gpa_t leaf_frame(uint64_t e, int level)
{
	return e & PTE_ADDR_MASK & ~(span_of(level) - 1);
}
static gpa_t table_of(uint64_t e)
{
	return e & PTE_ADDR_MASK;
}
static uint64_t table_flags(uint64_t va48)
{
	return va48 & VA_SIGN ? TABLE_KERNEL : TABLE_USER;
}
static const char *size_name(int level)
{
	return level == 2 ? "1G" : level == 1 ? "2M" : "4K";
}

/* The 512 entries of one of our tables. Tables only ever link frames from
 * the allocator (the payload cannot write them: no user mapping covers
 * them), so this is an invariant, not a check of guest input. */
static uint64_t *entries(const struct page_tables *pt, gpa_t table)
{
	uint64_t *p = mem_ptr(pt->mem, table, SZ_4K);

	assert(p && is_aligned(table, SZ_4K));
	return p;
}

static bool is_fresh(const struct page_tables *pt, gpa_t table)
{
	uint64_t f = table / SZ_4K;

	return pt->fresh[f / 64] >> (f % 64) & 1;
}

static void set_fresh(struct page_tables *pt, gpa_t table, bool on)
{
	uint64_t f = table / SZ_4K;

	if (on)
		pt->fresh[f / 64] |= 1ull << (f % 64);
	else
		pt->fresh[f / 64] &= ~(1ull << (f % 64));
}

/* KVM may shadow this table: the guest must repeat stores into it. */
static bool shadowed(const struct page_tables *pt, gpa_t table)
{
	return pt->live && !is_fresh(pt, table);
}

/* Doubles an array; NULL (err set) leaves it and *cap as they were. */
static void *grow(void *arr, size_t *cap, size_t elem)
{
	size_t n = *cap ? *cap * 2 : 64;
	void *p = realloc(arr, n * elem);

	if (!p) {
		err_set("paging: out of host memory (%zu entries)", n);
		return NULL;
	}
	*cap = n;
	return p;
}

/* The one function that writes an entry into a table that may be linked
 * (only a fresh table being filled, by split_leaf and pt_map_fixed, is
 * written directly). The store is recorded before the host write, so a
 * failure leaves both unchanged. */
static int pt_store_entry(struct page_tables *pt, gpa_t table, unsigned idx, uint64_t val,
			  enum store_mode mode)
{
	struct pt_update *u = &pt->upd;

	if (mode == STORE_RECORD && shadowed(pt, table)) {
		if (u->nstores == u->cap_stores) {
			struct pt_store *s = grow(u->stores, &u->cap_stores, sizeof(*s));

			if (!s)
				return -1;
			u->stores = s;
		}
		u->stores[u->nstores++] = (struct pt_store){table + idx * 8ull, val};
	}
	entries(pt, table)[idx] = val;
	return 0;
}

/* Below this many entries a repeated page is looked for and skipped; above
 * it the search would cost more than the extra invlpg. */
#define INVLPG_DEDUP_MAX 64

/* One invalidation per page; past the ceiling a full flush is cheaper and
 * the list is dropped. Never fails: when the list cannot grow, the full
 * flush is the correct answer too. */
static void record_invlpg(struct page_tables *pt, uint64_t va48)
{
	struct pt_update *u = &pt->upd;
	gva_t va = canon(va48);

	if (u->flush_all)
		return;
	for (size_t i = 0; i < u->ninvlpg && i < INVLPG_DEDUP_MAX; i++)
		if (u->invlpg[i] == va)
			return;
	if (u->ninvlpg < pt->invlpg_ceiling && u->ninvlpg == u->cap_invlpg) {
		gva_t *l = grow(u->invlpg, &u->cap_invlpg, sizeof(*l));

		if (l)
			u->invlpg = l;
	}
	if (u->ninvlpg >= pt->invlpg_ceiling || u->ninvlpg == u->cap_invlpg) {
		u->flush_all = true;
		u->ninvlpg = 0;
		return;
	}
	u->invlpg[u->ninvlpg++] = va;
}

/* Frames stay in use until the guest applied the update (a TLB may still
 * hold them until then); adjacent ranges are merged. */
static int defer_free(struct page_tables *pt, gpa_t gpa, uint64_t bytes)
{
	struct pt_update *u = &pt->upd;

	if (u->nfreed && u->freed[u->nfreed - 1].gpa + u->freed[u->nfreed - 1].bytes == gpa) {
		u->freed[u->nfreed - 1].bytes += bytes;
		return 0;
	}
	if (u->nfreed == u->cap_freed) {
		struct pt_freed *f = grow(u->freed, &u->cap_freed, sizeof(*f));

		if (!f)
			return -1;
		u->freed = f;
	}
	u->freed[u->nfreed++] = (struct pt_freed){gpa, bytes};
	return 0;
}

static void sum_tables(struct page_tables *pt, int level, int delta)
{
	uint64_t total = 0;

	pt->sum.tables[level] += (uint64_t)(int64_t)delta;
	for (int l = 0; l < 4; l++)
		total += pt->sum.tables[l];
	pt->sum.bytes_tables = total * SZ_4K;
}

/* Makes a zero frame a fresh table of `level`. */
static int adopt_table(struct page_tables *pt, gpa_t table, int level)
{
	if (pt->nfresh == pt->cap_fresh) {
		gpa_t *l = grow(pt->fresh_list, &pt->cap_fresh, sizeof(*l));

		if (!l)
			return -1;
		pt->fresh_list = l;
	}
	pt->fresh_list[pt->nfresh++] = table;
	set_fresh(pt, table, true);
	sum_tables(pt, level, 1);
	return 0;
}

/* Gives back a fresh table that never got linked; its fresh_list slot may
 * stay behind (clearing a clear bit at commit is harmless). */
static void drop_fresh_table(struct page_tables *pt, gpa_t table, int level)
{
	memset(entries(pt, table), 0, SZ_4K);
	set_fresh(pt, table, false);
	sum_tables(pt, level, -1);
	frames_free(pt->frames, table, SZ_4K);
}

/* Every free frame is zero (frames.h), so a new table needs no clearing. */
static int table_alloc(struct page_tables *pt, int level, gpa_t *out)
{
	gpa_t t;

	if (frames_alloc(pt->frames, PS_4K, &t))
		return OUT_OF_FRAMES;
	if (adopt_table(pt, t, level)) {
		frames_free(pt->frames, t, SZ_4K);
		return -1;
	}
	*out = t;
	return 0;
}

static bool table_empty(const struct page_tables *pt, gpa_t table)
{
	const uint64_t *e = entries(pt, table);

	for (unsigned i = 0; i < PT_ENTRIES; i++)
		if (e[i])
			return false;
	return true;
}

/* ---- checks of caller input ---- */

static int check_range(const char *what, gva_t va, uint64_t len, uint64_t *s48, uint64_t *e48)
{
	uint64_t last = va + len - 1;

	assert(len > 0);
	if (last < va)
		return err_set("paging: %s 0x%" PRIx64 " (+0x%" PRIx64 "): wraps around", what, va,
			       len);
	if (!is_canonical(va) || !is_canonical(last) || (va < LOWER_END) != (last < LOWER_END))
		return err_set("paging: %s 0x%" PRIx64 " (+0x%" PRIx64 "): not canonical", what, va,
			       len);
	*s48 = va & VA_MASK;
	*e48 = (last & VA_MASK) + 1;
	return 0;
}

static int check_aligned_4k(const char *what, gva_t va, uint64_t len)
{
	if (!is_aligned(va, SZ_4K) || !is_aligned(len, SZ_4K))
		return err_set("paging: %s 0x%" PRIx64 " (+0x%" PRIx64 "): not 4K aligned", what,
			       va, len);
	return 0;
}

static int check_perm(const char *what, uint64_t perm, uint64_t allowed)
{
	if (perm & ~allowed)
		return err_set("paging: %s: permission 0x%" PRIx64 " has bits outside 0x%" PRIx64,
			       what, perm, allowed);
	return 0;
}

/* ---- leaves ---- */

/* Leaves are written with A set, and D when writable, as Linux leaves a
 * page after its first touch: otherwise the first access (and under
 * shadow paging the first write, as a separate fault) pays for setting
 * them, inside whatever is being measured. */
static uint64_t leaf_bits(uint64_t perm)
{
	uint64_t v = (perm & PTE_PERM_MASK) | PTE_A;

	v |= (perm & PTE_SW_PROTNONE) ? PTE_SW_PROTNONE : PTE_P;
	if (perm & PTE_RW)
		v |= PTE_D;
	return v;
}

static uint64_t leaf_value(gpa_t pa, uint64_t perm, int level)
{
	return pa | leaf_bits(perm) | (level > 0 ? PTE_PS : 0);
}

static uint64_t protect_value(uint64_t old, uint64_t perm)
{
	uint64_t keep = PTE_ADDR_MASK | PTE_PS | PTE_A | PTE_D | PTE_PWT | PTE_PCD | PTE_G;

	return (old & keep) | leaf_bits(perm);
}

/* A TLB may keep using the old entry until invalidated only if that gives
 * an access the new one forbids. Added permissions need no flush on x86
 * (SDM 3A 4.10.4.3: at worst a spurious fault, after which the CPU walks
 * again); KVM's shadow paging still learns of them, through the guest's
 * own store of the new entry. */
static bool loses_permission(uint64_t old, uint64_t nv)
{
	if (!(old & PTE_P))
		return false;
	return !(nv & PTE_P) || (old & PTE_RW & ~nv) || (old & PTE_US & ~nv) ||
	       (~old & PTE_NX & nv);
}

/* ---- read-only lookups ---- */

enum slot { SLOT_FREE, SLOT_TABLE, SLOT_LEAF };

/* What holds va's entry at `level`: nothing (possibly no table yet), a
 * table, or a leaf at *at_level (== level, or above it). */
static enum slot slot_at(const struct page_tables *pt, uint64_t va48, int level, int *at_level)
{
	gpa_t table = pt->root;

	for (int l = PT_LEVEL_PML4;; l--) {
		uint64_t ent = entries(pt, table)[index_of(va48, l)];

		*at_level = l;
		if (ent == 0)
			return SLOT_FREE;
		if (is_leaf(ent, l))
			return SLOT_LEAF;
		if (l == level)
			return SLOT_TABLE;
		table = table_of(ent);
	}
}

/* The first leaf (any, or only PTE_SW_FIXED ones) overlapping [s, e). */
static bool scan_leaf(const struct page_tables *pt, gpa_t table, int level, uint64_t base,
		      uint64_t s, uint64_t e, bool fixed_only, uint64_t *at)
{
	uint64_t span = span_of(level);
	unsigned first = (unsigned)((s - base) / span), last = (unsigned)((e - 1 - base) / span);
	const uint64_t *ent = entries(pt, table);

	for (unsigned i = first; i <= last; i++) {
		uint64_t lo = base + i * span, cs = s > lo ? s : lo,
			 ce = e < lo + span ? e : lo + span;

		if (ent[i] == 0)
			continue;
		if (is_leaf(ent[i], level)) {
			if (!fixed_only || (ent[i] & PTE_SW_FIXED)) {
				*at = canon(cs);
				return true;
			}
			continue;
		}
		if (scan_leaf(pt, table_of(ent[i]), level - 1, lo, cs, ce, fixed_only, at))
			return true;
	}
	return false;
}

static bool range_has_leaf(const struct page_tables *pt, uint64_t s, uint64_t e, bool fixed_only,
			   uint64_t *at)
{
	return scan_leaf(pt, pt->root, PT_LEVEL_PML4, 0, s, e, fixed_only, at);
}

/* ---- building ---- */

/* The table at `level` that holds va's entry, creating fresh tables on the
 * way; linking each is one store (to be repeated by the guest if the
 * parent may be shadowed). */
static int table_for(struct page_tables *pt, uint64_t va48, int level, gpa_t *out)
{
	gpa_t table = pt->root;

	for (int l = PT_LEVEL_PML4; l > level; l--) {
		unsigned i = index_of(va48, l);
		uint64_t ent = entries(pt, table)[i];

		if (ent == 0) {
			gpa_t t;
			int r = table_alloc(pt, l - 1, &t);

			if (r)
				return r;
			ent = t | table_flags(va48);
			if (pt_store_entry(pt, table, i, ent, STORE_RECORD)) {
				drop_fresh_table(pt, t, l - 1);
				return -1;
			}
		}
		assert(!is_leaf(ent, l));
		table = table_of(ent);
	}
	*out = table;
	return 0;
}

static int map_leaf(struct page_tables *pt, uint64_t va48, int level, uint64_t leaf)
{
	gpa_t table;
	unsigned i = index_of(va48, level);
	int r = table_for(pt, va48, level, &table);

	if (r)
		return r;
	assert(entries(pt, table)[i] == 0);
	if (pt_store_entry(pt, table, i, leaf, STORE_RECORD))
		return -1;
	if (leaf & PTE_SW_FIXED)
		pt->sum.kernel_leaves++;
	else
		pt->sum.leaves[level]++;
	return 0;
}

/* ---- editing ranges ---- */

enum range_kind {
	RANGE_UNMAP,
	RANGE_UNDO, /* takes back a failed map: see txn_undo */
	RANGE_PROTECT,
	RANGE_SPLIT,
};

#define MAX_EDGE_SPLITS 4 /* two edges, each 1G -> 2M -> 4K */

struct range_op {
	enum range_kind kind;
	uint64_t perm;		      /* RANGE_PROTECT */
	gpa_t spare[MAX_EDGE_SPLITS]; /* frames taken ahead for edge splits */
	int nspare;
};

/* Replaces a large leaf by a fresh table of 512 leaves one size smaller,
 * same frames and permissions (a 2M PDE's PS bit is the PAT bit in a PTE,
 * so it goes). The large page is invalidated even though no translation
 * changes: otherwise the TLB may hold entries of both sizes for the same
 * addresses (SDM 3A 4.10.2.3), and Linux flushes there too. */
static int split_leaf(struct page_tables *pt, struct range_op *op, gpa_t table, unsigned i,
		      int level, uint64_t va48, uint64_t ent, bool *inval)
{
	int cl = level - 1;
	uint64_t flags = ent & ~PTE_ADDR_MASK, *ce;
	gpa_t frame = leaf_frame(ent, level), child;
	int r;

	assert(level > PT_LEVEL_PT && op->kind != RANGE_UNDO && !(ent & PTE_SW_FIXED));
	if (op->nspare) {
		child = op->spare[--op->nspare];
		if (adopt_table(pt, child, cl)) {
			frames_free(pt->frames, child, SZ_4K);
			return -1;
		}
	} else if ((r = table_alloc(pt, cl, &child))) {
		return r;
	}
	if (cl == PT_LEVEL_PT)
		flags &= ~PTE_PS;
	ce = entries(pt, child);
	for (unsigned j = 0; j < PT_ENTRIES; j++)
		ce[j] = (frame + j * span_of(cl)) | flags;
	if (pt_store_entry(pt, table, i, child | table_flags(va48), STORE_RECORD)) {
		drop_fresh_table(pt, child, cl);
		return -1;
	}
	pt->sum.leaves[level]--;
	pt->sum.leaves[cl] += PT_ENTRIES;
	if ((ent & PTE_P) && shadowed(pt, table)) {
		record_invlpg(pt, va48);
		*inval = true;
	}
	return 0;
}

static int remove_leaf(struct page_tables *pt, const struct range_op *op, gpa_t table, unsigned i,
		       int level, uint64_t va48, uint64_t ent, bool quiet, bool *inval)
{
	bool undo = op->kind == RANGE_UNDO;

	if (pt_store_entry(pt, table, i, 0, undo || quiet ? STORE_QUIET : STORE_RECORD))
		return -1;
	/* After the store: a frame queued for freeing must be unreachable. */
	if (ent & PTE_SW_FIXED) {
		assert(undo && level == PT_LEVEL_PT);
		pt->sum.kernel_leaves--;
	} else {
		pt->sum.leaves[level]--;
		/* Undo: the frame was allocated by the failed call and never
		 * reached the guest, so it is still zero and free at once. */
		if (undo)
			frames_free(pt->frames, leaf_frame(ent, level), span_of(level));
		else if (defer_free(pt, leaf_frame(ent, level), span_of(level)))
			return -1;
	}
	/* A non-present leaf is never in a TLB. */
	if (!undo && (ent & PTE_P) && shadowed(pt, table)) {
		record_invlpg(pt, va48);
		*inval = true;
	}
	return 0;
}

static int protect_leaf(struct page_tables *pt, const struct range_op *op, gpa_t table, unsigned i,
			uint64_t va48, uint64_t ent, bool *inval)
{
	uint64_t v = protect_value(ent, op->perm);

	if (pt_store_entry(pt, table, i, v, STORE_RECORD))
		return -1;
	if (loses_permission(ent, v) && shadowed(pt, table)) {
		record_invlpg(pt, va48);
		*inval = true;
	}
	return 0;
}

/* A leaf overlapping the range: 0 when dealt with, 1 when it was split and
 * the caller must descend into the new table, <0 on error. */
static int leaf_in_range(struct page_tables *pt, struct range_op *op, gpa_t table, unsigned i,
			 int level, uint64_t lo, uint64_t ent, bool whole, bool quiet, bool *inval)
{
	switch (op->kind) {
	case RANGE_SPLIT:
		if (level == PT_LEVEL_PT)
			return 0;
		break;
	case RANGE_PROTECT:
		if (protect_value(ent, op->perm) == ent)
			return 0; /* nothing changes: no reason to split */
		if (whole)
			return protect_leaf(pt, op, table, i, lo, ent, inval);
		break;
	case RANGE_UNMAP:
	case RANGE_UNDO:
		if (whole)
			return remove_leaf(pt, op, table, i, level, lo, ent, quiet, inval);
		break;
	}
	/* Ranges are 4K aligned, so a 4K leaf is always whole. */
	assert(level > PT_LEVEL_PT);
	int r = split_leaf(pt, op, table, i, level, lo, ent, inval);
	return r ? r : 1;
}

static int range_table(struct page_tables *pt, struct range_op *op, gpa_t table, int level,
		       uint64_t base, uint64_t s, uint64_t e, bool quiet, bool *inval);

/* Frees a table just unlinked (at once, when undoing). A table the guest
 * may have walked is invalidated too: a paging-structure cache may still
 * hold the entry that pointed to it, and the frame is about to be reused.
 * Any INVLPG in its range does that (SDM 3A 4.10.4.1). */
static int release_table(struct page_tables *pt, const struct range_op *op, gpa_t table, int level,
			 uint64_t lo, gpa_t child, bool sub, bool *inval)
{
	if (op->kind == RANGE_UNDO) {
		assert(is_fresh(pt, child));
		sum_tables(pt, level - 1, -1);
		frames_free(pt->frames, child, SZ_4K);
		return 0;
	}
	if (defer_free(pt, child, SZ_4K))
		return -1;
	sum_tables(pt, level - 1, -1);
	if (!sub && shadowed(pt, table) && !is_fresh(pt, child)) {
		record_invlpg(pt, lo);
		*inval = true;
	}
	return 0;
}

/* Whether removing [s, e) leaves `table` empty: nothing outside the range,
 * and no large leaf cut at its edges (its other part stays). */
static bool range_empties(const struct page_tables *pt, gpa_t table, int level, uint64_t base,
			  uint64_t s, uint64_t e)
{
	uint64_t span = span_of(level);
	unsigned first = (unsigned)((s - base) / span), last = (unsigned)((e - 1 - base) / span);
	const uint64_t *ent = entries(pt, table);

	for (unsigned i = 0; i < PT_ENTRIES; i++)
		if (ent[i] && (i < first || i > last))
			return false;
	for (unsigned k = 0; k < 2; k++) {
		unsigned i = k ? last : first;
		uint64_t lo = base + i * span, cs = s > lo ? s : lo,
			 ce = e < lo + span ? e : lo + span;

		if (ent[i] == 0 || (cs == lo && ce == lo + span))
			continue;
		if (is_leaf(ent[i], level) ||
		    !range_empties(pt, table_of(ent[i]), level - 1, lo, cs, ce))
			return false;
	}
	return true;
}

/* A table entry overlapping [cs, ce). When the unmap empties the table,
 * it is unlinked first and emptied quietly: the guest then needs one
 * store instead of one per entry, and it never walks the table again. */
static int child_in_range(struct page_tables *pt, struct range_op *op, gpa_t table, unsigned i,
			  int level, uint64_t lo, uint64_t ent, uint64_t cs, uint64_t ce,
			  bool whole, bool quiet, bool *inval)
{
	gpa_t child = table_of(ent);
	bool undo = op->kind == RANGE_UNDO, sub = false;
	bool drop =
	    op->kind == RANGE_UNMAP && (whole || range_empties(pt, child, level - 1, lo, cs, ce));
	enum store_mode mode = quiet || undo ? STORE_QUIET : STORE_RECORD;

	if (drop && pt_store_entry(pt, table, i, 0, mode))
		return -1;
	if (range_table(pt, op, child, level - 1, lo, cs, ce, quiet || drop || undo, &sub))
		return -1;
	*inval |= sub;
	if (op->kind != RANGE_UNMAP && !undo)
		return 0;
	if (!drop) {
		/* Undo never frees what this update did not create. */
		if ((undo && !is_fresh(pt, child)) || !table_empty(pt, child))
			return 0;
		if (pt_store_entry(pt, table, i, 0, mode))
			return -1;
	}
	assert(table_empty(pt, child));
	return release_table(pt, op, table, level, lo, child, sub, inval);
}

/* Applies op to the entries of `table` (at `level`, entry 0 mapping the
 * 48-bit address base) that overlap [s, e). *inval is set when an
 * invalidation inside that range was recorded. */
static int range_table(struct page_tables *pt, struct range_op *op, gpa_t table, int level,
		       uint64_t base, uint64_t s, uint64_t e, bool quiet, bool *inval)
{
	uint64_t span = span_of(level);
	unsigned first = (unsigned)((s - base) / span), last = (unsigned)((e - 1 - base) / span);

	for (unsigned i = first; i <= last; i++) {
		uint64_t lo = base + i * span, hi = lo + span;
		uint64_t cs = s > lo ? s : lo, ce = e < hi ? e : hi;
		bool whole = cs == lo && ce == hi;
		uint64_t ent = entries(pt, table)[i];
		int r;

		if (ent == 0)
			continue;
		if (is_leaf(ent, level)) {
			r = leaf_in_range(pt, op, table, i, level, lo, ent, whole, quiet, inval);
			if (r <= 0) {
				if (r < 0)
					return r;
				continue;
			}
			ent = entries(pt, table)[i];
		}
		r = child_in_range(pt, op, table, i, level, lo, ent, cs, ce, whole, quiet, inval);
		if (r)
			return r;
	}
	return 0;
}

/* Tables needed to split the leaf holding `addr` so that an edge falls at
 * `cut`: none, one (2M, or 1G at a 2M boundary) or two (1G -> 2M -> 4K). */
static int splits_at(const struct page_tables *pt, const struct range_op *op, uint64_t addr,
		     uint64_t cut)
{
	gpa_t table = pt->root;
	uint64_t ent = 0;
	int level;

	for (level = PT_LEVEL_PML4; level > PT_LEVEL_PT; level--) {
		ent = entries(pt, table)[index_of(addr, level)];
		if (ent == 0 || is_leaf(ent, level))
			break;
		table = table_of(ent);
	}
	if (level == PT_LEVEL_PT || ent == 0 || is_aligned(cut, span_of(level)))
		return 0;
	if (op->kind == RANGE_PROTECT && protect_value(ent, op->perm) == ent)
		return 0; /* leaf_in_range will leave it alone */
	return level == PT_LEVEL_PDPT && !is_aligned(cut, SZ_2M) ? 2 : 1;
}

/* Takes the frames that splits at the edges will need before anything
 * changes, so that running out of guest memory changes nothing. */
static int reserve_spares(struct page_tables *pt, struct range_op *op, uint64_t s, uint64_t e)
{
	int n = splits_at(pt, op, s, s) + splits_at(pt, op, e - 1, e);

	while (op->nspare < n) {
		if (frames_alloc(pt->frames, PS_4K, &op->spare[op->nspare])) {
			while (op->nspare)
				frames_free(pt->frames, op->spare[--op->nspare], SZ_4K);
			return OUT_OF_FRAMES;
		}
		op->nspare++;
	}
	return 0;
}

static int range_change(struct page_tables *pt, const char *what, gva_t va, uint64_t len,
			struct range_op *op)
{
	uint64_t s, e, at;
	bool inval = false;
	int r;

	if (check_aligned_4k(what, va, len))
		return -1;
	if (len == 0)
		return 0;
	if (check_range(what, va, len, &s, &e))
		return -1;
	/* Splitting changes no translation, so the VMM's own leaves (all 4K)
	 * are only refused by the operations that would change them. */
	if (op->kind != RANGE_SPLIT && range_has_leaf(pt, s, e, true, &at))
		return err_set("paging: %s 0x%" PRIx64 " (+0x%" PRIx64 "): 0x%" PRIx64
			       " is a VMM mapping",
			       what, va, len, at);
	if (op->kind != RANGE_SPLIT && reserve_spares(pt, op, s, e))
		return err_wrap("paging: %s 0x%" PRIx64 " (+0x%" PRIx64 "): splitting a large page",
				what, va, len);
	r = range_table(pt, op, pt->root, PT_LEVEL_PML4, 0, s, e, false, &inval);
	while (op->nspare)
		frames_free(pt->frames, op->spare[--op->nspare], SZ_4K);
	if (r == OUT_OF_FRAMES)
		return err_wrap("paging: %s 0x%" PRIx64 " (+0x%" PRIx64 "): splitting a large page",
				what, va, len);
	return r;
}

int pt_unmap(struct page_tables *pt, gva_t va, uint64_t len)
{
	struct range_op op = {.kind = RANGE_UNMAP};

	return range_change(pt, "unmap", va, len, &op);
}

int pt_protect(struct page_tables *pt, gva_t va, uint64_t len, uint64_t perm)
{
	struct range_op op = {.kind = RANGE_PROTECT, .perm = perm};

	if (check_perm("protect", perm, PTE_PERM_MASK | PTE_SW_PROTNONE))
		return -1;
	return range_change(pt, "protect", va, len, &op);
}

/* Splitting is not undone on failure: it changes no translation, so what
 * was split stays split and the tables stay consistent. */
int pt_split(struct page_tables *pt, gva_t va, uint64_t len)
{
	struct range_op op = {.kind = RANGE_SPLIT};

	return range_change(pt, "split", va, len, &op);
}

/* ---- all or nothing for the mapping calls ---- */

/* A mapping call only fills entries that were empty and creates fresh
 * tables, so taking it back means emptying [s, e) again, host-side only,
 * and dropping the stores it recorded: their entries end as they were. */
struct pt_txn {
	size_t nstores, nfresh;
	struct pt_summary sum;
};

static void txn_begin(const struct page_tables *pt, struct pt_txn *t)
{
	t->nstores = pt->upd.nstores;
	t->nfresh = pt->nfresh;
	t->sum = pt->sum;
}

static void txn_undo(struct page_tables *pt, const struct pt_txn *t, uint64_t s, uint64_t e)
{
	struct range_op op = {.kind = RANGE_UNDO};
	bool inval = false;
	int r = range_table(pt, &op, pt->root, PT_LEVEL_PML4, 0, s, e, true, &inval);

	assert(r == 0); /* quiet stores and immediate frees cannot fail */
	(void)r;
	assert(pt->upd.nstores >= t->nstores && pt->nfresh >= t->nfresh);
	pt->upd.nstores = t->nstores;
	for (size_t i = t->nfresh; i < pt->nfresh; i++)
		set_fresh(pt, pt->fresh_list[i], false);
	pt->nfresh = t->nfresh;
	assert(memcmp(pt->sum.tables, t->sum.tables, sizeof(t->sum.tables)) == 0);
	assert(memcmp(pt->sum.leaves, t->sum.leaves, sizeof(t->sum.leaves)) == 0);
	pt->sum = t->sum;
}

static int map_failed(struct page_tables *pt, const struct pt_txn *t, int r, gva_t va, uint64_t len,
		      uint64_t s, uint64_t e)
{
	if (r == OUT_OF_FRAMES)
		err_wrap("paging: out of guest memory mapping 0x%" PRIx64 " (+%" PRIu64 " bytes)",
			 va, len);
	txn_undo(pt, t, s, e);
	return -1;
}

int pt_map(struct page_tables *pt, gva_t va, gpa_t pa, enum page_size size, uint64_t perm)
{
	uint64_t s, e, bytes;
	struct pt_txn t;
	int level, r;

	if ((unsigned)size >= PS_COUNT)
		return err_set("paging: map 0x%" PRIx64 ": page size %d unknown", va, (int)size);
	bytes = page_bytes(size);
	if (check_perm("map", perm, PTE_PERM_MASK | PTE_SW_PROTNONE) ||
	    check_range("map", va, bytes, &s, &e))
		return -1;
	if (!is_aligned(va, bytes))
		return err_set("paging: map 0x%" PRIx64 " -> 0x%" PRIx64 ": va not aligned to %s",
			       va, pa, size_name(size));
	if (!is_aligned(pa, bytes))
		return err_set("paging: map 0x%" PRIx64 " -> 0x%" PRIx64 ": pa not aligned to %s",
			       va, pa, size_name(size));
	if (!mem_ptr(pt->mem, pa, bytes))
		return err_set("paging: map 0x%" PRIx64 " -> 0x%" PRIx64
			       ": pa outside guest RAM (0x%" PRIx64 " bytes)",
			       va, pa, pt->mem->size);
	switch (slot_at(pt, s, (int)size, &level)) {
	case SLOT_FREE:
		break;
	case SLOT_LEAF:
		return err_set("paging: map 0x%" PRIx64 ": already mapped (%s page at 0x%" PRIx64
			       ")",
			       va, size_name(level), canon(align_down(s, span_of(level))));
	case SLOT_TABLE:
		return err_set("paging: map 0x%" PRIx64 ": a page table is already there for the "
			       "%s page",
			       va, size_name(size));
	}
	txn_begin(pt, &t);
	r = map_leaf(pt, s, (int)size, leaf_value(pa, perm, (int)size));
	return r ? map_failed(pt, &t, r, va, bytes, s, e) : 0;
}

/* The largest page <= max that va, the remaining length and the tables
 * allow at cur (a table where a large page would go forces smaller). */
static int fit_level(const struct page_tables *pt, uint64_t cur, uint64_t e, int max)
{
	for (int l = max; l > PT_LEVEL_PT; l--) {
		int at;

		if (is_aligned(cur, span_of(l)) && e - cur >= span_of(l) &&
		    slot_at(pt, cur, l, &at) == SLOT_FREE)
			return l;
	}
	return PT_LEVEL_PT;
}

int pt_populate(struct page_tables *pt, gva_t va, uint64_t len, uint64_t perm, enum page_size max)
{
	uint64_t s, e, at, cur;
	int cap = (int)max, l;
	struct pt_txn t;

	if ((unsigned)max >= PS_COUNT)
		return err_set("paging: populate 0x%" PRIx64 ": page size %d unknown", va,
			       (int)max);
	if (check_perm("populate", perm, PTE_PERM_MASK | PTE_SW_PROTNONE) ||
	    check_aligned_4k("populate", va, len))
		return -1;
	if (len == 0)
		return 0;
	if (check_range("populate", va, len, &s, &e))
		return -1;
	if (range_has_leaf(pt, s, e, false, &at))
		return err_set("paging: populate 0x%" PRIx64 " (+0x%" PRIx64 "): 0x%" PRIx64
			       " already mapped",
			       va, len, at);
	txn_begin(pt, &t);
	for (cur = s; cur < e; cur += span_of(l)) {
		int want = fit_level(pt, cur, e, (int)max), r;
		gpa_t frame;

		l = want;
		/* A size that failed once in this call fails again (nothing
		 * is freed meanwhile), so it is not searched for again. */
		while (l > cap || frames_alloc(pt->frames, (enum page_size)l, &frame)) {
			if (l == PT_LEVEL_PT)
				return map_failed(pt, &t, OUT_OF_FRAMES, va, len, s, e);
			if (l <= cap)
				cap = l - 1;
			l--;
		}
		if (l < want)
			pt->sum.fallback_small++;
		r = map_leaf(pt, cur, l, leaf_value(frame, perm, l));
		if (r) {
			frames_free(pt->frames, frame, span_of(l));
			return map_failed(pt, &t, r, va, len, s, e);
		}
	}
	return 0;
}

/* The direct map alone is 262144 entries per GiB: a table this call just
 * created is filled with a plain loop; a table the guest may use gets one
 * recorded store per entry. */
int pt_map_fixed(struct page_tables *pt, gva_t va, gpa_t pa, uint64_t len, uint64_t perm)
{
	uint64_t s, e, at, bits = leaf_bits(perm) | PTE_SW_FIXED;
	struct pt_txn t;

	if (check_perm("map_fixed", perm, PTE_PERM_MASK) || check_aligned_4k("map_fixed", va, len))
		return -1;
	if (!is_aligned(pa, SZ_4K))
		return err_set(
		    "paging: map_fixed 0x%" PRIx64 " -> 0x%" PRIx64 ": pa not 4K aligned", va, pa);
	if (len == 0)
		return 0;
	if (check_range("map_fixed", va, len, &s, &e))
		return -1;
	if (!mem_ptr(pt->mem, pa, len))
		return err_set("paging: map_fixed 0x%" PRIx64 " -> 0x%" PRIx64 " (+0x%" PRIx64
			       "): pa outside guest RAM (0x%" PRIx64 " bytes)",
			       va, pa, len, pt->mem->size);
	if (range_has_leaf(pt, s, e, false, &at))
		return err_set("paging: map_fixed 0x%" PRIx64 " (+0x%" PRIx64 "): 0x%" PRIx64
			       " already mapped",
			       va, len, at);
	txn_begin(pt, &t);
	for (uint64_t cur = s, end; cur < e; cur = end) {
		unsigned i0 = index_of(cur, PT_LEVEL_PT), n;
		gpa_t table, p = pa + (cur - s);
		int r = table_for(pt, cur, PT_LEVEL_PT, &table);

		end = align_down(cur, SZ_2M) + SZ_2M < e ? align_down(cur, SZ_2M) + SZ_2M : e;
		n = (unsigned)((end - cur) / SZ_4K);
		if (r)
			return map_failed(pt, &t, r, va, len, s, e);
		if (!shadowed(pt, table)) {
			uint64_t *ent = entries(pt, table) + i0;

			for (unsigned j = 0; j < n; j++) {
				assert(ent[j] == 0);
				ent[j] = (p + j * SZ_4K) | bits;
			}
		} else {
			for (unsigned j = 0; j < n; j++) {
				if (pt_store_entry(pt, table, i0 + j, (p + j * SZ_4K) | bits,
						   STORE_RECORD)) {
					pt->sum.kernel_leaves += j;
					return map_failed(pt, &t, -1, va, len, s, e);
				}
			}
		}
		pt->sum.kernel_leaves += n;
	}
	return 0;
}

/* If apply fails, nothing is lost: the update stays pending as it is
 * (host memory already holds the new entries, the guest's tables do not
 * yet), freed frames stay in use and fresh tables stay fresh, so a later
 * pt_commit applies it all; stores are idempotent, so a partial apply
 * may be repeated. */
int pt_commit(struct page_tables *pt, int (*apply)(void *ctx, const struct pt_update *u), void *ctx)
{
	struct pt_update *u = &pt->upd;
	bool need = pt->live && (u->nstores || u->ninvlpg || u->flush_all);

	if (need && apply && apply(ctx, u) != 0)
		return err_wrap("paging: applying %zu stores, %zu invalidations%s", u->nstores,
				u->ninvlpg, u->flush_all ? ", full flush" : "");
	for (size_t i = 0; i < u->nfreed; i++) {
		mem_zero(pt->mem, u->freed[i].gpa, u->freed[i].bytes);
		frames_free(pt->frames, u->freed[i].gpa, u->freed[i].bytes);
	}
	for (size_t i = 0; i < pt->nfresh; i++)
		set_fresh(pt, pt->fresh_list[i], false);
	pt->nfresh = 0;
	if (need) {
		pt->tlb.updates++;
		pt->tlb.stores += u->nstores;
		if (u->flush_all)
			pt->tlb.flush_all++;
		else
			pt->tlb.invlpg += u->ninvlpg;
	}
	u->nstores = u->ninvlpg = u->nfreed = 0;
	u->flush_all = false;
	return 0;
}

/* A walk never trusts what it reads: it also serves fault reports, when
 * something may already be wrong. An entry pointing outside guest RAM
 * ends it. A non-canonical va reads nothing (levels = 0). */
void pt_walk(const struct page_tables *pt, gva_t va, struct pt_walk *w)
{
	gpa_t table = pt->root;

	memset(w, 0, sizeof(*w));
	if (!is_canonical(va))
		return;
	for (int l = PT_LEVEL_PML4; l >= PT_LEVEL_PT; l--) {
		gpa_t ea = table + index_of(va & VA_MASK, l) * 8ull;
		const uint64_t *p = mem_ptr(pt->mem, ea, 8);
		uint64_t ent;

		if (!p)
			return;
		ent = *p;
		w->entry_gpa[w->levels] = ea;
		w->entry[w->levels++] = ent;
		if (!(ent & PTE_P) && !(is_leaf(ent, l) && (ent & PTE_SW_PROTNONE)))
			return;
		if (is_leaf(ent, l)) {
			/* A PROTNONE leaf reports its frame but is not mapped. */
			w->size = (enum page_size)l;
			w->leaf = ent;
			w->gpa = leaf_frame(ent, l) | (va & (span_of(l) - 1));
			w->mapped = ent & PTE_P;
			return;
		}
		table = table_of(ent);
	}
}

static void flag_names(uint64_t e, char *buf, size_t n)
{
	static const struct {
		uint64_t bit;
		const char *name;
	} names[] = {
	    {PTE_P, "P"},
	    {PTE_RW, "RW"},
	    {PTE_US, "US"},
	    {PTE_PWT, "PWT"},
	    {PTE_PCD, "PCD"},
	    {PTE_A, "A"},
	    {PTE_D, "D"},
	    {PTE_PS, "PS"},
	    {PTE_G, "G"},
	    {PTE_NX, "NX"},
	    {PTE_SW_PROTNONE, "PROTNONE"},
	    {PTE_SW_FIXED, "VMM"},
	};
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		if (!(e & names[i].bit))
			continue;
		int k = snprintf(buf + used, n - used, "%s%s", used ? " " : "", names[i].name);
		if (k < 0 || (size_t)k >= n - used)
			break;
		used += (size_t)k;
	}
	if (!used)
		snprintf(buf, n, "empty");
}

void pt_walk_print(const struct pt_walk *w, gva_t va, void *file)
{
	static const char *const names[4] = {"PML4E", "PDPTE", "PDE", "PTE"};
	FILE *f = file;
	char flags[96];

	if (w->levels == 0) {
		fprintf(f, "  0x%016" PRIx64 ": not canonical\n", va);
		return;
	}
	for (int i = 0; i < w->levels && i < 4; i++) {
		flag_names(w->entry[i], flags, sizeof(flags));
		fprintf(f, "  %s[%u] @gpa 0x%" PRIx64 " = 0x%016" PRIx64 " (%s)\n", names[i],
			index_of(va & VA_MASK, PT_LEVEL_PML4 - i), w->entry_gpa[i], w->entry[i],
			flags);
	}
	if (w->mapped)
		fprintf(f, "  -> gpa 0x%" PRIx64 " (%s page)\n", w->gpa, size_name((int)w->size));
	else
		fprintf(f, "  -> not mapped\n");
}

/* As the CPU checks a CPL3 access (SDM 3A 4.6): every level present and
 * user, writable at every level for a write, NX nowhere for a fetch (the
 * VMM runs the guest with EFER.NXE set). */
int pt_translate(const struct page_tables *pt, gva_t va, enum pt_access acc, gpa_t *gpa)
{
	struct pt_walk w;
	bool rw = true, us = true, nx = false;

	pt_walk(pt, va, &w);
	if (!w.mapped)
		return -1;
	for (int i = 0; i < w.levels; i++) {
		rw = rw && (w.entry[i] & PTE_RW);
		us = us && (w.entry[i] & PTE_US);
		nx = nx || (w.entry[i] & PTE_NX);
	}
	if (!us || (acc == PT_WRITE && !rw) || (acc == PT_EXEC && nx))
		return -1;
	*gpa = w.gpa;
	return 0;
}

int pt_init(struct page_tables *pt, struct guest_mem *mem, struct frames *frames)
{
	memset(pt, 0, sizeof(*pt));
	if (mem->size != frames->nframes * SZ_4K)
		return err_set("paging: guest RAM is 0x%" PRIx64
			       " bytes but frames cover 0x%" PRIx64,
			       mem->size, frames->nframes << 12);
	pt->mem = mem;
	pt->frames = frames;
	pt->invlpg_ceiling = PT_INVLPG_CEILING;
	pt->fresh = calloc((frames->nframes + 63) / 64, sizeof(*pt->fresh));
	pt->upd.invlpg = calloc(PT_INVLPG_CEILING, sizeof(*pt->upd.invlpg));
	if (!pt->fresh || !pt->upd.invlpg) {
		pt_destroy(pt);
		return err_set("paging: out of host memory");
	}
	pt->upd.cap_invlpg = PT_INVLPG_CEILING;
	if (table_alloc(pt, PT_LEVEL_PML4, &pt->root)) {
		pt_destroy(pt);
		return err_wrap("paging: PML4");
	}
	return 0;
}

/* Host memory only: the frames belong to the allocator, which the VM
 * destroys with guest RAM. */
void pt_destroy(struct page_tables *pt)
{
	free(pt->fresh);
	free(pt->fresh_list);
	free(pt->upd.stores);
	free(pt->upd.invlpg);
	free(pt->upd.freed);
	memset(pt, 0, sizeof(*pt));
}
