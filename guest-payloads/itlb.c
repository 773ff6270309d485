/* itlb: instruction-side translation. Calls tiny functions, each alone in
 * its own code page, in sequential or random cycles over N pages: once N
 * exceeds the iTLB (then the shared L2 TLB), every call needs a walk.
 * Drepper 4.3: large pages for code need a 2 MiB aligned ELF (p_align), which
 * is what the itlb-2m.elf build is. */
#include "itlb-code.h"
#include "payload.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <sys/mman.h>

#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25
#endif

typedef uint64_t (*fn_t)(uint64_t);

extern char itlb_code_start[], itlb_code_end[];

enum order { O_SEQ, O_RAND, O_ALL };
static const char *const order_names[] = {"seq", "rand"};

static uint64_t np_min = 1, np_max = ITLB_PAGES, ops = 1 << 20;
static int order = O_ALL, pages = PAY_PAGES_4K;

static const struct pay_opt opts[] = {
    {"min", PAY_OPT_COUNT, &np_min, NULL, "fewest code pages cycled through (power of two)"},
    {"max", PAY_OPT_COUNT, &np_max, NULL, "most code pages cycled through (power of two)"},
    {"order", PAY_OPT_CHOICE, &order, "seq|rand|all", "calling order"},
    {"ops", PAY_OPT_COUNT, &ops, NULL, "calls measured per page count"},
    {"pages", PAY_OPT_CHOICE, &pages, PAY_PAGES_CHOICES,
     "2m: madvise(MADV_HUGEPAGE) and MADV_COLLAPSE the code (needs the itlb-2m build)"},
};

static const char *errno_word(int e, char *buf, size_t len)
{
	switch (e) {
	case 0:
		return "ok";
	case EINVAL:
		return "EINVAL";
	case ENOMEM:
		return "ENOMEM";
	case EAGAIN:
		return "EAGAIN";
	case EPERM:
		return "EPERM";
	case ENOSYS:
		return "ENOSYS";
	case EFAULT:
		return "EFAULT";
	case EBUSY:
		return "EBUSY";
	}
	snprintf(buf, len, "errno %d", e);
	return buf;
}

static fn_t entry(uint64_t i)
{
	return (fn_t)(void *)(itlb_code_start + i * ITLB_PAGE + (i % ITLB_SPREAD) * ITLB_LINE);
}

__attribute__((noinline)) static uint64_t run(fn_t *cyc, uint64_t n, uint64_t count)
{
	uint64_t x = 0, j = 0;

	for (uint64_t i = 0; i < count; i++) {
		x = cyc[j](x);
		if (++j == n)
			j = 0;
	}
	return x;
}

/* Asks for large pages over the 2 MiB aligned part of the code. Under the
 * VMM the guest page size of the text comes from --guest-pages and the
 * ELF's alignment; natively, file-backed text needs MADV_COLLAPSE and
 * CONFIG_READ_ONLY_THP_FOR_FS. Either way the outcome is reported. */
static void advise_text(int *madv_err, int *coll_err)
{
	uintptr_t lo = ((uintptr_t)itlb_code_start + PAY_2M - 1) & ~(uintptr_t)(PAY_2M - 1);
	uintptr_t hi = (uintptr_t)itlb_code_end & ~(uintptr_t)(PAY_2M - 1);

	*madv_err = *coll_err = EINVAL;
	if (hi <= lo)
		return;
	*madv_err = madvise((void *)lo, hi - lo, MADV_HUGEPAGE) ? errno : 0;
	*coll_err = madvise((void *)lo, hi - lo, MADV_COLLAPSE) ? errno : 0;
}

int main(int argc, char **argv)
{
	uintptr_t start = (uintptr_t)itlb_code_start;
	int madv_err = 0, coll_err = 0;
	char b1[32], b2[32];
	struct pay_rng rng;
	fn_t *cyc;

	pay_parse_args(argc, argv, "itlb",
		       "Calls one tiny function per code page, in a sequential or random cycle\n"
		       "over --min..--max pages (powers of two): where ns/call steps up, an\n"
		       "instruction TLB level ran out.",
		       opts, sizeof(opts) / sizeof(opts[0]));
	if (!pay_is_pow2(np_min) || !pay_is_pow2(np_max) || np_min > np_max || np_max > ITLB_PAGES)
		pay_usage_error("--min %" PRIu64 " --max %" PRIu64
				": need powers of two, min <= max <= %d",
				np_min, np_max, ITLB_PAGES);
	if (ops == 0)
		pay_usage_error("--ops: need at least 1");
	pay_rng_seed(&rng, pay_seed);
	pay_tsc_hz();
	if (pages == PAY_PAGES_2M)
		advise_text(&madv_err, &coll_err);
	cyc = pay_alloc(ITLB_PAGES * sizeof(fn_t), PAY_PAGES_4K);

	for (int o = O_SEQ; o < O_ALL; o++) {
		if (order != O_ALL && order != o)
			continue;
		for (uint64_t n = np_min; n <= np_max; n *= 2) {
			struct pay_region r;
			struct pay_line l;

			for (uint64_t i = 0; i < n; i++)
				cyc[i] = entry(i);
			for (uint64_t i = n; o == O_RAND && i > 1; i--) {
				uint64_t k = pay_rng_below(&rng, i);
				fn_t t = cyc[i - 1];

				cyc[i - 1] = cyc[k];
				cyc[k] = t;
			}
			pay_sink += run(cyc, n, n); /* every page once: warm */

			pay_region_begin(&r);
			pay_sink += run(cyc, n, ops);
			pay_region_end(&r);

			pay_line_begin(&l, pages);
			pay_line_str(&l, "order", order_names[o]);
			pay_line_u64(&l, "ws_bytes", n * ITLB_PAGE);
			pay_line_u64(&l, "code_pages", n);
			pay_line_u64(&l, "code_align", start & -start);
			if (pages == PAY_PAGES_2M) {
				pay_line_str(&l, "text_madvise",
					     errno_word(madv_err, b1, sizeof(b1)));
				pay_line_str(&l, "text_collapse",
					     errno_word(coll_err, b2, sizeof(b2)));
			}
			pay_line_result(&l, &r, ops);
			pay_line_end(&l);
		}
	}
	pay_free(cyc, ITLB_PAGES * sizeof(fn_t), PAY_PAGES_4K);
	return 0;
}
