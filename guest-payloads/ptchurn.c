/* ptchurn: the cost of changing translations (Drepper 4.3.1 and 4.4: each
 * page-table change needs a TLB invalidation, and under shadow paging a trip
 * to the hypervisor). Times mmap+touch+munmap cycles per size, and mprotect
 * toggles that each re-touch the pages. Syscalls are what is measured here:
 * the region holds them on purpose. */
#include "payload.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <sys/mman.h>

enum test { T_MAP, T_MPROTECT, T_ALL };
static const char *const test_names[] = {"map-touch-unmap", "mprotect"};

static uint64_t sz_min = 0, sz_max = 8 << 20, iters = 200;
static int test = T_ALL, pages = PAY_PAGES_4K;

static const struct pay_opt opts[] = {
    {"min", PAY_OPT_SIZE, &sz_min, NULL, "smallest mapping (power of two; 0: one page of --pages)"},
    {"max", PAY_OPT_SIZE, &sz_max, NULL, "largest mapping (power of two)"},
    {"iters", PAY_OPT_COUNT, &iters, NULL, "cycles (or toggles) measured per size"},
    {"test", PAY_OPT_CHOICE, &test, "map|mprotect|all",
     "map: mmap+touch+munmap; mprotect: RO/RW toggles"},
    {"pages", PAY_OPT_CHOICE, &pages, PAY_PAGES_CHOICES, "page size of the mappings"},
};

/* Reads or writes one byte per 4 KiB page. */
static void touch_pages(char *p, uint64_t len, bool write)
{
	volatile char *c = p;
	char acc = 0;

	for (uint64_t off = 0; off < len; off += PAY_4K) {
		if (write)
			c[off] = 1;
		else
			acc ^= c[off];
	}
	pay_sink += (uint64_t)acc;
}

static void emit(enum test t, uint64_t size, const struct pay_region *r, unsigned syscalls)
{
	struct pay_line l;

	pay_line_begin(&l, pages);
	pay_line_str(&l, "test", test_names[t]);
	pay_line_u64(&l, "ws_bytes", size);
	pay_line_u64(&l, "pages_per_op", size / PAY_4K);
	pay_line_u64(&l, "syscalls_per_op", syscalls);
	pay_line_result(&l, r, iters);
	pay_line_end(&l);
}

static void map_cycles(uint64_t size)
{
	struct pay_region r;
	unsigned sc = 0;

	pay_region_begin(&r);
	for (uint64_t i = 0; i < iters; i++) {
		char *p = pay_alloc(size, (enum pay_pages)pages);

		sc = pay_alloc_syscalls + 1;
		touch_pages(p, size, true);
		pay_free(p, size, (enum pay_pages)pages);
	}
	pay_region_end(&r);
	emit(T_MAP, size, &r, sc);
}

static void mprotect_toggles(uint64_t size)
{
	char *p = pay_alloc(size, (enum pay_pages)pages);
	struct pay_region r;

	touch_pages(p, size, true);
	pay_region_begin(&r);
	for (uint64_t i = 0; i < iters; i++) {
		bool ro = (i & 1) == 0;

		if (mprotect(p, size, ro ? PROT_READ : PROT_READ | PROT_WRITE) != 0)
			pay_fatal("mprotect %" PRIu64 " bytes: %s", size, strerror(errno));
		touch_pages(p, size, !ro);
	}
	pay_region_end(&r);
	if (mprotect(p, size, PROT_READ | PROT_WRITE) != 0)
		pay_fatal("mprotect %" PRIu64 " bytes: %s", size, strerror(errno));
	pay_free(p, size, (enum pay_pages)pages);
	emit(T_MPROTECT, size, &r, 1);
}

int main(int argc, char **argv)
{
	uint64_t pg;

	pay_parse_args(argc, argv, "ptchurn",
		       "Times mmap+touch+munmap cycles and mprotect toggles (each followed by a\n"
		       "touch of every page) per mapping size: the price of page-table changes\n"
		       "and TLB invalidations, where shadow paging hurts most.",
		       opts, sizeof(opts) / sizeof(opts[0]));
	pg = pages == PAY_PAGES_2M ? PAY_2M : PAY_4K;
	if (sz_min == 0)
		sz_min = pg;
	if (!pay_is_pow2(sz_min) || !pay_is_pow2(sz_max) || sz_min > sz_max)
		pay_usage_error("--min %" PRIu64 " --max %" PRIu64
				": need powers of two, min <= max",
				sz_min, sz_max);
	if (sz_min < pg || sz_max > (1ull << 40))
		pay_usage_error("--min %" PRIu64 ": sizes must be in [one page (%" PRIu64
				") of --pages %s, 1T]",
				sz_min, pg, pay_pages_name((enum pay_pages)pages));
	if (iters == 0)
		pay_usage_error("--iters: need at least 1");
	pay_tsc_hz();

	for (int t = T_MAP; t < T_ALL; t++) {
		if (test != T_ALL && test != t)
			continue;
		for (uint64_t s = sz_min; s <= sz_max; s *= 2) {
			if (t == T_MAP)
				map_cycles(s);
			else
				mprotect_toggles(s);
		}
	}
	return 0;
}
