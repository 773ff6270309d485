/* The guest dimension of translation: the x86-64 4-level page-table tree in
 * guest memory, its table pages, summary and input checks. Editing lives in
 * pt_map.c and pt_range.c, the store log in pt_log.c, walks in pt_walk.c. */
#include "guest/paging_internal.h"
#include "util/err.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

void *pt_grow(void *arr, size_t *cap, size_t elem)
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

void pt_sum_tables(struct page_tables *pt, int level, int delta)
{
	uint64_t total = 0;

	pt->sum.tables[level] += (uint64_t)(int64_t)delta;
	for (int l = 0; l < 4; l++)
		total += pt->sum.tables[l];
	pt->sum.bytes_tables = total * SZ_4K;
}

int pt_adopt_table(struct page_tables *pt, gpa_t table, int level)
{
	if (pt->nfresh == pt->cap_fresh) {
		gpa_t *l = pt_grow(pt->fresh_list, &pt->cap_fresh, sizeof(*l));

		if (!l)
			return -1;
		pt->fresh_list = l;
	}
	pt->fresh_list[pt->nfresh++] = table;
	pt_set_fresh(pt, table, true);
	pt_sum_tables(pt, level, 1);
	return 0;
}

/* Its fresh_list slot may stay behind (clearing a clear bit at commit is
 * harmless). */
void pt_drop_fresh_table(struct page_tables *pt, gpa_t table, int level)
{
	memset(pt_entries(pt, table), 0, SZ_4K);
	pt_set_fresh(pt, table, false);
	pt_sum_tables(pt, level, -1);
	pt_frames_free(pt, table, SZ_4K);
}

/* Every free frame is zero (frames.h), so a new table needs no clearing. */
int pt_table_alloc(struct page_tables *pt, int level, gpa_t *out)
{
	gpa_t t;

	if (pt_pool_take(pt, &t))
		return PT_OUT_OF_FRAMES;
	if (pt_adopt_table(pt, t, level)) {
		pt_frames_free(pt, t, SZ_4K);
		return -1;
	}
	*out = t;
	return 0;
}

bool pt_table_empty(const struct page_tables *pt, gpa_t table)
{
	const uint64_t *e = pt_entries(pt, table);

	for (unsigned i = 0; i < PT_ENTRIES; i++)
		if (e[i])
			return false;
	return true;
}

/* ---- checks of caller input ---- */

int pt_check_range(const char *what, gva_t va, uint64_t len, uint64_t *s48, uint64_t *e48)
{
	uint64_t last = va + len - 1;

	assert(len > 0);
	if (last < va)
		return err_set("paging: %s 0x%" PRIx64 " (+0x%" PRIx64 "): wraps around", what, va,
			       len);
	if (!pt_is_canonical(va) || !pt_is_canonical(last) ||
	    (va < PT_LOWER_END) != (last < PT_LOWER_END))
		return err_set("paging: %s 0x%" PRIx64 " (+0x%" PRIx64 "): not canonical", what, va,
			       len);
	*s48 = va & PT_VA_MASK;
	*e48 = (last & PT_VA_MASK) + 1;
	return 0;
}

int pt_check_aligned_4k(const char *what, gva_t va, uint64_t len)
{
	if (!is_aligned(va, SZ_4K) || !is_aligned(len, SZ_4K))
		return err_set("paging: %s 0x%" PRIx64 " (+0x%" PRIx64 "): not 4K aligned", what,
			       va, len);
	return 0;
}

int pt_check_perm(const char *what, uint64_t perm, uint64_t allowed)
{
	if (perm & ~allowed)
		return err_set("paging: %s: permission 0x%" PRIx64 " has bits outside 0x%" PRIx64,
			       what, perm, allowed);
	return 0;
}

/* ---- the tree's life ---- */

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
	/* Bitmaps per frame: calloc'd pages that are never written stay
	 * unallocated, so they cost host memory in step with the tables. */
	pt->fresh = calloc((frames->nframes + 63) / 64, sizeof(*pt->fresh));
	pt->pool.owned = calloc((frames->nframes + 63) / 64, sizeof(*pt->pool.owned));
	pt->upd.invlpg = calloc(PT_INVLPG_CEILING, sizeof(*pt->upd.invlpg));
	if (!pt->fresh || !pt->pool.owned || !pt->upd.invlpg) {
		pt_destroy(pt);
		return err_set("paging: out of host memory");
	}
	pt->upd.cap_invlpg = PT_INVLPG_CEILING;
	if (pt_table_alloc(pt, PT_LEVEL_PML4, &pt->root)) {
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
	pt_pool_destroy(pt);
	memset(pt, 0, sizeof(*pt));
}
