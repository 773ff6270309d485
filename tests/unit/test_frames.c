/* Unit tests of the guest frame allocator: sizes, alignment, packing of
 * 4 KiB frames, reserve, accounting, and a randomized run against a model. */
#include "guest/frames.h"
#include "unit.h"
#include "util/err.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static struct frames F;

static void setup(void)
{
	err_clear();
}
static void teardown(void)
{
	frames_destroy(&F);
}

START_TEST(test_init_errors)
{
	ck_assert_int_eq(frames_init(&F, 0), -1);
	ck_assert_str_eq(err_msg(), "frames: guest RAM size 0x0 is not a non-zero multiple of 4K");
	ck_assert_int_eq(frames_init(&F, 0x1001), -1);
	ck_assert_str_eq(err_msg(),
			 "frames: guest RAM size 0x1001 is not a non-zero multiple of 4K");
	ck_assert_int_eq(frames_init(&F, 8 * MB), 0);
	ck_assert_uint_eq(F.nframes, 2048);
	ck_assert_uint_eq(F.nfree, 2048);
}
END_TEST

START_TEST(test_exhaustion_messages)
{
	gpa_t g;
	uint64_t n = 0;

	ck_assert_int_eq(frames_init(&F, 4 * MB), 0);
	ck_assert_int_eq(frames_alloc(&F, PS_1G, &g), -1);
	ck_assert_str_eq(err_msg(), "frames: out of guest memory: need 1G, 1024 4K frames free");
	ck_assert_int_eq(frames_alloc(&F, PS_4K, &g), 0);
	ck_assert_int_eq(frames_alloc(&F, PS_2M, &g), 0);
	/* One 4K frame breaks the other block: no 2M block is left. */
	ck_assert_int_eq(frames_alloc(&F, PS_2M, &g), -1);
	ck_assert_str_eq(err_msg(), "frames: out of guest memory: need 2M, 511 4K frames free");
	while (frames_alloc(&F, PS_4K, &g) == 0)
		n++;
	ck_assert_uint_eq(n, 511);
	ck_assert_str_eq(err_msg(), "frames: out of guest memory: need 4K, 0 4K frames free");
	ck_assert_uint_eq(F.nfree, 0);
}
END_TEST

START_TEST(test_alignment_every_size)
{
	gpa_t g;

	/* Metadata only: 4 GiB of frames costs a few hundred KiB here. */
	ck_assert_int_eq(frames_init(&F, 4ull << 30), 0);
	for (int i = 0; i < 100; i++) {
		ck_assert_int_eq(frames_alloc(&F, PS_4K, &g), 0);
		ck_assert(is_aligned(g, SZ_4K));
		ck_assert_int_eq(frames_alloc(&F, PS_2M, &g), 0);
		ck_assert(is_aligned(g, SZ_2M));
		ck_assert(frames_in_use(&F, g) && frames_in_use(&F, g + SZ_2M - SZ_4K));
	}
	/* The first GiB is broken by now; three whole ones remain. */
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(frames_alloc(&F, PS_1G, &g), 0);
		ck_assert(is_aligned(g, SZ_1G));
		ck_assert_uint_ne(g, 0);
	}
	ck_assert_int_eq(frames_alloc(&F, PS_1G, &g), -1);
	ck_assert_uint_eq(F.nfree, (1ull << 18) - 100 - 100 * 512);
}
END_TEST

START_TEST(test_small_frames_pack_into_used_blocks)
{
	gpa_t a, b, big, c;

	ck_assert_int_eq(frames_init(&F, 64 * MB), 0);
	ck_assert_int_eq(frames_alloc(&F, PS_4K, &a), 0);
	ck_assert_int_eq(frames_alloc(&F, PS_2M, &big), 0);
	ck_assert_int_eq(frames_alloc(&F, PS_4K, &b), 0);
	ck_assert_uint_eq(align_down(a, SZ_2M), align_down(b, SZ_2M));
	ck_assert_uint_ne(align_down(a, SZ_2M), big);
	/* Freed 4K pieces of a 2M block are reused before any empty block. */
	frames_free(&F, big + 5 * SZ_4K, SZ_4K);
	frames_free(&F, big + 77 * SZ_4K, 2 * SZ_4K);
	ck_assert(!frames_in_use(&F, big + 5 * SZ_4K));
	ck_assert(frames_in_use(&F, big + 6 * SZ_4K));
	/* Fill a's block first (it is partly used too), then big's holes. */
	for (int i = 0; i < 510; i++) {
		ck_assert_int_eq(frames_alloc(&F, PS_4K, &c), 0);
		ck_assert_uint_eq(align_down(c, SZ_2M), align_down(a, SZ_2M));
	}
	gpa_t holes[3];
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(frames_alloc(&F, PS_4K, &holes[i]), 0);
		ck_assert_uint_eq(align_down(holes[i], SZ_2M), big);
	}
	ck_assert_uint_eq(holes[0] + holes[1] + holes[2], 3 * big + (5 + 77 + 78) * SZ_4K);
	ck_assert_uint_eq(F.used_in_2m[big / SZ_2M], 512);
	/* Freeing the whole block makes it available as 2M again. */
	frames_free(&F, big, SZ_2M);
	bool again = false;
	while (frames_alloc(&F, PS_2M, &c) == 0)
		again |= c == big;
	ck_assert(again);
}
END_TEST

START_TEST(test_reserve)
{
	gpa_t g;

	ck_assert_int_eq(frames_init(&F, 8 * MB), 0);
	ck_assert_int_eq(frames_reserve(&F, 0, 3 * SZ_4K), 0);
	ck_assert_uint_eq(F.nfree, 2048 - 3);
	ck_assert(frames_in_use(&F, 0) && frames_in_use(&F, 0x2000) && !frames_in_use(&F, 0x3000));
	ck_assert_int_eq(frames_reserve(&F, 0x2000, 0x2000), -1);
	ck_assert_str_eq(err_msg(),
			 "frames: reserve 0x2000 (+0x2000): frame 0x2000 already in use");
	ck_assert_uint_eq(F.nfree, 2048 - 3); /* nothing half done */
	ck_assert(!frames_in_use(&F, 0x3000));
	ck_assert_int_eq(frames_reserve(&F, 0x1800, 0x1000), -1);
	ck_assert_str_eq(err_msg(), "frames: reserve 0x1800 (+0x1000): not 4K aligned");
	ck_assert_int_eq(frames_reserve(&F, 8 * MB - SZ_4K, 2 * SZ_4K), -1);
	ck_assert_str_eq(err_msg(),
			 "frames: reserve 0x7ff000 (+0x2000): outside guest RAM (0x800000 bytes)");
	ck_assert_int_eq(frames_reserve(&F, UINT64_MAX - 0xfff, 0x2000), -1);
	ck_assert(!frames_in_use(&F, 8 * MB));
	/* The reserved block is not whole any more: 2M comes from the next. */
	ck_assert_int_eq(frames_alloc(&F, PS_2M, &g), 0);
	ck_assert_uint_ge(g, SZ_2M);
	ck_assert_int_eq(frames_alloc(&F, PS_4K, &g), 0);
	ck_assert_uint_eq(g, 0x3000);
}
END_TEST

START_TEST(test_size_not_multiple_of_2m)
{
	gpa_t g;
	int n2m = 0, n4k = 0;

	ck_assert_int_eq(frames_init(&F, 6 * MB + 3 * SZ_4K), 0);
	ck_assert_uint_eq(F.nfree, 3 * 512 + 3);
	while (frames_alloc(&F, PS_2M, &g) == 0)
		n2m++;
	ck_assert_int_eq(n2m, 3);
	while (frames_alloc(&F, PS_4K, &g) == 0) {
		ck_assert_uint_lt(g, 6 * MB + 3 * SZ_4K);
		n4k++;
	}
	ck_assert_int_eq(n4k, 3);
	ck_assert(!frames_in_use(&F, 6 * MB + 3 * SZ_4K)); /* outside RAM */
}
END_TEST

START_TEST(test_mixed_sizes_accounting)
{
	gpa_t g1, g2, g3;

	ck_assert_int_eq(frames_init(&F, 2ull << 30), 0);
	ck_assert_int_eq(frames_alloc(&F, PS_1G, &g1), 0);
	ck_assert_int_eq(frames_alloc(&F, PS_2M, &g2), 0);
	ck_assert_int_eq(frames_alloc(&F, PS_4K, &g3), 0);
	ck_assert_uint_eq(F.nfree, 2 * 262144 - 262144 - 512 - 1);
	ck_assert(g2 >= g1 + SZ_1G || g2 + SZ_2M <= g1);
	/* A 4K piece of the 1G block, then the rest of it piecewise. */
	frames_free(&F, g1 + SZ_2M + SZ_4K, SZ_4K);
	ck_assert_uint_eq(F.nfree, 262144 - 512 - 1 + 1);
	frames_free(&F, g1, SZ_2M + SZ_4K);
	frames_free(&F, g1 + SZ_2M + 2 * SZ_4K, SZ_1G - SZ_2M - 2 * SZ_4K);
	ck_assert_uint_eq(F.nfree, 2 * 262144 - 512 - 1);
	frames_free(&F, g2, SZ_2M);
	frames_free(&F, g3, SZ_4K);
	ck_assert_uint_eq(F.nfree, F.nframes);
	ck_assert_uint_eq(F.npartial, 0);
	ck_assert_int_eq(frames_alloc(&F, PS_1G, &g1), 0);
	ck_assert_int_eq(frames_alloc(&F, PS_1G, &g2), 0);
	ck_assert_uint_eq(F.nfree, 0);
}
END_TEST

/* Fills 1 GiB frame by frame and empties it: the cursor must keep each
 * allocation cheap (a full rescan each time would take minutes). */
START_TEST(test_fill_1g_small)
{
	gpa_t g, prev = 0;

	REQUIRE(frames_init(&F, 1ull << 30) == 0);
	for (uint64_t i = 0; i < 262144; i++) {
		REQUIRE(frames_alloc(&F, PS_4K, &g) == 0);
		if (i && g != prev + SZ_4K)
			ck_abort_msg("not sequential at %llu", (unsigned long long)i);
		prev = g;
	}
	REQUIRE(frames_alloc(&F, PS_4K, &g) == -1);
	/* Free every other frame, then take them all again. */
	for (uint64_t i = 0; i < 262144; i += 2)
		frames_free(&F, i * SZ_4K, SZ_4K);
	REQUIRE(F.npartial == 512);
	for (uint64_t i = 0; i < 131072; i++) {
		REQUIRE(frames_alloc(&F, PS_4K, &g) == 0);
		REQUIRE((g / SZ_4K) % 2 == 0);
	}
	REQUIRE(F.nfree == 0);
}
END_TEST

/* Random allocations and frees (whole blocks and 4K pieces of them)
 * against a model that owns one byte per frame. */
#define RND_FRAMES (16 * 512 + 100) /* 16 2M blocks and a partial one */

START_TEST(test_random_against_model)
{
	static unsigned char model[RND_FRAMES];
	uint64_t nfree = RND_FRAMES;
	int got_2m = 0, no_2m = 0, no_4k = 0;
	uint64_t rng = 0x9e3779b97f4a7c15ull;

	memset(model, 0, sizeof(model));
	REQUIRE(frames_init(&F, RND_FRAMES * SZ_4K) == 0);
	for (int step = 0; step < 20000; step++) {
		uint64_t r = unit_rand(&rng);

		/* Phases that fill memory up and phases that drain it. */
		bool filling = (step / 1500) % 2 == 0;

		if (r % 10 < (filling ? 9u : 4u)) {
			enum page_size sz = (r >> 8) % 8 == 0 ? PS_2M : PS_4K;
			uint64_t n = page_bytes(sz) / SZ_4K;
			gpa_t g;

			if (frames_alloc(&F, sz, &g) == 0) {
				REQUIRE(is_aligned(g, page_bytes(sz)));
				REQUIRE(g / SZ_4K + n <= RND_FRAMES);
				for (uint64_t i = 0; i < n; i++) {
					REQUIRE(model[g / SZ_4K + i] == 0);
					model[g / SZ_4K + i] = 1;
				}
				nfree -= n;
				got_2m += sz == PS_2M;
			} else if (sz == PS_4K) {
				REQUIRE(nfree == 0);
				no_4k++;
			} else {
				no_2m++;
				/* No whole free 2M block may exist in the model. */
				for (uint64_t b = 0; b + 512 <= RND_FRAMES; b += 512) {
					int used = 0;
					for (int i = 0; i < 512; i++)
						used |= model[b + i];
					REQUIRE(used != 0);
				}
			}
		} else {
			/* Free a random run of used frames. */
			uint64_t start = (r >> 8) % RND_FRAMES, len = 0;

			while (start < RND_FRAMES && !model[start])
				start++;
			while (start + len < RND_FRAMES && model[start + len] &&
			       len < (r >> 40) % (filling ? 4 : 600) + 1)
				len++;
			if (len) {
				frames_free(&F, start * SZ_4K, len * SZ_4K);
				memset(model + start, 0, len);
				nfree += len;
			}
		}
		REQUIRE(F.nfree == nfree);
		if (step % 97 == 0)
			for (uint64_t i = 0; i < RND_FRAMES; i++)
				REQUIRE(frames_in_use(&F, i * SZ_4K) == model[i]);
	}
	/* The run must have met every case, or it proved little. */
	ck_assert_int_gt(got_2m, 10);
	ck_assert_int_gt(no_2m, 10);
	ck_assert_int_gt(no_4k, 0);
}
END_TEST

UNIT_SUITE_MAIN("frames", setup, teardown, 0, test_init_errors, test_exhaustion_messages,
		test_alignment_every_size, test_small_frames_pack_into_used_blocks, test_reserve,
		test_size_not_multiple_of_2m, test_mixed_sizes_accounting, test_fill_1g_small,
		test_random_against_model)
