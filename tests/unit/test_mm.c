/* The memory syscalls against real guest RAM, frames and page tables: errno
 * values for bad arguments, placement, splitting, protection, zero-fill,
 * huge-page promotion, brk, mremap, and one guest commit per syscall. */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "guest_fixture.h"
#include "kernel/mm.h"
#include "unit.h"
#include "util/err.h"

#define GUEST_RAM (64 * MB)
#define RW (PROT_READ | PROT_WRITE)
/* Free frames, the table pool's spare ones included (it takes 2 MiB at once). */
#define FREE (fr.nfree + pt.pool.nfree)
#define ANON (MAP_PRIVATE | MAP_ANONYMOUS)
#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif
#define NO_FD ((uint64_t)-1)

static struct guest_mem mem;
static struct frames fr;
static struct page_tables pt;
static struct mm mm;
static int napply;

static int fake_apply(void *ctx, const struct pt_update *u)
{
	(void)ctx;
	ck_assert(u->nstores > 0 || u->ninvlpg > 0 || u->flush_all);
	napply++;
	return 0;
}

static void setup(void)
{
	guest_fixture_up(&mem, &fr, &pt, &mm, GUEST_RAM);
	napply = 0;
}

static void teardown(void)
{
	guest_fixture_down(&mem, &fr, &pt, &mm);
}

/* Host pointer behind a CPL3 access of va, or NULL if it would fault. */
static uint8_t *host_at(gva_t va, enum pt_access acc)
{
	gpa_t gpa;

	if (pt_translate(&pt, va, acc, &gpa) < 0)
		return NULL;
	return mem_ptr(&mem, gpa, 1);
}

/* One byte at va as CPL3 code reads it; the access must not fault. */
static uint8_t peek(gva_t va)
{
	uint8_t *p = host_at(va, PT_READ);

	ck_assert_msg(p != NULL, "read of 0x%llx faults", (unsigned long long)va);
	return *p;
}

static void poke(gva_t va, uint8_t v)
{
	uint8_t *p = host_at(va, PT_WRITE);

	ck_assert_msg(p != NULL, "write to 0x%llx faults", (unsigned long long)va);
	*p = v;
}

/* 8 bytes at va (not crossing a page), with plain ifs: used in loops. */
static void poke64(gva_t va, uint64_t v)
{
	uint8_t *p = host_at(va, PT_WRITE);

	if (!p)
		ck_abort_msg("write to 0x%llx faults", (unsigned long long)va);
	memcpy(p, &v, sizeof(v));
}

static uint64_t peek64(gva_t va)
{
	uint8_t *p = host_at(va, PT_READ);
	uint64_t v;

	if (!p)
		ck_abort_msg("read of 0x%llx faults", (unsigned long long)va);
	memcpy(&v, p, sizeof(v));
	return v;
}

static long map_anon(gva_t hint, uint64_t len, int prot, uint64_t extra)
{
	return mm_sys_mmap(&mm, hint, len, (uint64_t)prot, ANON | extra, NO_FD, 0);
}

START_TEST(policy_names)
{
	static const char *const names[] = {"4k", "2m", "1g", "madvise"};
	enum guest_page_policy p;

	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		ck_assert_int_eq(guest_page_policy_parse(names[i], &p), 0);
		ck_assert_str_eq(guest_page_policy_name(p), names[i]);
	}
	ck_assert_int_eq(guest_page_policy_parse("2M", &p), -1);
	ck_assert_str_eq(err_msg(),
			 "config: --guest-pages '2M': unknown policy (use 4k, 2m, 1g or madvise)");
}
END_TEST

START_TEST(mmap_top_down)
{
	long a = map_anon(0, 0x4000, RW, 0);
	long b = map_anon(0, 0x4000, RW, 0);
	long c = map_anon(0, 0x1000, PROT_READ, 0);

	ck_assert_int_gt(a, 0);
	ck_assert_uint_le((uint64_t)a + 0x4000, MM_MMAP_BASE);
	ck_assert_int_eq(b, a - 0x4000);
	ck_assert_int_eq(c, b - 0x1000);
	ck_assert_uint_eq(mm.vmas.n, 3);
	ck_assert_uint_eq(mm.stats.mmap, 3);
	ck_assert_ptr_nonnull(host_at((gva_t)a + 0x3fff, PT_WRITE));
	ck_assert_ptr_nonnull(host_at((gva_t)c, PT_READ));
	ck_assert_ptr_null(host_at((gva_t)c, PT_WRITE));
	ck_assert_ptr_null(host_at((gva_t)c, PT_EXEC));
	ck_assert_ptr_null(host_at((gva_t)c - 0x1000, PT_READ));
	/* Fresh anonymous memory reads as zero. */
	ck_assert_int_eq(peek((gva_t)a + 0x1234), 0);
	ck_assert_uint_eq(pt.sum.leaves[PS_4K], 9);
}
END_TEST

START_TEST(mmap_hint)
{
	const gva_t hint = 0x10000000;

	ck_assert_int_eq(map_anon(hint, 0x2000, RW, 0), (long)hint);
	/* Taken: the hint is only a hint. */
	long other = map_anon(hint + 0x1000, 0x2000, RW, 0);

	ck_assert_int_gt(other, 0);
	ck_assert_int_ne(other, (long)hint + 0x1000);
	/* Unaligned hints are rounded down, low ones up to mmap_min_addr. */
	ck_assert_int_eq(map_anon(hint + 0x10123, 0x1000, RW, 0), (long)hint + 0x10000);
	ck_assert_int_eq(map_anon(0x1000, 0x1000, RW, 0), (long)MM_MMAP_MIN);
	/* A hint whose range would pass the top of user space is ignored. */
	other = map_anon(USER_TOP - 0x1000, 0x2000, RW, 0);
	ck_assert_int_gt(other, 0);
	ck_assert_uint_le((uint64_t)other + 0x2000, MM_MMAP_BASE);
}
END_TEST

START_TEST(mmap_fixed_replaces)
{
	long a = map_anon(0, 0x6000, RW, 0);
	uint8_t *p;

	ck_assert_int_gt(a, 0);
	for (int i = 0; i < 6; i++)
		poke((gva_t)a + (gva_t)i * 0x1000, (uint8_t)(0xa0 + i));
	ck_assert_int_eq(
	    mm_sys_mmap(&mm, (gva_t)a + 0x2000, 0x2000, PROT_READ, ANON | MAP_FIXED, NO_FD, 0),
	    a + 0x2000);
	ck_assert_uint_eq(mm.vmas.n, 3);
	ck_assert_int_eq(mm.vmas.v[1].prot, PROT_READ);
	p = host_at((gva_t)a + 0x2000, PT_READ);
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(*p, 0); /* new memory, not the old contents */
	ck_assert_ptr_null(host_at((gva_t)a + 0x3000, PT_WRITE));
	ck_assert_int_eq(peek((gva_t)a + 0x1000), 0xa1);
	ck_assert_int_eq(peek((gva_t)a + 0x4000), 0xa4);
	ck_assert_uint_eq(pt.sum.leaves[PS_4K], 6);
}
END_TEST

START_TEST(mmap_fixed_noreplace)
{
	long a = map_anon(0, 0x4000, RW, 0);
	uint64_t nfree = FREE;

	ck_assert_int_eq(
	    mm_sys_mmap(&mm, (gva_t)a + 0x3000, 0x2000, RW, ANON | MAP_FIXED_NOREPLACE, NO_FD, 0),
	    -EEXIST);
	ck_assert_uint_eq(FREE, nfree);
	ck_assert_uint_eq(mm.vmas.n, 1);
	ck_assert_int_eq(
	    mm_sys_mmap(&mm, (gva_t)a + 0x4000, 0x2000, RW, ANON | MAP_FIXED_NOREPLACE, NO_FD, 0),
	    a + 0x4000);
	ck_assert_uint_eq(mm.vmas.n, 2);
}
END_TEST

START_TEST(mmap_2m_policy_aligns)
{
	long a, b;

	/* The 4k policy places big requests right below the last one. */
	b = map_anon(0, 0x3000, RW, 0);
	a = map_anon(0, SZ_2M, RW, 0);
	ck_assert_int_eq(a, b - (long)SZ_2M);
	ck_assert_uint_ne((uint64_t)a % SZ_2M, 0);
	ck_assert_uint_eq(pt.sum.leaves[PS_2M], 0);
	/* The 2m policy aligns them and maps 2M pages. */
	mm.policy = GUEST_PAGES_2M;
	a = map_anon(0, 4 * SZ_2M, RW, 0);
	ck_assert_int_gt(a, 0);
	ck_assert_uint_eq((uint64_t)a % SZ_2M, 0);
	ck_assert_uint_eq(pt.sum.leaves[PS_2M], 4);
	ck_assert_uint_eq(pt.sum.leaves[PS_4K], 3 + 512);
	ck_assert_uint_eq(mm.stats.fallback_small, 0);
	/* 2M + 8K: one 2M page, aligned, and two 4K pages. */
	a = map_anon(0, SZ_2M + 0x2000, RW, 0);
	ck_assert_uint_eq((uint64_t)a % SZ_2M, 0);
	ck_assert_uint_eq(pt.sum.leaves[PS_2M], 5);
	ck_assert_uint_eq(pt.sum.leaves[PS_4K], 3 + 512 + 2);
	/* Small requests are not aligned. */
	a = map_anon(0, 0x1000, RW, 0);
	ck_assert_uint_ne((uint64_t)a % SZ_2M, 0);
}
END_TEST

START_TEST(prot_none_reservation_then_mprotect)
{
	uint64_t nfree = FREE;
	long a = map_anon(0, 0x100000, PROT_NONE, 0);

	ck_assert_int_gt(a, 0);
	ck_assert_uint_eq(FREE, nfree); /* no frames, no tables */
	ck_assert_ptr_null(host_at((gva_t)a, PT_READ));
	ck_assert_int_eq(mm_sys_mprotect(&mm, (gva_t)a + 0x10000, 0x4000, RW), 0);
	ck_assert_uint_eq(mm.vmas.n, 3);
	ck_assert_ptr_nonnull(host_at((gva_t)a + 0x10000, PT_WRITE));
	ck_assert_ptr_nonnull(host_at((gva_t)a + 0x13fff, PT_WRITE));
	ck_assert_ptr_null(host_at((gva_t)a + 0x14000, PT_READ));
	ck_assert_ptr_null(host_at((gva_t)a + 0xf000, PT_READ));
	ck_assert_uint_eq(pt.sum.leaves[PS_4K], 4);
	ck_assert_uint_lt(FREE, nfree - 4);

	/* Back to PROT_NONE keeps the frames (and contents), then RW again
	 * over the whole region fills only the holes. */
	poke((gva_t)a + 0x11000, 0x5a);
	ck_assert_int_eq(mm_sys_mprotect(&mm, (gva_t)a, 0x100000, PROT_NONE), 0);
	ck_assert_ptr_null(host_at((gva_t)a + 0x11000, PT_READ));
	ck_assert_int_eq(mm_sys_mprotect(&mm, (gva_t)a, 0x100000, PROT_READ), 0);
	ck_assert_uint_eq(pt.sum.leaves[PS_4K], 256);
	ck_assert_int_eq(peek((gva_t)a + 0x11000), 0x5a);
	ck_assert_ptr_null(host_at((gva_t)a + 0x11000, PT_WRITE));
}
END_TEST

START_TEST(munmap_splits_in_three)
{
	uint64_t nfree = FREE;
	long a = map_anon(0, 0xc000, RW, 0);

	ck_assert_int_eq(mm_sys_munmap(&mm, (gva_t)a + 0x4000, 0x4000), 0);
	ck_assert_uint_eq(mm.vmas.n, 2);
	ck_assert_uint_eq(mm.vmas.v[0].end, (gva_t)a + 0x4000);
	ck_assert_uint_eq(mm.vmas.v[1].start, (gva_t)a + 0x8000);
	ck_assert_ptr_nonnull(host_at((gva_t)a + 0x3000, PT_WRITE));
	ck_assert_ptr_null(host_at((gva_t)a + 0x4000, PT_READ));
	ck_assert_ptr_null(host_at((gva_t)a + 0x7fff, PT_READ));
	ck_assert_ptr_nonnull(host_at((gva_t)a + 0x8000, PT_WRITE));
	ck_assert_uint_eq(pt.sum.leaves[PS_4K], 8);
	/* Everything back, tables included, once all is unmapped. */
	ck_assert_int_eq(mm_sys_munmap(&mm, (gva_t)a, 0xc000), 0);
	ck_assert_uint_eq(mm.vmas.n, 0);
	ck_assert_uint_eq(FREE, nfree);
	ck_assert_uint_eq(mm.stats.munmap, 2);
}
END_TEST

START_TEST(munmap_args)
{
	long a = map_anon(0, 0x2000, RW, 0);

	ck_assert_int_eq(mm_sys_munmap(&mm, 0x20000000, 0x1000), 0); /* a hole is fine */
	ck_assert_int_eq(mm_sys_munmap(&mm, (gva_t)a + 1, 0x1000), -EINVAL);
	ck_assert_int_eq(mm_sys_munmap(&mm, (gva_t)a, 0), -EINVAL);
	ck_assert_int_eq(mm_sys_munmap(&mm, (gva_t)a, UINT64_MAX), -EINVAL);
	ck_assert_int_eq(mm_sys_munmap(&mm, (gva_t)a, USER_TOP), -EINVAL);
	ck_assert_int_eq(mm_sys_munmap(&mm, USER_TOP + 0x1000, 0x1000), -EINVAL);
	ck_assert_int_eq(mm_sys_munmap(&mm, 0xffff800000000000ull, 0x1000), -EINVAL);
	ck_assert_uint_eq(mm.vmas.n, 1);
	/* An unaligned length covers its last partial page. */
	ck_assert_int_eq(mm_sys_munmap(&mm, (gva_t)a, 0x1001), 0);
	ck_assert_uint_eq(mm.vmas.n, 0);
}
END_TEST

START_TEST(mprotect_read_only_and_args)
{
	long a = map_anon(0, 0x4000, RW, 0);

	ck_assert_int_eq(mm_sys_mprotect(&mm, (gva_t)a + 0x1000, 0x1000, PROT_READ), 0);
	ck_assert_ptr_null(host_at((gva_t)a + 0x1000, PT_WRITE));
	ck_assert_ptr_nonnull(host_at((gva_t)a + 0x1000, PT_READ));
	ck_assert_ptr_nonnull(host_at((gva_t)a + 0x2000, PT_WRITE));
	ck_assert_ptr_null(host_at((gva_t)a + 0x2000, PT_EXEC));
	ck_assert_int_eq(mm_sys_mprotect(&mm, (gva_t)a + 0x2000, 0x1000, PROT_READ | PROT_EXEC), 0);
	ck_assert_ptr_nonnull(host_at((gva_t)a + 0x2000, PT_EXEC));
	ck_assert_uint_eq(mm.vmas.n, 4);

	ck_assert_int_eq(mm_sys_mprotect(&mm, (gva_t)a + 1, 0x1000, PROT_READ), -EINVAL);
	ck_assert_int_eq(mm_sys_mprotect(&mm, (gva_t)a, 0x1000, 0x10), -EINVAL);
	ck_assert_int_eq(mm_sys_mprotect(&mm, (gva_t)a, 0, 0x10), 0);
	ck_assert_int_eq(mm_sys_mprotect(&mm, (gva_t)a, 0x5000, PROT_READ), -ENOMEM);
	ck_assert_int_eq(mm_sys_mprotect(&mm, (gva_t)a, UINT64_MAX, PROT_READ), -ENOMEM);
	ck_assert_int_eq(mm_sys_mprotect(&mm, USER_TOP, 0x1000, PROT_READ), -ENOMEM);
	ck_assert_int_eq(
	    mm_sys_mprotect(&mm, (gva_t)a, 0x1000, PROT_READ | PROT_GROWSDOWN | PROT_GROWSUP),
	    -EINVAL);
	/* A failed mprotect changed nothing. */
	ck_assert_ptr_nonnull(host_at((gva_t)a, PT_WRITE));
	ck_assert_uint_eq(mm.vmas.n, 4);
}
END_TEST

START_TEST(enomem_leaves_nothing)
{
	uint64_t nfree = FREE;
	size_t n;
	long a = map_anon(0, 0x3000, RW, 0);

	n = mm.vmas.n;
	nfree = FREE;
	ck_assert_int_eq(map_anon(0, GUEST_RAM, RW, 0), -ENOMEM);
	ck_assert_uint_eq(FREE, nfree);
	ck_assert_uint_eq(mm.vmas.n, n);
	/* Over an existing mapping: the old one may go (as on Linux), but no
	 * new frame stays behind and the regions match the tables. */
	ck_assert_int_eq(mm_sys_mmap(&mm, (gva_t)a, GUEST_RAM, RW, ANON | MAP_FIXED, NO_FD, 0),
			 -ENOMEM);
	ck_assert_ptr_null(vma_find(&mm.vmas, (gva_t)a));
	ck_assert_ptr_null(host_at((gva_t)a, PT_READ));
	ck_assert_uint_eq(pt.sum.leaves[PS_4K], 0);
	/* A reservation costs nothing; making it accessible fails cleanly. */
	a = map_anon(0, GUEST_RAM, PROT_NONE, 0);
	ck_assert_int_gt(a, 0);
	nfree = FREE;
	ck_assert_int_eq(mm_sys_mprotect(&mm, (gva_t)a, GUEST_RAM, RW), -ENOMEM);
	ck_assert_uint_eq(FREE, nfree);
	ck_assert_uint_eq(pt.sum.leaves[PS_4K], 0);
	ck_assert_int_eq(mm.vmas.v[0].prot, PROT_NONE);
	/* Two reservations, the lower one small: it gets its frames first,
	 * and gives them back when the big one fails. */
	ck_assert_int_eq(map_anon(0, 0x10000, PROT_NONE, 0), a - 0x10000);
	ck_assert_int_eq(mm_sys_mprotect(&mm, (gva_t)a - 0x10000, GUEST_RAM + 0x10000, RW),
			 -ENOMEM);
	ck_assert_uint_eq(FREE, nfree);
	ck_assert_uint_eq(pt.sum.leaves[PS_4K], 0);
	ck_assert_ptr_null(host_at((gva_t)a - 0x10000, PT_READ));
	ck_assert_int_eq(mm.vmas.v[0].prot, PROT_NONE);
	ck_assert_int_eq(mm.vmas.v[1].prot, PROT_NONE);
	/* brk cannot grow either, and says so with the old break. */
	mm_set_brk(&mm, 0x1000000);
	ck_assert_int_eq(mm_sys_brk(&mm, 0x1000000 + GUEST_RAM), 0x1000000);
	ck_assert_uint_eq(FREE, nfree);
}
END_TEST

START_TEST(mmap_bad_args)
{
	const gva_t a = 0x20000000;

	ck_assert_int_eq(map_anon(0, 0, RW, 0), -EINVAL);
	ck_assert_int_eq(map_anon(0, UINT64_MAX, RW, 0), -ENOMEM);
	ck_assert_int_eq(map_anon(0, USER_TOP + 0x1000, RW, 0), -ENOMEM);
	ck_assert_int_eq(mm_sys_mmap(&mm, 0, 0x1000, RW, ANON, NO_FD, 0x800), -EINVAL);
	ck_assert_int_eq(map_anon(a + 0x10, 0x1000, RW, MAP_FIXED), -EINVAL);
	ck_assert_int_eq(map_anon(USER_TOP, 0x1000, RW, MAP_FIXED), -ENOMEM);
	ck_assert_int_eq(map_anon(USER_TOP - 0x1000, 0x2000, RW, MAP_FIXED), -ENOMEM);
	ck_assert_int_eq(map_anon(0x1000, 0x1000, RW, MAP_FIXED), -EPERM);
	/* Map types: none, or MAP_SHARED_VALIDATE on anonymous memory. */
	ck_assert_int_eq(mm_sys_mmap(&mm, 0, 0x1000, RW, MAP_ANONYMOUS, NO_FD, 0), -EINVAL);
	ck_assert_int_eq(mm_sys_mmap(&mm, 0, 0x1000, RW, MAP_ANONYMOUS | 0x3, NO_FD, 0), -EINVAL);
	ck_assert_int_eq(mm_sys_mmap(&mm, 0, 0x1000, RW, MAP_ANONYMOUS | 0xf, NO_FD, 0), -EINVAL);
	ck_assert_int_eq(
	    mm_sys_mmap(&mm, 0, 0x1000, RW, MAP_SHARED | MAP_ANONYMOUS | MAP_GROWSDOWN, NO_FD, 0),
	    -EINVAL);
	/* Files cannot be mapped. */
	ck_assert_int_eq(mm_sys_mmap(&mm, 0, 0x1000, RW, MAP_PRIVATE, NO_FD, 0), -EBADF);
	ck_assert_int_eq(mm_sys_mmap(&mm, 0, 0x1000, RW, MAP_PRIVATE, 0, 0), -ENODEV);
	ck_assert_int_eq(map_anon(0, 0x1000, RW, MAP_HUGETLB), -ENOMEM);
	ck_assert_int_eq(map_anon(0, 0x1000, RW, MAP_HUGETLB | (7u << 26)), -EINVAL);
	ck_assert_uint_eq(mm.vmas.n, 0);
	ck_assert_uint_eq(pt.sum.leaves[PS_4K], 0);
	ck_assert_uint_eq(mm.stats.mmap, 16);
	/* Accepted: shared anonymous memory, unknown bits, hints for a kernel
	 * that maps eagerly anyway. */
	ck_assert_int_gt(mm_sys_mmap(&mm, 0, 0x1000, RW, MAP_SHARED | MAP_ANONYMOUS, NO_FD, 0), 0);
	ck_assert_int_gt(map_anon(0, 0x1000, RW | 0x100, MAP_POPULATE | MAP_NORESERVE | 0x80000000),
			 0);
	ck_assert_int_gt(map_anon(0, 0x1000, RW, MAP_STACK | MAP_GROWSDOWN), 0);
	ck_assert_uint_eq(mm.vmas.n, 3);
	ck_assert_uint_eq(mm.vmas.v[0].flags, VMA_STACK | VMA_NOHUGE);
}
END_TEST

START_TEST(brk_grow_shrink_collide)
{
	const gva_t base = 0x800000;
	long r;

	ck_assert_int_eq(mm_sys_brk(&mm, 0), 0); /* no heap yet */
	mm_set_brk(&mm, base);
	ck_assert_int_eq(mm_sys_brk(&mm, 0), (long)base);
	ck_assert_int_eq(mm_sys_brk(&mm, base - 1), (long)base);
	ck_assert_int_eq(mm_sys_brk(&mm, base + 0x2100), (long)(base + 0x2100));
	ck_assert_ptr_nonnull(host_at(base + 0x2fff, PT_WRITE));
	ck_assert_ptr_null(host_at(base + 0x2fff, PT_EXEC));
	ck_assert_ptr_null(host_at(base + 0x3000, PT_READ));
	ck_assert_uint_eq(mm.vmas.n, 1);
	ck_assert_uint_eq(mm.vmas.v[0].flags, VMA_HEAP);
	/* Growing again extends the one heap region. */
	ck_assert_int_eq(mm_sys_brk(&mm, base + 0x5000), (long)(base + 0x5000));
	ck_assert_uint_eq(mm.vmas.n, 1);
	ck_assert_uint_eq(mm.vmas.v[0].end, base + 0x5000);
	/* Within the same page: only the value moves. */
	ck_assert_int_eq(mm_sys_brk(&mm, base + 0x4001), (long)(base + 0x4001));
	ck_assert_uint_eq(mm.vmas.v[0].end, base + 0x5000);
	/* Shrinking unmaps whole pages above the new end. */
	ck_assert_int_eq(mm_sys_brk(&mm, base + 0x1800), (long)(base + 0x1800));
	ck_assert_ptr_nonnull(host_at(base + 0x1fff, PT_WRITE));
	ck_assert_ptr_null(host_at(base + 0x2000, PT_READ));
	ck_assert_uint_eq(mm.vmas.v[0].end, base + 0x2000);
	/* Something mapped above: growth into it (or its guard page) fails. */
	ck_assert_int_eq(map_anon(base + 0x10000, 0x1000, RW, MAP_FIXED), (long)(base + 0x10000));
	ck_assert_int_eq(mm_sys_brk(&mm, base + 0x10000), (long)(base + 0x1800));
	ck_assert_int_eq(mm_sys_brk(&mm, base + 0x20000), (long)(base + 0x1800));
	ck_assert_ptr_null(host_at(base + 0x2000, PT_READ));
	r = mm_sys_brk(&mm, base + 0xf000);
	ck_assert_int_eq(r, (long)(base + 0xf000));
	ck_assert_int_eq(mm_sys_brk(&mm, UINT64_MAX), r);
	ck_assert_int_eq(mm_sys_brk(&mm, base), (long)base);
	ck_assert_uint_eq(mm.vmas.n, 1); /* only the mapping above is left */
	ck_assert_uint_eq(mm.stats.brk, 12);
}
END_TEST

START_TEST(madvise_dontneed_zero_fills)
{
	long a = map_anon(0, 0x3000, RW, 0);
	uint8_t *p0 = host_at((gva_t)a, PT_WRITE), *p1 = host_at((gva_t)a + 0x1000, PT_WRITE);
	uint8_t *p2 = host_at((gva_t)a + 0x2000, PT_WRITE);
	gpa_t before, after;

	ck_assert(p0 && p1 && p2);
	memset(p0, 0x11, 0x1000);
	memset(p1, 0x22, 0x1000);
	memset(p2, 0x33, 0x1000);
	ck_assert_int_eq(pt_translate(&pt, (gva_t)a + 0x1000, PT_READ, &before), 0);
	ck_assert_int_eq(mm_sys_madvise(&mm, (gva_t)a + 0x1000, 0x1000, MADV_DONTNEED), 0);
	ck_assert_int_eq(pt_translate(&pt, (gva_t)a + 0x1000, PT_READ, &after), 0);
	ck_assert_uint_eq(before, after); /* same frame: no TLB work needed */
	ck_assert_int_eq(peek((gva_t)a + 0x1000), 0);
	ck_assert_int_eq(peek((gva_t)a + 0x1fff), 0);
	ck_assert_int_eq(peek((gva_t)a + 0xfff), 0x11);
	ck_assert_int_eq(peek((gva_t)a + 0x2000), 0x33);
	ck_assert_int_eq(mm_sys_madvise(&mm, (gva_t)a, 0x3000, 8 /* MADV_FREE */), 0);
	ck_assert_int_eq(peek((gva_t)a + 0x2000), 0);
	ck_assert_int_eq(peek((gva_t)a), 0);
}
END_TEST

START_TEST(madvise_dontneed_part_of_2m_page)
{
	long a;
	uint8_t *p;

	mm.policy = GUEST_PAGES_2M;
	a = map_anon(0, SZ_2M, RW, 0);
	ck_assert_uint_eq(pt.sum.leaves[PS_2M], 1);
	p = host_at((gva_t)a, PT_WRITE);
	ck_assert_ptr_nonnull(p);
	memset(p, 0x77, SZ_2M); /* one frame: contiguous on the host too */
	ck_assert_int_eq(mm_sys_madvise(&mm, (gva_t)a + 0x3000, 0x2000, MADV_DONTNEED), 0);
	ck_assert_uint_eq(pt.sum.leaves[PS_2M], 1); /* not split */
	ck_assert_int_eq(p[0x2fff], 0x77);
	ck_assert_int_eq(p[0x3000], 0);
	ck_assert_int_eq(p[0x4fff], 0);
	ck_assert_int_eq(p[0x5000], 0x77);
}
END_TEST

START_TEST(madvise_args_and_flags)
{
	long a = map_anon(0, 0x4000, RW, 0);

	ck_assert_int_eq(mm_sys_madvise(&mm, (gva_t)a, 0x1000, 12345), -EINVAL);
	ck_assert_int_eq(mm_sys_madvise(&mm, (gva_t)a, 0x1000, 102 /* GUARD_INSTALL */), -EINVAL);
	ck_assert_int_eq(mm_sys_madvise(&mm, (gva_t)a + 8, 0x1000, MADV_NORMAL), -EINVAL);
	ck_assert_int_eq(mm_sys_madvise(&mm, (gva_t)a, UINT64_MAX, MADV_NORMAL), -EINVAL);
	ck_assert_int_eq(mm_sys_madvise(&mm, (gva_t)a, 0, MADV_NORMAL), 0);
	ck_assert_int_eq(mm_sys_madvise(&mm, (gva_t)a, 0x5000, MADV_WILLNEED), -ENOMEM);
	ck_assert_int_eq(mm_sys_madvise(&mm, 0x30000000, 0x1000, MADV_WILLNEED), -ENOMEM);
	ck_assert_int_eq(mm_sys_madvise(&mm, (gva_t)a, 0x1000, 9 /* MADV_REMOVE */), -EINVAL);
	ck_assert_int_eq(mm_sys_madvise(&mm, (gva_t)a, 0x4000, MADV_SEQUENTIAL), 0);
	ck_assert_int_eq(mm_sys_madvise(&mm, (gva_t)a + 0x1000, 0x1000, MADV_HUGEPAGE), 0);
	ck_assert_uint_eq(mm.vmas.n, 3);
	ck_assert_uint_eq(mm.vmas.v[1].flags, VMA_HUGE);
	/* Hole in the range: advised where mapped, ENOMEM all the same. */
	ck_assert_int_eq(mm_sys_madvise(&mm, (gva_t)a, 0x8000, MADV_NOHUGEPAGE), -ENOMEM);
	ck_assert_uint_eq(mm.vmas.v[1].flags, VMA_NOHUGE);
	ck_assert_uint_eq(mm.vmas.v[2].flags, VMA_NOHUGE);
	ck_assert_uint_eq(mm.stats.madvise, 11);
	/* Under the 4k policy collapsing is refused, as with THP off. */
	ck_assert_int_eq(mm_sys_madvise(&mm, (gva_t)a, 0x4000, 25 /* MADV_COLLAPSE */), -EINVAL);
}
END_TEST

START_TEST(madvise_hugepage_promotes)
{
	long a;
	uint64_t nfree;

	mm.policy = GUEST_PAGES_MADVISE;
	a = map_anon(0, 2 * SZ_2M + 0x1000, RW, 0);
	ck_assert_int_gt(a, 0);
	ck_assert_uint_eq((uint64_t)a % SZ_2M, 0); /* placed for a later advice */
	ck_assert_uint_eq(pt.sum.leaves[PS_2M], 0);
	for (uint64_t off = 0; off < 2 * SZ_2M + 0x1000; off += SZ_4K)
		poke64((gva_t)a + off, off);
	/* The second chunk is read-only in one page: it stays 4K. */
	ck_assert_int_eq(mm_sys_mprotect(&mm, (gva_t)a + SZ_2M + 0x5000, 0x1000, PROT_READ), 0);
	nfree = FREE;
	ck_assert_int_eq(mm_sys_madvise(&mm, (gva_t)a, 2 * SZ_2M + 0x1000, MADV_HUGEPAGE), 0);
	ck_assert_uint_eq(mm.stats.promoted_2m, 1);
	ck_assert_uint_eq(pt.sum.leaves[PS_2M], 1);
	ck_assert_uint_eq(pt.sum.leaves[PS_4K], 512 + 1);
	/* 512 small frames and a page table gone, one 2M block taken. */
	ck_assert_uint_eq(FREE, nfree + 1);
	for (uint64_t off = 0; off < 2 * SZ_2M + 0x1000; off += SZ_4K)
		if (peek64((gva_t)a + off) != off)
			ck_abort_msg("contents lost at +0x%llx", (unsigned long long)off);
	ck_assert_ptr_nonnull(host_at((gva_t)a + 0x1000, PT_WRITE));
	ck_assert_ptr_null(host_at((gva_t)a + 0x1000, PT_EXEC));
	/* Made RW again, the second chunk is promoted by a new advice. */
	ck_assert_int_eq(mm_sys_mprotect(&mm, (gva_t)a + SZ_2M, SZ_2M, RW), 0);
	ck_assert_int_eq(mm_sys_madvise(&mm, (gva_t)a + SZ_2M, SZ_2M, MADV_HUGEPAGE), 0);
	ck_assert_uint_eq(pt.sum.leaves[PS_2M], 2);
	/* New mappings in an advised region get 2M pages directly. */
	ck_assert_int_eq(mm_sys_munmap(&mm, (gva_t)a, SZ_2M), 0);
	ck_assert_int_eq(map_anon((gva_t)a, SZ_2M, RW, MAP_FIXED), a);
	ck_assert_uint_eq(pt.sum.leaves[PS_2M], 1); /* a fresh region: not advised */
}
END_TEST

START_TEST(promotion_without_2m_frame_falls_back)
{
	long a;
	gpa_t g;
	int n2m = 0;

	mm.policy = GUEST_PAGES_MADVISE;
	a = map_anon(0, SZ_2M, RW, 0);
	poke((gva_t)a + 0x1000, 9);
	/* Take every free 2M block. */
	while (frames_alloc(&fr, PS_2M, &g) == 0)
		n2m++;
	ck_assert_int_gt(n2m, 0);
	ck_assert_int_eq(mm_sys_madvise(&mm, (gva_t)a, SZ_2M, MADV_HUGEPAGE), 0);
	ck_assert_uint_eq(mm.stats.promoted_2m, 0);
	ck_assert_uint_eq(mm.stats.fallback_small, 1);
	ck_assert_int_eq(peek((gva_t)a + 0x1000), 9);
	ck_assert_int_eq(mm_sys_madvise(&mm, (gva_t)a, SZ_2M, 25 /* MADV_COLLAPSE */), -ENOMEM);
}
END_TEST

START_TEST(mprotect_splits_2m_page)
{
	long a;

	mm.policy = GUEST_PAGES_2M;
	a = map_anon(0, SZ_2M, RW, 0);
	poke((gva_t)a + 0x5000, 0x17);
	ck_assert_uint_eq(pt.sum.leaves[PS_2M], 1);
	ck_assert_int_eq(mm_sys_mprotect(&mm, (gva_t)a + 0x5000, 0x1000, PROT_READ), 0);
	ck_assert_uint_eq(pt.sum.leaves[PS_2M], 0);
	ck_assert_uint_eq(pt.sum.leaves[PS_4K], 512);
	ck_assert_ptr_null(host_at((gva_t)a + 0x5000, PT_WRITE));
	ck_assert_int_eq(peek((gva_t)a + 0x5000), 0x17);
	ck_assert_ptr_nonnull(host_at((gva_t)a + 0x4000, PT_WRITE));
	ck_assert_ptr_nonnull(host_at((gva_t)a + 0x6000, PT_WRITE));
	/* Unmapping part of a 2M page leaves the rest with its contents. */
	ck_assert_int_eq(mm_sys_munmap(&mm, (gva_t)a + 0x6000, 0x1000), 0);
	ck_assert_ptr_null(host_at((gva_t)a + 0x6000, PT_READ));
	ck_assert_int_eq(peek((gva_t)a + 0x5000), 0x17);
}
END_TEST

START_TEST(policy_fallback_counted)
{
	gpa_t g, last[2] = {0, 0};
	long a;

	/* Leave two 2M blocks, each broken by one 4K frame: over 1000 small
	 * frames and no large one. */
	mm.policy = GUEST_PAGES_2M;
	while (frames_alloc(&fr, PS_2M, &g) == 0) {
		last[1] = last[0];
		last[0] = g;
	}
	for (int i = 0; i < 2; i++) {
		frames_free(&fr, last[i], SZ_2M);
		ck_assert_int_eq(frames_reserve(&fr, last[i], SZ_4K), 0);
	}
	ck_assert_int_eq(frames_alloc(&fr, PS_2M, &g), -1);
	a = map_anon(0, SZ_2M, RW, 0);
	ck_assert_int_gt(a, 0);
	ck_assert_uint_eq((uint64_t)a % SZ_2M, 0);
	ck_assert_uint_eq(pt.sum.leaves[PS_2M], 0);
	ck_assert_uint_eq(pt.sum.leaves[PS_4K], 512);
	ck_assert_uint_eq(mm.stats.fallback_small, 1);
}
END_TEST

START_TEST(mremap_grow_move_shrink)
{
	long a = map_anon(0, 0x2000, RW, 0), b, blocker;

	poke((gva_t)a, 0x42);
	poke((gva_t)a + 0x1fff, 0x43);
	/* Free above: grows in place. */
	blocker = map_anon(0, 0x1000, RW, 0); /* right below a */
	ck_assert_int_eq(blocker, a - 0x1000);
	ck_assert_int_eq(map_anon((gva_t)a + 0x4000, 0x1000, RW, MAP_FIXED), a + 0x4000);
	ck_assert_int_eq(mm_sys_mremap(&mm, (gva_t)a, 0x2000, 0x4000, 0, 0), a);
	ck_assert_ptr_nonnull(host_at((gva_t)a + 0x3fff, PT_WRITE));
	/* Blocked above: needs MAYMOVE, then moves with the contents. */
	ck_assert_int_eq(mm_sys_mremap(&mm, (gva_t)a, 0x4000, 0x8000, 0, 0), -ENOMEM);
	b = mm_sys_mremap(&mm, (gva_t)a, 0x4000, 0x8000, MREMAP_MAYMOVE, 0);
	ck_assert_int_gt(b, 0);
	ck_assert_int_ne(b, a);
	ck_assert_ptr_null(host_at((gva_t)a, PT_READ));
	ck_assert_ptr_null(vma_find(&mm.vmas, (gva_t)a));
	ck_assert_int_eq(peek((gva_t)b), 0x42);
	ck_assert_int_eq(peek((gva_t)b + 0x1fff), 0x43);
	ck_assert_ptr_nonnull(host_at((gva_t)b + 0x7fff, PT_WRITE));
	ck_assert_int_eq(peek((gva_t)b + 0x7fff), 0);
	/* Shrinking unmaps the tail. */
	ck_assert_int_eq(mm_sys_mremap(&mm, (gva_t)b, 0x8000, 0x1000, 0, 0), b);
	ck_assert_ptr_null(host_at((gva_t)b + 0x1000, PT_READ));
	ck_assert_int_eq(peek((gva_t)b), 0x42);
	/* MREMAP_FIXED onto another mapping replaces it. */
	ck_assert_int_eq(mm_sys_mremap(&mm, (gva_t)b, 0x1000, 0x1000, MREMAP_MAYMOVE | MREMAP_FIXED,
				       (gva_t)blocker),
			 blocker);
	ck_assert_int_eq(peek((gva_t)blocker), 0x42);
	ck_assert_ptr_null(host_at((gva_t)b, PT_READ));
	/* Bad arguments. */
	ck_assert_int_eq(mm_sys_mremap(&mm, (gva_t)blocker, 0x1000, 0x2000, 0x80, 0), -EINVAL);
	ck_assert_int_eq(mm_sys_mremap(&mm, (gva_t)blocker, 0x1000, 0x2000, MREMAP_FIXED, 0),
			 -EINVAL);
	ck_assert_int_eq(mm_sys_mremap(&mm, (gva_t)blocker + 1, 0x1000, 0x2000, 0, 0), -EINVAL);
	ck_assert_int_eq(mm_sys_mremap(&mm, (gva_t)blocker, 0x1000, 0, 0, 0), -EINVAL);
	ck_assert_int_eq(mm_sys_mremap(&mm, 0x30000000, 0x1000, 0x2000, MREMAP_MAYMOVE, 0),
			 -EFAULT);
	ck_assert_int_eq(mm_sys_mremap(&mm, (gva_t)blocker, 0x3000, 0x4000, MREMAP_MAYMOVE, 0),
			 -EFAULT);
}
END_TEST

START_TEST(mremap_prot_none_keeps_frames)
{
	long a = map_anon(0, 0x4000, RW, 0), b;
	uint64_t leaves;

	poke((gva_t)a + 0x1000, 0x61);
	ck_assert_int_eq(mm_sys_munmap(&mm, (gva_t)a + 0x3000, 0x1000), 0);
	ck_assert_int_eq(mm_sys_mprotect(&mm, (gva_t)a, 0x3000, PROT_NONE), 0);
	ck_assert_int_eq(map_anon((gva_t)a + 0x3000, 0x1000, PROT_READ, MAP_FIXED), a + 0x3000);
	leaves = pt.sum.leaves[PS_4K];
	b = mm_sys_mremap(&mm, (gva_t)a, 0x3000, 0x6000, MREMAP_MAYMOVE, 0);
	ck_assert_int_gt(b, 0);
	ck_assert_uint_eq(pt.sum.leaves[PS_4K], leaves); /* 3 moved, no new ones */
	ck_assert_int_eq(mm_sys_mprotect(&mm, (gva_t)b, 0x6000, PROT_READ), 0);
	ck_assert_int_eq(peek((gva_t)b + 0x1000), 0x61);
	ck_assert_int_eq(peek((gva_t)b + 0x5000), 0);
}
END_TEST

/* A PROT_NONE region whose second page has a frame and whose first has
 * none (two regions Linux would have merged), moved, then made readable:
 * the hole before the frame and the ones after it get frames. */
START_TEST(mremap_prot_none_hole_before_frame)
{
	long r = map_anon(0, 0x2000, PROT_NONE, 0), b;

	ck_assert_int_eq(mm_sys_mprotect(&mm, (gva_t)r + 0x1000, 0x1000, RW), 0);
	poke((gva_t)r + 0x1000, 0x3c);
	ck_assert_int_eq(mm_sys_mprotect(&mm, (gva_t)r + 0x1000, 0x1000, PROT_NONE), 0);
	ck_assert_uint_eq(mm.vmas.n, 2);
	ck_assert_int_eq(map_anon((gva_t)r + 0x2000, 0x1000, RW, MAP_FIXED), r + 0x2000);
	b = mm_sys_mremap(&mm, (gva_t)r, 0x2000, 0x4000, MREMAP_MAYMOVE, 0);
	ck_assert_int_gt(b, 0);
	ck_assert_int_ne(b, r);
	ck_assert_uint_eq(pt.sum.leaves[PS_4K], 2); /* the moved frame, the blocker */
	ck_assert_int_eq(mm_sys_mprotect(&mm, (gva_t)b, 0x4000, PROT_READ), 0);
	ck_assert_int_eq(peek((gva_t)b), 0);
	ck_assert_int_eq(peek((gva_t)b + 0x1000), 0x3c);
	ck_assert_int_eq(peek((gva_t)b + 0x3000), 0);
	ck_assert_uint_eq(pt.sum.leaves[PS_4K], 5);
}
END_TEST

START_TEST(map_fixed_for_loader)
{
	ck_assert_int_eq(mm_map_fixed(&mm, 0x400000, 0x3000, PROT_READ | PROT_EXEC, VMA_ELF), 0);
	ck_assert_ptr_nonnull(host_at(0x402000, PT_EXEC));
	ck_assert_ptr_null(host_at(0x402000, PT_WRITE));
	ck_assert_int_eq(mm_map_fixed(&mm, 0x402000, 0x2000, RW, VMA_ELF), -1);
	ck_assert_str_eq(err_msg(), "mm: mapping 0x402000-0x404000: overlaps 0x400000-0x403000");
	ck_assert_int_eq(mm_map_fixed(&mm, 0x500800, 0x1000, RW, 0), -1);
	ck_assert_str_eq(err_msg(), "mm: mapping 0x500800-0x501800: not 4K aligned inside the "
				    "user address space");
	ck_assert_int_eq(mm_map_fixed(&mm, 0x600000, GUEST_RAM, RW, 0), -1);
	ck_assert_str_eq(err_msg(), "mm: mapping 0x600000-0x4600000: paging: out of guest memory "
				    "mapping 0x600000 (+67108864 bytes): frames: out of guest "
				    "memory: need 4K, 0 4K frames free");
	ck_assert_uint_eq(mm.vmas.n, 1);
	ck_assert_uint_eq(mm.stats.mmap, 0);
}
END_TEST

START_TEST(system_region_is_sealed)
{
	const gva_t sys = MM_MMAP_BASE - 0x1000;

	ck_assert_int_eq(mm_map_fixed(&mm, sys, 0x1000, PROT_READ | PROT_EXEC, VMA_SYSTEM), 0);
	ck_assert_int_eq(mm_sys_munmap(&mm, sys - 0x1000, 0x2000), -EPERM);
	ck_assert_int_eq(mm_sys_mprotect(&mm, sys, 0x1000, RW), -EPERM);
	ck_assert_int_eq(map_anon(sys, 0x1000, RW, MAP_FIXED), -EPERM);
	ck_assert_int_eq(mm_sys_madvise(&mm, sys, 0x1000, MADV_DONTNEED), -EPERM);
	ck_assert_int_eq(mm_sys_mremap(&mm, sys, 0x1000, 0x2000, MREMAP_MAYMOVE, 0), -EPERM);
	ck_assert_ptr_nonnull(host_at(sys, PT_EXEC));
	ck_assert_uint_eq(mm.vmas.n, 1);
}
END_TEST

/* Once the guest runs, every syscall that changes present entries of live
 * tables reaches it in exactly one batch; one that only fills absent ones
 * needs none. */
START_TEST(one_commit_per_syscall)
{
	long a, b;

	mm.apply = fake_apply;
	a = map_anon(0, 0x4000, RW, 0); /* first mapping, before the guest runs */
	ck_assert_int_eq(napply, 0);
	pt.live = true;
	/* Into absent entries of live tables: the host's writes are what
	 * the guest finds, no batch at all. */
	b = map_anon(0, 0x4000, RW, 0);
	ck_assert_int_gt(b, 0);
	ck_assert_int_eq(napply, 0);
	ck_assert_int_eq(mm_sys_mprotect(&mm, (gva_t)a, 0x4000, PROT_READ), 0);
	ck_assert_int_eq(napply, 1);
	ck_assert_int_eq(mm_sys_munmap(&mm, (gva_t)a + 0x1000, 0x2000), 0);
	ck_assert_int_eq(napply, 2);
	mm_set_brk(&mm, 0x800000);
	ck_assert_int_eq(mm_sys_brk(&mm, 0x900000), 0x900000); /* grows: absent entries */
	ck_assert_int_eq(napply, 2);
	ck_assert_int_eq(mm_sys_brk(&mm, 0x850000), 0x850000);
	ck_assert_int_eq(napply, 3);
	ck_assert_int_gt(mm_sys_mremap(&mm, (gva_t)b, 0x4000, 0x40000, MREMAP_MAYMOVE, 0), 0);
	ck_assert_int_eq(napply, 4);
	/* Promoting several chunks is still one batch. */
	mm.policy = GUEST_PAGES_MADVISE;
	b = map_anon(0, 3 * SZ_2M, RW, 0);
	ck_assert_int_eq(napply, 4);
	ck_assert_int_eq(mm_sys_madvise(&mm, (gva_t)b, 3 * SZ_2M, MADV_HUGEPAGE), 0);
	ck_assert_uint_eq(mm.stats.promoted_2m, 3);
	ck_assert_int_eq(napply, 5);
	/* Nothing to change, nothing to apply. */
	ck_assert_int_gt(map_anon(0, 0x4000, PROT_NONE, 0), 0);
	ck_assert_int_eq(mm_sys_munmap(&mm, 0x30000000, 0x1000), 0);
	ck_assert_int_eq(mm_sys_madvise(&mm, (gva_t)a, 0x1000, MADV_DONTNEED), 0);
	ck_assert_int_eq(map_anon(0, 0, RW, 0), -EINVAL);
	ck_assert_int_eq(napply, 5);
	ck_assert(!mm.failed);
}
END_TEST

static int failing_apply(void *ctx, const struct pt_update *u)
{
	(void)ctx;
	(void)u;
	return err_set("run: guest refused");
}

START_TEST(apply_failure_marks_mm_failed)
{
	long a = map_anon(0, 0x4000, RW, 0);

	pt.live = true;
	mm.apply = failing_apply;
	ck_assert_int_eq(mm_sys_munmap(&mm, (gva_t)a, 0x1000), -ENOMEM);
	ck_assert(mm.failed);
	ck_assert_str_eq(err_msg(), "mm: page-table update: paging: applying 1 stores, 1 "
				    "invalidations: run: guest refused");
}
END_TEST

/* Random syscalls, then the invariants the rest of the VMM relies on: every
 * page of an accessible region translates with exactly its protection, no
 * page outside a region translates, and unmapping everything gives every
 * frame back. */
static uint64_t rnd_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(uint64_t n)
{
	rnd_state = rnd_state * 6364136223846793005ull + 1442695040888963407ull;
	return (rnd_state >> 33) % n;
}

#define WIN_PAGES 1024ull
#define WIN_BASE (MM_MMAP_BASE - 2 * WIN_PAGES * SZ_4K)

/* The first page of the window that breaks an invariant, or 0. Plain ifs:
 * Check reports each passing assertion through a pipe, too slow here. */
static gva_t check_window(void)
{
	for (uint64_t i = 0; i < 2 * WIN_PAGES; i++) {
		gva_t va = WIN_BASE + i * SZ_4K;
		const struct vma *v = vma_find(&mm.vmas, va);
		struct pt_walk w;
		gpa_t g;

		pt_walk(&pt, va, &w);
		if (!v) {
			if (w.leaf != 0)
				return va; /* a frame outside every region */
		} else if (v->prot == PROT_NONE) {
			if (pt_translate(&pt, va, PT_READ, &g) == 0)
				return va;
		} else if (pt_translate(&pt, va, PT_READ, &g) != 0 ||
			   (pt_translate(&pt, va, PT_WRITE, &g) == 0) !=
			       ((v->prot & PROT_WRITE) != 0) ||
			   (pt_translate(&pt, va, PT_EXEC, &g) == 0) !=
			       ((v->prot & PROT_EXEC) != 0)) {
			return va;
		}
	}
	return 0;
}

START_TEST(random_ops_keep_invariants)
{
	static const int prots[] = {PROT_NONE, PROT_READ, RW, PROT_READ | PROT_EXEC};
	static const enum guest_page_policy pols[] = {GUEST_PAGES_4K, GUEST_PAGES_2M,
						      GUEST_PAGES_MADVISE};
	uint64_t nfree0 = FREE;
	gva_t bad;

	mm.apply = fake_apply;
	pt.live = true;
	mm_set_brk(&mm, 0x1000000);
	for (int op = 0; op < 600; op++) {
		gva_t a = WIN_BASE + rnd(2 * WIN_PAGES) * SZ_4K;
		uint64_t len = (1 + rnd(rnd(4) == 0 ? 700 : 40)) * SZ_4K;
		int prot = prots[rnd(ARRAY_SIZE(prots))];
		long r = 0;

		mm.policy = pols[rnd(ARRAY_SIZE(pols))];
		switch (rnd(8)) {
		case 0:
			r = map_anon(a, len, prot, MAP_FIXED);
			break;
		case 1:
			r = map_anon(rnd(2) ? a : 0, len, prot, 0);
			break;
		case 2:
			r = mm_sys_munmap(&mm, a, len);
			break;
		case 3:
			r = mm_sys_mprotect(&mm, a, len, (uint64_t)prot);
			break;
		case 4:
			r = mm_sys_madvise(&mm, a, len, rnd(2) ? 14 : MADV_DONTNEED);
			break;
		case 5:
			r = mm_sys_mremap(&mm, a, len, (1 + rnd(64)) * SZ_4K, MREMAP_MAYMOVE, 0);
			break;
		case 6:
			r = mm_sys_brk(&mm, 0x1000000 + rnd(64) * 0x1800);
			break;
		default:
			r = map_anon(0, SZ_2M + rnd(4) * SZ_4K, prot, 0);
			break;
		}
		bad = check_window();
		if (bad || mm.failed)
			ck_abort_msg("op %d (result %ld): page 0x%llx breaks an invariant", op, r,
				     (unsigned long long)bad);
	}
	ck_assert_int_eq(mm_sys_munmap(&mm, MM_MMAP_MIN, USER_TOP - MM_MMAP_MIN), 0);
	ck_assert_uint_eq(mm.vmas.n, 0);
	ck_assert_uint_eq(pt.sum.leaves[PS_4K] + pt.sum.leaves[PS_2M], 0);
	ck_assert_uint_eq(FREE, nfree0);
}
END_TEST

/* --guest-pages 2m maps eagerly with 2M pages; MADV_NOHUGEPAGE then
 * splits those of its range into 4K pages (the same frames), and the 4k
 * policy has nothing to split. */
START_TEST(madvise_nohugepage_splits_2m)
{
	long a;
	gpa_t before, after;

	mm.policy = GUEST_PAGES_2M;
	a = map_anon(0, 2 * SZ_2M, RW, 0);
	ck_assert_int_gt(a, 0);
	ck_assert_uint_eq(pt.sum.leaves[PS_2M], 2);
	ck_assert_int_eq(pt_translate(&pt, (gva_t)a + SZ_2M + 0x5008, PT_READ, &before), 0);
	ck_assert_int_eq(mm_sys_madvise(&mm, (gva_t)a + SZ_2M, SZ_2M, MADV_NOHUGEPAGE), 0);
	ck_assert_uint_eq(pt.sum.leaves[PS_2M], 1);
	ck_assert_uint_eq(pt.sum.leaves[PS_4K] >= 512, 1);
	ck_assert_uint_eq(mm.stats.split_nohuge, 1);
	ck_assert_int_eq(pt_translate(&pt, (gva_t)a + SZ_2M + 0x5008, PT_READ, &after), 0);
	ck_assert_uint_eq(before, after);
	/* New mappings in that region stay small too (policy_max). */
	mm.policy = GUEST_PAGES_4K;
	ck_assert_int_eq(mm_sys_madvise(&mm, (gva_t)a, SZ_2M, MADV_NOHUGEPAGE), 0);
	ck_assert_uint_eq(pt.sum.leaves[PS_2M], 1);
	ck_assert_uint_eq(mm.stats.split_nohuge, 1);
}
END_TEST

UNIT_SUITE_MAIN("mm", setup, teardown, 0, policy_names, madvise_nohugepage_splits_2m, mmap_top_down,
		mmap_hint, mmap_fixed_replaces, mmap_fixed_noreplace, mmap_2m_policy_aligns,
		prot_none_reservation_then_mprotect, munmap_splits_in_three, munmap_args,
		mprotect_read_only_and_args, enomem_leaves_nothing, mmap_bad_args,
		brk_grow_shrink_collide, madvise_dontneed_zero_fills,
		madvise_dontneed_part_of_2m_page, madvise_args_and_flags, madvise_hugepage_promotes,
		promotion_without_2m_frame_falls_back, mprotect_splits_2m_page,
		policy_fallback_counted, mremap_grow_move_shrink, mremap_prot_none_keeps_frames,
		mremap_prot_none_hole_before_frame, map_fixed_for_loader, system_region_is_sealed,
		one_commit_per_syscall, apply_failure_marks_mm_failed, random_ops_keep_invariants)
