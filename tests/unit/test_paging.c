/* Unit tests of the guest page-table builder over real guest RAM (anonymous
 * memory, no KVM): walks, large pages, populate with fallbacks, splits,
 * unmap and protect, the recording of live-table updates, a randomized
 * run against a per-page model, and the range walker behind them. */
#include "guest/paging.h"
#include "guest/paging_internal.h"
#include "guest_fixture.h"
#include "unit.h"
#include "util/err.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BAD_GPA (~0ull)
#define RWU (PTE_RW | PTE_US)

static struct guest_mem M;
static struct frames F;
static struct page_tables PT;

static void vm_up(uint64_t size)
{
	guest_fixture_up(&M, &F, &PT, NULL, size);
}

static void teardown(void)
{
	guest_fixture_down(&M, &F, &PT, NULL);
}

/* Frames free for anything: the allocator's and the table pool's spare
 * ones (the pool takes guest RAM in 2 MiB chunks; what it holds unused is
 * still free for tables). */
#define FREE (F.nfree + PT.pool.nfree)

/* In use as a table or data page (a pool frame on the pool's stack is not). */
static bool used_frame(gpa_t g)
{
	if (!frames_in_use(&F, g))
		return false;
	for (size_t i = 0; i < PT.pool.nfree; i++)
		if (PT.pool.free[i] == g)
			return false;
	return true;
}

/* Leaves no free frame anywhere: the allocator's and the pool's. */
static void drain_frames(void)
{
	gpa_t g;

	while (frames_alloc(&F, PS_4K, &g) == 0)
		;
	PT.pool.nfree = 0;
}

static gpa_t tr(gva_t va, enum pt_access acc)
{
	gpa_t g;

	return pt_translate(&PT, va, acc, &g) ? BAD_GPA : g;
}

static uint64_t total_tables(void)
{
	return PT.sum.tables[0] + PT.sum.tables[1] + PT.sum.tables[2] + PT.sum.tables[3];
}

static void commit(void)
{
	ck_assert_msg(pt_commit(&PT, NULL, NULL) == 0, "%s", err_msg());
}

/* The guest side of a commit, as the tests see it. */
struct apply_log {
	int calls;
	bool fail;
	size_t nstores, ninvlpg;
	bool flush_all;
	struct pt_store stores[64];
	gva_t invlpg[PT_INVLPG_CEILING];
};

static int apply_cb(void *ctx, const struct pt_update *u)
{
	struct apply_log *l = ctx;

	l->calls++;
	l->nstores = u->nstores;
	l->ninvlpg = u->ninvlpg;
	l->flush_all = u->flush_all;
	memcpy(l->stores, u->stores, (u->nstores < 64 ? u->nstores : 64) * sizeof(*u->stores));
	memcpy(l->invlpg, u->invlpg, u->ninvlpg * sizeof(*u->invlpg));
	return l->fail ? err_set("test: guest refused") : 0;
}

START_TEST(test_pte_bits)
{
	static const struct {
		uint64_t v;
		int bit;
	} bits[] = {
	    {PTE_P, 0}, {PTE_RW, 1}, {PTE_US, 2}, {PTE_PWT, 3}, {PTE_PCD, 4},
	    {PTE_A, 5}, {PTE_D, 6},  {PTE_PS, 7}, {PTE_G, 8},	{PTE_NX, 63},
	};

	for (size_t i = 0; i < ARRAY_SIZE(bits); i++)
		ck_assert_uint_eq(bits[i].v, 1ull << bits[i].bit);
	/* Software bits must be among those the SDM leaves ignored: 9..11. */
	ck_assert_uint_eq(PTE_SW_PROTNONE, 1ull << 9);
	ck_assert_uint_eq(PTE_SW_FIXED, 1ull << 10);
	/* Address bits 12..51 (MAXPHYADDR 52 at most). */
	ck_assert_uint_eq(PTE_ADDR_MASK, ((1ull << 52) - 1) & ~0xfffull);
	ck_assert_uint_eq(PTE_PERM_MASK, (1ull << 1) | (1ull << 2) | (1ull << 63));
	ck_assert_int_eq(PT_LEVEL_PT, 0);
	ck_assert_int_eq(PT_LEVEL_PML4, 3);
}
END_TEST

START_TEST(test_init_summary)
{
	vm_up(64 * MB);
	ck_assert_uint_eq(PT.sum.tables[PT_LEVEL_PML4], 1);
	ck_assert_uint_eq(PT.sum.bytes_tables, SZ_4K);
	ck_assert(used_frame(PT.root));
	ck_assert_uint_eq(FREE, F.nframes - 1);
}
END_TEST

START_TEST(test_map_walk_4k_2m_1g)
{
	struct pt_walk w;
	gva_t v4 = 0x400000, v2 = 0x40000000, v1 = 0x8000000000;

	vm_up(2ull << 30); /* anonymous and untouched: costs only tables */
	ck_assert_int_eq(pt_map(&PT, v4, 0x10000, PS_4K, RWU), 0);
	ck_assert_int_eq(pt_map(&PT, v2, 3 * SZ_2M, PS_2M, PTE_US), 0);
	ck_assert_int_eq(pt_map(&PT, v1, SZ_1G, PS_1G, RWU | PTE_NX), 0);
	ck_assert_uint_eq(PT.sum.leaves[PS_4K], 1);
	ck_assert_uint_eq(PT.sum.leaves[PS_2M], 1);
	ck_assert_uint_eq(PT.sum.leaves[PS_1G], 1);
	/* v4 and v2 share the PDPT, not the PD; v1 has its own PML4 slot. */
	ck_assert_uint_eq(PT.sum.tables[PT_LEVEL_PDPT], 2);
	ck_assert_uint_eq(PT.sum.tables[PT_LEVEL_PD], 2);
	ck_assert_uint_eq(PT.sum.tables[PT_LEVEL_PT], 1);
	ck_assert_uint_eq(PT.sum.bytes_tables, 6 * SZ_4K);

	pt_walk(&PT, v4 + 0x123, &w);
	ck_assert_int_eq(w.levels, 4);
	ck_assert(w.mapped);
	ck_assert_int_eq(w.size, PS_4K);
	ck_assert_uint_eq(w.gpa, 0x10123);
	ck_assert_uint_eq(w.entry_gpa[0], PT.root); /* PML4E[0] */
	ck_assert_uint_eq(w.leaf & PTE_ADDR_MASK, 0x10000);
	ck_assert_uint_eq(w.leaf & (PTE_P | PTE_RW | PTE_US | PTE_PS), PTE_P | RWU);
	for (int i = 0; i < 3; i++)
		ck_assert_uint_eq(w.entry[i] & (PTE_P | PTE_RW | PTE_US), PTE_P | RWU);

	pt_walk(&PT, v2 + 0x1ff123, &w);
	ck_assert_int_eq(w.levels, 3);
	ck_assert(w.mapped);
	ck_assert_int_eq(w.size, PS_2M);
	ck_assert_uint_eq(w.gpa, 3 * SZ_2M + 0x1ff123);
	ck_assert(w.leaf & PTE_PS);

	pt_walk(&PT, v1 + 0x3fffffff, &w);
	ck_assert_int_eq(w.levels, 2);
	ck_assert_int_eq(w.size, PS_1G);
	ck_assert_uint_eq(w.gpa, SZ_1G + 0x3fffffff);
	ck_assert_uint_eq(w.entry_gpa[0], PT.root + 1 * 8);

	ck_assert_uint_eq(tr(v2 + 5, PT_READ), 3 * SZ_2M + 5);
	ck_assert_uint_eq(tr(v2 + 5, PT_WRITE), BAD_GPA); /* read-only */
	ck_assert_uint_eq(tr(v1, PT_EXEC), BAD_GPA);	  /* NX */
	ck_assert_uint_eq(tr(v1, PT_WRITE), SZ_1G);
	ck_assert_uint_eq(tr(v4 + SZ_4K, PT_READ), BAD_GPA); /* next page: hole */

	pt_walk(&PT, v4 + SZ_4K, &w);
	ck_assert(!w.mapped);
	ck_assert_int_eq(w.levels, 4);
	ck_assert_uint_eq(w.entry[3], 0);
	pt_walk(&PT, 0x0000800000000000ull, &w);
	ck_assert_int_eq(w.levels, 0);
}
END_TEST

START_TEST(test_walk_print)
{
	struct pt_walk w;
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);

	vm_up(64 * MB);
	ck_assert_int_eq(pt_map(&PT, 0x7f0000201000, 0x5000, PS_4K, RWU), 0);
	pt_walk(&PT, 0x7f0000201008, &w);
	pt_walk_print(&w, 0x7f0000201008, f);
	pt_walk(&PT, 0x7f0000202000, &w);
	pt_walk_print(&w, 0x7f0000202000, f);
	fclose(f);
	ck_assert_ptr_nonnull(strstr(buf, "  PML4E[254] @gpa 0x"));
	ck_assert_ptr_nonnull(strstr(buf, "  PDPTE[0] @gpa 0x"));
	ck_assert_ptr_nonnull(strstr(buf, "  PDE[1] @gpa 0x"));
	ck_assert_ptr_nonnull(strstr(buf, "  PTE[1] @gpa 0x"));
	ck_assert_ptr_nonnull(strstr(buf, "= 0x0000000000005067 (P RW US A D)\n"));
	ck_assert_ptr_nonnull(strstr(buf, "  -> gpa 0x5008 (4K page)\n"));
	ck_assert_ptr_nonnull(strstr(buf, "  PTE[2] @gpa 0x"));
	ck_assert_ptr_nonnull(strstr(buf, "= 0x0000000000000000 (empty)\n  -> not mapped\n"));
	free(buf);
}
END_TEST

START_TEST(test_map_errors)
{
	struct pt_summary before;

	vm_up(64 * MB);
	before = PT.sum;
	ck_assert_int_eq(pt_map(&PT, 0x201000, 0x400000, PS_2M, RWU), -1);
	ck_assert_str_eq(err_msg(), "paging: map 0x201000 -> 0x400000: va not aligned to 2M");
	ck_assert_int_eq(pt_map(&PT, 0x200000, 0x401000, PS_2M, RWU), -1);
	ck_assert_str_eq(err_msg(), "paging: map 0x200000 -> 0x401000: pa not aligned to 2M");
	ck_assert_int_eq(pt_map(&PT, 0x1000, 0x800, PS_4K, RWU), -1);
	ck_assert_str_eq(err_msg(), "paging: map 0x1000 -> 0x800: pa not aligned to 4K");
	ck_assert_int_eq(pt_map(&PT, 0x200000, 64 * MB, PS_2M, RWU), -1);
	ck_assert_str_eq(
	    err_msg(), "paging: map 0x200000 -> 0x4000000: pa outside guest RAM (0x4000000 bytes)");
	ck_assert_int_eq(pt_map(&PT, 0x40000000, 0, PS_1G, RWU), -1); /* 64M RAM */
	ck_assert_int_eq(pt_map(&PT, 0x1000, ~0xfffull, PS_4K, RWU), -1);
	ck_assert_int_eq(pt_map(&PT, 0x0000800000000000ull, 0, PS_4K, RWU), -1);
	ck_assert_str_eq(err_msg(), "paging: map 0x800000000000 (+0x1000): not canonical");
	ck_assert_int_eq(pt_map(&PT, 0x00007fffffe00000ull, 0, PS_1G, RWU), -1);
	ck_assert_int_eq(pt_map(&PT, 0xfffffffffffff000ull, 0, PS_4K, RWU), 0); /* top page */
	ck_assert_int_eq(pt_map(&PT, 0x1000, 0, PS_4K, PTE_P | PTE_RW), -1);
	ck_assert_str_eq(err_msg(), "paging: map: permission 0x3 has bits outside "
				    "0x8000000000000206");
	ck_assert_int_eq(pt_map(&PT, 0x1000, 0, (enum page_size)3, RWU), -1);
	ck_assert_str_eq(err_msg(), "paging: map 0x1000: page size 3 unknown");
	ck_assert_uint_eq(PT.sum.leaves[PS_4K], 1);
	ck_assert_uint_eq(PT.sum.leaves[PS_2M], before.leaves[PS_2M]);
}
END_TEST

START_TEST(test_refuse_overlaps)
{
	struct pt_summary before;
	uint64_t nfree;

	vm_up(2ull << 30);
	ck_assert_int_eq(pt_map(&PT, 0x400000, 0x10000, PS_4K, RWU), 0);
	ck_assert_int_eq(pt_map(&PT, 0x800000, SZ_2M, PS_2M, RWU), 0);
	ck_assert_int_eq(pt_map(&PT, 0x80000000, SZ_1G, PS_1G, RWU), 0);
	before = PT.sum;
	nfree = FREE;

	ck_assert_int_eq(pt_map(&PT, 0x400000, 0x20000, PS_4K, RWU), -1);
	ck_assert_str_eq(err_msg(), "paging: map 0x400000: already mapped (4K page at 0x400000)");
	ck_assert_int_eq(pt_map(&PT, 0x400000, SZ_2M, PS_2M, RWU), -1);
	ck_assert_str_eq(err_msg(),
			 "paging: map 0x400000: a page table is already there for the 2M page");
	ck_assert_int_eq(pt_map(&PT, 0x0, 0, PS_1G, RWU), -1);
	ck_assert_str_eq(err_msg(),
			 "paging: map 0x0: a page table is already there for the 1G page");
	ck_assert_int_eq(pt_map(&PT, 0x9ff000, 0x20000, PS_4K, RWU), -1);
	ck_assert_str_eq(err_msg(), "paging: map 0x9ff000: already mapped (2M page at 0x800000)");
	ck_assert_int_eq(pt_map(&PT, 0x80200000, 0, PS_2M, RWU), -1);
	ck_assert_str_eq(err_msg(),
			 "paging: map 0x80200000: already mapped (1G page at 0x80000000)");
	ck_assert_int_eq(pt_populate(&PT, 0x3ff000, 3 * SZ_4K, RWU, PS_2M), -1);
	ck_assert_str_eq(err_msg(), "paging: populate 0x3ff000 (+0x3000): 0x400000 already mapped");
	ck_assert_int_eq(pt_map_fixed(&PT, 0x9fe000, 0, 3 * SZ_4K, PTE_RW), -1);
	ck_assert_str_eq(err_msg(), "paging: map_fixed 0x9fe000 (+0x3000): 0x9fe000 already "
				    "mapped");
	ck_assert_mem_eq(&PT.sum, &before, sizeof(before));
	ck_assert_uint_eq(FREE, nfree);
}
END_TEST

static void check_populated(gva_t va, uint64_t len)
{
	for (gva_t p = va; p < va + len; p += SZ_4K) {
		gpa_t g = tr(p, PT_WRITE);

		REQUIRE(g != BAD_GPA);
		REQUIRE(used_frame(g));
		REQUIRE(*(uint64_t *)mem_ptr(&M, g, 8) == 0);
	}
}

START_TEST(test_populate_edges)
{
	struct pt_walk w;

	vm_up(64 * MB);
	/* 4K up to the 2M boundary, one 2M page, a 4K tail. */
	ck_assert_int_eq(pt_populate(&PT, 0x401000, 5 * MB, RWU, PS_2M), 0);
	ck_assert_uint_eq(PT.sum.leaves[PS_4K], 511 + 257);
	ck_assert_uint_eq(PT.sum.leaves[PS_2M], 1);
	ck_assert_uint_eq(PT.sum.fallback_small, 0);
	pt_walk(&PT, 0x600000, &w);
	ck_assert_int_eq(w.size, PS_2M);
	ck_assert(is_aligned(w.gpa, SZ_2M));
	pt_walk(&PT, 0x5ff000, &w);
	ck_assert_int_eq(w.size, PS_4K);
	pt_walk(&PT, 0x800000, &w);
	ck_assert_int_eq(w.size, PS_4K);
	check_populated(0x401000, 5 * MB);
	ck_assert_uint_eq(tr(0x400000, PT_READ), BAD_GPA);
	ck_assert_uint_eq(tr(0x901000, PT_READ), BAD_GPA);
	/* Each page has its own frame. */
	ck_assert_uint_eq(F.nframes - FREE, total_tables() + 5 * MB / SZ_4K);

	/* max 4K: only small pages even where 2M would fit. */
	ck_assert_int_eq(pt_populate(&PT, 0x1000000, 4 * MB, RWU, PS_4K), 0);
	ck_assert_uint_eq(PT.sum.leaves[PS_4K], 768 + 1024);
	ck_assert_uint_eq(PT.sum.leaves[PS_2M], 1);
	/* Exactly 2M, aligned. */
	ck_assert_int_eq(pt_populate(&PT, 0x2000000, SZ_2M, RWU, PS_2M), 0);
	ck_assert_uint_eq(PT.sum.leaves[PS_2M], 2);
	/* Shorter than 2M at a 2M boundary. */
	ck_assert_int_eq(pt_populate(&PT, 0x2400000, SZ_2M - SZ_4K, RWU, PS_2M), 0);
	ck_assert_uint_eq(PT.sum.leaves[PS_2M], 2);
	ck_assert_uint_eq(PT.sum.leaves[PS_4K], 768 + 1024 + 511);
	ck_assert_int_eq(pt_populate(&PT, 0x3000000, 0, RWU, PS_2M), 0);
	ck_assert_int_eq(pt_populate(&PT, 0x3000800, SZ_4K, RWU, PS_2M), -1);
	ck_assert_str_eq(err_msg(), "paging: populate 0x3000800 (+0x1000): not 4K aligned");
}
END_TEST

START_TEST(test_populate_1g)
{
	struct pt_walk w;

	vm_up(3ull << 30); /* anonymous and untouched: costs only tables */
	ck_assert_int_eq(pt_populate(&PT, SZ_1G - SZ_2M, SZ_1G + 2 * SZ_2M, RWU, PS_1G), 0);
	ck_assert_uint_eq(PT.sum.leaves[PS_1G], 1);
	ck_assert_uint_eq(PT.sum.leaves[PS_2M], 2);
	ck_assert_uint_eq(PT.sum.leaves[PS_4K], 0);
	pt_walk(&PT, SZ_1G + 12345, &w);
	ck_assert_int_eq(w.size, PS_1G);
	ck_assert_uint_eq(w.gpa, SZ_1G + 12345); /* GiB 0 holds the tables */
	pt_walk(&PT, 2 * SZ_1G, &w);
	ck_assert_int_eq(w.size, PS_2M);
	/* 1G never lines up in 512M: no fallback. */
	ck_assert_int_eq(pt_populate(&PT, 4 * SZ_1G, SZ_1G / 2, RWU, PS_1G), 0);
	ck_assert_uint_eq(PT.sum.fallback_small, 0);
	ck_assert_uint_eq(PT.sum.leaves[PS_2M], 2 + 256);
	/* Break the last whole GiB: 1G lines up but has no frame. */
	ck_assert_int_eq(frames_reserve(&F, 2 * SZ_1G, SZ_4K), 0);
	ck_assert_int_eq(pt_populate(&PT, 16 * SZ_1G, SZ_1G, RWU, PS_1G), 0);
	ck_assert_uint_eq(PT.sum.fallback_small, 1);
	ck_assert_uint_eq(PT.sum.leaves[PS_1G], 1);
	ck_assert_uint_eq(PT.sum.leaves[PS_2M], 2 + 256 + 512);
	ck_assert_uint_eq(F.nframes - FREE, 1 + total_tables() +
						(2 * SZ_1G + 3 * SZ_1G / 2 + 2 * SZ_2M) / SZ_4K -
						SZ_1G / SZ_4K);
}
END_TEST

START_TEST(test_populate_fallback_and_failure)
{
	struct pt_summary before;
	gpa_t g;
	uint64_t nfree, nstores;

	vm_up(64 * MB);
	/* Break every 2M block with one used frame. */
	while (frames_alloc(&F, PS_2M, &g) == 0)
		frames_free(&F, g + SZ_4K, SZ_2M - SZ_4K);
	ck_assert_int_eq(pt_populate(&PT, 0x40000000, 4 * MB, RWU, PS_2M), 0);
	ck_assert_uint_eq(PT.sum.leaves[PS_2M], 0);
	ck_assert_uint_eq(PT.sum.leaves[PS_4K], 1024);
	ck_assert_uint_eq(PT.sum.fallback_small, 2);
	check_populated(0x40000000, 4 * MB);

	/* More than is left: all or nothing, also for the stores it had
	 * recorded into live tables (the PML4 here). */
	PT.live = true;
	commit();
	before = PT.sum;
	nfree = FREE;
	nstores = PT.upd.nstores;
	ck_assert_int_eq(pt_populate(&PT, 0x7f0000000000, 64 * MB, RWU, PS_2M), -1);
	ck_assert_str_eq(err_msg(), "paging: out of guest memory mapping 0x7f0000000000 "
				    "(+67108864 bytes): frames: out of guest memory: need 4K, "
				    "0 4K frames free");
	ck_assert_mem_eq(&PT.sum, &before, sizeof(before));
	ck_assert_uint_eq(FREE, nfree); /* given back at once, not at commit */
	ck_assert_uint_eq(PT.upd.nstores, nstores);
	ck_assert_uint_eq(nstores, 0);
	ck_assert_uint_eq(PT.nfresh, 0);
	ck_assert_uint_eq(tr(0x7f0000000000, PT_READ), BAD_GPA);
	ck_assert_uint_eq(tr(0x7f0000000000 + 8 * MB, PT_READ), BAD_GPA);
	/* What was there is untouched, and memory is usable again. */
	check_populated(0x40000000, 4 * MB);
	ck_assert_int_eq(pt_populate(&PT, 0x7f0000000000, 8 * MB, RWU, PS_2M), 0);
}
END_TEST

START_TEST(test_out_of_frames)
{
	struct pt_summary before;
	gpa_t g, big;
	uint64_t nfree;

	vm_up(64 * MB);
	ck_assert_int_eq(pt_populate(&PT, 0x200000, SZ_2M, RWU, PS_2M), 0);
	big = tr(0x200000, PT_READ);
	commit();
	drain_frames();
	frames_free(&F, 0x3000000, SZ_4K); /* one frame: not enough for 3 tables */
	before = PT.sum;
	ck_assert_int_eq(pt_map(&PT, 0x7f0000000000, 0x1000, PS_4K, RWU), -1);
	ck_assert_str_eq(err_msg(), "paging: out of guest memory mapping 0x7f0000000000 "
				    "(+4096 bytes): frames: out of guest memory: need 4K, "
				    "0 4K frames free");
	ck_assert_mem_eq(&PT.sum, &before, sizeof(before));
	ck_assert_uint_eq(FREE, 1);
	ck_assert_uint_eq(PT.nfresh, 0);
	/* A split needs a frame too: with none, nothing changes. */
	frames_alloc(&F, PS_4K, &g);
	ck_assert_int_eq(pt_unmap(&PT, 0x201000, SZ_4K), -1);
	ck_assert_str_eq(err_msg(), "paging: unmap 0x201000 (+0x1000): splitting a large page: "
				    "frames: out of guest memory: need 4K, 0 4K frames free");
	ck_assert_int_eq(pt_protect(&PT, 0x201000, SZ_4K, PTE_US), -1);
	ck_assert_int_eq(pt_protect(&PT, 0x201000, SZ_4K, RWU), 0); /* no change, no split */
	ck_assert_mem_eq(&PT.sum, &before, sizeof(before));
	ck_assert_uint_eq(tr(0x201000, PT_WRITE), big + SZ_4K);
	/* Unmapping whole pages needs no frame. */
	nfree = FREE;
	ck_assert_int_eq(pt_unmap(&PT, 0x200000, SZ_2M), 0);
	commit();
	ck_assert_uint_eq(FREE, nfree + 512 + 2); /* the page, its PD and PDPT */
	ck_assert_uint_eq(total_tables(), 1);
}
END_TEST

START_TEST(test_unmap_middle_of_2m)
{
	struct pt_summary before;
	gpa_t frame, hole = 0x200000 + 0x10000;

	vm_up(64 * MB);
	ck_assert_int_eq(pt_populate(&PT, 0x200000, SZ_2M, RWU, PS_2M), 0);
	frame = tr(0x200000, PT_READ);
	before = PT.sum;
	ck_assert_int_eq(pt_unmap(&PT, hole, 3 * SZ_4K), 0);
	ck_assert_uint_eq(PT.sum.leaves[PS_2M], 0);
	ck_assert_uint_eq(PT.sum.leaves[PS_4K], 512 - 3);
	ck_assert_uint_eq(PT.sum.tables[PT_LEVEL_PT], before.tables[PT_LEVEL_PT] + 1);
	ck_assert_uint_eq(PT.sum.bytes_tables, before.bytes_tables + SZ_4K);
	for (gva_t va = 0x200000; va < 0x400000; va += SZ_4K) {
		gpa_t want =
		    va >= hole && va < hole + 3 * SZ_4K ? BAD_GPA : frame + (va - 0x200000);

		REQUIRE(tr(va, PT_WRITE) == want);
	}
	/* The frames of the hole are free only after the commit. */
	ck_assert(used_frame(frame + 0x10000));
	commit();
	ck_assert(!used_frame(frame + 0x10000));
	ck_assert(!used_frame(frame + 0x12000));
	ck_assert(used_frame(frame + 0x13000));
	ck_assert(used_frame(frame + 0xf000));
}
END_TEST

START_TEST(test_unmap_frees_tables)
{
	struct pt_summary before;
	struct pt_walk w;
	uint64_t nfree;
	gpa_t pt_page, data;

	vm_up(64 * MB);
	ck_assert_int_eq(pt_populate(&PT, 0x400000, 4 * SZ_4K, RWU, PS_2M), 0);
	commit();
	before = PT.sum;
	nfree = FREE;
	ck_assert_int_eq(pt_populate(&PT, 0x7f0000001000, 2 * SZ_4K, RWU, PS_2M), 0);
	ck_assert_uint_eq(total_tables(), 1 + 3 + 3);
	pt_walk(&PT, 0x7f0000001000, &w);
	pt_page = w.entry_gpa[3] & ~0xfffull;
	data = w.gpa;
	*(uint64_t *)mem_ptr(&M, data, 8) = 0xdead;
	/* A range with holes around the mapping. */
	ck_assert_int_eq(pt_unmap(&PT, 0x7f0000000000, 64 * MB), 0);
	ck_assert_mem_eq(&PT.sum, &before, sizeof(before));
	ck_assert(used_frame(pt_page) && used_frame(data));
	ck_assert_uint_eq(FREE, nfree - 3 - 2);
	commit();
	ck_assert(!used_frame(pt_page) && !used_frame(data));
	ck_assert_uint_eq(FREE, nfree);
	ck_assert_uint_eq(*(uint64_t *)mem_ptr(&M, data, 8), 0); /* freed frames are zero */
	pt_walk(&PT, 0x7f0000001000, &w);
	ck_assert_int_eq(w.levels, 1);
	ck_assert_uint_eq(w.entry[0], 0);
	/* Unmapping nothing, and an unaligned range. */
	ck_assert_int_eq(pt_unmap(&PT, 0x10000000, 8 * SZ_4K), 0);
	ck_assert_int_eq(pt_unmap(&PT, 0x10000000, 0), 0);
	ck_assert_int_eq(pt_unmap(&PT, 0x10000010, SZ_4K), -1);
	ck_assert_str_eq(err_msg(), "paging: unmap 0x10000010 (+0x1000): not 4K aligned");
	ck_assert_int_eq(pt_unmap(&PT, 0x00007ffffffff000ull, 2 * SZ_4K), -1);
	ck_assert_str_eq(err_msg(), "paging: unmap 0x7ffffffff000 (+0x2000): not canonical");
	ck_assert_mem_eq(&PT.sum, &before, sizeof(before));
}
END_TEST

START_TEST(test_unmap_1g_edges)
{
	gva_t lo = SZ_1G + 3 * SZ_2M + SZ_4K, hi = lo + 4 * SZ_2M;
	gpa_t base;

	vm_up(2ull << 30);
	ck_assert_int_eq(pt_populate(&PT, SZ_1G, SZ_1G, RWU, PS_1G), 0);
	base = tr(SZ_1G, PT_READ);
	/* Cuts at 4K inside a 1G page: 1G -> 2M, then 2M -> 4K at both ends. */
	ck_assert_int_eq(pt_unmap(&PT, lo, hi - lo), 0);
	ck_assert_uint_eq(PT.sum.leaves[PS_1G], 0);
	ck_assert_uint_eq(PT.sum.leaves[PS_2M], 512 - 5);
	ck_assert_uint_eq(PT.sum.leaves[PS_4K], 1 + 511);
	ck_assert_uint_eq(PT.sum.tables[PT_LEVEL_PD], 1);
	ck_assert_uint_eq(PT.sum.tables[PT_LEVEL_PT], 2);
	for (gva_t va = SZ_1G; va < SZ_1G + 16 * SZ_2M; va += SZ_4K)
		REQUIRE(tr(va, PT_READ) == (va >= lo && va < hi ? BAD_GPA : base + va - SZ_1G));
	commit();
	/* Spare frames taken for splits that were not needed went back. */
	ck_assert_uint_eq(F.nframes - FREE, total_tables() + (SZ_1G - (hi - lo)) / SZ_4K);
}
END_TEST

START_TEST(test_split)
{
	gpa_t base;

	vm_up(2ull << 30);
	ck_assert_int_eq(pt_populate(&PT, SZ_1G, SZ_1G, RWU, PS_1G), 0);
	base = tr(SZ_1G, PT_READ);
	ck_assert_int_eq(pt_split(&PT, SZ_1G + SZ_2M + SZ_4K, SZ_4K), 0);
	ck_assert_uint_eq(PT.sum.leaves[PS_1G], 0);
	ck_assert_uint_eq(PT.sum.leaves[PS_2M], 511);
	ck_assert_uint_eq(PT.sum.leaves[PS_4K], 512);
	ck_assert_uint_eq(PT.sum.tables[PT_LEVEL_PD], 1);
	ck_assert_uint_eq(PT.sum.tables[PT_LEVEL_PT], 1);
	for (uint64_t off = 0; off < SZ_1G; off += SZ_2M / 2)
		REQUIRE(tr(SZ_1G + off, PT_WRITE) == base + off);
	struct pt_walk w;
	pt_walk(&PT, SZ_1G + 5 * SZ_2M, &w);
	ck_assert_int_eq(w.size, PS_2M);
	ck_assert_uint_eq(w.leaf & (PTE_PS | PTE_P | PTE_RW | PTE_US | PTE_A | PTE_D),
			  PTE_PS | PTE_P | PTE_RW | PTE_US | PTE_A | PTE_D);
	pt_walk(&PT, SZ_1G + SZ_2M + 17 * SZ_4K, &w);
	ck_assert_int_eq(w.size, PS_4K);
	/* Bit 7 of a PTE is PAT, not PS: it must not come along. */
	ck_assert_uint_eq(w.leaf & (PTE_PS | PTE_P | PTE_RW | PTE_US | PTE_A | PTE_D),
			  PTE_P | PTE_RW | PTE_US | PTE_A | PTE_D);
	ck_assert_int_eq(pt_split(&PT, SZ_1G, SZ_1G), 0);
	ck_assert_uint_eq(PT.sum.leaves[PS_2M], 0);
	ck_assert_uint_eq(PT.sum.leaves[PS_4K], 512 * 512);
	ck_assert_uint_eq(PT.sum.tables[PT_LEVEL_PT], 512);
	for (uint64_t off = 0; off < SZ_1G; off += 7 * SZ_4K)
		REQUIRE(tr(SZ_1G + off, PT_WRITE) == base + off);
	/* Frames are the same: no frame became free or was taken. */
	ck_assert_uint_eq(F.nframes - FREE, total_tables() + SZ_1G / SZ_4K);
}
END_TEST

START_TEST(test_protect)
{
	struct pt_walk w;
	gpa_t frame;
	uint64_t nfree;

	vm_up(64 * MB);
	ck_assert_int_eq(pt_populate(&PT, 0x200000, SZ_2M, RWU, PS_2M), 0);
	frame = tr(0x200000, PT_READ);
	/* Same permission on part of a large page: nothing to split. */
	ck_assert_int_eq(pt_protect(&PT, 0x201000, SZ_4K, RWU), 0);
	ck_assert_uint_eq(PT.sum.leaves[PS_2M], 1);
	/* The whole large page: changed in place. */
	ck_assert_int_eq(pt_protect(&PT, 0x200000, SZ_2M, PTE_US), 0);
	ck_assert_uint_eq(PT.sum.leaves[PS_2M], 1);
	ck_assert_uint_eq(tr(0x200000, PT_WRITE), BAD_GPA);
	ck_assert_uint_eq(tr(0x3ff000, PT_READ), frame + 0x1ff000);
	/* Part of it, with holes around: split. */
	ck_assert_int_eq(pt_protect(&PT, 0x1f0000, 0x12000, RWU | PTE_NX), 0);
	ck_assert_uint_eq(PT.sum.leaves[PS_2M], 0);
	ck_assert_uint_eq(PT.sum.leaves[PS_4K], 512);
	ck_assert_uint_eq(tr(0x201000, PT_WRITE), frame + 0x1000);
	ck_assert_uint_eq(tr(0x201000, PT_EXEC), BAD_GPA);
	ck_assert_uint_eq(tr(0x202000, PT_WRITE), BAD_GPA);
	ck_assert_uint_eq(tr(0x202000, PT_EXEC), frame + 0x2000);
	/* PROT_NONE keeps the frame; back to accessible finds it again. */
	ck_assert_int_eq(pt_protect(&PT, 0x300000, 2 * SZ_4K, PTE_SW_PROTNONE), 0);
	ck_assert_uint_eq(tr(0x300000, PT_READ), BAD_GPA);
	pt_walk(&PT, 0x300000, &w);
	ck_assert(!w.mapped);
	ck_assert_uint_eq(w.leaf & (PTE_P | PTE_SW_PROTNONE), PTE_SW_PROTNONE);
	ck_assert_uint_eq(w.gpa, frame + 0x100000);
	ck_assert_uint_eq(PT.sum.leaves[PS_4K], 512);
	ck_assert_int_eq(pt_protect(&PT, 0x300000, SZ_4K, RWU), 0);
	ck_assert_uint_eq(tr(0x300000, PT_WRITE), frame + 0x100000);
	ck_assert_int_eq(pt_protect(&PT, 0x300000, SZ_4K, PTE_P), -1);
	ck_assert_str_eq(err_msg(), "paging: protect: permission 0x1 has bits outside "
				    "0x8000000000000206");
	/* A PROT_NONE leaf owns its frame: unmap frees it. */
	nfree = FREE;
	ck_assert_int_eq(pt_unmap(&PT, 0x301000, SZ_4K), 0);
	commit();
	ck_assert_uint_eq(FREE, nfree + 1);
	ck_assert(!used_frame(frame + 0x101000));
	/* Holes only. */
	ck_assert_int_eq(pt_protect(&PT, 0x10000000, SZ_2M, RWU), 0);
}
END_TEST

START_TEST(test_translate_perms)
{
	vm_up(64 * MB);
	ck_assert_int_eq(pt_map(&PT, 0x1000, 0x1000, PS_4K, PTE_US), 0);
	ck_assert_int_eq(pt_map(&PT, 0x2000, 0x2000, PS_4K, RWU | PTE_NX), 0);
	ck_assert_int_eq(pt_map(&PT, 0x3000, 0x3000, PS_4K, PTE_RW), 0);
	ck_assert_int_eq(pt_map(&PT, 0xffff800000001000, 0x4000, PS_4K, RWU), 0);
	ck_assert_uint_eq(tr(0x1000, PT_READ), 0x1000);
	ck_assert_uint_eq(tr(0x1000, PT_EXEC), 0x1000);
	ck_assert_uint_eq(tr(0x1000, PT_WRITE), BAD_GPA);
	ck_assert_uint_eq(tr(0x2000, PT_WRITE), 0x2000);
	ck_assert_uint_eq(tr(0x2000, PT_EXEC), BAD_GPA);
	ck_assert_uint_eq(tr(0x3000, PT_READ), BAD_GPA); /* supervisor page */
	/* A US leaf under kernel-half tables (no US) is still supervisor. */
	ck_assert_uint_eq(tr(0xffff800000001000, PT_READ), BAD_GPA);
	struct pt_walk w;
	pt_walk(&PT, 0xffff800000001000, &w);
	ck_assert(w.mapped);
	ck_assert_uint_eq(w.gpa, 0x4000);
	ck_assert_uint_eq(w.entry[0] & (PTE_P | PTE_RW | PTE_US), PTE_P | PTE_RW);
	ck_assert_uint_eq(w.entry_gpa[0], PT.root + 256 * 8);
	ck_assert_uint_eq(tr(0x0000800000000000, PT_READ), BAD_GPA);
	/* NX counts at any level (set by hand: the builder never does). */
	pt_walk(&PT, 0x1000, &w);
	*(uint64_t *)mem_ptr(&M, w.entry_gpa[2], 8) |= PTE_NX;
	ck_assert_uint_eq(tr(0x1000, PT_EXEC), BAD_GPA);
	ck_assert_uint_eq(tr(0x1000, PT_READ), 0x1000);
	/* So do RW and US. */
	*(uint64_t *)mem_ptr(&M, w.entry_gpa[1], 8) &= ~PTE_RW;
	ck_assert_uint_eq(tr(0x2000, PT_WRITE), BAD_GPA);
	ck_assert_uint_eq(tr(0x2000, PT_READ), 0x2000);
	*(uint64_t *)mem_ptr(&M, w.entry_gpa[0], 8) &= ~PTE_US;
	ck_assert_uint_eq(tr(0x2000, PT_READ), BAD_GPA);
}
END_TEST

START_TEST(test_map_fixed)
{
	const gva_t dm = 0xffff888000000000ull;
	struct pt_summary before;
	struct pt_walk w;

	vm_up(1ull << 30);
	ck_assert_int_eq(pt_map_fixed(&PT, dm, 0, M.size, PTE_RW | PTE_NX), 0);
	ck_assert_uint_eq(PT.sum.kernel_leaves, 262144);
	ck_assert_uint_eq(PT.sum.leaves[PS_4K], 0);
	ck_assert_uint_eq(PT.sum.tables[PT_LEVEL_PT], 512);
	ck_assert_uint_eq(PT.sum.tables[PT_LEVEL_PD], 1);
	ck_assert_uint_eq(PT.sum.tables[PT_LEVEL_PDPT], 1);
	for (uint64_t off = 0; off < M.size; off += 4099 * SZ_4K) {
		pt_walk(&PT, dm + off + 8, &w);
		REQUIRE(w.mapped && w.size == PS_4K && w.gpa == off + 8);
		REQUIRE((w.leaf & (PTE_US | PTE_RW | PTE_NX)) == (PTE_RW | PTE_NX));
		REQUIRE(tr(dm + off, PT_READ) == BAD_GPA);
	}
	before = PT.sum;
	ck_assert_int_eq(pt_unmap(&PT, dm + SZ_2M - SZ_4K, 2 * SZ_4K), -1);
	ck_assert_str_eq(err_msg(), "paging: unmap 0xffff8880001ff000 (+0x2000): "
				    "0xffff8880001ff000 is a VMM mapping");
	ck_assert_int_eq(pt_protect(&PT, dm, SZ_4K, RWU), -1);
	ck_assert_int_eq(pt_split(&PT, dm, SZ_2M), 0); /* nothing to split */
	ck_assert_mem_eq(&PT.sum, &before, sizeof(before));
	ck_assert_int_eq(pt_map_fixed(&PT, dm - SZ_4K, 0, 2 * SZ_4K, PTE_RW), -1);
	ck_assert_int_eq(pt_map_fixed(&PT, 0x1000, 0, 0x800, PTE_RW), -1);
	ck_assert_int_eq(pt_map_fixed(&PT, 0x1000, SZ_1G - SZ_4K, 2 * SZ_4K, PTE_RW), -1);
	ck_assert_int_eq(pt_map_fixed(&PT, 0x1000, 0, SZ_4K, PTE_SW_PROTNONE), -1);
	/* The VMM's page at the top of the user half: US from the caller. */
	ck_assert_int_eq(pt_map_fixed(&PT, USER_TOP, 0x5000, SZ_4K, PTE_US), 0);
	ck_assert_uint_eq(tr(USER_TOP + 8, PT_READ), 0x5008);
	ck_assert_uint_eq(PT.sum.kernel_leaves, 262145);
}
END_TEST

START_TEST(test_live_recording)
{
	struct apply_log log = {0};
	struct pt_walk w;
	gpa_t f0;

	vm_up(64 * MB);
	ck_assert_int_eq(pt_populate(&PT, 0x400000, 2 * SZ_4K, RWU, PS_2M), 0);
	/* Before the guest ran nothing is recorded and apply is not called. */
	ck_assert_uint_eq(PT.upd.nstores, 0);
	ck_assert_int_eq(pt_commit(&PT, apply_cb, &log), 0);
	ck_assert_int_eq(log.calls, 0);
	PT.live = true;
	ck_assert_int_eq(pt_commit(&PT, apply_cb, &log), 0);
	ck_assert_int_eq(log.calls, 0);

	/* Into absent entries of the live PT: the host's write is what the
	 * guest finds (no TLB or shadow entry holds an absent one), so no
	 * store is recorded. */
	ck_assert_int_eq(pt_populate(&PT, 0x402000, 2 * SZ_4K, RWU, PS_2M), 0);
	ck_assert_uint_eq(PT.upd.nstores, 0);
	pt_walk(&PT, 0x403000, &w);
	ck_assert(w.leaf & PTE_P);
	/* A new PT under the live PD: its link goes into an absent entry too,
	 * and the fresh PT is filled from the host. */
	ck_assert_int_eq(pt_populate(&PT, 0x600000, 3 * SZ_4K, RWU, PS_4K), 0);
	ck_assert_uint_eq(PT.upd.nstores, 0);
	pt_walk(&PT, 0x600000, &w);
	ck_assert(w.entry[2] & PTE_P);
	ck_assert_uint_eq(PT.upd.ninvlpg, 0);
	ck_assert(!PT.upd.flush_all);
	ck_assert_int_eq(pt_commit(&PT, apply_cb, &log), 0);
	ck_assert_int_eq(log.calls, 0); /* the guest is not needed */
	ck_assert_uint_eq(PT.tlb.updates, 0);
	ck_assert_uint_eq(PT.upd.nstores, 0);

	/* Unmapping 3 pages of a live table: 3 stores, 3 invalidations. */
	f0 = tr(0x400000, PT_READ);
	ck_assert_int_eq(pt_unmap(&PT, 0x400000, 3 * SZ_4K), 0);
	ck_assert_uint_eq(PT.upd.nstores, 3);
	ck_assert_uint_eq(PT.upd.ninvlpg, 3);
	ck_assert_uint_eq(PT.upd.invlpg[0], 0x400000);
	ck_assert_uint_eq(PT.upd.invlpg[2], 0x402000);
	/* Adjacent frames are merged: the tables come from the pool, so
	 * the three data frames are contiguous. */
	ck_assert_uint_eq(PT.upd.nfreed, 1);
	ck_assert_uint_eq(PT.upd.freed[0].bytes, 3 * SZ_4K);
	/* The guest refuses: the update stays pending, frames stay used. */
	log.fail = true;
	ck_assert_int_eq(pt_commit(&PT, apply_cb, &log), -1);
	ck_assert_str_eq(err_msg(), "paging: applying 3 stores, 3 invalidations: test: guest "
				    "refused");
	ck_assert_uint_eq(PT.upd.ninvlpg, 3);
	ck_assert(used_frame(f0));
	ck_assert_uint_eq(PT.tlb.updates, 0);
	log.fail = false;
	ck_assert_int_eq(pt_commit(&PT, apply_cb, &log), 0);
	ck_assert_uint_eq(log.ninvlpg, 3);
	ck_assert_uint_eq(log.invlpg[1], 0x401000);
	ck_assert(!used_frame(f0));
	ck_assert_uint_eq(PT.tlb.invlpg, 3);
	ck_assert_uint_eq(PT.tlb.updates, 1);
	/* Permissions: removing one needs invlpg, adding one does not. */
	ck_assert_int_eq(pt_protect(&PT, 0x600000, SZ_4K, PTE_US), 0);
	ck_assert_uint_eq(PT.upd.ninvlpg, 1);
	ck_assert_int_eq(pt_protect(&PT, 0x601000, SZ_4K, RWU), 0); /* unchanged */
	ck_assert_uint_eq(PT.upd.nstores, 1);
	ck_assert_int_eq(pt_protect(&PT, 0x600000, SZ_4K, RWU), 0);
	ck_assert_uint_eq(PT.upd.nstores, 2);
	ck_assert_uint_eq(PT.upd.ninvlpg, 1);
	ck_assert_int_eq(pt_protect(&PT, 0x602000, SZ_4K, RWU | PTE_NX), 0);
	ck_assert_uint_eq(PT.upd.ninvlpg, 2);
	ck_assert_int_eq(pt_protect(&PT, 0x601000, SZ_4K, PTE_SW_PROTNONE), 0);
	ck_assert_uint_eq(PT.upd.ninvlpg, 3);
	ck_assert_int_eq(pt_protect(&PT, 0x601000, SZ_4K, RWU), 0);
	ck_assert_uint_eq(PT.upd.ninvlpg, 3);
	ck_assert_int_eq(pt_commit(&PT, apply_cb, &log), 0);
	ck_assert_uint_eq(log.nstores, 5);
	ck_assert_uint_eq(PT.tlb.stores, 3 + 5);

	/* A present entry made absent is a store; made present again in the
	 * same update it is a second store to the same entry, in order (the
	 * host's write alone would be undone by the first). */
	pt_walk(&PT, 0x602000, &w);
	ck_assert_int_eq(pt_unmap(&PT, 0x602000, SZ_4K), 0);
	ck_assert_int_eq(pt_populate(&PT, 0x602000, SZ_4K, RWU, PS_4K), 0);
	ck_assert_uint_eq(PT.upd.nstores, 2);
	ck_assert_uint_eq(PT.upd.stores[0].entry, w.entry_gpa[3]);
	ck_assert_uint_eq(PT.upd.stores[0].val, 0);
	ck_assert_uint_eq(PT.upd.stores[1].entry, w.entry_gpa[3]);
	ck_assert(PT.upd.stores[1].val & PTE_P);
	ck_assert_int_eq(pt_commit(&PT, apply_cb, &log), 0);
	ck_assert_uint_eq(log.nstores, 2);
}
END_TEST

START_TEST(test_live_ceiling_and_tables)
{
	struct apply_log log = {0};
	uint64_t nfree;

	vm_up(64 * MB);
	ck_assert_int_eq(pt_populate(&PT, 0x400000, SZ_2M, RWU, PS_4K), 0);
	ck_assert_int_eq(pt_populate(&PT, 0x800000, SZ_2M, RWU, PS_2M), 0);
	PT.live = true;
	commit();
	nfree = FREE;
	/* Exactly the ceiling: still one invlpg each. */
	ck_assert_int_eq(pt_unmap(&PT, 0x400000, PT_INVLPG_CEILING * SZ_4K), 0);
	ck_assert_uint_eq(PT.upd.ninvlpg, PT_INVLPG_CEILING);
	ck_assert(!PT.upd.flush_all);
	/* One more: a full flush instead. */
	ck_assert_int_eq(pt_unmap(&PT, 0x500000, SZ_4K), 0);
	ck_assert(PT.upd.flush_all);
	ck_assert_uint_eq(PT.upd.ninvlpg, 0);
	ck_assert_int_eq(pt_commit(&PT, apply_cb, &log), 0);
	ck_assert(log.flush_all);
	ck_assert_uint_eq(PT.tlb.flush_all, 1);
	ck_assert_uint_eq(PT.tlb.invlpg, 0);
	ck_assert_uint_eq(FREE, nfree + 34);

	/* Splitting a live 2M page for a 4K hole: the link is the only
	 * store, the large page the only invalidation. */
	ck_assert_int_eq(pt_unmap(&PT, 0x900000, SZ_4K), 0);
	ck_assert_uint_eq(PT.upd.nstores, 1);
	ck_assert_uint_eq(PT.upd.ninvlpg, 1);
	ck_assert_uint_eq(PT.upd.invlpg[0], 0x800000);
	ck_assert_int_eq(pt_commit(&PT, apply_cb, &log), 0);

	/* A whole live PT goes: one store (its link), its leaves are
	 * invalidated, its frame freed after the commit. */
	struct pt_walk w;
	pt_walk(&PT, 0x600000 - SZ_4K, &w);
	gpa_t pt_page = w.entry_gpa[3] & ~0xfffull;
	ck_assert_int_eq(pt_unmap(&PT, 0x400000, SZ_2M), 0);
	ck_assert_uint_eq(PT.upd.nstores, 1);
	ck_assert_uint_eq(PT.upd.stores[0].entry, w.entry_gpa[2]);
	ck_assert_uint_eq(PT.upd.stores[0].val, 0);
	ck_assert(PT.upd.flush_all);
	ck_assert(used_frame(pt_page));
	ck_assert_int_eq(pt_commit(&PT, apply_cb, &log), 0);
	ck_assert(!used_frame(pt_page));
	ck_assert_uint_eq(PT.sum.tables[PT_LEVEL_PT], 1); /* the split one */

	/* A live PT holding only PROT_NONE leaves: no TLB entry to drop,
	 * but the table's link may be cached: one invlpg for it. */
	ck_assert_int_eq(pt_populate(&PT, 0xc00000, 2 * SZ_4K, RWU, PS_2M), 0);
	ck_assert_int_eq(pt_protect(&PT, 0xc00000, 2 * SZ_4K, PTE_SW_PROTNONE), 0);
	ck_assert_int_eq(pt_commit(&PT, apply_cb, &log), 0);
	ck_assert_int_eq(pt_unmap(&PT, 0xc00000, 2 * SZ_4K), 0);
	ck_assert_uint_eq(PT.upd.ninvlpg, 1);
	ck_assert_uint_eq(PT.upd.invlpg[0], 0xc00000);
	ck_assert_int_eq(pt_commit(&PT, apply_cb, &log), 0);

	/* A range that holds all of a live PT's leaves without covering its
	 * span: still one store, the link. */
	ck_assert_int_eq(pt_populate(&PT, 0x1001000, 8 * SZ_4K, RWU, PS_2M), 0);
	ck_assert_int_eq(pt_commit(&PT, apply_cb, &log), 0);
	ck_assert_int_eq(pt_unmap(&PT, 0x1000000, 0x10000), 0);
	ck_assert_uint_eq(PT.upd.nstores, 1);
	ck_assert_uint_eq(PT.upd.ninvlpg, 8);
	ck_assert_int_eq(pt_commit(&PT, apply_cb, &log), 0);
	/* One leaf left outside the range: the leaves go one by one. */
	ck_assert_int_eq(pt_populate(&PT, 0x1001000, 8 * SZ_4K, RWU, PS_2M), 0);
	ck_assert_int_eq(pt_commit(&PT, apply_cb, &log), 0);
	ck_assert_int_eq(pt_unmap(&PT, 0x1000000, 0x8000), 0);
	ck_assert_uint_eq(PT.upd.nstores, 7);
	ck_assert_int_eq(pt_commit(&PT, apply_cb, &log), 0);
	ck_assert_uint_eq(tr(0x1008000, PT_READ) != BAD_GPA, 1);

	/* Mapped and unmapped within one update: the guest never saw the
	 * PT; its link went into an absent entry from the host, and
	 * unlinking it is the only store (of the 0 the guest already has).
	 * Nothing needs invalidating. */
	ck_assert_int_eq(pt_populate(&PT, 0x1400000, 2 * SZ_4K, RWU, PS_2M), 0);
	ck_assert_int_eq(pt_unmap(&PT, 0x1400000, 2 * SZ_4K), 0);
	ck_assert_uint_eq(PT.upd.nstores, 1);
	ck_assert_uint_eq(PT.upd.stores[0].val, 0);
	ck_assert_uint_eq(PT.upd.ninvlpg, 0);
	ck_assert(!PT.upd.flush_all);
	ck_assert_int_eq(pt_commit(&PT, apply_cb, &log), 0);
}
END_TEST

START_TEST(test_fixed_into_live_table)
{
	vm_up(64 * MB);
	ck_assert_int_eq(pt_map_fixed(&PT, 0xffff888000000000, 0, SZ_4K, PTE_RW), 0);
	PT.live = true;
	commit();
	/* Absent entries of a live table: written from the host only. */
	ck_assert_int_eq(pt_map_fixed(&PT, 0xffff888000001000, SZ_4K, 5 * SZ_4K, PTE_RW), 0);
	ck_assert_uint_eq(PT.upd.nstores, 0);
	ck_assert_uint_eq(PT.upd.ninvlpg, 0);
	ck_assert_uint_eq(PT.sum.kernel_leaves, 6);
	ck_assert_uint_eq(tr(0xffff888000005000, PT_READ), BAD_GPA);
}
END_TEST

/* ---- randomized: map/unmap/protect/split against a per-page model ---- */

#define WIN_VA 0x7ff000000000ull /* 2 PDs' worth, straddling a 1G line */
#define WIN_BASE (WIN_VA + SZ_1G - 8 * SZ_2M)
#define WIN_PAGES (16 * 512)

struct page_model {
	bool mapped;
	gpa_t frame;
	uint64_t perm; /* PTE_PERM_MASK | PTE_SW_PROTNONE bits */
};

static struct page_model model[WIN_PAGES];
static uint64_t rng = 0x2545f4914f6cdd1dull;
static uint64_t rnd(void)
{
	return unit_rand(&rng);
}

static uint64_t rnd_perm(void)
{
	static const uint64_t perms[] = {
	    RWU, PTE_US, RWU | PTE_NX, PTE_US | PTE_NX, PTE_SW_PROTNONE, PTE_RW,
	};
	return perms[rnd() % ARRAY_SIZE(perms)];
}

static bool allowed(uint64_t perm, enum pt_access acc)
{
	if ((perm & PTE_SW_PROTNONE) || !(perm & PTE_US))
		return false;
	return acc == PT_READ || (acc == PT_WRITE ? (perm & PTE_RW) != 0 : !(perm & PTE_NX));
}

static int cmp_gpa(const void *a, const void *b)
{
	gpa_t x = *(const gpa_t *)a, y = *(const gpa_t *)b;

	return x < y ? -1 : x > y;
}

static void check_model(void)
{
	static gpa_t seen[WIN_PAGES];
	size_t n = 0;
	uint64_t pages = 0;

	for (size_t i = 0; i < WIN_PAGES; i++) {
		gva_t va = WIN_BASE + i * SZ_4K;
		struct pt_walk w;

		pt_walk(&PT, va, &w);
		if (!model[i].mapped) {
			REQUIRE(!w.mapped && !(w.leaf & PTE_SW_PROTNONE));
			continue;
		}
		REQUIRE(w.leaf != 0);
		REQUIRE(w.gpa == model[i].frame);
		REQUIRE(w.mapped == !(model[i].perm & PTE_SW_PROTNONE));
		for (int a = PT_READ; a <= PT_EXEC; a++) {
			gpa_t g = tr(va, (enum pt_access)a);

			REQUIRE((g != BAD_GPA) == allowed(model[i].perm, (enum pt_access)a));
			REQUIRE(g == BAD_GPA || g == model[i].frame);
		}
		REQUIRE(used_frame(model[i].frame));
		seen[n++] = model[i].frame;
	}
	/* No frame is used twice. */
	qsort(seen, n, sizeof(seen[0]), cmp_gpa);
	for (size_t i = 1; i < n; i++)
		REQUIRE(seen[i] != seen[i - 1]);
	pages =
	    PT.sum.leaves[PS_4K] + 512 * PT.sum.leaves[PS_2M] + 512 * 512 * PT.sum.leaves[PS_1G];
	REQUIRE(pages == n);
}

/* What the guest sees under shadow paging: a present entry of a table it
 * has walked changes only through the stores it applies, an absent one
 * reads as the host wrote it, and a table linked for the first time is
 * read as the host left it (fresh). After each commit every table
 * reachable in host memory must read the same in this view, and every
 * page whose translation lost something must have been invalidated. */
#define VIEW_FRAMES (64 * MB / SZ_4K)
static uint64_t *view[VIEW_FRAMES];

struct view_tr {
	bool present;
	gpa_t frame;	     /* of the page holding va */
	uint64_t rw, us, nx; /* effective permissions */
	gva_t page_lo, page_hi;
};

static void view_copy(gpa_t table)
{
	if (!view[table / SZ_4K])
		view[table / SZ_4K] = malloc(SZ_4K);
	REQUIRE(view[table / SZ_4K]);
	memcpy(view[table / SZ_4K], mem_ptr(&M, table, SZ_4K), SZ_4K);
}

static void view_walk(gva_t va, struct view_tr *t)
{
	gpa_t table = PT.root;

	memset(t, 0, sizeof(*t));
	t->rw = t->us = 1;
	for (int l = 3; l >= 0; l--) {
		uint64_t *v = view[table / SZ_4K], e, span = SZ_4K << (9 * l);

		REQUIRE(v != NULL); /* the guest walks a table it never saw */
		e = v[(va >> (12 + 9 * l)) & 511];
		if (!(e & PTE_P))
			return;
		t->rw &= !!(e & PTE_RW);
		t->us &= !!(e & PTE_US);
		t->nx |= !!(e & PTE_NX);
		if (l == 0 || (e & PTE_PS)) {
			t->present = true;
			t->page_lo = va & ~(span - 1);
			t->page_hi = t->page_lo + span;
			t->frame =
			    (e & PTE_ADDR_MASK & ~(span - 1)) + (va & (span - 1) & ~0xfffull);
			return;
		}
		table = e & PTE_ADDR_MASK;
	}
}

/* An entry absent in the guest's view is not cached anywhere: the guest
 * (KVM's shadow MMU at the fault, or the hardware walk under EPT/NPT)
 * reads it from memory, so it sees the host's write. */
static void view_absorb_absent(gpa_t table, int level)
{
	const uint64_t *h = mem_ptr(&M, table, SZ_4K);
	uint64_t *v = view[table / SZ_4K];

	if (!v)
		return;
	for (int i = 0; i < 512; i++) {
		if (!(v[i] & PTE_P) && (h[i] & PTE_P))
			v[i] = h[i];
		if (level > 0 && (v[i] & PTE_P) && !(v[i] & PTE_PS) && v[i] == h[i])
			view_absorb_absent(h[i] & PTE_ADDR_MASK, level - 1);
	}
}

/* Compares (or, with sync, copies) every table reachable from root. */
static void view_check_tree(gpa_t table, int level, bool sync)
{
	const uint64_t *h = mem_ptr(&M, table, SZ_4K);

	if (sync)
		view_copy(table);
	REQUIRE(view[table / SZ_4K] && memcmp(view[table / SZ_4K], h, SZ_4K) == 0);
	for (int i = 0; level > 0 && i < 512; i++)
		if ((h[i] & PTE_P) && !(h[i] & PTE_PS))
			view_check_tree(h[i] & PTE_ADDR_MASK, level - 1, sync);
}

static int guest_apply(void *ctx, const struct pt_update *u)
{
	struct apply_log *l = ctx;

	for (size_t i = 0; i < u->nstores; i++) {
		uint64_t *v = view[u->stores[i].entry / SZ_4K];

		REQUIRE(v != NULL); /* a store into a table the guest never saw */
		v[(u->stores[i].entry % SZ_4K) / 8] = u->stores[i].val;
	}
	return apply_cb(l, u);
}

static struct view_tr before[WIN_PAGES];

static void guest_commit(struct apply_log *log)
{
	int calls = log->calls;

	for (size_t i = 0; i < WIN_PAGES; i++)
		view_walk(WIN_BASE + i * SZ_4K, &before[i]);
	/* Tables the guest will meet for the first time, as the host left them. */
	for (size_t i = 0; i < PT.nfresh; i++) {
		gpa_t t = PT.fresh_list[i];

		if (PT.fresh[t / SZ_4K / 64] >> (t / SZ_4K % 64) & 1)
			view_copy(t);
	}
	REQUIRE(pt_commit(&PT, guest_apply, log) == 0);
	view_absorb_absent(PT.root, 3);
	view_check_tree(PT.root, 3, false);
	for (size_t i = 0; i < WIN_PAGES; i++) {
		struct view_tr now, *old = &before[i];
		bool lost, covered = log->calls > calls && log->flush_all;

		if (!old->present)
			continue;
		view_walk(WIN_BASE + i * SZ_4K, &now);
		lost = !now.present || now.frame != old->frame || (old->rw && !now.rw) ||
		       (old->us && !now.us) || (!old->nx && now.nx);
		for (size_t k = 0; log->calls > calls && k < log->ninvlpg; k++)
			covered |= log->invlpg[k] >= old->page_lo && log->invlpg[k] < old->page_hi;
		REQUIRE(!lost || covered);
	}
}

static void view_free(void)
{
	for (size_t i = 0; i < VIEW_FRAMES; i++) {
		free(view[i]);
		view[i] = NULL;
	}
}

START_TEST(test_random_against_model)
{
	struct apply_log log = {0};

	vm_up(64 * MB);
	memset(model, 0, sizeof(model));
	for (int step = 0; step < 300; step++) {
		uint64_t r = rnd(), first = rnd() % WIN_PAGES, len;
		uint64_t maxlen = r % 4 == 0 ? 1100 : 40;
		gva_t va;
		int op = (int)(r >> 8) % 10;

		bool replace = op < 4 && (r >> 20) % 3 == 0;

		len = 1 + rnd() % maxlen;
		if (replace) {
			/* Whole 2M slots, emptied first, so that large pages
			 * come up to be split and cut. */
			first &= ~511ull;
			len = 512 * (1 + (r >> 24) % 3);
		}
		if (first + len > WIN_PAGES)
			len = WIN_PAGES - first;
		va = WIN_BASE + first * SZ_4K;
		if (op < 4) {
			uint64_t perm = rnd_perm();
			bool any = false;
			int rc;

			if (replace) {
				REQUIRE(pt_unmap(&PT, va, len * SZ_4K) == 0);
				for (uint64_t i = first; i < first + len; i++)
					model[i].mapped = false;
				if (PT.live)
					guest_commit(&log);
				else
					commit();
			}
			for (uint64_t i = first; i < first + len; i++)
				any |= model[i].mapped;
			rc = pt_populate(&PT, va, len * SZ_4K, perm, r % 3 ? PS_2M : PS_4K);
			if (rc != (any ? -1 : 0))
				ck_abort_msg("populate: %d: %s", rc, err_msg());
			for (uint64_t i = first; !any && i < first + len; i++) {
				struct pt_walk w;
				uint64_t *p;

				pt_walk(&PT, WIN_BASE + i * SZ_4K, &w);
				p = mem_ptr(&M, w.gpa, SZ_4K);
				REQUIRE(p && p[0] == 0 && p[511] == 0); /* new frames are zero */
				p[0] = p[511] = i + 1;			/* dirty them for later */
				model[i] = (struct page_model){true, w.gpa, perm};
			}
		} else if (op < 7) {
			REQUIRE(pt_unmap(&PT, va, len * SZ_4K) == 0);
			for (uint64_t i = first; i < first + len; i++)
				model[i].mapped = false;
		} else if (op < 9) {
			uint64_t perm = rnd_perm();

			REQUIRE(pt_protect(&PT, va, len * SZ_4K, perm) == 0);
			for (uint64_t i = first; i < first + len; i++)
				model[i].perm = perm;
		} else {
			REQUIRE(pt_split(&PT, va, len * SZ_4K) == 0);
		}
		check_model();
		if (step == 40) {
			/* The guest runs for the first time: it sees what is there. */
			commit();
			PT.live = true;
			view_check_tree(PT.root, 3, true);
		}
		if (rnd() % 4 == 0) {
			if (PT.live)
				guest_commit(&log);
			else
				commit();
			/* Every frame in use is a table, a mapped page or the
			 * VMM's nothing-else: exact accounting. */
			uint64_t pages = 0;
			for (size_t i = 0; i < WIN_PAGES; i++)
				pages += model[i].mapped;
			REQUIRE(F.nframes - FREE == total_tables() + pages);
		}
	}
	view_free();
	ck_assert_int_gt(log.calls, 10);
	ck_assert_uint_gt(PT.tlb.flush_all, 0);
	ck_assert_uint_gt(PT.tlb.invlpg, 0);
}
END_TEST

/* --tlb-flush: the ceiling is the policy. full (0): any invalidation is a
 * full flush; page (SIZE_MAX): one invlpg per page, however many, with the
 * list growing past its first allocation. */
START_TEST(test_invlpg_ceiling_policies)
{
	vm_up(64 * MB);
	ck_assert_uint_eq(PT.invlpg_ceiling, PT_INVLPG_CEILING); /* the default */
	ck_assert_int_eq(pt_populate(&PT, 0x400000, 4 * SZ_2M, RWU, PS_4K), 0);
	PT.live = true;
	commit();

	PT.invlpg_ceiling = 0;
	ck_assert_int_eq(pt_unmap(&PT, 0x400000, SZ_4K), 0);
	ck_assert(PT.upd.flush_all);
	ck_assert_uint_eq(PT.upd.ninvlpg, 0);
	commit();

	PT.invlpg_ceiling = SIZE_MAX;
	ck_assert_int_eq(pt_protect(&PT, 0x600000, 1000 * SZ_4K, PTE_US | PTE_NX), 0);
	ck_assert(!PT.upd.flush_all);
	ck_assert_uint_eq(PT.upd.ninvlpg, 1000);
	for (size_t i = 0; i < 1000; i++)
		ck_assert_uint_eq(PT.upd.invlpg[i], 0x600000 + i * SZ_4K);
	commit();
	ck_assert_uint_eq(PT.tlb.flush_all, 1); /* still only the one above */
	ck_assert_uint_eq(PT.tlb.invlpg, 1000);
	ck_assert_uint_eq(tr(0x600000, PT_WRITE), BAD_GPA);
	ck_assert(tr(0x600000, PT_READ) != BAD_GPA);
}
END_TEST

/* ---- the range walker (paging_internal.h) ---- */

/* One event of a walk: a visit ('V') or a leave ('L'). */
struct walk_ev {
	char kind;
	int level;
	uint64_t lo, s, e, ent;
};

/* Records every event; descends into every table unless told not to. */
struct walk_rec {
	struct walk_ev *ev;
	size_t n, cap;
	size_t stop_at, fail_at; /* the visit (1-based) that stops or fails */
	bool no_descent;
};

static void rec_add(struct walk_rec *r, char kind, const struct pt_visit *v)
{
	if (r->n == r->cap) {
		r->cap = r->cap ? 2 * r->cap : 64;
		r->ev = realloc(r->ev, r->cap * sizeof(*r->ev));
		REQUIRE(r->ev);
	}
	r->ev[r->n++] = (struct walk_ev){kind, v->level, v->lo, v->s, v->e, v->ent};
}

static int rec_visit(struct pt_visit *v, void *ctx)
{
	struct walk_rec *r = ctx;

	rec_add(r, 'V', v);
	if (r->n == r->stop_at)
		return PT_STOP;
	if (r->n == r->fail_at)
		return -1;
	if (r->no_descent || v->ent == 0 || pt_is_leaf(v->ent, v->level))
		return PT_NEXT;
	REQUIRE(v->child == pt_table_of(v->ent));
	return PT_DESCEND;
}

static int rec_leave(struct pt_visit *v, void *ctx)
{
	rec_add(ctx, 'L', v);
	return 0;
}

/* Walks [va, va + len) from the root. */
static int rec_walk(struct walk_rec *r, gva_t va, uint64_t len)
{
	struct pt_visitor vis = {.visit = rec_visit, .leave = rec_leave, .ctx = r};
	uint64_t s = va & PT_VA_MASK;

	r->n = 0;
	return pt_range_walk(&PT, PT.root, PT_LEVEL_PML4, 0, s, s + len, &vis);
}

static void ev_is(const struct walk_ev *ev, char kind, int level, uint64_t lo, uint64_t s,
		  uint64_t e)
{
	ck_assert_msg(ev->kind == kind && ev->level == level && ev->lo == lo && ev->s == s &&
			  ev->e == e,
		      "got %c L%d lo 0x%" PRIx64 " [0x%" PRIx64 ", 0x%" PRIx64
		      "), want %c L%d lo 0x%" PRIx64 " [0x%" PRIx64 ", 0x%" PRIx64 ")",
		      ev->kind, ev->level, ev->lo, ev->s, ev->e, kind, level, lo, s, e);
}

/* A range over 4K leaves, a 1G leaf, a 2M leaf and a hole: each entry that
 * overlaps it is visited once, clipped to it, in order, with its leave
 * after everything below it. */
START_TEST(test_walker_levels_and_huge_leaves)
{
	struct walk_rec r = {0};
	uint64_t s = SZ_1G - 2 * SZ_4K, e = 2 * SZ_1G + SZ_2M + SZ_4K, g2 = 2 * SZ_1G;

	vm_up(2ull << 30); /* anonymous and untouched: costs only tables */
	ck_assert_int_eq(pt_populate(&PT, SZ_1G - 4 * SZ_4K, 4 * SZ_4K, RWU, PS_4K), 0);
	ck_assert_int_eq(pt_map(&PT, SZ_1G, SZ_1G, PS_1G, RWU), 0);
	ck_assert_int_eq(pt_map(&PT, g2, 0, PS_2M, RWU), 0);

	ck_assert_int_eq(rec_walk(&r, s, e - s), 0);
	ck_assert_uint_eq(r.n, 13);
	ev_is(&r.ev[0], 'V', 3, 0, s, e);
	ev_is(&r.ev[1], 'V', 2, 0, s, SZ_1G);
	ev_is(&r.ev[2], 'V', 1, SZ_1G - SZ_2M, s, SZ_1G);
	ev_is(&r.ev[3], 'V', 0, s, s, s + SZ_4K);
	ev_is(&r.ev[4], 'V', 0, s + SZ_4K, s + SZ_4K, SZ_1G);
	ev_is(&r.ev[5], 'L', 1, SZ_1G - SZ_2M, s, SZ_1G);
	ev_is(&r.ev[6], 'L', 2, 0, s, SZ_1G);
	ev_is(&r.ev[7], 'V', 2, SZ_1G, SZ_1G, g2); /* the 1G leaf, whole */
	ev_is(&r.ev[8], 'V', 2, g2, g2, e);
	ev_is(&r.ev[9], 'V', 1, g2, g2, g2 + SZ_2M);	     /* the 2M leaf */
	ev_is(&r.ev[10], 'V', 1, g2 + SZ_2M, g2 + SZ_2M, e); /* a hole, visited too */
	ev_is(&r.ev[11], 'L', 2, g2, g2, e);
	ev_is(&r.ev[12], 'L', 3, 0, s, e);
	ck_assert(r.ev[7].ent & PTE_PS);
	ck_assert_uint_eq(r.ev[7].ent & PTE_ADDR_MASK, SZ_1G);
	ck_assert(r.ev[9].ent & PTE_PS);
	ck_assert_uint_eq(r.ev[10].ent, 0);
	ck_assert_uint_eq(r.ev[3].ent & PTE_ADDR_MASK, tr(s, PT_READ));

	/* Inside one huge leaf: just the path to it, clipped. */
	ck_assert_int_eq(rec_walk(&r, SZ_1G + SZ_2M + SZ_4K, SZ_4K), 0);
	ck_assert_uint_eq(r.n, 3);
	ev_is(&r.ev[1], 'V', 2, SZ_1G, SZ_1G + SZ_2M + SZ_4K, SZ_1G + SZ_2M + 2 * SZ_4K);
	free(r.ev);
}
END_TEST

/* Across a PML4 entry's line, and in the kernel half (va48 with bit 47). */
START_TEST(test_walker_pml4_line_and_kernel_half)
{
	struct walk_rec r = {0};
	uint64_t line = 0x8000000000ull, k = 0xffff888000000000ull, k48 = k & PT_VA_MASK;
	char seq[32] = {0};

	vm_up(64 * MB);
	ck_assert_int_eq(pt_populate(&PT, line - SZ_4K, 2 * SZ_4K, RWU, PS_4K), 0);
	ck_assert_int_eq(rec_walk(&r, line - SZ_4K, 2 * SZ_4K), 0);
	ck_assert_uint_eq(r.n, 14);
	for (size_t i = 0; i < r.n; i++)
		seq[i] = (char)(r.ev[i].kind == 'V' ? '0' + r.ev[i].level : 'a' + r.ev[i].level);
	ck_assert_str_eq(seq, "3210bcd3210bcd");
	ev_is(&r.ev[3], 'V', 0, line - SZ_4K, line - SZ_4K, line);
	ev_is(&r.ev[7], 'V', 3, line, line, line + SZ_4K);
	ev_is(&r.ev[10], 'V', 0, line, line, line + SZ_4K);

	ck_assert_int_eq(pt_map_fixed(&PT, k, 0x5000, 2 * SZ_4K, PTE_RW), 0);
	ck_assert_int_eq(rec_walk(&r, k, 3 * SZ_4K), 0);
	ck_assert_uint_eq(r.n, 9);
	ck_assert_uint_eq(r.ev[0].lo, align_down(k48, SZ_1G * 512));
	ev_is(&r.ev[3], 'V', 0, k48, k48, k48 + SZ_4K);
	ck_assert(r.ev[3].ent & PTE_SW_FIXED);
	ck_assert(r.ev[4].ent & PTE_SW_FIXED);
	ck_assert_uint_eq(r.ev[5].ent, 0);
	free(r.ev);
}
END_TEST

/* PT_STOP and errors end the walk where they happen; a table not asked
 * for is not entered; an empty range visits nothing. */
START_TEST(test_walker_stop_error_no_descent)
{
	struct walk_rec r = {0};

	vm_up(64 * MB);
	ck_assert_int_eq(pt_populate(&PT, 0x400000, 8 * SZ_4K, RWU, PS_4K), 0);
	r.stop_at = 5;
	ck_assert_int_eq(rec_walk(&r, 0x400000, 8 * SZ_4K), PT_STOP);
	ck_assert_uint_eq(r.n, 5); /* 3 tables, 2 leaves, no leave */
	ev_is(&r.ev[4], 'V', 0, 0x401000, 0x401000, 0x402000);
	r.stop_at = 0;
	r.fail_at = 2;
	ck_assert_int_eq(rec_walk(&r, 0x400000, 8 * SZ_4K), -1);
	ck_assert_uint_eq(r.n, 2);
	r.fail_at = 0;
	r.no_descent = true;
	ck_assert_int_eq(rec_walk(&r, 0, 0x10000000000ull), 0);
	ck_assert_uint_eq(r.n, 2); /* PML4 entries 0 and 1, not below */
	ev_is(&r.ev[1], 'V', 3, 0x8000000000ull, 0x8000000000ull, 0x10000000000ull);
	ck_assert_uint_eq(r.ev[1].ent, 0);
	r.no_descent = false;
	ck_assert_int_eq(rec_walk(&r, 0x400000, 0), 0);
	ck_assert_uint_eq(r.n, 0);
	free(r.ev);
}
END_TEST

/* Checks one recorded walk of [s, e): visits are clipped to the range and
 * aligned to their level; leaves nest; the entries not descended into
 * tile [s, e) in order and are what pt_walk reads there. */
static void check_walk_events(const struct walk_rec *r, uint64_t s, uint64_t e)
{
	const struct walk_ev *stack[4];
	int depth = 0;
	uint64_t next = s;

	for (size_t i = 0; i < r->n; i++) {
		const struct walk_ev *v = &r->ev[i];
		uint64_t span = pt_span(v->level);
		bool down =
		    i + 1 < r->n && r->ev[i + 1].kind == 'V' && r->ev[i + 1].level == v->level - 1;
		struct pt_walk w;

		if (v->kind == 'L') {
			REQUIRE(depth > 0 && stack[depth - 1]->lo == v->lo &&
				stack[depth - 1]->level == v->level);
			depth--;
			continue;
		}
		REQUIRE(v->level == PT_LEVEL_PML4 - depth);
		REQUIRE(is_aligned(v->lo, span));
		REQUIRE(v->s == (s > v->lo ? s : v->lo));
		REQUIRE(v->e == (e < v->lo + span ? e : v->lo + span));
		if (down) {
			REQUIRE(v->ent && !pt_is_leaf(v->ent, v->level));
			stack[depth++] = v;
			continue;
		}
		REQUIRE(v->s == next);
		next = v->e;
		pt_walk(&PT, pt_canon(v->s), &w);
		REQUIRE(w.levels == PT_LEVEL_PML4 - v->level + 1);
		REQUIRE(w.entry[w.levels - 1] == v->ent);
	}
	REQUIRE(depth == 0 && next == e);
}

/* Random trees of 4K, 2M and 1G leaves with holes, random ranges. */
START_TEST(test_walker_random_ranges)
{
	struct walk_rec r = {0};
	uint64_t x = 0x9e3779b97f4a7c15ull, base = 0x7fc000000000ull;

	vm_up(3ull << 30);
	ck_assert_int_eq(pt_populate(&PT, base + SZ_1G, SZ_1G, RWU, PS_1G), 0);
	for (int i = 0; i < 60; i++) {
		uint64_t va = base + (x % (4 * 512)) * SZ_2M + (x >> 20) % 3 * 77 * SZ_4K;
		uint64_t len = ((x >> 32) % 5 == 0 ? SZ_1G : (1 + (x >> 40) % 700) * SZ_4K);

		x = x * 6364136223846793005ull + 1442695040888963407ull;
		pt_populate(&PT, va, len, RWU, (enum page_size)((x >> 50) % 3)); /* overlaps fail */
	}
	ck_assert_uint_eq(PT.sum.leaves[PS_1G], 1);
	ck_assert_uint_gt(PT.sum.leaves[PS_2M], 100);
	ck_assert_uint_gt(PT.sum.leaves[PS_4K], 1000);
	for (int i = 0; i < 300; i++) {
		uint64_t va = base - SZ_2M + (x % (5ull << 30) & ~(SZ_4K - 1));
		uint64_t len = (1 + (x >> 33) % 3000) * SZ_4K << ((x >> 60) % 2 ? 9 : 0);

		x = x * 6364136223846793005ull + 1442695040888963407ull;
		REQUIRE(rec_walk(&r, va, len) == 0);
		check_walk_events(&r, va & PT_VA_MASK, (va & PT_VA_MASK) + len);
	}
	free(r.ev);
}
END_TEST

/* Out of frames while splitting: the message names the call. */
START_TEST(test_split_out_of_frames)
{
	vm_up(64 * MB);
	ck_assert_int_eq(pt_populate(&PT, 0x200000, SZ_2M, RWU, PS_2M), 0);
	drain_frames();
	ck_assert_int_eq(pt_split(&PT, 0x200000, SZ_4K), -1);
	ck_assert_str_eq(err_msg(), "paging: split 0x200000 (+0x1000): splitting a large page: "
				    "frames: out of guest memory: need 4K, 0 4K frames free");
	ck_assert_uint_eq(PT.sum.leaves[PS_2M], 1);
}
END_TEST

/* Table pages come from a pool that grows by 2 MiB chunks; with a direct
 * map, every table page is reachable at its direct-map address by the next
 * commit (the chunk taken while live through recorded stores), and no data
 * frame is: the map does not grow with guest RAM. */
START_TEST(test_pool_direct_map)
{
	const gva_t dm = 0xffff888000000000ull, base = 0x100000000000ull;
	struct apply_log log = {0};
	struct pt_walk w;
	gpa_t data = 0;

	vm_up(64 * MB);
	ck_assert_int_eq(pt_direct_map(&PT, dm, PTE_RW | PTE_NX), 0);
	ck_assert_uint_eq(pt_pool_bytes(&PT), SZ_2M);
	commit();
	PT.live = true;
	/* One PT per 2M of addresses: 600 of them need a second chunk. */
	for (uint64_t i = 0; i < 600; i++) {
		ck_assert_int_eq(frames_alloc(&F, PS_4K, &data), 0);
		ck_assert_int_eq(pt_map(&PT, base + i * SZ_2M, data, PS_4K, RWU), 0);
	}
	ck_assert_uint_eq(pt_pool_bytes(&PT), 2 * SZ_2M);
	ck_assert_uint_eq(PT.pool.nmapped, 1);
	ck_assert_int_eq(pt_commit(&PT, apply_cb, &log), 0);
	ck_assert_uint_eq(PT.pool.nmapped, 2);
	for (uint64_t i = 0; i < 600; i++) {
		pt_walk(&PT, base + i * SZ_2M, &w);
		gpa_t table = w.entry_gpa[3] & ~0xfffull;

		pt_walk(&PT, dm + table, &w);
		ck_assert(w.mapped && w.gpa == table);
		ck_assert(!(w.leaf & PTE_US) && (w.leaf & PTE_RW) && w.size == PS_4K);
	}
	pt_walk(&PT, dm + data, &w);
	ck_assert(!w.mapped);
	ck_assert_uint_eq(PT.sum.kernel_leaves, 2 * 512);
	ck_assert_uint_eq(PT.sum.leaves[PS_2M], 0);
}
END_TEST

UNIT_SUITE_MAIN("paging", NULL, teardown, 60, test_pool_direct_map, test_invlpg_ceiling_policies,
		test_pte_bits, test_init_summary, test_map_walk_4k_2m_1g, test_walk_print,
		test_map_errors, test_refuse_overlaps, test_populate_edges, test_populate_1g,
		test_populate_fallback_and_failure, test_out_of_frames, test_unmap_middle_of_2m,
		test_unmap_frees_tables, test_unmap_1g_edges, test_split, test_protect,
		test_translate_perms, test_map_fixed, test_live_recording,
		test_live_ceiling_and_tables, test_fixed_into_live_table, test_random_against_model,
		test_walker_levels_and_huge_leaves, test_walker_pml4_line_and_kernel_half,
		test_walker_stop_error_no_descent, test_walker_random_ranges,
		test_split_out_of_frames)
