/* shootdown: the cost of changing a translation that other CPUs may cache.
 * --threads T toucher threads sweep a shared mapping without syscalls (so
 * they stay on their CPUs with its translations in their TLBs) while the
 * main thread changes one part of it --ops times: an mprotect toggle
 * (read-write to read-only and back; the touchers only read that part) or
 * an mmap(MAP_FIXED) that replaces it. Each change must invalidate the
 * part on every CPU running the process before the syscall returns (Linux:
 * IPIs; in a VM: a kick of every vCPU), so the cost per op grows with T
 * (the TLB shootdown of Black et al. and Amit's LATR/ABIS papers). */
#include "payload.h"

#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <sys/mman.h>

#define MAX_THREADS 64

enum shoot_op { OP_MPROTECT, OP_REMAP };

static uint64_t size = 2 << 20, change = 4096, ops = 2000, threads = 1;
static int op = OP_MPROTECT, pages = PAY_PAGES_4K;

static const struct pay_opt opts[] = {
    {"threads", PAY_OPT_COUNT, &threads, NULL, "toucher threads beside the main one (0..64)"},
    {"size", PAY_OPT_SIZE, &size, NULL, "shared mapping the touchers sweep"},
    {"change", PAY_OPT_SIZE, &change, NULL, "part changed by each op (its start, 4K multiple)"},
    {"ops", PAY_OPT_COUNT, &ops, NULL, "changes measured"},
    {"op", PAY_OPT_CHOICE, &op, "mprotect|remap", "how the part is changed"},
    {"pages", PAY_OPT_CHOICE, &pages, PAY_PAGES_CHOICES, "page size of the mapping"},
};

static char *base;
static atomic_int stop;
static atomic_uint_fast64_t started, sweeps;

/* Writes one word per page outside the changed part, reads one inside it:
 * the part is never writable-only, so neither op makes a toucher fault. */
static void *touch(void *arg)
{
	uint64_t n = 0, sink = 0;

	(void)arg;
	atomic_fetch_add(&started, 1);
	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		for (uint64_t off = 0; off < change; off += PAY_4K)
			sink += *(volatile uint64_t *)(base + off);
		for (uint64_t off = change; off < size; off += PAY_4K)
			*(volatile uint64_t *)(base + off) = n;
		n++;
	}
	atomic_fetch_add(&sweeps, n);
	pay_sink = sink;
	return NULL;
}

static void change_part(uint64_t i)
{
	if (op == OP_MPROTECT) {
		int prot = i % 2 ? PROT_READ | PROT_WRITE : PROT_READ;

		if (mprotect(base, change, prot))
			pay_fatal("mprotect %" PRIu64 " bytes: failed", change);
		return;
	}
	if (mmap(base, change, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1,
		 0) != base)
		pay_fatal("mmap MAP_FIXED %" PRIu64 " bytes: failed", change);
}

static void check_args(void)
{
	if (threads > MAX_THREADS)
		pay_usage_error("--threads %" PRIu64 ": at most %d", threads, MAX_THREADS);
	if (change == 0 || change % PAY_4K)
		pay_usage_error("--change %" PRIu64 ": need a positive multiple of 4K", change);
	if (size < change || size > (1ull << 36))
		pay_usage_error("--size %" PRIu64 ": need --change <= size <= 64G", size);
	if (ops == 0)
		pay_usage_error("--ops: need at least 1");
}

int main(int argc, char **argv)
{
	pthread_t t[MAX_THREADS];
	struct pay_region r;
	struct pay_line l;

	pay_parse_args(argc, argv, "shootdown",
		       "Cost of an mprotect or mmap(MAP_FIXED) on a mapping that --threads other\n"
		       "threads are using: the TLB shootdown to every CPU running the process.",
		       opts, sizeof(opts) / sizeof(opts[0]));
	check_args();
	pay_tsc_hz();
	base = pay_alloc(size, (enum pay_pages)pages);
	pay_touch(base, size);
	for (uint64_t i = 0; i < threads; i++)
		if (pthread_create(&t[i], NULL, touch, NULL))
			pay_fatal("pthread_create %" PRIu64 " of %" PRIu64 ": failed", i + 1,
				  threads);
	while (atomic_load(&started) < threads)
		sched_yield(); /* every toucher is running before the region */

	pay_region_begin(&r);
	for (uint64_t i = 0; i < ops; i++)
		change_part(i);
	pay_region_end(&r);

	atomic_store(&stop, 1);
	for (uint64_t i = 0; i < threads; i++)
		pthread_join(t[i], NULL);
	pay_line_begin(&l, pages);
	pay_line_str(&l, "op", op == OP_MPROTECT ? "mprotect" : "remap");
	pay_line_u64(&l, "threads", threads);
	pay_line_u64(&l, "ws_bytes", size);
	pay_line_u64(&l, "change_bytes", change);
	pay_line_u64(&l, "sweeps", atomic_load(&sweeps));
	pay_line_result(&l, &r, ops);
	pay_line_end(&l);
	return 0;
}
