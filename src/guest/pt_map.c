/* Mapping: one page (pt_map), a range with the largest page that fits and
 * a free frame allows (pt_populate), and the VMM's own fixed mappings
 * (pt_map_fixed). Each call is all or nothing. */
#include "guest/paging_internal.h"
#include "util/err.h"

#include <inttypes.h>
#include <string.h>

/* The table at `level` that holds va48's entry, creating fresh tables on
 * the way; linking each is one store (to be repeated by the guest if the
 * parent may be shadowed). */
static int table_for(struct page_tables *pt, uint64_t va48, int level, gpa_t *out)
{
	struct pt_slot sl;

	for (pt_descend(pt, va48, level, &sl); sl.level > level; pt_descend(pt, va48, level, &sl)) {
		gpa_t t;
		int r;

		assert(sl.ent == 0);
		if ((r = pt_table_alloc(pt, sl.level - 1, &t)))
			return r;
		if (pt_store_entry(pt, sl.table, sl.idx, t | pt_table_flags(va48),
				   PT_STORE_RECORD)) {
			pt_drop_fresh_table(pt, t, sl.level - 1);
			return -1;
		}
	}
	*out = sl.table;
	return 0;
}

static uint64_t leaf_value(gpa_t pa, uint64_t perm, int level)
{
	return pa | pt_leaf_bits(perm) | (level > 0 ? PTE_PS : 0);
}

static int map_leaf(struct page_tables *pt, uint64_t va48, int level, uint64_t leaf)
{
	gpa_t table;
	unsigned i = pt_index(va48, level);
	int r = table_for(pt, va48, level, &table);

	if (r)
		return r;
	assert(pt_entries(pt, table)[i] == 0);
	if (pt_store_entry(pt, table, i, leaf, PT_STORE_RECORD))
		return -1;
	if (leaf & PTE_SW_FIXED)
		pt->sum.kernel_leaves++;
	else
		pt->sum.leaves[level]++;
	return 0;
}

enum slot { SLOT_FREE, SLOT_TABLE, SLOT_LEAF };

/* What holds va48's entry at `level`: nothing (possibly no table yet), a
 * table, or a leaf at *at_level (== level, or above it). */
static enum slot slot_at(const struct page_tables *pt, uint64_t va48, int level, int *at_level)
{
	struct pt_slot sl;

	pt_descend(pt, va48, level, &sl);
	*at_level = sl.level;
	if (sl.ent == 0)
		return SLOT_FREE;
	return pt_is_leaf(sl.ent, sl.level) ? SLOT_LEAF : SLOT_TABLE;
}

/* ---- all or nothing ---- */

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
	pt_range_undo(pt, s, e);
	assert(pt->upd.nstores >= t->nstores && pt->nfresh >= t->nfresh);
	pt->upd.nstores = t->nstores;
	for (size_t i = t->nfresh; i < pt->nfresh; i++)
		pt_set_fresh(pt, pt->fresh_list[i], false);
	pt->nfresh = t->nfresh;
	assert(memcmp(pt->sum.tables, t->sum.tables, sizeof(t->sum.tables)) == 0);
	assert(memcmp(pt->sum.leaves, t->sum.leaves, sizeof(t->sum.leaves)) == 0);
	pt->sum = t->sum;
}

static int map_failed(struct page_tables *pt, const struct pt_txn *t, int r, gva_t va, uint64_t len,
		      uint64_t s, uint64_t e)
{
	if (r == PT_OUT_OF_FRAMES)
		err_wrap("paging: out of guest memory mapping 0x%" PRIx64 " (+%" PRIu64 " bytes)",
			 va, len);
	txn_undo(pt, t, s, e);
	return -1;
}

/* ---- one page ---- */

static int check_map(const struct page_tables *pt, gva_t va, gpa_t pa, enum page_size size,
		     uint64_t perm, uint64_t *s, uint64_t *e)
{
	uint64_t bytes;

	if ((unsigned)size >= PS_COUNT)
		return err_set("paging: map 0x%" PRIx64 ": page size %d unknown", va, (int)size);
	bytes = page_bytes(size);
	if (pt_check_perm("map", perm, PTE_PERM_MASK | PTE_SW_PROTNONE) ||
	    pt_check_range("map", va, bytes, s, e))
		return -1;
	if (!is_aligned(va, bytes))
		return err_set("paging: map 0x%" PRIx64 " -> 0x%" PRIx64 ": va not aligned to %s",
			       va, pa, pt_size_name(size));
	if (!is_aligned(pa, bytes))
		return err_set("paging: map 0x%" PRIx64 " -> 0x%" PRIx64 ": pa not aligned to %s",
			       va, pa, pt_size_name(size));
	if (!mem_ptr(pt->mem, pa, bytes))
		return err_set("paging: map 0x%" PRIx64 " -> 0x%" PRIx64
			       ": pa outside guest RAM (0x%" PRIx64 " bytes)",
			       va, pa, pt->mem->size);
	return 0;
}

int pt_map(struct page_tables *pt, gva_t va, gpa_t pa, enum page_size size, uint64_t perm)
{
	uint64_t s, e;
	struct pt_txn t;
	int level, r;

	if (check_map(pt, va, pa, size, perm, &s, &e))
		return -1;
	switch (slot_at(pt, s, (int)size, &level)) {
	case SLOT_FREE:
		break;
	case SLOT_LEAF:
		return err_set("paging: map 0x%" PRIx64 ": already mapped (%s page at 0x%" PRIx64
			       ")",
			       va, pt_size_name(level), pt_canon(align_down(s, pt_span(level))));
	case SLOT_TABLE:
		return err_set("paging: map 0x%" PRIx64 ": a page table is already there for the "
			       "%s page",
			       va, pt_size_name(size));
	}
	txn_begin(pt, &t);
	r = map_leaf(pt, s, (int)size, leaf_value(pa, perm, (int)size));
	return r ? map_failed(pt, &t, r, va, e - s, s, e) : 0;
}

/* ---- a range, with the largest page that fits ---- */

/* The largest page <= max that va, the remaining length and the tables
 * allow at cur (a table where a large page would go forces smaller). */
static int fit_level(const struct page_tables *pt, uint64_t cur, uint64_t e, int max)
{
	for (int l = max; l > PT_LEVEL_PT; l--) {
		int at;

		if (is_aligned(cur, pt_span(l)) && e - cur >= pt_span(l) &&
		    slot_at(pt, cur, l, &at) == SLOT_FREE)
			return l;
	}
	return PT_LEVEL_PT;
}

/* A frame for the page at cur: the size that fits, or smaller where none
 * of that size is free; *cap is the largest size not yet found missing in
 * this call (nothing is freed meanwhile, so it is not searched for again). */
static int alloc_fitting(struct page_tables *pt, uint64_t cur, uint64_t e, int max, int *cap,
			 int *level, gpa_t *frame)
{
	int want = fit_level(pt, cur, e, max), l = want;

	while (l > *cap || frames_alloc(pt->frames, (enum page_size)l, frame)) {
		if (l == PT_LEVEL_PT)
			return PT_OUT_OF_FRAMES;
		if (l <= *cap)
			*cap = l - 1;
		l--;
	}
	if (l < want)
		pt->sum.fallback_small++;
	*level = l;
	return 0;
}

int pt_populate(struct page_tables *pt, gva_t va, uint64_t len, uint64_t perm, enum page_size max)
{
	uint64_t s, e, at, cur;
	int cap = (int)max, l;
	struct pt_txn t;

	if ((unsigned)max >= PS_COUNT)
		return err_set("paging: populate 0x%" PRIx64 ": page size %d unknown", va,
			       (int)max);
	if (pt_check_perm("populate", perm, PTE_PERM_MASK | PTE_SW_PROTNONE) ||
	    pt_check_aligned_4k("populate", va, len))
		return -1;
	if (len == 0)
		return 0;
	if (pt_check_range("populate", va, len, &s, &e))
		return -1;
	if (pt_range_has_leaf(pt, s, e, false, &at))
		return err_set("paging: populate 0x%" PRIx64 " (+0x%" PRIx64 "): 0x%" PRIx64
			       " already mapped",
			       va, len, at);
	txn_begin(pt, &t);
	for (cur = s; cur < e; cur += pt_span(l)) {
		gpa_t frame;
		int r = alloc_fitting(pt, cur, e, (int)max, &cap, &l, &frame);

		if (!r && (r = map_leaf(pt, cur, l, leaf_value(frame, perm, l))))
			frames_free(pt->frames, frame, pt_span(l));
		if (r)
			return map_failed(pt, &t, r, va, len, s, e);
	}
	return 0;
}

/* ---- the VMM's own mappings ---- */

/* Fills n entries of `table` from index i0 with 4K leaves from pa. A table
 * this call just created is filled with a plain loop; a table the guest
 * may use gets one recorded store per entry. */
static int fill_fixed(struct page_tables *pt, gpa_t table, unsigned i0, unsigned n, gpa_t pa,
		      uint64_t bits)
{
	uint64_t *ent = pt_entries(pt, table) + i0;

	if (!pt_shadowed(pt, table)) {
		for (unsigned j = 0; j < n; j++) {
			assert(ent[j] == 0);
			ent[j] = (pa + j * SZ_4K) | bits;
		}
	} else {
		for (unsigned j = 0; j < n; j++) {
			if (pt_store_entry(pt, table, i0 + j, (pa + j * SZ_4K) | bits,
					   PT_STORE_RECORD)) {
				pt->sum.kernel_leaves += j;
				return -1;
			}
		}
	}
	pt->sum.kernel_leaves += n;
	return 0;
}

/* The direct map alone is 262144 entries per GiB: it is filled one page
 * table (2M of addresses) at a time. */
int pt_map_fixed(struct page_tables *pt, gva_t va, gpa_t pa, uint64_t len, uint64_t perm)
{
	uint64_t s, e, at, bits = pt_leaf_bits(perm) | PTE_SW_FIXED;
	struct pt_txn t;

	if (pt_check_perm("map_fixed", perm, PTE_PERM_MASK) ||
	    pt_check_aligned_4k("map_fixed", va, len))
		return -1;
	if (!is_aligned(pa, SZ_4K))
		return err_set(
		    "paging: map_fixed 0x%" PRIx64 " -> 0x%" PRIx64 ": pa not 4K aligned", va, pa);
	if (len == 0)
		return 0;
	if (pt_check_range("map_fixed", va, len, &s, &e))
		return -1;
	if (!mem_ptr(pt->mem, pa, len))
		return err_set("paging: map_fixed 0x%" PRIx64 " -> 0x%" PRIx64 " (+0x%" PRIx64
			       "): pa outside guest RAM (0x%" PRIx64 " bytes)",
			       va, pa, len, pt->mem->size);
	if (pt_range_has_leaf(pt, s, e, false, &at))
		return err_set("paging: map_fixed 0x%" PRIx64 " (+0x%" PRIx64 "): 0x%" PRIx64
			       " already mapped",
			       va, len, at);
	txn_begin(pt, &t);
	for (uint64_t cur = s, end; cur < e; cur = end) {
		gpa_t table;
		int r = table_for(pt, cur, PT_LEVEL_PT, &table);

		end = align_down(cur, SZ_2M) + SZ_2M < e ? align_down(cur, SZ_2M) + SZ_2M : e;
		if (!r)
			r = fill_fixed(pt, table, pt_index(cur, PT_LEVEL_PT),
				       (unsigned)((end - cur) / SZ_4K), pa + (cur - s), bits);
		if (r)
			return map_failed(pt, &t, r, va, len, s, e);
	}
	return 0;
}
