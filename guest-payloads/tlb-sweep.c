/* tlb-sweep: the classic TLB experiment (Drepper, "What every programmer
 * should know about memory", 4.3): a walk over elements one per page versus
 * densely packed, in sequential and random order, over working sets swept
 * by powers of two. Where ns/access steps up, a TLB level ran out. */
#include "payload.h"

#include <inttypes.h>

enum layout { L_PAGE, L_DENSE, L_ALL };
enum pattern { P_SEQ, P_RAND, P_ALL };
static const char *const layout_names[] = {"page", "dense"};
static const char *const pattern_names[] = {"seq", "rand"};

static uint64_t ws_min = 4 * 1024, ws_max = 64 << 20, elem = 64, stride = 4096, ops = 1 << 20;
static uint64_t repeat = 1;
static int layout = L_ALL, pattern = P_ALL, pages = PAY_PAGES_4K;
static bool no_spread;

static const struct pay_opt opts[] = {
    {"min", PAY_OPT_SIZE, &ws_min, NULL, "smallest working set (power of two)"},
    {"max", PAY_OPT_SIZE, &ws_max, NULL, "largest working set (power of two)"},
    {"elem-size", PAY_OPT_SIZE, &elem, NULL, "bytes per element (power of two, >= 8)"},
    {"stride", PAY_OPT_SIZE, &stride, NULL,
     "distance of elements in the page layout: one element per page"},
    {"layout", PAY_OPT_CHOICE, &layout, "page|dense|all",
     "page: one element per stride; dense: packed"},
    {"pattern", PAY_OPT_CHOICE, &pattern, "seq|rand|all",
     "visiting order (rand: one random cycle)"},
    {"ops", PAY_OPT_COUNT, &ops, NULL, "accesses measured per working set"},
    {"repeat", PAY_OPT_COUNT, &repeat, NULL,
     "measurements per working set, one line each (field iter)"},
    {"pages", PAY_OPT_CHOICE, &pages, PAY_PAGES_CHOICES, "page size of the memory"},
    {"no-spread", PAY_OPT_FLAG, &no_spread, NULL,
     "put every element at the same offset in its stride (cache-set conflicts)"},
};

static void check_args(void)
{
	if (elem < 8 || !pay_is_pow2(elem))
		pay_usage_error("--elem-size %" PRIu64 ": need a power of two >= 8", elem);
	if (!pay_is_pow2(stride) || stride < elem)
		pay_usage_error("--stride %" PRIu64 ": need a power of two >= --elem-size", stride);
	if (!pay_is_pow2(ws_min) || !pay_is_pow2(ws_max) || ws_min > ws_max)
		pay_usage_error("--min %" PRIu64 " --max %" PRIu64
				": need powers of two, min <= max",
				ws_min, ws_max);
	if (ws_max > (1ull << 40))
		pay_usage_error("--max %" PRIu64 ": at most 1T", ws_max);
	if (ws_min < (layout == L_DENSE ? elem : stride))
		pay_usage_error("--min %" PRIu64 ": below one %s (%" PRIu64 ")", ws_min,
				layout == L_DENSE ? "element" : "stride",
				layout == L_DENSE ? elem : stride);
	if (ops == 0)
		pay_usage_error("--ops: need at least 1");
	if (repeat == 0 || repeat > 1000)
		pay_usage_error("--repeat %" PRIu64 ": need 1..1000", repeat);
}

static void line(enum layout lay, enum pattern pat, uint64_t ws, uint64_t n, uint64_t step,
		 uint64_t pg, uint64_t it, const struct pay_region *r)
{
	struct pay_line l;

	pay_line_begin(&l, pages);
	pay_line_str(&l, "layout", layout_names[lay]);
	pay_line_str(&l, "pattern", pattern_names[pat]);
	pay_line_u64(&l, "ws_bytes", ws);
	pay_line_u64(&l, "elem_size", elem);
	pay_line_u64(&l, "stride", step);
	pay_line_u64(&l, "n_elems", n);
	pay_line_u64(&l, "pages_touched", (ws + pg - 1) / pg);
	pay_line_bool(&l, "line_spread", !no_spread);
	if (repeat > 1)
		pay_line_u64(&l, "iter", it);
	pay_line_result(&l, r, ops);
	pay_line_end(&l);
}

static void measure(char *buf, void **addr, enum layout lay, enum pattern pat, uint64_t ws,
		    struct pay_rng *rng)
{
	uint64_t step = lay == L_PAGE ? stride : elem, n = ws / step;
	uint64_t pg = pages == PAY_PAGES_2M ? PAY_2M : PAY_4K;
	struct pay_region r;
	void *p;

	for (uint64_t i = 0; i < n; i++)
		addr[i] = no_spread ? buf + i * step : pay_slot(buf, i, step, elem);
	p = pay_chain_link(addr, n, pat == P_RAND ? PAY_ORDER_RAND : PAY_ORDER_SEQ, rng);
	p = pay_chain_walk(p, n); /* warm caches and TLBs: one full cycle */

	/* Repeats in one process show the noise within a run (a descheduled
	 * vCPU, a neighbour's burst) apart from the noise between runs. */
	for (uint64_t it = 0; it < repeat; it++) {
		pay_region_begin(&r);
		p = pay_chain_walk(p, ops);
		pay_region_end(&r);
		pay_sink += (uintptr_t)p;
		line(lay, pat, ws, n, step, pg, it, &r);
	}
}

int main(int argc, char **argv)
{
	struct pay_rng rng;
	char *buf;
	void **addr;
	uint64_t naddr;

	pay_parse_args(argc, argv, "tlb-sweep",
		       "Walks elements one per page (--stride apart) or packed, in sequential\n"
		       "or random order, over working sets --min..--max: where ns/access steps\n"
		       "up, a TLB level (or a cache) ran out.",
		       opts, sizeof(opts) / sizeof(opts[0]));
	check_args();
	pay_rng_seed(&rng, pay_seed);
	pay_tsc_hz();

	/* One buffer of the largest working set serves every layout; the
	 * dense layout needs the most chain slots. */
	buf = pay_alloc(ws_max, (enum pay_pages)pages);
	pay_touch(buf, pay_round_pages(ws_max, (enum pay_pages)pages));
	naddr = ws_max / (layout == L_PAGE ? stride : elem);
	addr = pay_alloc(naddr * sizeof(void *), PAY_PAGES_4K);

	for (int lay = L_PAGE; lay < L_ALL; lay++) {
		if (layout != L_ALL && layout != lay)
			continue;
		for (int pat = P_SEQ; pat < P_ALL; pat++) {
			if (pattern != P_ALL && pattern != pat)
				continue;
			for (uint64_t ws = ws_min; ws <= ws_max; ws *= 2)
				measure(buf, addr, (enum layout)lay, (enum pattern)pat, ws, &rng);
		}
	}
	pay_free(addr, naddr * sizeof(void *), PAY_PAGES_4K);
	pay_free(buf, ws_max, (enum pay_pages)pages);
	return 0;
}
