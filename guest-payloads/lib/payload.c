/* The payloads' shared helpers: option parsing, TSC calibration, regions of
 * interest, page-size aware allocation, pointer chains and JSON lines.
 * Only syscalls the VMM implements are used, and none in a measured loop. */
#include "payload.h"

#include <cpuid.h>
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <time.h>

#ifndef PR_TASK_PERF_EVENTS_DISABLE
#define PR_TASK_PERF_EVENTS_DISABLE 31
#endif
#ifndef PR_TASK_PERF_EVENTS_ENABLE
#define PR_TASK_PERF_EVENTS_ENABLE 32
#endif

const char *pay_name = "payload";
uint64_t pay_seed = 1;
unsigned pay_alloc_syscalls;
volatile uint64_t pay_sink;
bool pay_have_rdtscp;

#define MAX_OPTS 32

/* ---- messages ---- */

void pay_usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", pay_name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n%s: try --help\n", pay_name);
	exit(2);
}

void pay_fatal(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "%s: ", pay_name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* ---- sizes ---- */

int pay_parse_size(const char *s, uint64_t *out)
{
	static const char sfx[] = "KMGT";
	uint64_t v = 0, mul = 1;
	const char *p = s;

	if (!s || *s < '0' || *s > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		uint64_t d = (uint64_t)(*p - '0');

		if (v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	if (*p != '\0') {
		const char *k = strchr(sfx, toupper((unsigned char)*p));

		if (!k)
			return -1;
		mul = 1ull << (10 * (k - sfx + 1));
		p++;
	}
	if (*p != '\0')
		return -1;
	if (v > UINT64_MAX / mul)
		return -1;
	*out = v * mul;
	return 0;
}

const char *pay_fmt_size(uint64_t v, char *buf, size_t len)
{
	static const char sfx[] = "KMGT";
	int i = -1;

	while (v && i < 3 && (v & 1023) == 0) {
		v >>= 10;
		i++;
	}
	if (i < 0)
		snprintf(buf, len, "%" PRIu64, v);
	else
		snprintf(buf, len, "%" PRIu64 "%c", v, sfx[i]);
	return buf;
}

/* ---- options ---- */

/* The n-th '|'-separated word of choices into buf. */
static const char *choice_word(const char *choices, int n, char *buf, size_t len)
{
	const char *p = choices;

	for (int i = 0; i < n && p; i++) {
		p = strchr(p, '|');
		if (p)
			p++;
	}
	if (!p)
		return "?";
	size_t k = strcspn(p, "|");
	if (k >= len)
		k = len - 1;
	memcpy(buf, p, k);
	buf[k] = '\0';
	return buf;
}

static int choice_index(const char *choices, const char *arg)
{
	char w[64];

	for (int i = 0;; i++) {
		const char *c = choice_word(choices, i, w, sizeof(w));

		if (strcmp(c, "?") == 0)
			return -1;
		if (strcmp(c, arg) == 0)
			return i;
	}
}

static void print_usage(const char *summary, const struct pay_opt *opts, size_t nopts)
{
	char arg[96], def[96];

	printf("usage: %s [options]\n%s\n\noptions:\n", pay_name, summary);
	for (size_t i = 0; i < nopts; i++) {
		const struct pay_opt *o = &opts[i];

		switch (o->kind) {
		case PAY_OPT_SIZE:
			snprintf(arg, sizeof(arg), "--%s SIZE", o->name);
			pay_fmt_size(*(uint64_t *)o->val, def, sizeof(def));
			break;
		case PAY_OPT_COUNT:
			snprintf(arg, sizeof(arg), "--%s N", o->name);
			pay_fmt_size(*(uint64_t *)o->val, def, sizeof(def));
			break;
		case PAY_OPT_CHOICE:
			snprintf(arg, sizeof(arg), "--%s %s", o->name, o->choices);
			choice_word(o->choices, *(int *)o->val, def, sizeof(def));
			break;
		case PAY_OPT_FLAG:
			snprintf(arg, sizeof(arg), "--%s", o->name);
			snprintf(def, sizeof(def), "off");
			break;
		}
		printf("  %-26s %s (default %s)\n", arg, o->help, def);
	}
	printf("  %-26s %s (default %" PRIu64 ")\n", "--seed N", "seed of the random orders",
	       pay_seed);
	printf("  %-26s %s\n", "--help", "this text");
	printf("\nSIZE and N take K, M, G, T suffixes (powers of 1024).\n"
	       "Output: one JSON object per line and measurement on stdout.\n");
}

static void set_opt(const struct pay_opt *o, const char *arg)
{
	uint64_t v;
	int c;

	switch (o->kind) {
	case PAY_OPT_SIZE:
	case PAY_OPT_COUNT:
		if (pay_parse_size(arg, &v) < 0)
			pay_usage_error("--%s: bad %s '%s' (digits with an optional K, M, G or T "
					"suffix, at most 2^64-1)",
					o->name, o->kind == PAY_OPT_SIZE ? "size" : "count", arg);
		*(uint64_t *)o->val = v;
		break;
	case PAY_OPT_CHOICE:
		c = choice_index(o->choices, arg);
		if (c < 0)
			pay_usage_error("--%s: '%s' is not one of %s", o->name, arg, o->choices);
		*(int *)o->val = c;
		break;
	case PAY_OPT_FLAG:
		*(bool *)o->val = true;
		break;
	}
}

void pay_parse_args(int argc, char **argv, const char *name, const char *summary,
		    const struct pay_opt *opts, size_t nopts)
{
	struct option lo[MAX_OPTS + 3];
	int idx = 0, c;

	pay_name = name;
	if (nopts > MAX_OPTS)
		pay_fatal("too many options (%zu > %d)", nopts, MAX_OPTS);
	for (size_t i = 0; i < nopts; i++)
		lo[i] = (struct option){
		    opts[i].name, opts[i].kind == PAY_OPT_FLAG ? no_argument : required_argument,
		    NULL, (int)i + 1000};
	lo[nopts] = (struct option){"seed", required_argument, NULL, 's'};
	lo[nopts + 1] = (struct option){"help", no_argument, NULL, 'h'};
	lo[nopts + 2] = (struct option){NULL, 0, NULL, 0};

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", lo, &idx)) != -1) {
		if (c == 'h') {
			print_usage(summary, opts, nopts);
			exit(0);
		} else if (c == 's') {
			if (pay_parse_size(optarg, &pay_seed) < 0)
				pay_usage_error("--seed: bad number '%s'", optarg);
		} else if (c >= 1000 && (size_t)(c - 1000) < nopts) {
			set_opt(&opts[c - 1000], optarg);
		} else if (c == ':') {
			pay_usage_error("%s needs a value", argv[optind - 1]);
		} else {
			pay_usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		pay_usage_error("unexpected argument '%s'", argv[optind]);
}

/* ---- memory ---- */

const char *pay_pages_name(enum pay_pages p)
{
	return p == PAY_PAGES_2M ? "2m" : "4k";
}

static uint64_t page_bytes(enum pay_pages p)
{
	return p == PAY_PAGES_2M ? PAY_2M : PAY_4K;
}

uint64_t pay_round_pages(uint64_t bytes, enum pay_pages pages)
{
	uint64_t pg = page_bytes(pages);

	if (bytes == 0 || bytes > UINT64_MAX - pg)
		pay_fatal("alloc: bad size %" PRIu64, bytes);
	return (bytes + pg - 1) & ~(pg - 1);
}

static void trim(void *p, size_t len)
{
	if (munmap(p, len) != 0)
		pay_fatal("munmap %p + %zu (alignment trim): %s", p, len, strerror(errno));
}

void *pay_alloc(uint64_t bytes, enum pay_pages pages)
{
	static bool nohuge_warned;
	const int prot = PROT_READ | PROT_WRITE, flags = MAP_PRIVATE | MAP_ANONYMOUS;
	uint64_t len = pay_round_pages(bytes, pages);
	char *p, *q;

	pay_alloc_syscalls = 0;
	if (pages == PAY_PAGES_4K) {
		p = mmap(NULL, len, prot, flags, -1, 0);
		pay_alloc_syscalls++;
		if (p == MAP_FAILED)
			pay_fatal("mmap %" PRIu64 " bytes: %s", len, strerror(errno));
		/* Without this, native THP "always" mode or the VMM's madvise
		 * policy could still hand out 2 MiB pages. A kernel without THP
		 * refuses the advice and has only small pages anyway: warn. */
		if (madvise(p, len, MADV_NOHUGEPAGE) != 0 && !nohuge_warned) {
			nohuge_warned = true;
			fprintf(stderr, "%s: warning: madvise(MADV_NOHUGEPAGE): %s: %s\n", pay_name,
				strerror(errno), "4k pages not enforced");
		}
		pay_alloc_syscalls++;
		return p;
	}
	/* Over-allocate by one large page, keep the aligned middle. */
	p = mmap(NULL, len + PAY_2M, prot, flags, -1, 0);
	pay_alloc_syscalls++;
	if (p == MAP_FAILED)
		pay_fatal("mmap %" PRIu64 " bytes: %s", len + PAY_2M, strerror(errno));
	q = (char *)(((uintptr_t)p + PAY_2M - 1) & ~(uintptr_t)(PAY_2M - 1));
	if (q > p) {
		trim(p, (size_t)(q - p));
		pay_alloc_syscalls++;
	}
	if (q + len < p + len + PAY_2M) {
		trim(q + len, (size_t)(p + len + PAY_2M - (q + len)));
		pay_alloc_syscalls++;
	}
	if (madvise(q, len, MADV_HUGEPAGE) != 0)
		pay_fatal("madvise(MADV_HUGEPAGE) %" PRIu64 " bytes: %s", len, strerror(errno));
	pay_alloc_syscalls++;
	return q;
}

void pay_free(void *p, uint64_t bytes, enum pay_pages pages)
{
	if (p && munmap(p, pay_round_pages(bytes, pages)) != 0)
		pay_fatal("munmap %p: %s", p, strerror(errno));
}

void pay_touch(void *p, uint64_t bytes)
{
	volatile char *c = p;

	for (uint64_t off = 0; off < bytes; off += PAY_4K)
		c[off] = 0;
}

/* ---- random numbers ---- */

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

void pay_rng_seed(struct pay_rng *r, uint64_t seed)
{
	uint64_t x = seed;

	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&x);
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

uint64_t pay_rng_next(struct pay_rng *r)
{
	uint64_t *s = r->s, res = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return res;
}

/* Lemire's multiply-and-reject: no modulo bias. */
uint64_t pay_rng_below(struct pay_rng *r, uint64_t n)
{
	unsigned __int128 m = (unsigned __int128)pay_rng_next(r) * n;
	uint64_t lo = (uint64_t)m;

	if (lo < n) {
		uint64_t thresh = -n % n;

		while (lo < thresh) {
			m = (unsigned __int128)pay_rng_next(r) * n;
			lo = (uint64_t)m;
		}
	}
	return (uint64_t)(m >> 64);
}

/* ---- timing ---- */

uint64_t pay_now_ns(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		pay_fatal("clock_gettime: %s", strerror(errno));
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* One clock reading with the TSC on both sides of it; the midpoint is the
 * TSC value that belongs to the clock value (the syscall may cost ~90 us in
 * the guest, so the halves matter). */
static void clock_pair(uint64_t *ns, uint64_t *tsc)
{
	uint64_t a = pay_tsc_begin();

	*ns = pay_now_ns();
	*tsc = a + (pay_tsc_end() - a) / 2;
}

double pay_tsc_hz(void)
{
	static double hz;
	const uint64_t window_ns = 50000000, chunk = 1u << 20;
	uint64_t ns0, tsc0, ns1, tsc1;
	unsigned a, b, c, d;

	if (hz > 0)
		return hz;
	if (__get_cpuid(0x80000001, &a, &b, &c, &d))
		pay_have_rdtscp = (d >> 27) & 1; /* CPUID.80000001H:EDX.RDTSCP[bit 27] */
	clock_pair(&ns0, &tsc0);
	do {
		/* Spin on the TSC alone, so there are few clock syscalls. */
		uint64_t until = pay_tsc_begin() + chunk;

		while (pay_tsc_begin() < until)
			;
		clock_pair(&ns1, &tsc1);
	} while (ns1 - ns0 < window_ns);
	hz = (double)(tsc1 - tsc0) * 1e9 / (double)(ns1 - ns0);
	if (!(hz > 1e6))
		pay_fatal("tsc: calibration gave %g Hz (TSC not ticking?)", hz);
	return hz;
}

static void perf_prctl(int op)
{
	static bool warned;

	if (prctl(op, 0, 0, 0, 0) != 0 && !warned) {
		warned = true;
		fprintf(stderr, "%s: warning: prctl(%s): %s: regions are not marked\n", pay_name,
			op == PR_TASK_PERF_EVENTS_ENABLE ? "PR_TASK_PERF_EVENTS_ENABLE"
							 : "PR_TASK_PERF_EVENTS_DISABLE",
			strerror(errno));
	}
}

void pay_region_begin(struct pay_region *r)
{
	pay_tsc_hz(); /* never calibrate inside a region */
	r->ns0 = pay_now_ns();
	perf_prctl(PR_TASK_PERF_EVENTS_ENABLE);
	r->tsc0 = pay_tsc_begin();
}

void pay_region_end(struct pay_region *r)
{
	r->tsc1 = pay_tsc_end();
	perf_prctl(PR_TASK_PERF_EVENTS_DISABLE);
	r->ns1 = pay_now_ns();
}

/* ---- output ---- */

static void line_add(struct pay_line *l, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void line_add(struct pay_line *l, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(l->buf + l->len, sizeof(l->buf) - l->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(l->buf) - l->len)
		pay_fatal("output line longer than %zu bytes", sizeof(l->buf));
	l->len += (size_t)n;
}

/* Keys and string values are the payload's own identifiers: no quoting
 * needed, but refuse anything that would break the line. */
static void check_token(const char *s)
{
	for (; *s; s++)
		if (*s == '"' || *s == '\\' || (unsigned char)*s < 0x20)
			pay_fatal("output: bad character in '%s'", s);
}

void pay_line_begin(struct pay_line *l, int pages)
{
#ifdef __GLIBC__
	const char *libc = "glibc";
#else
	const char *libc = "musl";
#endif
	l->len = 0;
	line_add(l, "{");
	pay_line_str(l, "payload", pay_name);
	pay_line_str(l, "libc", libc);
	if (pages >= 0)
		pay_line_str(l, "pages", pay_pages_name((enum pay_pages)pages));
	pay_line_u64(l, "seed", pay_seed);
}

static void line_key(struct pay_line *l, const char *key)
{
	check_token(key);
	line_add(l, "%s\"%s\":", l->len > 1 ? "," : "", key);
}

void pay_line_str(struct pay_line *l, const char *key, const char *val)
{
	line_key(l, key);
	check_token(val);
	line_add(l, "\"%s\"", val);
}

void pay_line_u64(struct pay_line *l, const char *key, uint64_t val)
{
	line_key(l, key);
	line_add(l, "%" PRIu64, val);
}

void pay_line_f64(struct pay_line *l, const char *key, double val)
{
	line_key(l, key);
	if (isfinite(val))
		line_add(l, "%.6g", val);
	else
		line_add(l, "null"); /* JSON has no nan or inf */
}

void pay_line_bool(struct pay_line *l, const char *key, bool val)
{
	line_key(l, key);
	line_add(l, "%s", val ? "true" : "false");
}

void pay_line_result(struct pay_line *l, const struct pay_region *r, uint64_t ops)
{
	double hz = pay_tsc_hz(), ticks = (double)(r->tsc1 - r->tsc0);

	pay_line_u64(l, "ops", ops);
	pay_line_f64(l, "ns_per_op", ticks * 1e9 / hz / (double)ops);
	pay_line_f64(l, "cycles_per_op", ticks / (double)ops);
	pay_line_f64(l, "tsc_mhz", hz / 1e6);
	pay_line_u64(l, "wall_ns", r->ns1 - r->ns0);
}

void pay_line_end(struct pay_line *l)
{
	line_add(l, "}\n");
	fputs(l->buf, stdout);
	fflush(stdout);
}

/* ---- pointer chains ---- */

void pay_shuffle(void **addr, uint64_t n, struct pay_rng *rng)
{
	for (uint64_t i = n; i > 1; i--) {
		uint64_t j = pay_rng_below(rng, i);
		void *t = addr[i - 1];

		addr[i - 1] = addr[j];
		addr[j] = t;
	}
}

void *pay_chain_link(void **addr, uint64_t n, enum pay_order order, struct pay_rng *rng)
{
	if (n == 0)
		return NULL;
	if (order == PAY_ORDER_RAND)
		pay_shuffle(addr, n, rng);
	for (uint64_t i = 0; i + 1 < n; i++)
		*(void **)addr[i] = addr[i + 1];
	*(void **)addr[n - 1] = addr[0];
	return addr[0];
}

__attribute__((noinline)) void *pay_chain_walk(void *p, uint64_t steps)
{
	/* Unrolled so that loop overhead stays far below one load's latency. */
	for (; steps >= 8; steps -= 8) {
		p = *(void **)p;
		p = *(void **)p;
		p = *(void **)p;
		p = *(void **)p;
		p = *(void **)p;
		p = *(void **)p;
		p = *(void **)p;
		p = *(void **)p;
	}
	while (steps--)
		p = *(void **)p;
	return p;
}
