/* The payload's regions as a sorted array (Linux's VMAs, without merging):
 * insert, remove and re-protect ranges with splitting, and the top-down
 * search for a free range that mmap uses. No page tables here (mm.c). */
#include "kernel/vma.h"

#include <assert.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "util/err.h"

void vma_list_init(struct vma_list *l)
{
	memset(l, 0, sizeof(*l));
}

void vma_list_free(struct vma_list *l)
{
	free(l->v);
	vma_list_init(l);
}

int vma_reserve(struct vma_list *l, size_t extra)
{
	size_t cap;
	struct vma *v;

	/* The bound on vmm's bookkeeping for the payload: PROT_NONE regions
	 * cost no guest RAM, so --mem alone would not bound their number. */
	if (extra && l->n >= VMA_MAX)
		return err_set("vma: %zu regions: the limit is %d (vm.max_map_count)", l->n,
			       VMA_MAX);
	if (l->cap - l->n >= extra)
		return 0;
	if (extra > SIZE_MAX / sizeof(*v) / 2 - l->n)
		return err_set("vma: out of memory: %zu regions", l->n);
	cap = l->cap ? l->cap : 16;
	while (cap - l->n < extra)
		cap *= 2;
	v = realloc(l->v, cap * sizeof(*v));
	if (!v)
		return err_set("vma: out of memory: %zu regions", l->n);
	l->v = v;
	l->cap = cap;
	return 0;
}

static bool range_ok(gva_t start, gva_t end)
{
	return start < end && is_aligned(start, SZ_4K) && is_aligned(end, SZ_4K);
}

static int bad_range(gva_t start, gva_t end)
{
	return err_set("vma: bad range 0x%" PRIx64 "-0x%" PRIx64, start, end);
}

/* Index of the first region with end > addr (n if none): the one containing
 * addr, or the first one above it. */
static size_t first_ending_after(const struct vma_list *l, gva_t addr)
{
	size_t lo = 0, hi = l->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (l->v[mid].end > addr)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

/* Splits the region strictly containing addr into [start, addr) and
 * [addr, end). Capacity must have been reserved. */
static void split_at(struct vma_list *l, gva_t addr)
{
	size_t i = first_ending_after(l, addr);
	struct vma *v;

	if (i == l->n || l->v[i].start >= addr)
		return;
	assert(l->n < l->cap);
	v = &l->v[i];
	memmove(v + 1, v, (l->n - i) * sizeof(*v));
	l->n++;
	v[0].end = addr;
	v[1].start = addr;
}

int vma_insert(struct vma_list *l, gva_t start, gva_t end, int prot, unsigned flags)
{
	size_t i;

	if (!range_ok(start, end))
		return bad_range(start, end);
	i = first_ending_after(l, start);
	if (i < l->n && l->v[i].start < end)
		return err_set("vma: 0x%" PRIx64 "-0x%" PRIx64 " overlaps 0x%" PRIx64 "-0x%" PRIx64,
			       start, end, l->v[i].start, l->v[i].end);
	if (vma_reserve(l, 1))
		return -1;
	memmove(&l->v[i + 1], &l->v[i], (l->n - i) * sizeof(l->v[0]));
	l->v[i] = (struct vma){.start = start, .end = end, .prot = prot, .flags = flags};
	l->n++;
	return 0;
}

/* Splits at both edges so that [start, end) is made of whole regions, and
 * returns the index range [*first, *last) of those regions. */
size_t vma_splits(const struct vma_list *l, gva_t start, gva_t end)
{
	const struct vma *a = vma_find(l, start), *b = vma_find(l, end);

	return (size_t)(a && a->start < start) + (size_t)(b && b->start < end);
}

static int split_range(struct vma_list *l, gva_t start, gva_t end, size_t *first, size_t *last)
{
	if (vma_reserve(l, vma_splits(l, start, end)))
		return -1;
	split_at(l, start);
	split_at(l, end);
	*first = first_ending_after(l, start);
	*last = first_ending_after(l, end);
	return 0;
}

int vma_remove(struct vma_list *l, gva_t start, gva_t end)
{
	size_t first, last;

	if (start == end && is_aligned(start, SZ_4K))
		return 0;
	if (!range_ok(start, end))
		return bad_range(start, end);
	if (vma_is_free(l, start, end))
		return 0;
	if (split_range(l, start, end, &first, &last))
		return -1;
	memmove(&l->v[first], &l->v[last], (l->n - last) * sizeof(l->v[0]));
	l->n -= last - first;
	return 0;
}

int vma_protect(struct vma_list *l, gva_t start, gva_t end, int prot)
{
	size_t first, last;

	if (!range_ok(start, end))
		return bad_range(start, end);
	if (!vma_is_covered(l, start, end))
		return err_set("vma: 0x%" PRIx64 "-0x%" PRIx64 " is not fully mapped", start, end);
	if (split_range(l, start, end, &first, &last))
		return -1;
	for (size_t i = first; i < last; i++)
		l->v[i].prot = prot;
	return 0;
}

int vma_set_flags(struct vma_list *l, gva_t start, gva_t end, unsigned set, unsigned clear)
{
	size_t first, last;

	if (!range_ok(start, end))
		return bad_range(start, end);
	if (vma_is_free(l, start, end))
		return 0;
	if (split_range(l, start, end, &first, &last))
		return -1;
	for (size_t i = first; i < last; i++)
		l->v[i].flags = (l->v[i].flags & ~clear) | set;
	return 0;
}

size_t vma_index(const struct vma_list *l, gva_t addr)
{
	return first_ending_after(l, addr);
}

const struct vma *vma_find(const struct vma_list *l, gva_t addr)
{
	size_t i = first_ending_after(l, addr);

	return i < l->n && l->v[i].start <= addr ? &l->v[i] : NULL;
}

bool vma_is_free(const struct vma_list *l, gva_t start, gva_t end)
{
	size_t i = first_ending_after(l, start);

	return i == l->n || l->v[i].start >= end;
}

bool vma_is_covered(const struct vma_list *l, gva_t start, gva_t end)
{
	size_t i = first_ending_after(l, start);
	gva_t at = start;

	if (start >= end)
		return true;
	for (; i < l->n && l->v[i].start <= at; i++) {
		at = l->v[i].end;
		if (at >= end)
			return true;
	}
	return false;
}

/* The highest address in [lo, hi) where len bytes aligned to align fit,
 * or false. Written so that nothing wraps for any len. */
static bool fit_top(gva_t lo, gva_t hi, uint64_t len, uint64_t align, gva_t *out)
{
	gva_t at;

	if (hi <= lo || hi - lo < len)
		return false;
	at = align_down(hi - len, align);
	if (at < lo)
		return false;
	*out = at;
	return true;
}

int vma_find_free(const struct vma_list *l, uint64_t len, uint64_t align, gva_t bottom, gva_t top,
		  gva_t *out)
{
	if (len == 0 || align == 0 || (align & (align - 1)) != 0)
		return err_set("vma: bad search: len 0x%" PRIx64 " align 0x%" PRIx64, len, align);
	/* Gaps from the top: gap i lies below region i (gap n above the last). */
	for (size_t i = l->n + 1; i-- > 0;) {
		gva_t gap_lo = i > 0 ? l->v[i - 1].end : 0;
		gva_t gap_hi = i < l->n ? l->v[i].start : top;

		if (gap_lo >= top)
			continue;
		if (gap_hi <= bottom)
			break;
		if (fit_top(gap_lo > bottom ? gap_lo : bottom, gap_hi < top ? gap_hi : top, len,
			    align, out))
			return 0;
	}
	return err_set("vma: no free range of 0x%" PRIx64 " bytes aligned to 0x%" PRIx64
		       " in 0x%" PRIx64 "-0x%" PRIx64,
		       len, align, bottom, top);
}
