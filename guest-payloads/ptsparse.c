/* ptsparse: the page-table cost of a sparse address space (Drepper 4.2:
 * "the ideal case is to place the used memory close together in the
 * virtual address space"; ASLR spreads it out). The same number of pages is
 * mapped densely and scattered one per 2 MiB, 1 GiB or 512 GiB region; a
 * random walk over them shows the walk cost, and the distinct regions give
 * the page-table pages that layout needs. */
#include "payload.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <sys/mman.h>

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

enum spread { S_DENSE, S_2M, S_1G, S_512G, S_ALL };
static const char *const spread_names[] = {"dense", "2m", "1g", "512g"};
static const uint64_t spread_bytes[] = {0, 1ull << 21, 1ull << 30, 1ull << 39};

/* Sparse pages start here (1 TiB), far below where mmap and the stack
 * live; 240 regions of 512 GiB still end below 128 TiB - 8 TiB. */
#define SPARSE_BASE (1ull << 40)
#define MAX_512G 240

static uint64_t count = 0, ops = 1 << 20;
static int spread = S_ALL, pages = PAY_PAGES_4K;

static const struct pay_opt opts[] = {
    {"count", PAY_OPT_COUNT, &count, NULL,
     "pages mapped in every layout (0: 4096 for 4k, 64 for 2m)"},
    {"spread", PAY_OPT_CHOICE, &spread, "dense|2m|1g|512g|all",
     "one page per region of this size (all: each that applies)"},
    {"ops", PAY_OPT_COUNT, &ops, NULL, "random accesses measured per layout"},
    {"pages", PAY_OPT_CHOICE, &pages, PAY_PAGES_CHOICES, "size of each mapped page"},
};

static uint64_t page_size(void)
{
	return pages == PAY_PAGES_2M ? PAY_2M : PAY_4K;
}

/* One page at exactly `want`; the hint is refused rather than moved. */
static char *map_at(uint64_t want)
{
	const int prot = PROT_READ | PROT_WRITE, fl = MAP_PRIVATE | MAP_ANONYMOUS;
	uint64_t len = page_size();
	char *p = mmap((void *)want, len, prot, fl | MAP_FIXED_NOREPLACE, -1, 0);

	if (p == MAP_FAILED && errno == EINVAL) /* kernel without the flag */
		p = mmap((void *)want, len, prot, fl, -1, 0);
	if (p == MAP_FAILED)
		pay_fatal("mmap %" PRIu64 " bytes at 0x%" PRIx64 ": %s", len, want,
			  errno == EEXIST ? "address already in use" : strerror(errno));
	if ((uint64_t)(uintptr_t)p != want)
		pay_fatal("mmap at 0x%" PRIx64 ": got %p instead (hint not honoured)", want,
			  (void *)p);
	if (madvise(p, len, pages == PAY_PAGES_2M ? MADV_HUGEPAGE : MADV_NOHUGEPAGE) != 0)
		pay_fatal("madvise %p: %s", (void *)p, strerror(errno));
	return p;
}

/* Distinct regions of 2^shift bytes among ascending addresses. */
static uint64_t regions(void **addr, uint64_t n, int shift)
{
	uint64_t k = 0, last = UINT64_MAX;

	for (uint64_t i = 0; i < n; i++) {
		uint64_t r = (uint64_t)(uintptr_t)addr[i] >> shift;

		k += r != last;
		last = r;
	}
	return k;
}

static void measure(enum spread s, void **addr, char **pg, struct pay_rng *rng)
{
	uint64_t psz = page_size(), pt, pd, pdpt;
	char *dense = NULL;
	struct pay_region r;
	struct pay_line l;
	void *p;

	if (s == S_DENSE) {
		dense = pay_alloc(count * psz, (enum pay_pages)pages);
		for (uint64_t i = 0; i < count; i++)
			pg[i] = dense + i * psz;
	} else {
		for (uint64_t i = 0; i < count; i++)
			pg[i] = map_at(SPARSE_BASE + i * spread_bytes[s]);
	}
	for (uint64_t i = 0; i < count; i++) {
		pay_touch(pg[i], psz);
		/* The element's line moves through the page, so the pages do
		 * not all compete for one cache set. */
		addr[i] = pg[i] + (i % 64) * 64;
	}
	/* Page-table pages below the top level, from the addresses used: with
	 * 4 KiB pages one PT per 2 MiB region, one PD per 1 GiB, one PDPT per
	 * 512 GiB; 2 MiB pages are leaves in the PD and need no PT. */
	pt = pages == PAY_PAGES_2M ? 0 : regions(addr, count, 21);
	pd = regions(addr, count, 30);
	pdpt = regions(addr, count, 39);

	p = pay_chain_link(addr, count, PAY_ORDER_RAND, rng);
	p = pay_chain_walk(p, count);
	pay_region_begin(&r);
	p = pay_chain_walk(p, ops);
	pay_region_end(&r);
	pay_sink += (uintptr_t)p;

	pay_line_begin(&l, pages);
	pay_line_str(&l, "spread", spread_names[s]);
	pay_line_u64(&l, "ws_bytes", count * psz);
	pay_line_u64(&l, "count", count);
	pay_line_u64(&l, "va_span", (uint64_t)(pg[count - 1] - pg[0]) + psz);
	pay_line_u64(&l, "pt_pages", pt);
	pay_line_u64(&l, "pd_pages", pd);
	pay_line_u64(&l, "pdpt_pages", pdpt);
	pay_line_u64(&l, "table_bytes", (pt + pd + pdpt + 1) * PAY_4K);
	pay_line_result(&l, &r, ops);
	pay_line_end(&l);

	if (dense)
		pay_free(dense, count * psz, (enum pay_pages)pages);
	else
		for (uint64_t i = 0; i < count; i++)
			pay_free(pg[i], psz, (enum pay_pages)pages);
}

int main(int argc, char **argv)
{
	struct pay_rng rng;
	void **addr;
	char **pg;

	pay_parse_args(argc, argv, "ptsparse",
		       "Maps --count pages densely and one per 2M/1G/512G region, walks them in\n"
		       "random order, and reports the page-table pages each layout implies.",
		       opts, sizeof(opts) / sizeof(opts[0]));
	if (count == 0)
		count = pages == PAY_PAGES_2M ? 64 : 4096;
	if (count > (1u << 20))
		pay_usage_error("--count %" PRIu64 ": at most 1M", count);
	if (spread == S_2M && pages == PAY_PAGES_2M)
		pay_usage_error("--spread 2m with --pages 2m is the dense layout");
	if (spread == S_512G && count > MAX_512G)
		pay_usage_error("--spread 512g: --count %" PRIu64
				" > %d does not fit below 128 TiB",
				count, MAX_512G);
	if (spread == S_1G && count > 64 * 1024)
		pay_usage_error("--spread 1g: --count %" PRIu64 " > 65536", count);
	if (ops == 0)
		pay_usage_error("--ops: need at least 1");
	pay_rng_seed(&rng, pay_seed);
	pay_tsc_hz();
	addr = pay_alloc(count * sizeof(void *), PAY_PAGES_4K);
	pg = pay_alloc(count * sizeof(char *), PAY_PAGES_4K);

	for (int s = S_DENSE; s < S_ALL; s++) {
		if (spread != S_ALL && spread != s)
			continue;
		/* "all" runs every layout that applies: 2m only when pages are
		 * smaller, 512g only when the pages fit in the address space. */
		if (spread == S_ALL &&
		    ((s == S_2M && pages == PAY_PAGES_2M) || (s == S_512G && count > MAX_512G) ||
		     (s == S_1G && count > 64 * 1024)))
			continue;
		measure((enum spread)s, addr, pg, &rng);
	}
	pay_free(pg, count * sizeof(char *), PAY_PAGES_4K);
	pay_free(addr, count * sizeof(void *), PAY_PAGES_4K);
	return 0;
}
