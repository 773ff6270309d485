/* metrics: the CPU model from recorded /proc/cpuinfo text, the event table
 * chosen per generation, libpfm4 knowing every event of every table (with
 * the PMU forced, as on that CPU), and the figures from fake counts:
 * right values, and absent (never 0) where an input is missing. */
#include <perfmon/pfmlib_perf_event.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "counters/metrics.h"
#include "counters/selftest.h"
#include "unit.h"
#include "util/err.h"

#define CPUINFO(vendor, family, model)                                                             \
	"processor\t: 0\nvendor_id\t: " vendor "\ncpu family\t: " family "\nmodel\t\t: " model     \
	"\nmodel name\t: Some CPU\nstepping\t: 4\n\nprocessor\t: 1\nvendor_id\t: Other\n"

static const struct metric_table *table_of(const char *cpuinfo)
{
	struct cpu_model m;

	ck_assert_int_eq(cpu_model_parse(cpuinfo, &m), 0);
	return metrics_table_for(&m);
}

START_TEST(cpuinfo_parse)
{
	struct cpu_model m;

	ck_assert_int_eq(cpu_model_parse(CPUINFO("GenuineIntel", "6", "85"), &m), 0);
	ck_assert_str_eq(m.vendor, "GenuineIntel");
	ck_assert_uint_eq(m.family, 6);
	ck_assert_uint_eq(m.model, 85);
	/* "model name" is not "model". */
	ck_assert_int_eq(cpu_model_parse("vendor_id : AuthenticAMD\ncpu family : 23\nmodel name : "
					 "AMD EPYC\nmodel : 49\n",
					 &m),
			 0);
	ck_assert_uint_eq(m.model, 49);
	ck_assert_int_eq(cpu_model_parse("vendor_id : X\ncpu family : 6\n", &m), -1);
	ck_assert_str_eq(err_msg(), "cpuinfo: no vendor_id, cpu family or model line");
	ck_assert_int_eq(cpu_model_parse("vendor_id : X\ncpu family : six\nmodel : 1\n", &m), -1);
	ck_assert_str_eq(err_msg(), "cpuinfo: cpu family 'six' is not a number");
	/* The host's own, whatever it is, parses. */
	ck_assert_int_eq(cpu_model_read(NULL, &m), 0);
}
END_TEST

START_TEST(generation_choice)
{
	const struct metric_table *t;

	t = table_of(CPUINFO("GenuineIntel", "6", "94")); /* Skylake client */
	ck_assert_str_eq(t->generation, "skylake");
	ck_assert_str_eq(t->event[MR_DTLB_LOAD_WALK_CYCLES], "DTLB_LOAD_MISSES:WALK_ACTIVE");
	ck_assert_str_eq(t->event[MR_EPT_WALK_CYCLES], "EPT:WALK_DURATION");
	t = table_of(CPUINFO("GenuineIntel", "6", "63")); /* Haswell-EP */
	ck_assert_str_eq(t->generation, "haswell");
	ck_assert_str_eq(t->event[MR_DTLB_LOAD_WALK_CYCLES], "DTLB_LOAD_MISSES:WALK_DURATION");
	ck_assert_str_eq(t->event[MR_EPT_WALK_CYCLES], "EPT:WALK_CYCLES");
	t = table_of(CPUINFO("GenuineIntel", "6", "44")); /* Westmere-EP */
	ck_assert_str_eq(t->event[MR_DTLB_LOAD_WALK_CYCLES], "DTLB_LOAD_MISSES:WALK_CYCLES");
	t = table_of(CPUINFO("GenuineIntel", "6", "26")); /* Nehalem: no walk cycles */
	ck_assert_ptr_null(t->event[MR_DTLB_LOAD_WALK_CYCLES]);
	ck_assert_ptr_null(t->event[MR_EPT_WALK_CYCLES]);
	t = table_of(CPUINFO("GenuineIntel", "6", "106")); /* Ice Lake-SP: no EPT event */
	ck_assert_str_eq(t->generation, "icelake-x");
	ck_assert_ptr_null(t->event[MR_EPT_WALK_CYCLES]);
	t = table_of(CPUINFO("GenuineIntel", "6", "207")); /* Emerald Rapids */
	ck_assert_str_eq(t->generation, "sapphirerapids");
	t = table_of(CPUINFO("AuthenticAMD", "23", "1")); /* Naples */
	ck_assert_str_eq(t->generation, "zen1");
	t = table_of(CPUINFO("AuthenticAMD", "23", "49")); /* Rome */
	ck_assert_str_eq(t->generation, "zen2");
	ck_assert_ptr_nonnull(strstr(t->event[MR_DTLB_LOAD_WALKS], "L1_DTLB_MISS:"));
	ck_assert_ptr_null(t->event[MR_DTLB_LOAD_WALK_CYCLES]);
	t = table_of(CPUINFO("AuthenticAMD", "25", "1")); /* Milan */
	ck_assert_str_eq(t->generation, "zen3");
	t = table_of(CPUINFO("AuthenticAMD", "25", "17")); /* Genoa */
	ck_assert_str_eq(t->generation, "zen4");
	ck_assert_ptr_null(table_of(CPUINFO("GenuineIntel", "6", "15"))); /* Core 2 */
	ck_assert_ptr_null(table_of(CPUINFO("GenuineIntel", "15", "4"))); /* NetBurst */
	ck_assert_ptr_null(table_of(CPUINFO("AuthenticAMD", "26", "2"))); /* Zen 5: no table yet */
	ck_assert_ptr_null(table_of(CPUINFO("CentaurHauls", "6", "15")));
}
END_TEST

/* In a child: libpfm4 with only `pmu` active encodes every event. */
static int encode_all(const struct metric_table *t)
{
	if (setenv("LIBPFM_FORCE_PMU", t->pfm_pmu, 1) || pfm_initialize() != PFM_SUCCESS)
		return 2;
	for (size_t r = 0; r < MR_N; r++) {
		struct perf_event_attr attr;
		pfm_perf_encode_arg_t arg;

		if (!t->event[r])
			continue;
		memset(&attr, 0, sizeof(attr));
		memset(&arg, 0, sizeof(arg));
		arg.attr = &attr;
		arg.size = sizeof(arg);
		if (pfm_get_os_event_encoding(t->event[r], PFM_PLM3, PFM_OS_PERF_EVENT_EXT, &arg) !=
		    PFM_SUCCESS) {
			fprintf(stderr, "%s (%s): %s: not encoded\n", t->generation, t->pfm_pmu,
				t->event[r]);
			return 1;
		}
	}
	return 0;
}

START_TEST(libpfm4_knows_every_event)
{
	size_t n;
	const struct metric_table *t = metrics_tables(&n);
	pid_t pid;
	int status;

	ck_assert_uint_lt((size_t)_i, n);
	t += _i;
	pid = fork(); /* libpfm4 initializes once per process */
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(encode_all(t));
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s (%s): exit %d",
		      t->generation, t->pfm_pmu, WEXITSTATUS(status));
}
END_TEST

START_TEST(roles_by_counter_name)
{
	const struct metric_table *t = table_of(CPUINFO("GenuineIntel", "6", "85"));
	char list[1024];

	ck_assert_int_eq(metrics_role_of(t, "pfm:DTLB_LOAD_MISSES:WALK_ACTIVE:G"),
			 MR_DTLB_LOAD_WALK_CYCLES);
	ck_assert_int_eq(metrics_role_of(t, "DTLB_LOAD_MISSES.WALK_COMPLETED"), MR_DTLB_LOAD_WALKS);
	ck_assert_int_eq(metrics_role_of(t, "pfm:inst_retired:any_p"), MR_INSTRUCTIONS);
	ck_assert_int_eq(metrics_role_of(t, "pfm:DTLB_LOAD_MISSES:WALK_ACTIVE_X"), MR_N);
	ck_assert_int_eq(metrics_role_of(t, "pfm:DTLB_LOAD_MISSES"), MR_N);
	ck_assert_int_eq(metrics_role_of(t, "cycles"), MR_N);
	metrics_event_list(t, list, sizeof(list));
	ck_assert_ptr_nonnull(strstr(list, "pfm:INST_RETIRED:ANY_P:G,pfm:UNHALTED_CORE_CYCLES:G,"));
	ck_assert_ptr_nonnull(strstr(list, ",pfm:EPT:WALK_DURATION:G"));
	ck_assert_str_eq(metric_role_name(MR_EPT_WALK_CYCLES), "ept_walk_cycles");
}
END_TEST

static const struct metric_row *row(const struct metric_row *rows, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(rows[i].name, name))
			return &rows[i];
	return NULL;
}

static void set(struct metric_counts *c, enum metric_role r, double v)
{
	c->value[r] = v;
	c->have[r] = true;
}

START_TEST(figures_from_fake_counts)
{
	struct metric_counts c;
	struct metric_row rows[METRIC_ROWS_MAX];
	const struct metric_row *r;
	size_t n;

	memset(&c, 0, sizeof(c));
	set(&c, MR_INSTRUCTIONS, 2e9);
	set(&c, MR_CYCLES, 1e9);
	set(&c, MR_DTLB_LOAD_WALKS, 3e6);
	set(&c, MR_DTLB_STORE_WALKS, 1e6);
	set(&c, MR_ITLB_WALKS, 2e5);
	set(&c, MR_DTLB_LOAD_WALK_CYCLES, 1.5e8);
	set(&c, MR_DTLB_STORE_WALK_CYCLES, 5e7);
	set(&c, MR_ITLB_WALK_CYCLES, 1e7);
	set(&c, MR_EPT_WALK_CYCLES, 4e7);
	n = metrics_compute(&c, rows);
	ck_assert_uint_eq(n, 8);
	r = row(rows, n, "dTLB load walks");
	ck_assert(r && r->value > 1.4999 && r->value < 1.5001);
	ck_assert_str_eq(r->unit, "per 1000 instructions");
	r = row(rows, n, "iTLB walks");
	ck_assert(r && r->value > 0.0999 && r->value < 0.1001);
	r = row(rows, n, "dTLB load walk cycles");
	ck_assert(r && r->value > 14.999 && r->value < 15.001);
	ck_assert_str_eq(r->unit, "% of cycles");
	r = row(rows, n, "EPT walk cycles");
	ck_assert(r && r->value > 3.999 && r->value < 4.001);
	r = row(rows, n, "page-walk cycles (upper bound)");
	ck_assert(r && r->value > 20.999 && r->value < 21.001);

	/* Zen: no walk-cycle events, so no cycle shares at all. */
	memset(&c, 0, sizeof(c));
	set(&c, MR_INSTRUCTIONS, 1000);
	set(&c, MR_CYCLES, 5000);
	set(&c, MR_DTLB_LOAD_WALKS, 7);
	n = metrics_compute(&c, rows);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(rows[0].name, "dTLB load walks");
	ck_assert(rows[0].value > 6.999 && rows[0].value < 7.001);

	/* Missing or zero divisors: absent, never 0. */
	memset(&c, 0, sizeof(c));
	set(&c, MR_DTLB_LOAD_WALKS, 7);
	set(&c, MR_DTLB_LOAD_WALK_CYCLES, 70);
	ck_assert_uint_eq(metrics_compute(&c, rows), 0);
	set(&c, MR_INSTRUCTIONS, 0);
	ck_assert_uint_eq(metrics_compute(&c, rows), 0);
	/* A part of the walk cycles missing: no total that would pass for all. */
	set(&c, MR_CYCLES, 100);
	set(&c, MR_ITLB_WALK_CYCLES, 5);
	n = metrics_compute(&c, rows);
	ck_assert_ptr_null(row(rows, n, "page-walk cycles (upper bound)"));
	ck_assert_ptr_nonnull(row(rows, n, "iTLB walk cycles"));
	/* A zero count is a real 0, not a missing one. */
	set(&c, MR_DTLB_LOAD_WALKS, 0);
	set(&c, MR_INSTRUCTIONS, 10);
	n = metrics_compute(&c, rows);
	r = row(rows, n, "dTLB load walks");
	ck_assert(r && r->value == 0);
}
END_TEST

START_TEST(selftest_verdicts)
{
	struct selftest_result r;

	ck_assert_int_eq(selftest_judge(20000000, 20000150, 100.0), SELFTEST_TRUSTED);
	ck_assert_int_eq(selftest_judge(20000000, 19990000, 100.0), SELFTEST_TRUSTED);
	ck_assert_int_eq(selftest_judge(20000000, 20100000, 100.0), SELFTEST_UNTRUSTED);
	ck_assert_int_eq(selftest_judge(20000000, 0, 100.0), SELFTEST_UNTRUSTED);
	/* Multiplexed: an estimate, not a count to vouch for. */
	ck_assert_int_eq(selftest_judge(20000000, 20000000, 50.0), SELFTEST_UNTRUSTED);
	ck_assert_str_eq(selftest_verdict_name(SELFTEST_NO_PMU), "no-pmu");
	/* On this host: either no PMU (with the reason) or a count it judged. */
	selftest_run(&r);
	ck_assert_uint_eq(r.expected, SELFTEST_ITERATIONS * SELFTEST_INSNS_PER_ITER);
	ck_assert_uint_gt(strlen(r.why), 10);
	if (r.verdict == SELFTEST_NO_PMU) {
		printf("SKIP: counter self-test on this host: %s\n", r.why);
		ck_assert_uint_eq(r.instructions, 0);
	} else {
		ck_assert_int_eq(r.verdict, selftest_judge(r.expected, r.instructions, 100.0));
	}
}
END_TEST

static Suite *metrics_suite(void)
{
	Suite *s = suite_create("metrics");
	size_t n;
	TCase *t = UNIT_TCASE(s, "metrics", cpuinfo_parse, generation_choice, roles_by_counter_name,
			      figures_from_fake_counts, selftest_verdicts);

	metrics_tables(&n);
	tcase_add_loop_test(t, libpfm4_knows_every_event, 0, (int)n);
	return s;
}

UNIT_MAIN(metrics_suite)
