/* The pool of table pages: guest RAM taken from the frames in 2 MiB chunks
 * as the tables need it and kept for tables, so that the direct map the
 * CPL0 batch routine stores through covers the pool and not all of guest
 * RAM: set-up and host memory then grow with the tables, not with --mem. */
#include "guest/paging_internal.h"
#include "util/err.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static bool pool_owns(const struct page_tables *pt, gpa_t gpa)
{
	uint64_t f = gpa / SZ_4K;

	return pt->pool.owned[f / 64] >> (f % 64) & 1;
}

/* The stack can hold every frame the pool owns (pool_grow makes room
 * first), so giving a frame back never fails. */
static void pool_push(struct page_tables *pt, gpa_t frame)
{
	assert(pt->pool.nfree < pt->pool.cap_free);
	pt->pool.free[pt->pool.nfree++] = frame;
}

static int pool_make_room(struct pt_pool *p, uint64_t frames)
{
	while (p->cap_free < p->nframes + frames) {
		gpa_t *l = pt_grow(p->free, &p->cap_free, sizeof(*l));

		if (!l)
			return -1;
		p->free = l;
	}
	if (p->nchunks == p->cap_chunks) {
		struct pt_chunk *l = pt_grow(p->chunks, &p->cap_chunks, sizeof(*l));

		if (!l)
			return -1;
		p->chunks = l;
	}
	return 0;
}

/* A 2 MiB chunk where a 2 MiB block is free, else one 4 KiB frame (small
 * or fragmented guest RAM). Its host pages are kept small (mem_keep_small)
 * so that no VMM page can be what KVM counts as a 2 MiB mapping. */
static int pool_grow(struct page_tables *pt)
{
	struct pt_pool *p = &pt->pool;
	struct pt_chunk c = {.bytes = SZ_2M};

	if (frames_alloc(pt->frames, PS_2M, &c.gpa)) {
		c.bytes = SZ_4K;
		if (frames_alloc(pt->frames, PS_4K, &c.gpa))
			return -1; /* frames said why */
	}
	if (pool_make_room(p, c.bytes / SZ_4K) || mem_keep_small(pt->mem, c.gpa, c.bytes)) {
		frames_free(pt->frames, c.gpa, c.bytes);
		return -1;
	}
	/* Pushed from the top, so that tables are taken in address order. */
	for (uint64_t off = c.bytes; off > 0; off -= SZ_4K) {
		uint64_t f = (c.gpa + off - SZ_4K) / SZ_4K;

		p->owned[f / 64] |= 1ull << (f % 64);
		pool_push(pt, c.gpa + off - SZ_4K);
	}
	p->nframes += c.bytes / SZ_4K;
	p->chunks[p->nchunks++] = c;
	return 0;
}

int pt_pool_take(struct page_tables *pt, gpa_t *out)
{
	if (pt->pool.nfree == 0 && pool_grow(pt))
		return PT_OUT_OF_FRAMES;
	*out = pt->pool.free[--pt->pool.nfree];
	return 0;
}

int pt_pool_take_page(struct page_tables *pt, gpa_t *out)
{
	return pt_pool_take(pt, out) ? -1 : 0;
}

void pt_frames_free(struct page_tables *pt, gpa_t gpa, uint64_t bytes)
{
	gpa_t run = gpa, end = gpa + bytes;

	for (gpa_t cur = gpa; cur < end; cur += SZ_4K) {
		uint64_t f = cur / SZ_4K;

		/* Data frames come in large runs: 64 at a time where no bit is set. */
		if (f % 64 == 0 && end - cur >= 64 * SZ_4K && !pt->pool.owned[f / 64]) {
			cur += 63 * SZ_4K;
			continue;
		}
		if (!pool_owns(pt, cur))
			continue;
		if (run < cur)
			frames_free(pt->frames, run, cur - run);
		run = cur + SZ_4K;
		pool_push(pt, cur);
	}
	if (run < end)
		frames_free(pt->frames, run, end - run);
}

int pt_pool_map_pending(struct page_tables *pt)
{
	struct pt_pool *p = &pt->pool;

	if (!p->direct_va)
		return 0;
	/* Mapping a chunk may take a new one (its tables come from the pool):
	 * the loop maps that too. */
	while (p->nmapped < p->nchunks) {
		struct pt_chunk c = p->chunks[p->nmapped];

		if (pt_map_fixed(pt, p->direct_va + c.gpa, c.gpa, c.bytes, p->perm))
			return err_wrap("paging: direct map of table pages 0x%" PRIx64, c.gpa);
		p->nmapped++;
	}
	return 0;
}

int pt_direct_map(struct page_tables *pt, gva_t direct_va, uint64_t perm)
{
	if (!direct_va)
		return err_set("paging: direct map at 0");
	pt->pool.direct_va = direct_va;
	pt->pool.perm = perm;
	return pt_pool_map_pending(pt);
}

uint64_t pt_pool_bytes(const struct page_tables *pt)
{
	return pt->pool.nframes * SZ_4K;
}

void pt_pool_destroy(struct page_tables *pt)
{
	free(pt->pool.owned);
	free(pt->pool.free);
	free(pt->pool.chunks);
	memset(&pt->pool, 0, sizeof(pt->pool));
}
