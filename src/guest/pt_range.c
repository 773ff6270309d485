/* Editing ranges of the tables (munmap, mprotect, splitting large pages)
 * as one visitor of pt_range_walk: large leaves that straddle an edge are
 * split, emptied tables are freed, each change is logged (pt_log.c). */
#include "guest/paging_internal.h"
#include "util/err.h"

#include <inttypes.h>

enum range_kind {
	RANGE_UNMAP,
	RANGE_UNDO, /* takes back a failed map: see pt_range_undo */
	RANGE_PROTECT,
	RANGE_SPLIT,
};

#define MAX_EDGE_SPLITS 4 /* two edges, each 1G -> 2M -> 4K */

struct range_op {
	struct page_tables *pt;
	enum range_kind kind;
	uint64_t perm;		      /* RANGE_PROTECT */
	gpa_t spare[MAX_EDGE_SPLITS]; /* frames taken ahead for edge splits */
	int nspare;
	/* Per level (enum pt_level), for the table on the walk's path there: */
	bool quiet[4]; /* its stores need no record: an entry above it was unlinked */
	bool inval[4]; /* an invalidation inside its range was recorded */
	bool drop[4];  /* its entry being walked was unlinked before the descent */
};

static enum pt_store_mode store_mode(const struct range_op *op, int level)
{
	return op->quiet[level] || op->kind == RANGE_UNDO ? PT_STORE_QUIET : PT_STORE_RECORD;
}

/* A change to v's entry that TLBs and paging-structure caches must forget:
 * an invalidation at v->lo, when the guest may have walked v->table. */
static void invalidate(struct range_op *op, const struct pt_visit *v)
{
	if (pt_shadowed(op->pt, v->table)) {
		pt_record_invlpg(op->pt, v->lo);
		op->inval[v->level] = true;
	}
}

static uint64_t protect_value(uint64_t old, uint64_t perm)
{
	uint64_t keep = PTE_ADDR_MASK | PTE_PS | PTE_A | PTE_D | PTE_PWT | PTE_PCD | PTE_G;

	return (old & keep) | pt_leaf_bits(perm);
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

/* ---- leaves ---- */

/* A fresh table for a split: a spare taken ahead, or a new frame. */
static int split_table(struct range_op *op, int level, gpa_t *child)
{
	if (!op->nspare)
		return pt_table_alloc(op->pt, level, child);
	*child = op->spare[--op->nspare];
	if (pt_adopt_table(op->pt, *child, level)) {
		pt_frames_free(op->pt, *child, SZ_4K);
		return -1;
	}
	return 0;
}

/* Replaces a large leaf by a fresh table of 512 leaves one size smaller,
 * same frames and permissions (a 2M PDE's PS bit is the PAT bit in a PTE,
 * so it goes), and makes it v->child. The large page is invalidated even
 * though no translation changes: otherwise the TLB may hold entries of
 * both sizes for the same addresses (SDM 3A 4.10.2.3), and Linux flushes
 * there too. */
static int split_leaf(struct range_op *op, struct pt_visit *v)
{
	struct page_tables *pt = op->pt;
	int cl = v->level - 1;
	uint64_t flags = v->ent & ~PTE_ADDR_MASK, *ce;
	gpa_t frame = pt_leaf_frame(v->ent, v->level), child;
	int r;

	assert(v->level > PT_LEVEL_PT && op->kind != RANGE_UNDO && !(v->ent & PTE_SW_FIXED));
	if ((r = split_table(op, cl, &child)))
		return r;
	if (cl == PT_LEVEL_PT)
		flags &= ~PTE_PS;
	ce = pt_entries(pt, child);
	for (unsigned j = 0; j < PT_ENTRIES; j++)
		ce[j] = (frame + j * pt_span(cl)) | flags;
	if (pt_store_entry(pt, v->table, v->idx, child | pt_table_flags(v->lo), PT_STORE_RECORD)) {
		pt_drop_fresh_table(pt, child, cl);
		return -1;
	}
	pt->sum.leaves[v->level]--;
	pt->sum.leaves[cl] += PT_ENTRIES;
	if (v->ent & PTE_P)
		invalidate(op, v);
	v->child = child;
	return 0;
}

static int remove_leaf(struct range_op *op, const struct pt_visit *v)
{
	struct page_tables *pt = op->pt;
	bool undo = op->kind == RANGE_UNDO;
	gpa_t frame = pt_leaf_frame(v->ent, v->level);

	if (pt_store_entry(pt, v->table, v->idx, 0, store_mode(op, v->level)))
		return -1;
	/* After the store: a frame queued for freeing must be unreachable. */
	if (v->ent & PTE_SW_FIXED) {
		assert(undo && v->level == PT_LEVEL_PT);
		pt->sum.kernel_leaves--;
	} else {
		pt->sum.leaves[v->level]--;
		/* Undo: the frame was allocated by the failed call and never
		 * reached the guest, so it is still zero and free at once. */
		if (undo)
			pt_frames_free(pt, frame, pt_span(v->level));
		else if (pt_defer_free(pt, frame, pt_span(v->level)))
			return -1;
	}
	/* A non-present leaf is never in a TLB. */
	if (!undo && (v->ent & PTE_P))
		invalidate(op, v);
	return 0;
}

static int protect_leaf(struct range_op *op, const struct pt_visit *v)
{
	uint64_t nv = protect_value(v->ent, op->perm);

	if (pt_store_entry(op->pt, v->table, v->idx, nv, PT_STORE_RECORD))
		return -1;
	if (loses_permission(v->ent, nv))
		invalidate(op, v);
	return 0;
}

/* A leaf overlapping the range: 0 when dealt with, 1 when it was split and
 * the walk must descend into the new table, <0 on error. */
static int leaf_in_range(struct range_op *op, struct pt_visit *v)
{
	bool whole = pt_visit_whole(v);
	int r;

	switch (op->kind) {
	case RANGE_SPLIT:
		if (v->level == PT_LEVEL_PT)
			return 0;
		break;
	case RANGE_PROTECT:
		if (protect_value(v->ent, op->perm) == v->ent)
			return 0; /* nothing changes: no reason to split */
		if (whole)
			return protect_leaf(op, v);
		break;
	case RANGE_UNMAP:
	case RANGE_UNDO:
		if (whole)
			return remove_leaf(op, v);
		break;
	}
	/* Ranges are 4K aligned, so a 4K leaf is always whole. */
	assert(v->level > PT_LEVEL_PT);
	r = split_leaf(op, v);
	return r ? r : 1;
}

/* ---- tables ---- */

/* A table entry overlapping the range, before the walk descends. When the
 * unmap empties the table, it is unlinked first and emptied quietly: the
 * guest then needs one store instead of one per entry, and it never walks
 * the table again. */
static int enter_table(struct range_op *op, const struct pt_visit *v)
{
	int l = v->level;
	bool drop = op->kind == RANGE_UNMAP &&
		    (pt_visit_whole(v) || pt_only_in(op->pt, v->child, l - 1, v->lo, v->s, v->e));

	if (drop && pt_store_entry(op->pt, v->table, v->idx, 0, store_mode(op, l)))
		return -1;
	op->drop[l] = drop;
	op->quiet[l - 1] = op->quiet[l] || drop || op->kind == RANGE_UNDO;
	op->inval[l - 1] = false;
	return PT_DESCEND;
}

static int visit_range(struct pt_visit *v, void *ctx)
{
	struct range_op *op = ctx;

	if (v->ent == 0)
		return PT_NEXT;
	if (pt_is_leaf(v->ent, v->level)) {
		int r = leaf_in_range(op, v);

		if (r <= 0)
			return r;
	}
	return enter_table(op, v);
}

/* Frees a table just unlinked (at once, when undoing). A table the guest
 * may have walked is invalidated too: a paging-structure cache may still
 * hold the entry that pointed to it, and the frame is about to be reused.
 * Any INVLPG in its range does that (SDM 3A 4.10.4.1); none is added when
 * one below was recorded (sub). */
static int release_table(struct range_op *op, const struct pt_visit *v, bool sub)
{
	struct page_tables *pt = op->pt;

	if (op->kind == RANGE_UNDO) {
		assert(pt_is_fresh(pt, v->child));
		pt_sum_tables(pt, v->level - 1, -1);
		pt_frames_free(pt, v->child, SZ_4K);
		return 0;
	}
	if (pt_defer_free(pt, v->child, SZ_4K))
		return -1;
	pt_sum_tables(pt, v->level - 1, -1);
	if (!sub && !pt_is_fresh(pt, v->child))
		invalidate(op, v);
	return 0;
}

/* After the descent: an unmap frees the table if it is now empty. */
static int leave_range(struct pt_visit *v, void *ctx)
{
	struct range_op *op = ctx;
	int l = v->level;
	bool undo = op->kind == RANGE_UNDO, sub = op->inval[l - 1];

	op->inval[l] |= sub;
	if (op->kind != RANGE_UNMAP && !undo)
		return 0;
	if (!op->drop[l]) {
		/* Undo never frees what this update did not create. */
		if ((undo && !pt_is_fresh(op->pt, v->child)) || !pt_table_empty(op->pt, v->child))
			return 0;
		if (pt_store_entry(op->pt, v->table, v->idx, 0, store_mode(op, l)))
			return -1;
	}
	assert(pt_table_empty(op->pt, v->child));
	return release_table(op, v, sub);
}

static int walk_range(struct range_op *op, uint64_t s, uint64_t e)
{
	struct pt_visitor vis = {.visit = visit_range, .leave = leave_range, .ctx = op};

	return pt_range_walk(op->pt, op->pt->root, PT_LEVEL_PML4, 0, s, e, &vis);
}

/* ---- the calls ---- */

/* Tables needed to split the leaf holding `addr` so that an edge falls at
 * `cut`: none, one (2M, or 1G at a 2M boundary) or two (1G -> 2M -> 4K). */
static int splits_at(const struct range_op *op, uint64_t addr, uint64_t cut)
{
	struct pt_slot sl;

	pt_descend(op->pt, addr, PT_LEVEL_PD, &sl);
	if (sl.ent == 0 || !pt_is_leaf(sl.ent, sl.level) || is_aligned(cut, pt_span(sl.level)))
		return 0;
	if (op->kind == RANGE_PROTECT && protect_value(sl.ent, op->perm) == sl.ent)
		return 0; /* leaf_in_range will leave it alone */
	return sl.level == PT_LEVEL_PDPT && !is_aligned(cut, SZ_2M) ? 2 : 1;
}

/* Takes the frames that splits at the edges will need before anything
 * changes, so that running out of guest memory changes nothing. */
static int reserve_spares(struct range_op *op, uint64_t s, uint64_t e)
{
	int n = splits_at(op, s, s) + splits_at(op, e - 1, e);

	while (op->nspare < n) {
		if (pt_pool_take(op->pt, &op->spare[op->nspare])) {
			while (op->nspare)
				pt_frames_free(op->pt, op->spare[--op->nspare], SZ_4K);
			return PT_OUT_OF_FRAMES;
		}
		op->nspare++;
	}
	return 0;
}

static int range_change(struct range_op *op, const char *what, gva_t va, uint64_t len)
{
	uint64_t s, e, at;
	int r;

	if (pt_check_aligned_4k(what, va, len))
		return -1;
	if (len == 0)
		return 0;
	if (pt_check_range(what, va, len, &s, &e))
		return -1;
	/* Splitting changes no translation, so the VMM's own leaves (all 4K)
	 * are only refused by the operations that would change them. */
	if (op->kind != RANGE_SPLIT && pt_range_has_leaf(op->pt, s, e, true, &at))
		return err_set("paging: %s 0x%" PRIx64 " (+0x%" PRIx64 "): 0x%" PRIx64
			       " is a VMM mapping",
			       what, va, len, at);
	if (op->kind != RANGE_SPLIT && reserve_spares(op, s, e))
		return err_wrap("paging: %s 0x%" PRIx64 " (+0x%" PRIx64 "): splitting a large page",
				what, va, len);
	r = walk_range(op, s, e);
	while (op->nspare)
		pt_frames_free(op->pt, op->spare[--op->nspare], SZ_4K);
	if (r == PT_OUT_OF_FRAMES)
		return err_wrap("paging: %s 0x%" PRIx64 " (+0x%" PRIx64 "): splitting a large page",
				what, va, len);
	return r;
}

int pt_unmap(struct page_tables *pt, gva_t va, uint64_t len)
{
	struct range_op op = {.pt = pt, .kind = RANGE_UNMAP};

	return range_change(&op, "unmap", va, len);
}

int pt_protect(struct page_tables *pt, gva_t va, uint64_t len, uint64_t perm)
{
	struct range_op op = {.pt = pt, .kind = RANGE_PROTECT, .perm = perm};

	if (pt_check_perm("protect", perm, PTE_PERM_MASK | PTE_SW_PROTNONE))
		return -1;
	return range_change(&op, "protect", va, len);
}

/* Splitting is not undone on failure: it changes no translation, so what
 * was split stays split and the tables stay consistent. */
int pt_split(struct page_tables *pt, gva_t va, uint64_t len)
{
	struct range_op op = {.pt = pt, .kind = RANGE_SPLIT};

	return range_change(&op, "split", va, len);
}

/* A mapping call only fills entries that were empty and creates fresh
 * tables, so taking it back means emptying [s, e) again with quiet stores
 * and immediate frees, which cannot fail. */
void pt_range_undo(struct page_tables *pt, uint64_t s, uint64_t e)
{
	struct range_op op = {.pt = pt, .kind = RANGE_UNDO};
	int r;

	op.quiet[PT_LEVEL_PML4] = true;
	r = walk_range(&op, s, e);
	assert(r == 0);
	(void)r;
}
