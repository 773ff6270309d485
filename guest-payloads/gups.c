/* gups: random read-modify-write (XOR) over a large table, like HPCC
 * RandomAccess. Updates are independent, so the core overlaps many misses:
 * this is translation throughput with memory-level parallelism, where a
 * page walk per update (small pages) costs bandwidth as well as latency.
 * With --threads N, N threads (the main one included) each make their share
 * of the updates on the one shared table, from their own random stream. */
#include "payload.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>

#define MAX_THREADS 64

static uint64_t size = 64 << 20, updates = 8 << 20, threads = 1;
static int pages = PAY_PAGES_4K;
static bool verify;

static const struct pay_opt opts[] = {
    {"size", PAY_OPT_SIZE, &size, NULL, "table size in bytes (multiple of 8)"},
    {"updates", PAY_OPT_COUNT, &updates, NULL, "random updates measured"},
    {"pages", PAY_OPT_CHOICE, &pages, PAY_PAGES_CHOICES, "page size of the table"},
    {"threads", PAY_OPT_COUNT, &threads, NULL, "threads sharing the updates (1..64)"},
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

/* Thread i's share of the updates and its own stream: the same split on
 * the replay, so that XOR-ing twice restores the table. Share 0 keeps
 * pay_seed, so one thread makes the single-threaded stream as before. */
struct share {
	uint64_t *t, n, count, seed;
	pthread_t id;
};

static atomic_int go;

static void *run_share(void *arg)
{
	struct share *s = arg;

	while (!atomic_load_explicit(&go, memory_order_acquire))
		; /* spin: a futex wake here would be inside the region */
	run(s->t, s->n, s->count, s->seed);
	return NULL;
}

static void split(struct share *sh, uint64_t *t, uint64_t n)
{
	for (uint64_t i = 0; i < threads; i++) {
		sh[i].t = t;
		sh[i].n = n;
		sh[i].count = updates / threads + (i < updates % threads);
		sh[i].seed = pay_seed + i * 0x9e3779b97f4a7c15ull;
	}
}

/* The main thread is share 0; the others wait for `go` so that all start
 * inside the region. */
static void run_all(struct share *sh)
{
	atomic_store(&go, 0);
	for (uint64_t i = 1; i < threads; i++)
		if (pthread_create(&sh[i].id, NULL, run_share, &sh[i]))
			pay_fatal("pthread_create %" PRIu64 " of %" PRIu64 ": failed", i + 1,
				  threads);
}

static void join_all(struct share *sh)
{
	for (uint64_t i = 1; i < threads; i++)
		pthread_join(sh[i].id, NULL);
}

int main(int argc, char **argv)
{
	struct share sh[MAX_THREADS];
	struct pay_region r;
	struct pay_line l;
	uint64_t *t, n, bad = 0, allowed;

	pay_parse_args(argc, argv, "gups",
		       "Random XOR updates over a --size table (HPCC RandomAccess): throughput\n"
		       "of independent accesses that each need a translation.",
		       opts, sizeof(opts) / sizeof(opts[0]));
	if (size < 8 || size % 8 || size > (1ull << 40))
		pay_usage_error("--size %" PRIu64 ": need a multiple of 8 in [8, 1T]", size);
	if (updates == 0)
		pay_usage_error("--updates: need at least 1");
	if (threads < 1 || threads > MAX_THREADS)
		pay_usage_error("--threads %" PRIu64 ": need 1..%d", threads, MAX_THREADS);
	n = size / 8;
	pay_tsc_hz();

	t = pay_alloc(size, (enum pay_pages)pages);
	for (uint64_t i = 0; i < n; i++) /* also the warm-up: every page touched */
		t[i] = i;

	split(sh, t, n);
	run_all(sh);
	pay_region_begin(&r);
	atomic_store_explicit(&go, 1, memory_order_release);
	run(t, n, sh[0].count, sh[0].seed);
	join_all(sh);
	pay_region_end(&r);

	if (verify) {
		for (uint64_t i = 0; i < threads; i++) /* XOR twice: back to t[i] == i */
			run(t, n, sh[i].count, sh[i].seed);
		for (uint64_t i = 0; i < n; i++)
			bad += t[i] != i;
	}
	/* Threads racing on one entry can lose an update; HPCC RandomAccess
	 * accepts up to 1% of the updates wrong. One thread must be exact. */
	allowed = threads > 1 ? updates / 100 : 0;

	pay_line_begin(&l, pages);
	pay_line_u64(&l, "ws_bytes", size);
	pay_line_u64(&l, "entries", n);
	pay_line_result(&l, &r, updates);
	pay_line_f64(&l, "gups", (double)updates * pay_tsc_hz() / (double)(r.tsc1 - r.tsc0) / 1e9);
	pay_line_u64(&l, "threads", threads);
	if (verify) {
		pay_line_str(&l, "verify", bad > allowed ? "fail" : "ok");
		pay_line_u64(&l, "verify_errors", bad);
	}
	pay_line_end(&l);
	pay_free(t, size, (enum pay_pages)pages);
	if (bad > allowed)
		pay_fatal("verify: %" PRIu64 " of %" PRIu64 " entries wrong", bad, n);
	return 0;
}
