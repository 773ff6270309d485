/* Region bookkeeping: insertion, splitting by remove/protect/set_flags, and
 * the top-down free-range search mmap relies on. */
#include <string.h>
#include <sys/mman.h>

#include "kernel/vma.h"
#include "unit.h"
#include "util/err.h"

#define K4 0x1000ull
#define RW (PROT_READ | PROT_WRITE)

static struct vma_list l;

static void setup(void)
{
	vma_list_init(&l);
}
static void teardown(void)
{
	vma_list_free(&l);
}

/* Asserts region i is [s, e) with prot p. */
static void expect(size_t i, gva_t s, gva_t e, int p)
{
	ck_assert_uint_lt(i, l.n);
	ck_assert_uint_eq(l.v[i].start, s);
	ck_assert_uint_eq(l.v[i].end, e);
	ck_assert_int_eq(l.v[i].prot, p);
}

START_TEST(insert_sorted_and_refuses_overlap)
{
	ck_assert_int_eq(vma_insert(&l, 0x5000, 0x8000, RW, 0), 0);
	ck_assert_int_eq(vma_insert(&l, 0x1000, 0x2000, PROT_READ, 0), 0);
	ck_assert_int_eq(vma_insert(&l, 0x8000, 0x9000, PROT_NONE, VMA_HEAP), 0);
	ck_assert_uint_eq(l.n, 3);
	expect(0, 0x1000, 0x2000, PROT_READ);
	expect(1, 0x5000, 0x8000, RW);
	expect(2, 0x8000, 0x9000, PROT_NONE);
	ck_assert_uint_eq(l.v[2].flags, VMA_HEAP);

	ck_assert_int_eq(vma_insert(&l, 0x7000, 0x8000, RW, 0), -1);
	ck_assert_str_eq(err_msg(), "vma: 0x7000-0x8000 overlaps 0x5000-0x8000");
	ck_assert_int_eq(vma_insert(&l, 0x4000, 0x6000, RW, 0), -1);
	ck_assert_int_eq(vma_insert(&l, 0x0000, 0x10000, RW, 0), -1);
	ck_assert_int_eq(vma_insert(&l, 0x1000, 0x1000, RW, 0), -1);
	ck_assert_str_eq(err_msg(), "vma: bad range 0x1000-0x1000");
	ck_assert_int_eq(vma_insert(&l, 0x2800, 0x3000, RW, 0), -1);
	ck_assert_int_eq(vma_insert(&l, 0x3000, 0x2000, RW, 0), -1);
	ck_assert_uint_eq(l.n, 3);
	/* Exactly filling a gap is fine, and equal neighbours stay separate. */
	ck_assert_int_eq(vma_insert(&l, 0x2000, 0x5000, RW, 0), 0);
	ck_assert_uint_eq(l.n, 4);
	expect(1, 0x2000, 0x5000, RW);
}
END_TEST

START_TEST(insert_many_grows)
{
	for (int i = 0; i < 1000; i++)
		ck_assert_int_eq(vma_insert(&l, (gva_t)(1000 - i) * 2 * K4,
					    (gva_t)(1000 - i) * 2 * K4 + K4, RW, 0),
				 0);
	ck_assert_uint_eq(l.n, 1000);
	for (size_t i = 1; i < l.n; i++)
		ck_assert_uint_lt(l.v[i - 1].end, l.v[i].start);
}
END_TEST

/* The payload cannot make vmm's bookkeeping grow without bound. */
START_TEST(at_most_vma_max_regions)
{
	for (int i = 0; i < VMA_MAX; i++)
		ck_assert_int_eq(
		    vma_insert(&l, (gva_t)(i + 1) * 2 * K4, (gva_t)(i + 1) * 2 * K4 + K4, RW, 0),
		    0);
	ck_assert_int_eq(vma_insert(&l, 0x80000000000ull, 0x80000001000ull, RW, 0), -1);
	ck_assert_str_eq(err_msg(), "vma: 65530 regions: the limit is 65530 (vm.max_map_count)");
	ck_assert_int_eq(vma_remove(&l, 4 * K4, 4 * K4 + 0x800), -1); /* would split */
	ck_assert_uint_eq(l.n, VMA_MAX);
	ck_assert_int_eq(vma_remove(&l, 2 * K4, 5 * K4), 0); /* whole regions: fine */
	ck_assert_uint_eq(l.n, VMA_MAX - 2);
}
END_TEST

START_TEST(remove_middle_splits_in_two)
{
	ck_assert_int_eq(vma_insert(&l, 0x10000, 0x20000, RW, VMA_ELF), 0);
	ck_assert_int_eq(vma_remove(&l, 0x14000, 0x15000), 0);
	ck_assert_uint_eq(l.n, 2);
	expect(0, 0x10000, 0x14000, RW);
	expect(1, 0x15000, 0x20000, RW);
	ck_assert_uint_eq(l.v[1].flags, VMA_ELF);
}
END_TEST

START_TEST(remove_edges_and_whole)
{
	ck_assert_int_eq(vma_insert(&l, 0x10000, 0x20000, RW, 0), 0);
	ck_assert_int_eq(vma_remove(&l, 0x10000, 0x12000), 0);
	expect(0, 0x12000, 0x20000, RW);
	ck_assert_int_eq(vma_remove(&l, 0x1f000, 0x30000), 0);
	expect(0, 0x12000, 0x1f000, RW);
	ck_assert_int_eq(vma_remove(&l, 0x8000, 0x1f000), 0);
	ck_assert_uint_eq(l.n, 0);
}
END_TEST

START_TEST(remove_across_several)
{
	ck_assert_int_eq(vma_insert(&l, 0x1000, 0x3000, RW, 0), 0);
	ck_assert_int_eq(vma_insert(&l, 0x4000, 0x5000, PROT_READ, 0), 0);
	ck_assert_int_eq(vma_insert(&l, 0x5000, 0x6000, RW, 0), 0);
	ck_assert_int_eq(vma_insert(&l, 0x8000, 0xa000, PROT_EXEC, 0), 0);
	ck_assert_int_eq(vma_remove(&l, 0x2000, 0x9000), 0);
	ck_assert_uint_eq(l.n, 2);
	expect(0, 0x1000, 0x2000, RW);
	expect(1, 0x9000, 0xa000, PROT_EXEC);
	/* A hole and an empty range are fine; a bad range is not. */
	ck_assert_int_eq(vma_remove(&l, 0x3000, 0x8000), 0);
	ck_assert_int_eq(vma_remove(&l, 0x3000, 0x3000), 0);
	ck_assert_uint_eq(l.n, 2);
	ck_assert_int_eq(vma_remove(&l, 0x3000, 0x2000), -1);
	ck_assert_int_eq(vma_remove(&l, 0x1800, 0x2000), -1);
}
END_TEST

START_TEST(protect_splits_and_needs_no_hole)
{
	ck_assert_int_eq(vma_insert(&l, 0x1000, 0x5000, RW, VMA_HEAP), 0);
	ck_assert_int_eq(vma_insert(&l, 0x5000, 0x8000, PROT_READ, 0), 0);
	ck_assert_int_eq(vma_protect(&l, 0x2000, 0x6000, PROT_NONE), 0);
	ck_assert_uint_eq(l.n, 4);
	expect(0, 0x1000, 0x2000, RW);
	expect(1, 0x2000, 0x5000, PROT_NONE);
	expect(2, 0x5000, 0x6000, PROT_NONE);
	expect(3, 0x6000, 0x8000, PROT_READ);
	ck_assert_uint_eq(l.v[1].flags, VMA_HEAP);
	ck_assert_uint_eq(l.v[2].flags, 0);

	/* A hole anywhere in the range: refused, nothing changed. */
	ck_assert_int_eq(vma_insert(&l, 0x9000, 0xa000, RW, 0), 0);
	ck_assert_int_eq(vma_protect(&l, 0x7000, 0xa000, PROT_EXEC), -1);
	ck_assert_str_eq(err_msg(), "vma: 0x7000-0xa000 is not fully mapped");
	ck_assert_int_eq(vma_protect(&l, 0x0000, 0x2000, PROT_EXEC), -1);
	ck_assert_int_eq(vma_protect(&l, 0x9000, 0xb000, PROT_EXEC), -1);
	ck_assert_uint_eq(l.n, 5);
	expect(3, 0x6000, 0x8000, PROT_READ);
	expect(4, 0x9000, 0xa000, RW);
	/* Protecting exactly a whole region does not split. */
	ck_assert_int_eq(vma_protect(&l, 0x9000, 0xa000, PROT_READ), 0);
	ck_assert_uint_eq(l.n, 5);
	expect(4, 0x9000, 0xa000, PROT_READ);
}
END_TEST

START_TEST(set_flags_covered_parts)
{
	ck_assert_int_eq(vma_insert(&l, 0x1000, 0x4000, RW, VMA_NOHUGE), 0);
	ck_assert_int_eq(vma_insert(&l, 0x6000, 0x8000, RW, 0), 0);
	ck_assert_int_eq(vma_set_flags(&l, 0x2000, 0x7000, VMA_HUGE, VMA_NOHUGE), 0);
	ck_assert_uint_eq(l.n, 4);
	expect(0, 0x1000, 0x2000, RW);
	ck_assert_uint_eq(l.v[0].flags, VMA_NOHUGE);
	expect(1, 0x2000, 0x4000, RW);
	ck_assert_uint_eq(l.v[1].flags, VMA_HUGE);
	expect(2, 0x6000, 0x7000, RW);
	ck_assert_uint_eq(l.v[2].flags, VMA_HUGE);
	expect(3, 0x7000, 0x8000, RW);
	ck_assert_uint_eq(l.v[3].flags, 0);
	/* Only a hole: nothing to do. */
	ck_assert_int_eq(vma_set_flags(&l, 0x4000, 0x6000, VMA_HUGE, 0), 0);
	ck_assert_uint_eq(l.n, 4);
}
END_TEST

START_TEST(find_and_predicates)
{
	ck_assert_ptr_null(vma_find(&l, 0x1000));
	ck_assert(vma_is_free(&l, 0, 0x10000));
	ck_assert_int_eq(vma_insert(&l, 0x2000, 0x4000, RW, 0), 0);
	ck_assert_int_eq(vma_insert(&l, 0x4000, 0x5000, PROT_READ, 0), 0);
	ck_assert_int_eq(vma_insert(&l, 0x7000, 0x8000, RW, 0), 0);
	ck_assert_ptr_null(vma_find(&l, 0x1fff));
	ck_assert_uint_eq(vma_find(&l, 0x2000)->start, 0x2000);
	ck_assert_uint_eq(vma_find(&l, 0x3fff)->start, 0x2000);
	ck_assert_uint_eq(vma_find(&l, 0x4000)->start, 0x4000);
	ck_assert_ptr_null(vma_find(&l, 0x5000));
	ck_assert_uint_eq(vma_find(&l, 0x7abc)->start, 0x7000);
	ck_assert_ptr_null(vma_find(&l, 0x8000));
	ck_assert_ptr_null(vma_find(&l, UINT64_MAX));

	ck_assert_uint_eq(vma_index(&l, 0x0), 0);
	ck_assert_uint_eq(vma_index(&l, 0x3000), 0);
	ck_assert_uint_eq(vma_index(&l, 0x4000), 1);
	ck_assert_uint_eq(vma_index(&l, 0x5000), 2);
	ck_assert_uint_eq(vma_index(&l, 0x8000), 3);

	ck_assert(vma_is_free(&l, 0x5000, 0x7000));
	ck_assert(vma_is_free(&l, 0x0, 0x2000));
	ck_assert(!vma_is_free(&l, 0x0, 0x2001));
	ck_assert(!vma_is_free(&l, 0x4fff, 0x7000));
	ck_assert(vma_is_free(&l, 0x8000, UINT64_MAX));

	ck_assert(vma_is_covered(&l, 0x2000, 0x5000));
	ck_assert(vma_is_covered(&l, 0x3000, 0x4800));
	ck_assert(!vma_is_covered(&l, 0x2000, 0x6000));
	ck_assert(!vma_is_covered(&l, 0x1000, 0x3000));
	ck_assert(!vma_is_covered(&l, 0x4000, 0x8000));
	ck_assert(vma_is_covered(&l, 0x7000, 0x8000));
	ck_assert(!vma_is_covered(&l, 0x8000, 0x9000));
}
END_TEST

START_TEST(find_free_top_down)
{
	gva_t at = 0;

	ck_assert_int_eq(vma_find_free(&l, 0x2000, K4, 0x10000, 0x100000, &at), 0);
	ck_assert_uint_eq(at, 0xfe000);
	/* Successive placements go down, each right below the previous one. */
	for (int i = 0; i < 4; i++) {
		gva_t prev = at;

		ck_assert_int_eq(vma_insert(&l, at, at + 0x2000, RW, 0), 0);
		ck_assert_int_eq(vma_find_free(&l, 0x2000, K4, 0x10000, 0x100000, &at), 0);
		ck_assert_uint_eq(at, prev - 0x2000);
	}
	/* The highest gap that fits wins, even if a lower one fits too. */
	vma_list_free(&l);
	ck_assert_int_eq(vma_insert(&l, 0x30000, 0x31000, RW, 0), 0);
	ck_assert_int_eq(vma_insert(&l, 0x32000, 0x40000, RW, 0), 0);
	ck_assert_int_eq(vma_find_free(&l, 0x1000, K4, 0x10000, 0x40000, &at), 0);
	ck_assert_uint_eq(at, 0x31000); /* the 1-page gap fits exactly */
	ck_assert_int_eq(vma_find_free(&l, 0x2000, K4, 0x10000, 0x40000, &at), 0);
	ck_assert_uint_eq(at, 0x2e000);
	/* A region straddling top or bottom. */
	ck_assert_int_eq(vma_find_free(&l, 0x1000, K4, 0x10000, 0x35000, &at), 0);
	ck_assert_uint_eq(at, 0x31000);
	ck_assert_int_eq(vma_find_free(&l, 0x1000, K4, 0x30800, 0x32000, &at), 0);
	ck_assert_uint_eq(at, 0x31000);
	ck_assert_int_eq(vma_find_free(&l, 0x2000, K4, 0x30800, 0x40000, &at), -1);
}
END_TEST

START_TEST(find_free_alignment)
{
	gva_t at = 0;
	const uint64_t m2 = 0x200000;

	ck_assert_int_eq(vma_insert(&l, 0x7f0000, 0x800000, RW, 0), 0);
	ck_assert_int_eq(vma_find_free(&l, m2, m2, 0x10000, 0x800000, &at), 0);
	ck_assert_uint_eq(at, 0x400000);
	ck_assert_int_eq(vma_find_free(&l, 0x1000, m2, 0x10000, 0x800000, &at), 0);
	ck_assert_uint_eq(at, 0x600000);
	/* Aligned bottom that is itself the only fit. */
	ck_assert_int_eq(vma_find_free(&l, m2, m2, 0x200000, 0x5fffff, &at), 0);
	ck_assert_uint_eq(at, 0x200000);
	ck_assert_int_eq(vma_find_free(&l, m2, m2, 0x200001, 0x5fffff, &at), -1);
	ck_assert_int_eq(vma_find_free(&l, m2, 3 * m2, 0x10000, 0x800000, &at), -1);
	ck_assert_str_eq(err_msg(), "vma: bad search: len 0x200000 align 0x600000");
	ck_assert_int_eq(vma_find_free(&l, 0, K4, 0x10000, 0x800000, &at), -1);
}
END_TEST

START_TEST(find_free_no_space_and_huge_len)
{
	gva_t at = 0x1234;

	ck_assert_int_eq(vma_insert(&l, 0x10000, 0x20000, RW, 0), 0);
	ck_assert_int_eq(vma_find_free(&l, 0x1000, K4, 0x10000, 0x20000, &at), -1);
	ck_assert_str_eq(err_msg(),
			 "vma: no free range of 0x1000 bytes aligned to 0x1000 in 0x10000-0x20000");
	ck_assert_int_eq(vma_find_free(&l, 0x11000, K4, 0x0, 0x30000, &at), -1);
	/* Lengths near 2^64 must not wrap into a "fit". */
	ck_assert_int_eq(vma_find_free(&l, UINT64_MAX & ~0xfffull, K4, 0, UINT64_MAX, &at), -1);
	ck_assert_int_eq(vma_find_free(&l, UINT64_MAX - 0xffff, K4, 0x10000, 0x20000, &at), -1);
	ck_assert_uint_eq(at, 0x1234);
	/* An empty window, and bottom above top. */
	ck_assert_int_eq(vma_find_free(&l, 0x1000, K4, 0x30000, 0x30000, &at), -1);
	ck_assert_int_eq(vma_find_free(&l, 0x1000, K4, 0x40000, 0x30000, &at), -1);
	/* The gap above the last region, up to a top near the end of the space. */
	ck_assert_int_eq(vma_find_free(&l, 0x1000, K4, 0x0, 0xfffffffffffff000ull, &at), 0);
	ck_assert_uint_eq(at, 0xffffffffffffe000ull);
	ck_assert_int_eq(vma_find_free(&l, 0x10000, K4, 0x0, 0x20000, &at), 0);
	ck_assert_uint_eq(at, 0x0);
}
END_TEST

START_TEST(reserve_then_ops_do_not_grow)
{
	ck_assert_int_eq(vma_insert(&l, 0x1000, 0x9000, RW, 0), 0);
	ck_assert_int_eq(vma_reserve(&l, 2), 0);
	ck_assert_uint_ge(l.cap - l.n, 2);
	struct vma *before = l.v;
	size_t cap = l.cap;

	ck_assert_int_eq(vma_protect(&l, 0x2000, 0x3000, PROT_READ), 0);
	ck_assert_ptr_eq(l.v, before);
	ck_assert_uint_eq(l.cap, cap);
	ck_assert_uint_eq(l.n, 3);
}
END_TEST

UNIT_SUITE_MAIN("vma", setup, teardown, 0, insert_sorted_and_refuses_overlap, insert_many_grows,
		remove_middle_splits_in_two, remove_edges_and_whole, remove_across_several,
		protect_splits_and_needs_no_hole, set_flags_covered_parts, find_and_predicates,
		find_free_top_down, find_free_alignment, find_free_no_space_and_huge_len,
		reserve_then_ops_do_not_grow, at_most_vma_max_regions)
