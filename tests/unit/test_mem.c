/* Unit tests of guest RAM: backing names, size checks, the checked gpa ->
 * host pointer, zeroing, THP and hugetlb mappings (the hugetlb pool is
 * filled and restored by the test itself, as root). */
#include "guest/mem.h"
#include "unit.h"
#include "util/err.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static struct guest_mem M;

static void setup(void)
{
	err_clear();
}
static void teardown(void)
{
	mem_destroy(&M);
}

/* Pages a new hugetlb mapping can get, as mem.c counts them. */
static bool hugetlb_avail(const char *dir, uint64_t *avail)
{
	char p[160];
	uint64_t fr, resv;

	snprintf(p, sizeof(p), "/sys/kernel/mm/hugepages/%s/free_hugepages", dir);
	if (!unit_read_u64(p, &fr))
		return false;
	snprintf(p, sizeof(p), "/sys/kernel/mm/hugepages/%s/resv_hugepages", dir);
	if (!unit_read_u64(p, &resv) || resv > fr)
		resv = 0;
	*avail = fr - resv;
	return true;
}

/* The "THPeligible:" line of the smaps entry that holds addr. */
static int thp_eligible(const void *addr)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	char line[256];
	bool in = false;
	int v = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;

		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 &&
		    strchr(line, '-') < strchr(line, ' '))
			in = (uintptr_t)addr >= lo && (uintptr_t)addr < hi;
		else if (in && sscanf(line, "THPeligible: %d", &v) == 1)
			break;
	}
	fclose(f);
	return v;
}

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

START_TEST(test_backing_names)
{
	static const char *const names[] = {"anon", "thp", "hugetlb-2m", "hugetlb-1g"};
	static const uint64_t pages[] = {SZ_4K, SZ_2M, SZ_2M, SZ_1G};
	enum mem_backing b;

	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		ck_assert_int_eq(mem_backing_parse(names[i], &b), 0);
		ck_assert_str_eq(mem_backing_name(b), names[i]);
		ck_assert_uint_eq(mem_backing_page_bytes(b), pages[i]);
	}
	ck_assert_int_eq(mem_backing_parse("hugetlb", &b), -1);
	ck_assert_str_eq(err_msg(), "mem: unknown backing 'hugetlb' (anon, thp, hugetlb-2m, "
				    "hugetlb-1g)");
	ck_assert_int_eq(mem_backing_parse("", &b), -1);
	ck_assert_int_eq(mem_backing_parse("ANON", &b), -1);
	ck_assert_int_eq(mem_backing_parse(NULL, &b), -1);
	ck_assert_str_eq(mem_backing_name((enum mem_backing)42), "?");
}
END_TEST

START_TEST(test_size_errors)
{
	ck_assert_int_eq(mem_create(&M, 3 * MB, MEM_BACKING_HUGETLB_2M, false), -1);
	ck_assert_str_eq(err_msg(), "mem: --mem 3M is not a multiple of the hugetlb-2m page (2M)");
	ck_assert_int_eq(mem_create(&M, 3 * MB, MEM_BACKING_THP, false), -1);
	ck_assert_str_eq(err_msg(), "mem: --mem 3M is not a multiple of the thp page (2M)");
	ck_assert_int_eq(mem_create(&M, 1536 * MB, MEM_BACKING_HUGETLB_1G, false), -1);
	ck_assert_str_eq(err_msg(),
			 "mem: --mem 1536M is not a multiple of the hugetlb-1g page (1G)");
	ck_assert_int_eq(mem_create(&M, 5000, MEM_BACKING_ANON, false), -1);
	ck_assert_str_eq(err_msg(), "mem: --mem 5000B is not a multiple of the anon page (4K)");
	ck_assert_int_eq(mem_create(&M, 0, MEM_BACKING_ANON, false), -1);
	ck_assert_str_eq(err_msg(), "mem: --mem must not be 0");
	ck_assert_ptr_null(M.host);
	ck_assert_ptr_null(M.map_base);
}
END_TEST

START_TEST(test_anon_ptr_bounds)
{
	uint64_t size = 64 * MB;

	ck_assert_int_eq(mem_create(&M, size, MEM_BACKING_ANON, false), 0);
	ck_assert_uint_eq(M.size, size);
	ck_assert_int_eq(M.backing, MEM_BACKING_ANON);
	ck_assert_ptr_eq(mem_ptr(&M, 0, 0), M.host);
	ck_assert_ptr_eq(mem_ptr(&M, 0, size), M.host);
	ck_assert_ptr_eq(mem_ptr(&M, size - 1, 1), M.host + size - 1);
	ck_assert_ptr_eq(mem_ptr(&M, size, 0), M.host + size); /* empty, at the end */
	ck_assert_ptr_null(mem_ptr(&M, size - 1, 2));
	ck_assert_ptr_null(mem_ptr(&M, size, 1));
	ck_assert_ptr_null(mem_ptr(&M, size + 1, 0));
	ck_assert_ptr_null(mem_ptr(&M, 0, size + 1));
	/* gpa + len wraps around to a small number: still outside. */
	ck_assert_ptr_null(mem_ptr(&M, 0x1000, UINT64_MAX - 0xfff));
	ck_assert_ptr_null(mem_ptr(&M, UINT64_MAX, 2));
	ck_assert_ptr_null(mem_ptr(&M, UINT64_MAX, 0));
	ck_assert_int_eq(thp_eligible(M.host), 0); /* MADV_NOHUGEPAGE took */
}
END_TEST

START_TEST(test_anon_zero)
{
	unsigned char vec[16];
	uint8_t *p;

	ck_assert_int_eq(mem_create(&M, 16 * SZ_4K, MEM_BACKING_ANON, false), 0);
	p = mem_ptr(&M, 0, M.size);
	memset(p, 0xa5, M.size);
	mem_zero(&M, 2 * SZ_4K, 5 * SZ_4K);
	/* MADV_DONTNEED gave the host pages back (looked at before reading
	 * them, which would map the zero page). */
	ck_assert_int_eq(mincore(p, 16 * SZ_4K, vec), 0);
	ck_assert_int_eq(vec[1] & 1, 1);
	for (int i = 2; i < 7; i++)
		ck_assert_int_eq(vec[i] & 1, 0);
	ck_assert_int_eq(vec[7] & 1, 1);
	ck_assert(all_zero(p + 2 * SZ_4K, 5 * SZ_4K));
	ck_assert_uint_eq(p[2 * SZ_4K - 1], 0xa5);
	ck_assert_uint_eq(p[7 * SZ_4K], 0xa5);
	mem_zero(&M, 0, 0); /* empty: nothing happens */
	ck_assert_uint_eq(p[0], 0xa5);
}
END_TEST

START_TEST(test_anon_prealloc)
{
	unsigned char vec[256];

	ck_assert_int_eq(mem_create(&M, 256 * SZ_4K, MEM_BACKING_ANON, true), 0);
	ck_assert_int_eq(mincore(M.host, M.size, vec), 0);
	for (int i = 0; i < 256; i++)
		ck_assert_int_eq(vec[i] & 1, 1);
	ck_assert(all_zero(M.host, M.size));
}
END_TEST

static bool thp_never(void)
{
	char line[128] = "";
	FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");

	if (f && !fgets(line, sizeof(line), f))
		line[0] = '\0';
	if (f)
		fclose(f);
	return strstr(line, "[never]") != NULL;
}

START_TEST(test_thp)
{
	uint8_t *p;

	if (thp_never()) {
		/* No quiet 4K experiment in place of the THP one. */
		ck_assert_int_eq(mem_create(&M, 8 * MB, MEM_BACKING_THP, false), -1);
		ck_assert_str_eq(err_msg(), "mem: thp: THP is disabled: "
					    "/sys/kernel/mm/transparent_hugepage/enabled says "
					    "[never] (write madvise)");
		return;
	}
	ck_assert_int_eq(mem_create(&M, 8 * MB, MEM_BACKING_THP, false), 0);
	ck_assert(is_aligned((uintptr_t)M.host, SZ_2M));
	ck_assert_int_eq(thp_eligible(M.host), 1);
	ck_assert_int_eq(thp_eligible(M.host + 8 * MB - 1), 1);
	p = M.host;
	memset(p, 0x5a, M.size);
	/* 4K on each side of a whole 2M page in the middle. */
	mem_zero(&M, 2 * MB - SZ_4K, 2 * MB + 2 * SZ_4K);
	ck_assert(all_zero(p + 2 * MB - SZ_4K, 2 * MB + 2 * SZ_4K));
	ck_assert_uint_eq(p[2 * MB - SZ_4K - 1], 0x5a);
	ck_assert_uint_eq(p[4 * MB + SZ_4K], 0x5a);
	/* Inside one 2M page only (memset). */
	mem_zero(&M, 6 * MB + SZ_4K, SZ_4K);
	ck_assert(all_zero(p + 6 * MB + SZ_4K, SZ_4K));
	ck_assert_uint_eq(p[6 * MB + SZ_4K - 1], 0x5a);
	ck_assert_uint_eq(p[6 * MB + 2 * SZ_4K], 0x5a);
	mem_destroy(&M);
	ck_assert_int_eq(mem_create(&M, 4 * MB, MEM_BACKING_THP, true), 0);
	ck_assert(all_zero(M.host, M.size));
}
END_TEST

static void check_pool_error(enum mem_backing b, const char *dir, uint64_t page, const char *name)
{
	uint64_t avail, need;
	char want[256];

	if (!hugetlb_avail(dir, &avail)) {
		printf("test_mem: skipped the %s pool check: no %s\n", name, dir);
		return;
	}
	/* One page more than the pool has: the error comes before any mmap. */
	need = avail + 1;
	ck_assert_int_eq(mem_create(&M, need * page, b, false), -1);
	snprintf(want, sizeof(want),
		 "mem: hugetlb %s pool has %" PRIu64 " free pages, need %" PRIu64
		 " (write /sys/kernel/mm/hugepages/%s/nr_hugepages)",
		 name, avail, need, dir);
	ck_assert_str_eq(err_msg(), want);
	ck_assert_ptr_null(M.host);
}

START_TEST(test_hugetlb_pool_errors)
{
	check_pool_error(MEM_BACKING_HUGETLB_2M, "hugepages-2048kB", SZ_2M, "2M");
	check_pool_error(MEM_BACKING_HUGETLB_1G, "hugepages-1048576kB", SZ_1G, "1G");
}
END_TEST

#define NR_2M "/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages"

/* The pool is raised and restored around the test case by an unchecked
 * fixture, which runs in the parent process: a failing test cannot skip
 * the restore. */
static bool pool_raised, pool_ready;
static char pool_why[200];

static void pool_setup(void)
{
	uint64_t old, avail;

	pool_raised = pool_ready = false;
	if (!unit_read_u64(NR_2M, &old)) {
		snprintf(pool_why, sizeof(pool_why), "cannot read %s", NR_2M);
		return;
	}
	if (hugetlb_avail("hugepages-2048kB", &avail) && avail >= 2) {
		pool_ready = true;
		return;
	}
	pool_raised = unit_write_u64(NR_2M, old + 2);
	pool_ready = pool_raised && hugetlb_avail("hugepages-2048kB", &avail) && avail >= 2;
	if (!pool_ready)
		snprintf(pool_why, sizeof(pool_why), "could not reserve 2 pages in %s (root?)",
			 NR_2M);
}

static void pool_teardown(void)
{
	uint64_t now;

	if (pool_raised && unit_read_u64(NR_2M, &now) && now >= 2)
		unit_write_u64(NR_2M, now - 2);
	pool_raised = false;
}

START_TEST(test_hugetlb_2m)
{
	uint8_t *p;

	if (!pool_ready) {
		printf("test_mem: skipped hugetlb-2m: %s\n", pool_why);
		return;
	}
	ck_assert_int_eq(mem_create(&M, 4 * MB, MEM_BACKING_HUGETLB_2M, true), 0);
	ck_assert(is_aligned((uintptr_t)M.host, SZ_2M));
	p = M.host;
	ck_assert(all_zero(p, M.size));
	memset(p, 0x33, M.size);
	mem_zero(&M, 0, SZ_2M);	     /* a whole huge page: DONTNEED */
	mem_zero(&M, 3 * MB, SZ_4K); /* part of one: memset */
	ck_assert(all_zero(p, SZ_2M));
	ck_assert(all_zero(p + 3 * MB, SZ_4K));
	ck_assert_uint_eq(p[SZ_2M], 0x33);
	ck_assert_uint_eq(p[3 * MB + SZ_4K], 0x33);
	ck_assert_uint_eq(p[3 * MB - 1], 0x33);
	p[0] = 1; /* the page given back faults in again */
	ck_assert_uint_eq(p[0], 1);
	mem_destroy(&M);
	/* Not prealloc'ed: the pages are reserved at mmap all the same. */
	ck_assert_int_eq(mem_create(&M, 4 * MB, MEM_BACKING_HUGETLB_2M, false), 0);
	ck_assert(all_zero(M.host, M.size));
}
END_TEST

static Suite *mem_suite(void)
{
	Suite *s = suite_create("mem");
	TCase *core =
	    UNIT_TCASE(s, "core", test_backing_names, test_size_errors, test_anon_ptr_bounds,
		       test_anon_zero, test_anon_prealloc, test_thp, test_hugetlb_pool_errors);
	TCase *huge = UNIT_TCASE(s, "hugetlb", test_hugetlb_2m);

	tcase_add_checked_fixture(core, setup, teardown);
	tcase_add_unchecked_fixture(huge, pool_setup, pool_teardown);
	tcase_add_checked_fixture(huge, setup, teardown);
	return s;
}

UNIT_MAIN(mem_suite)
