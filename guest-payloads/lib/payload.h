/* The small library every stress payload links: options with --help,
 * sizes with K/M/G suffixes, TSC timing, regions of interest, page-size
 * aware allocation, pointer chains and the one JSON-lines output format. */
#ifndef PAYLOAD_H
#define PAYLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Payloads are ordinary static programs that also run as the only process
 * of a guest whose kernel is the VMM. So they use only memory syscalls,
 * clock_gettime, prctl and write(stdout/stderr): no threads, signals, files
 * or /proc. Every syscall costs ~60-90 us in the guest, so none is ever made
 * inside a measured loop. These helpers are the program's own, so, unlike
 * the VMM's modules, they may exit: 2 for bad usage, 1 for a failed
 * resource, each with one "NAME: what: values" line on stderr.
 */

/* ---- options ---- */

enum pay_opt_kind {
	PAY_OPT_SIZE,	/* uint64_t: bytes, suffixes K M G T (binary) */
	PAY_OPT_COUNT,	/* uint64_t: a count, the same suffixes */
	PAY_OPT_CHOICE, /* int: index into choices, "a|b|c" */
	PAY_OPT_FLAG,	/* bool: present or not */
};

struct pay_opt {
	const char *name; /* long option without "--" */
	enum pay_opt_kind kind;
	void *val;	     /* holds the default on entry */
	const char *choices; /* PAY_OPT_CHOICE only: "seq|rand|all" */
	const char *help;
};

/* What every memory payload offers as --pages. */
enum pay_pages { PAY_PAGES_4K, PAY_PAGES_2M };
#define PAY_PAGES_CHOICES "4k|2m"

/* Parses argv by the table (plus --seed and --help, which every payload
 * has) with getopt_long. --help prints the usage built from the table and
 * exits 0; anything wrong exits 2 with a message. `summary` is the claim the
 * payload measures, one or two lines. Sets pay_name for messages. */
void pay_parse_args(int argc, char **argv, const char *name, const char *summary,
		    const struct pay_opt *opts, size_t nopts);

extern const char *pay_name; /* for messages and the "payload" field */
extern uint64_t pay_seed;    /* --seed, default 1: runs are reproducible */

/* "64M" -> 67108864. Digits, then optionally one of K M G T (either case,
 * powers of 1024), nothing else. 0, or -1 on a malformed or overflowing
 * value (nothing written). */
int pay_parse_size(const char *s, uint64_t *out);
/* Writes v as the shortest exact "4K"/"64M"/"123" form into buf. */
const char *pay_fmt_size(uint64_t v, char *buf, size_t len);

/* "NAME: message" on stderr; exit 2 (usage, with a hint at --help) or 1. */
_Noreturn void pay_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
_Noreturn void pay_fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static inline bool pay_is_pow2(uint64_t x)
{
	return x && !(x & (x - 1));
}

/* ---- memory ---- */

#define PAY_4K ((uint64_t)0x1000)
#define PAY_2M ((uint64_t)0x200000)
#define PAY_1G ((uint64_t)0x40000000)

const char *pay_pages_name(enum pay_pages p);
/* Anonymous private memory for `bytes` (rounded up to the page size asked
 * for). For 2m: 2 MiB aligned (over-allocate, then trim head and tail) and
 * madvise(MADV_HUGEPAGE); for 4k: madvise(MADV_NOHUGEPAGE), so neither
 * native THP nor the VMM's madvise policy silently changes the experiment.
 * Not touched yet. Exits 1 when the memory cannot be had. */
void *pay_alloc(uint64_t bytes, enum pay_pages pages);
void pay_free(void *p, uint64_t bytes, enum pay_pages pages);
uint64_t pay_round_pages(uint64_t bytes, enum pay_pages pages);
/* Writes one byte in every 4 KiB page, so that what is measured later is
 * translation, not first-touch faults. */
void pay_touch(void *p, uint64_t bytes);
/* Number of syscalls pay_alloc made on its last call (for reports). */
extern unsigned pay_alloc_syscalls;

/* ---- random numbers (xoshiro256**; seeded by splitmix64) ---- */

struct pay_rng {
	uint64_t s[4];
};
void pay_rng_seed(struct pay_rng *r, uint64_t seed);
uint64_t pay_rng_next(struct pay_rng *r);
/* Uniform in [0, n), n > 0. */
uint64_t pay_rng_below(struct pay_rng *r, uint64_t n);

/* ---- timing ---- */

/* rdtsc ordered after earlier instructions and before later ones. */
static inline uint64_t pay_tsc_begin(void)
{
	uint32_t lo, hi;

	__asm__ volatile("lfence\n\trdtsc\n\tlfence" : "=a"(lo), "=d"(hi)::"memory");
	return (uint64_t)hi << 32 | lo;
}

/* Set by pay_tsc_hz() from CPUID: a hypervisor that does not offer RDTSCP
 * may make it fault, so it is used only when CPUID says it exists. */
extern bool pay_have_rdtscp;

/* rdtscp waits for earlier instructions; the lfence keeps later ones out. */
static inline uint64_t pay_tsc_end(void)
{
	uint32_t lo, hi, aux;

	if (!pay_have_rdtscp)
		return pay_tsc_begin();
	__asm__ volatile("rdtscp\n\tlfence" : "=a"(lo), "=d"(hi), "=c"(aux)::"memory");
	return (uint64_t)hi << 32 | lo;
}

uint64_t pay_now_ns(void); /* CLOCK_MONOTONIC */
/* TSC ticks per second, measured once (~50 ms against CLOCK_MONOTONIC). */
double pay_tsc_hz(void);

/* A region of interest: clock_gettime and prctl(PR_TASK_PERF_EVENTS_*) at
 * its edges only, the TSC read just inside them. */
struct pay_region {
	uint64_t ns0, ns1;   /* CLOCK_MONOTONIC at the outer edges */
	uint64_t tsc0, tsc1; /* TSC just inside */
};
void pay_region_begin(struct pay_region *r);
void pay_region_end(struct pay_region *r);

/* ---- output: one JSON object per line and measurement ---- */

struct pay_line {
	char buf[2048];
	size_t len;
};
/* Starts {"payload":NAME,"libc":...,"seed":...; pages is added when >= 0. */
void pay_line_begin(struct pay_line *l, int pages);
void pay_line_str(struct pay_line *l, const char *key, const char *val);
void pay_line_u64(struct pay_line *l, const char *key, uint64_t val);
void pay_line_f64(struct pay_line *l, const char *key, double val);
void pay_line_bool(struct pay_line *l, const char *key, bool val);
/* ops, ns_per_op, cycles_per_op (TSC ticks), tsc_mhz, wall_ns. */
void pay_line_result(struct pay_line *l, const struct pay_region *r, uint64_t ops);
/* Closes the object, writes the line to stdout and flushes it. */
void pay_line_end(struct pay_line *l);

/* ---- pointer chains ---- */

enum pay_order { PAY_ORDER_SEQ, PAY_ORDER_RAND };

/* Address of slot i when slots are `stride` apart and `elem` bytes big:
 * base + i * stride, plus, when stride > elem, an offset that cycles
 * through the stride in elem steps, so that slots one page apart do not all
 * fall into the same cache set (which would measure associativity, not
 * translation). */
static inline void *pay_slot(char *base, uint64_t i, uint64_t stride, uint64_t elem)
{
	uint64_t per = stride / elem;

	return base + i * stride + (per > 1 ? (i % per) * elem : 0);
}

/* Links addr[0..n) into one cycle: each element's first word points to the
 * next. RAND shuffles the visiting order first (one random cycle through
 * all n); SEQ keeps the array's order. Reorders addr. Returns the start. */
void *pay_chain_link(void **addr, uint64_t n, enum pay_order order, struct pay_rng *rng);
/* Follows the chain `steps` times; returns where it ended. */
void *pay_chain_walk(void *p, uint64_t steps);
/* Shuffles addr[0..n) (Fisher-Yates). */
void pay_shuffle(void **addr, uint64_t n, struct pay_rng *rng);

/* Keeps a result alive so the compiler cannot drop the loop computing it. */
extern volatile uint64_t pay_sink;

#endif
