/* gups: random read-modify-write (XOR) over a large table, like HPCC
 * RandomAccess. Updates are independent, so the core overlaps many misses:
 * this is translation throughput with memory-level parallelism, where a
 * page walk per update (small pages) costs bandwidth as well as latency. */
#include "payload.h"

#include <inttypes.h>

static uint64_t size = 64 << 20, updates = 8 << 20;
static int pages = PAY_PAGES_4K;
static bool verify;

static const struct pay_opt opts[] = {
    {"size", PAY_OPT_SIZE, &size, NULL, "table size in bytes (multiple of 8)"},
    {"updates", PAY_OPT_COUNT, &updates, NULL, "random updates measured"},
    {"pages", PAY_OPT_CHOICE, &pages, PAY_PAGES_CHOICES, "page size of the table"},
    {"verify", PAY_OPT_FLAG, &verify, NULL,
     "replay the updates after measuring: the table must be back to its start"},
};

/* xorshift64*: a few cycles per value, so the generator is not what is
 * measured; the index is a multiply-shift into [0, n). */
static inline uint64_t next_val(uint64_t *x)
{
	*x ^= *x >> 12;
	*x ^= *x << 25;
	*x ^= *x >> 27;
	return *x * 0x2545f4914f6cdd1dull;
}

__attribute__((noinline)) static void run(uint64_t *t, uint64_t n, uint64_t count, uint64_t seed)
{
	uint64_t x = seed | 1;

	for (uint64_t i = 0; i < count; i++) {
		uint64_t v = next_val(&x);

		t[(uint64_t)(((unsigned __int128)v * n) >> 64)] ^= v;
	}
}

int main(int argc, char **argv)
{
	struct pay_region r;
	struct pay_line l;
	uint64_t *t, n, bad = 0;

	pay_parse_args(argc, argv, "gups",
		       "Random XOR updates over a --size table (HPCC RandomAccess): throughput\n"
		       "of independent accesses that each need a translation.",
		       opts, sizeof(opts) / sizeof(opts[0]));
	if (size < 8 || size % 8 || size > (1ull << 40))
		pay_usage_error("--size %" PRIu64 ": need a multiple of 8 in [8, 1T]", size);
	if (updates == 0)
		pay_usage_error("--updates: need at least 1");
	n = size / 8;
	pay_tsc_hz();

	t = pay_alloc(size, (enum pay_pages)pages);
	for (uint64_t i = 0; i < n; i++) /* also the warm-up: every page touched */
		t[i] = i;

	pay_region_begin(&r);
	run(t, n, updates, pay_seed);
	pay_region_end(&r);

	if (verify) {
		run(t, n, updates, pay_seed); /* XOR twice: back to t[i] == i */
		for (uint64_t i = 0; i < n; i++)
			bad += t[i] != i;
	}

	pay_line_begin(&l, pages);
	pay_line_u64(&l, "ws_bytes", size);
	pay_line_u64(&l, "entries", n);
	pay_line_result(&l, &r, updates);
	pay_line_f64(&l, "gups", (double)updates * pay_tsc_hz() / (double)(r.tsc1 - r.tsc0) / 1e9);
	if (verify)
		pay_line_str(&l, "verify", bad ? "fail" : "ok");
	pay_line_end(&l);
	pay_free(t, size, (enum pay_pages)pages);
	if (bad)
		pay_fatal("verify: %" PRIu64 " of %" PRIu64 " entries wrong", bad, n);
	return 0;
}
