/* Guest physical frame allocator: a bitmap of 4 KiB frames plus a count of
 * used frames per 2 MiB block, so that 2 MiB and 1 GiB blocks are found by
 * counts alone and 4 KiB frames are packed into blocks already broken. */
#include "guest/frames.h"

#include "util/err.h"

#include <assert.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define FRAMES_PER_2M 512u
#define WORDS_PER_2M (FRAMES_PER_2M / 64)
#define BLOCKS_PER_1G 512u

/* Whole 2 MiB blocks cover guest RAM; frames past its end (when the size is
 * not a multiple of 2 MiB) are marked used forever, so that the last block
 * can never be taken whole and needs no special case anywhere. */
static uint64_t nblocks(const struct frames *f)
{
	return (f->nframes + FRAMES_PER_2M - 1) / FRAMES_PER_2M;
}

static bool partial(uint16_t used)
{
	return used > 0 && used < FRAMES_PER_2M;
}

static const char *size_name(enum page_size s)
{
	return s == PS_1G ? "1G" : s == PS_2M ? "2M" : "4K";
}

/* Changes a block's used count and keeps npartial in step with it. */
static void block_count(struct frames *f, uint64_t blk, int delta)
{
	uint16_t before = f->used_in_2m[blk];
	uint16_t after = (uint16_t)(before + delta);

	assert(delta >= 0 ? after <= FRAMES_PER_2M && after >= before : after < before);
	f->used_in_2m[blk] = after;
	f->npartial += partial(after) - partial(before);
}

/* Marks (use) or clears frames [first, first + n); returns how many bits
 * actually changed, which is n whenever the callers' contracts hold. */
static uint64_t mark_range(struct frames *f, uint64_t first, uint64_t n, bool use)
{
	uint64_t changed = 0, fr = first, end = first + n;

	while (fr < end) {
		unsigned bit = fr % 64;
		uint64_t take = end - fr < 64 - bit ? end - fr : 64 - bit;
		uint64_t mask = (take == 64 ? ~0ull : ((1ull << take) - 1)) << bit;
		uint64_t *w = &f->used[fr / 64];
		uint64_t flip = use ? ~*w & mask : *w & mask;
		int cnt = __builtin_popcountll(flip);

		assert(flip == mask); /* double allocation or double free */
		*w ^= flip;
		/* A word never straddles a 2 MiB block: 512 is a multiple of 64. */
		block_count(f, fr / FRAMES_PER_2M, use ? cnt : -cnt);
		changed += (uint64_t)cnt;
		fr += take;
	}
	return changed;
}

int frames_init(struct frames *f, uint64_t mem_bytes)
{
	uint64_t nb, tail;

	memset(f, 0, sizeof(*f));
	if (mem_bytes == 0 || !is_aligned(mem_bytes, SZ_4K))
		return err_set("frames: guest RAM size 0x%" PRIx64
			       " is not a non-zero multiple of 4K",
			       mem_bytes);
	f->nframes = mem_bytes / SZ_4K;
	nb = nblocks(f);
	f->used = calloc(nb * WORDS_PER_2M, sizeof(*f->used));
	f->used_in_2m = calloc(nb, sizeof(*f->used_in_2m));
	if (!f->used || !f->used_in_2m) {
		frames_destroy(f);
		return err_set("frames: out of host memory for %" PRIu64 " frames",
			       mem_bytes >> 12);
	}
	tail = nb * FRAMES_PER_2M - f->nframes;
	if (tail)
		mark_range(f, f->nframes, tail, true);
	f->nfree = f->nframes;
	return 0;
}

void frames_destroy(struct frames *f)
{
	free(f->used);
	free(f->used_in_2m);
	memset(f, 0, sizeof(*f));
}

/* The first block from `from` on (cyclically) that is partly used
 * (want_partial) or empty. */
static bool find_block(const struct frames *f, uint64_t from, bool want_partial, uint64_t *out)
{
	uint64_t nb = nblocks(f);

	for (uint64_t k = 0; k < nb; k++) {
		uint64_t b = from + k < nb ? from + k : from + k - nb;
		uint16_t u = f->used_in_2m[b];

		if (want_partial ? partial(u) : u == 0) {
			*out = b;
			return true;
		}
	}
	return false;
}

static bool alloc_4k(struct frames *f, uint64_t *frame)
{
	uint64_t blk, *w;

	/* Sequential allocations stay in the cursor's block until it is full,
	 * so the common case costs one look at one block; the search over
	 * all blocks happens once per 512 frames, or not at all when no block
	 * is partly used. */
	if (!find_block(f, f->next_small / FRAMES_PER_2M, f->npartial > 0, &blk))
		return false;
	w = f->used + blk * WORDS_PER_2M;
	for (unsigned i = 0; i < WORDS_PER_2M; i++) {
		if (w[i] != ~0ull) {
			*frame = blk * FRAMES_PER_2M + i * 64 + (unsigned)__builtin_ctzll(~w[i]);
			mark_range(f, *frame, 1, true);
			f->next_small = *frame;
			return true;
		}
	}
	assert(!"a partly used or empty block has a free frame");
	return false;
}

static bool alloc_2m(struct frames *f, uint64_t *frame)
{
	uint64_t nb = nblocks(f), blk;

	if (nb == 0 || !find_block(f, f->next_2m % nb, false, &blk))
		return false;
	mark_range(f, blk * FRAMES_PER_2M, FRAMES_PER_2M, true);
	f->next_2m = blk + 1;
	*frame = blk * FRAMES_PER_2M;
	return true;
}

static bool group_empty(const struct frames *f, uint64_t g)
{
	for (uint64_t b = g * BLOCKS_PER_1G; b < (g + 1) * BLOCKS_PER_1G; b++)
		if (f->used_in_2m[b])
			return false;
	return true;
}

/* 1 GiB blocks are rare (a few per VM), so a plain scan is enough. */
static bool alloc_1g(struct frames *f, uint64_t *frame)
{
	uint64_t groups = nblocks(f) / BLOCKS_PER_1G;

	for (uint64_t g = 0; g < groups; g++) {
		if (group_empty(f, g)) {
			*frame = g * BLOCKS_PER_1G * FRAMES_PER_2M;
			mark_range(f, *frame, BLOCKS_PER_1G * FRAMES_PER_2M, true);
			return true;
		}
	}
	return false;
}

int frames_alloc(struct frames *f, enum page_size size, gpa_t *gpa)
{
	uint64_t need = page_bytes(size) / SZ_4K, frame = 0;
	bool ok = false;

	if (size < PS_COUNT && f->nfree >= need) {
		if (size == PS_4K)
			ok = alloc_4k(f, &frame);
		else if (size == PS_2M)
			ok = alloc_2m(f, &frame);
		else
			ok = alloc_1g(f, &frame);
	}
	if (!ok)
		return err_set("frames: out of guest memory: need %s, %" PRIu64 " 4K frames free",
			       size_name(size), f->nfree);
	f->nfree -= need;
	*gpa = frame * SZ_4K;
	if (*gpa + page_bytes(size) > f->top) {
		if (f->before_top &&
		    f->before_top(f->before_top_ctx, *gpa + page_bytes(size)) < 0) {
			frames_free(f, *gpa, page_bytes(size));
			return -1;
		}
		f->top = *gpa + page_bytes(size);
	}
	return 0;
}

void frames_free(struct frames *f, gpa_t gpa, uint64_t bytes)
{
	uint64_t first = gpa / SZ_4K, n = bytes / SZ_4K;

	assert(is_aligned(gpa, SZ_4K) && is_aligned(bytes, SZ_4K));
	assert(first <= f->nframes && n <= f->nframes - first);
	if (first > f->nframes || n > f->nframes - first)
		return;
	f->nfree += mark_range(f, first, n, false);
}

int frames_reserve(struct frames *f, gpa_t gpa, uint64_t bytes)
{
	uint64_t first = gpa / SZ_4K, n = bytes / SZ_4K;

	if (!is_aligned(gpa, SZ_4K) || !is_aligned(bytes, SZ_4K))
		return err_set("frames: reserve 0x%" PRIx64 " (+0x%" PRIx64 "): not 4K aligned",
			       gpa, bytes);
	if (first > f->nframes || n > f->nframes - first)
		return err_set("frames: reserve 0x%" PRIx64 " (+0x%" PRIx64
			       "): outside guest RAM (0x%" PRIx64 " bytes)",
			       gpa, bytes, f->nframes << 12);
	for (uint64_t i = first; i < first + n; i++)
		if (frames_in_use(f, i * SZ_4K))
			return err_set("frames: reserve 0x%" PRIx64 " (+0x%" PRIx64
				       "): frame 0x%" PRIx64 " already in use",
				       gpa, bytes, i << 12);
	f->nfree -= mark_range(f, first, n, true);
	if (gpa + bytes > f->top)
		f->top = gpa + bytes;
	return 0;
}

bool frames_in_use(const struct frames *f, gpa_t gpa)
{
	uint64_t fr = gpa / SZ_4K;

	return fr < f->nframes && (f->used[fr / 64] >> (fr % 64) & 1);
}
