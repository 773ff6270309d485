/* Counter self-test: a loop of exactly SELFTEST_ITERATIONS x 2 user-mode
 * instructions, counted with the group {instructions:u,cycles:u}. It
 * runs on vmm's own thread (host user mode): it proves the PMU counts
 * right here; whether guest mode can be counted apart is the open of
 * instructions:G, reported next to it. */
#include "counters/selftest.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "counters/event_names.h"
#include "counters/perf_events.h"
#include "util/err.h"

const char *selftest_verdict_name(enum selftest_verdict v)
{
	return v == SELFTEST_TRUSTED ? "trusted" : v == SELFTEST_UNTRUSTED ? "untrusted" : "no-pmu";
}

enum selftest_verdict selftest_judge(uint64_t expected, uint64_t counted, double running_pct)
{
	double off = fabs((double)counted - (double)expected) / (double)expected;

	return running_pct >= 100.0 && off <= SELFTEST_TOLERANCE ? SELFTEST_TRUSTED
								 : SELFTEST_UNTRUSTED;
}

/* dec; jnz: exactly two retired instructions per iteration. */
static void known_loop(uint64_t n)
{
	__asm__ volatile("1: dec %0\n\tjnz 1b" : "+r"(n) : : "cc");
}

void selftest_run(struct selftest_result *r)
{
	struct event_list l;
	struct perf_set ps;
	struct perf_reading before[2], after[2];
	double pct;
	uint64_t enabled, running;

	memset(r, 0, sizeof(*r));
	r->expected = SELFTEST_ITERATIONS * SELFTEST_INSNS_PER_ITER;
	r->verdict = SELFTEST_NO_PMU;
	if (event_list_parse(&l, "{instructions:u,cycles:u}")) {
		snprintf(r->why, sizeof(r->why), "%s", err_msg());
		return;
	}
	{
		struct event_list g;
		char reason[PERF_REASON_MAX];

		if (event_list_parse(&g, "instructions:G") == 0) {
			r->guest_mode = perf_probe(&g.ev[0], reason, sizeof(reason)) == 0;
			event_list_free(&g);
		}
	}
	if (perf_set_open(&ps, l.ev, l.n)) {
		snprintf(r->why, sizeof(r->why), "%s", err_msg());
		event_list_free(&l);
		return;
	}
	if (ps.slot[0].fd < 0) {
		snprintf(r->why, sizeof(r->why), "instructions cannot be counted: %s",
			 ps.slot[0].reason);
		goto out;
	}
	if (perf_set_read(&ps, before) || perf_set_enable(&ps)) {
		snprintf(r->why, sizeof(r->why), "%s", err_msg());
		goto out;
	}
	known_loop(SELFTEST_ITERATIONS);
	if (perf_set_disable(&ps) || perf_set_read(&ps, after)) {
		snprintf(r->why, sizeof(r->why), "%s", err_msg());
		goto out;
	}
	enabled = after[0].enabled - before[0].enabled;
	running = after[0].running - before[0].running;
	r->instructions = perf_scale(after[0].value - before[0].value, enabled, running, &pct);
	r->cycles_ok = ps.slot[1].fd >= 0;
	r->cycles = after[1].value - before[1].value;
	r->verdict = selftest_judge(r->expected, r->instructions, pct);
	snprintf(r->why, sizeof(r->why),
		 "%llu instructions counted for %llu executed (%.4f%% off, "
		 "tolerance %.1f%%), on the PMU %.1f%% of the time",
		 (unsigned long long)r->instructions, (unsigned long long)r->expected,
		 100.0 * fabs((double)r->instructions - (double)r->expected) / (double)r->expected,
		 100.0 * SELFTEST_TOLERANCE, pct);
out:
	perf_set_close(&ps);
	event_list_free(&l);
}
