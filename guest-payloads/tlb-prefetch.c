/* tlb-prefetch: "programmers cannot rely on hardware prefetching to
 * prefetch TLB entries. It has to be done explicitly using prefetch
 * instructions" (Drepper 4.3). The same random walk, one node per page,
 * without prefetch, with a prefetch of the node --distance steps ahead, and
 * with a prefetch of another line of that node's page: the last one warms
 * only the translation, not the data. */
#include "payload.h"

#include <inttypes.h>

enum mode { M_NONE, M_LINE, M_PAGE, M_ALL };
static const char *const mode_names[] = {"none", "line", "page"};

struct node {
	struct node *next;
	const char *pf; /* what to prefetch on arrival here */
};

static uint64_t ws_min = 1 << 20, ws_max = 64 << 20, stride = 4096, distance = 8, ops = 1 << 20;
static int mode = M_ALL, pages = PAY_PAGES_4K;

static const struct pay_opt opts[] = {
    {"min", PAY_OPT_SIZE, &ws_min, NULL, "smallest working set (power of two)"},
    {"max", PAY_OPT_SIZE, &ws_max, NULL, "largest working set (power of two)"},
    {"stride", PAY_OPT_SIZE, &stride, NULL, "distance of nodes: one per page"},
    {"distance", PAY_OPT_COUNT, &distance, NULL, "prefetch this many nodes ahead"},
    {"mode", PAY_OPT_CHOICE, &mode, "none|line|page|all",
     "none; line: the node itself; page: another line of its page"},
    {"ops", PAY_OPT_COUNT, &ops, NULL, "nodes visited per measurement"},
    {"pages", PAY_OPT_CHOICE, &pages, PAY_PAGES_CHOICES, "page size of the memory"},
};

__attribute__((noinline)) static struct node *walk(struct node *p, uint64_t steps)
{
	for (uint64_t i = 0; i < steps; i++)
		p = p->next;
	return p;
}

__attribute__((noinline)) static struct node *walk_pf(struct node *p, uint64_t steps)
{
	for (uint64_t i = 0; i < steps; i++) {
		__builtin_prefetch(p->pf);
		p = p->next;
	}
	return p;
}

/* Links the nodes in the (shuffled) order of addr and points each one's pf
 * `distance` nodes ahead: at that node (line) or at a line of the same
 * 4 KiB page that no node uses (page). */
static struct node *build(void **addr, uint64_t n, enum mode m, struct pay_rng *rng)
{
	/* Another line of the same 4 KiB page that holds no node. */
	uintptr_t half = stride >= 4096 ? 2048 : stride / 2;

	pay_shuffle(addr, n, rng);
	for (uint64_t i = 0; i < n; i++) {
		struct node *x = addr[i];
		char *ahead = addr[(i + distance) % n];

		x->next = addr[(i + 1) % n];
		x->pf = m == M_PAGE ? (char *)((uintptr_t)ahead ^ half) : ahead;
	}
	return addr[0];
}

int main(int argc, char **argv)
{
	struct pay_rng rng;
	uint64_t naddr;
	void **addr;
	char *buf;

	pay_parse_args(argc, argv, "tlb-prefetch",
		       "A random walk over nodes one per page, without and with software\n"
		       "prefetch of the node --distance ahead (line) or of its page only (page).",
		       opts, sizeof(opts) / sizeof(opts[0]));
	if (!pay_is_pow2(ws_min) || !pay_is_pow2(ws_max) || ws_min > ws_max)
		pay_usage_error("--min %" PRIu64 " --max %" PRIu64
				": need powers of two, min <= max",
				ws_min, ws_max);
	if (!pay_is_pow2(stride) || stride < 256 || ws_min < stride || ws_max > (1ull << 40))
		pay_usage_error("--stride %" PRIu64 ": need a power of two >= 256 and <= --min",
				stride);
	if (distance == 0 || ops == 0)
		pay_usage_error("--distance and --ops: need at least 1");
	pay_rng_seed(&rng, pay_seed);
	pay_tsc_hz();

	buf = pay_alloc(ws_max, (enum pay_pages)pages);
	pay_touch(buf, pay_round_pages(ws_max, (enum pay_pages)pages));
	naddr = ws_max / stride;
	addr = pay_alloc(naddr * sizeof(void *), PAY_PAGES_4K);

	for (int m = M_NONE; m < M_ALL; m++) {
		if (mode != M_ALL && mode != m)
			continue;
		for (uint64_t ws = ws_min; ws <= ws_max; ws *= 2) {
			uint64_t n = ws / stride;
			struct pay_region r;
			struct pay_line l;
			struct node *p;

			/* Nodes sit in the lower half of their stride (lines
			 * cycle there), so "page" prefetches never hit a node. */
			for (uint64_t i = 0; i < n; i++)
				addr[i] = buf + i * stride + (i % (stride / 128)) * 64;
			p = build(addr, n, (enum mode)m, &rng);
			p = m == M_NONE ? walk(p, n) : walk_pf(p, n);

			pay_region_begin(&r);
			p = m == M_NONE ? walk(p, ops) : walk_pf(p, ops);
			pay_region_end(&r);
			pay_sink += (uintptr_t)p;

			pay_line_begin(&l, pages);
			pay_line_str(&l, "mode", mode_names[m]);
			pay_line_u64(&l, "ws_bytes", ws);
			pay_line_u64(&l, "stride", stride);
			pay_line_u64(&l, "distance", distance);
			pay_line_u64(&l, "n_elems", n);
			pay_line_result(&l, &r, ops);
			pay_line_end(&l);
		}
	}
	pay_free(addr, naddr * sizeof(void *), PAY_PAGES_4K);
	pay_free(buf, ws_max, (enum pay_pages)pages);
	return 0;
}
