/* chase: pure memory latency. A single random cycle through the working
 * set, one element per cache line or one per page, walked by dependent
 * loads: every access waits for the one before, so ns/access is the full
 * cost of a cache or TLB miss (Drepper 3.3.2 and 4.3), with no overlap. */
#include "payload.h"

#include <inttypes.h>

enum per { PER_LINE, PER_PAGE };
static const char *const per_names[] = {"line", "page"};

static uint64_t ws = 0, ws_min = 4 * 1024, ws_max = 64 << 20, ops = 1 << 20;
static int per = PER_LINE, pages = PAY_PAGES_4K;

static const struct pay_opt opts[] = {
    {"ws", PAY_OPT_SIZE, &ws, NULL, "one working set (sets --min and --max; 0: unused)"},
    {"min", PAY_OPT_SIZE, &ws_min, NULL, "smallest working set (power of two)"},
    {"max", PAY_OPT_SIZE, &ws_max, NULL, "largest working set (power of two)"},
    {"per", PAY_OPT_CHOICE, &per, "line|page", "one element per 64-byte line or per 4 KiB page"},
    {"ops", PAY_OPT_COUNT, &ops, NULL, "dependent loads measured per working set"},
    {"pages", PAY_OPT_CHOICE, &pages, PAY_PAGES_CHOICES, "page size of the memory"},
};

#define LINE 64

int main(int argc, char **argv)
{
	struct pay_rng rng;
	uint64_t step, naddr;
	void **addr;
	char *buf;

	pay_parse_args(argc, argv, "chase",
		       "Random pointer chase (one random cycle, one element per line or page)\n"
		       "over each working set: the latency of one access, nothing overlapped.",
		       opts, sizeof(opts) / sizeof(opts[0]));
	if (ws)
		ws_min = ws_max = ws;
	step = per == PER_LINE ? LINE : PAY_4K;
	if (!pay_is_pow2(ws_min) || !pay_is_pow2(ws_max) || ws_min > ws_max)
		pay_usage_error("--min %" PRIu64 " --max %" PRIu64
				": need powers of two, min <= max",
				ws_min, ws_max);
	if (ws_min < step || ws_max > (1ull << 40))
		pay_usage_error("working sets must be in [%" PRIu64 ", 1T] for --per %s", step,
				per_names[per]);
	if (ops == 0)
		pay_usage_error("--ops: need at least 1");
	pay_rng_seed(&rng, pay_seed);
	pay_tsc_hz();

	buf = pay_alloc(ws_max, (enum pay_pages)pages);
	pay_touch(buf, pay_round_pages(ws_max, (enum pay_pages)pages));
	naddr = ws_max / step;
	addr = pay_alloc(naddr * sizeof(void *), PAY_PAGES_4K);

	for (uint64_t w = ws_min; w <= ws_max; w *= 2) {
		uint64_t n = w / step;
		struct pay_region r;
		struct pay_line l;
		void *p;

		for (uint64_t i = 0; i < n; i++)
			addr[i] = pay_slot(buf, i, step, LINE);
		p = pay_chain_link(addr, n, PAY_ORDER_RAND, &rng);
		p = pay_chain_walk(p, n); /* one full cycle: warm */

		pay_region_begin(&r);
		p = pay_chain_walk(p, ops);
		pay_region_end(&r);
		pay_sink += (uintptr_t)p;

		pay_line_begin(&l, pages);
		pay_line_str(&l, "per", per_names[per]);
		pay_line_u64(&l, "ws_bytes", w);
		pay_line_u64(&l, "n_elems", n);
		pay_line_result(&l, &r, ops);
		pay_line_end(&l);
	}
	pay_free(addr, naddr * sizeof(void *), PAY_PAGES_4K);
	pay_free(buf, ws_max, (enum pay_pages)pages);
	return 0;
}
