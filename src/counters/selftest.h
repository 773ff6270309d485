/* The counter self-test behind `vmm info --check-counters`: counts a loop
 * of a known number of instructions and says whether the PMU's count can
 * be trusted on this host, or that there is no PMU to count with. */
#ifndef VMM_SELFTEST_H
#define VMM_SELFTEST_H

#include <stdbool.h>
#include <stdint.h>

enum selftest_verdict {
	SELFTEST_TRUSTED,   /* the count matched the loop within the tolerance */
	SELFTEST_UNTRUSTED, /* counted, but wrong (or multiplexed away) */
	SELFTEST_NO_PMU,    /* nothing to test: the events cannot be opened */
};

/* Loop iterations and instructions per iteration (dec; jnz). */
#define SELFTEST_ITERATIONS 10000000ull
#define SELFTEST_INSNS_PER_ITER 2
/* Allowed difference from the expected count: the loop's set-up and the
 * enable/disable ioctls' user-mode tail are a few hundred instructions. */
#define SELFTEST_TOLERANCE 0.001

struct selftest_result {
	enum selftest_verdict verdict;
	uint64_t expected, instructions, cycles;
	bool cycles_ok;
	bool guest_mode; /* instructions:G (exclude_host) opens here */
	char why[256];	 /* the reason for the verdict, for people */
};

/* Pure: the verdict for a count of the known loop. */
enum selftest_verdict selftest_judge(uint64_t expected, uint64_t counted, double running_pct);
/* Runs the loop under instructions:u and cycles:u (one group). */
void selftest_run(struct selftest_result *r);
const char *selftest_verdict_name(enum selftest_verdict v);

#endif
