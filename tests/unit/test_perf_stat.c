/* perf stat's formats on fixed rows (report/perf_stat.c): the table and
 * -x lines compared with what perf 6.1 prints for the same numbers, the
 * separator quoting, the region column, and the -r noise. */
#include <string.h>

#include "report/perf_stat.h"
#include "unit.h"

static struct perf_row clock_row(void)
{
	struct perf_row r = {.event = "task-clock",
			     .unit = "ns",
			     .state = PERF_ROW_COUNTED,
			     .value = 1260157,
			     .run_ns = 1260157,
			     .running_pct = 100.0,
			     .has_metric = true,
			     .metric = 0.469,
			     .metric_unit = "CPUs utilized"};
	return r;
}

static struct perf_row faults_row(void)
{
	struct perf_row r = {.event = "page-faults",
			     .state = PERF_ROW_COUNTED,
			     .value = 49,
			     .run_ns = 1260157,
			     .running_pct = 100.0,
			     .has_metric = true,
			     .metric = 36.419,
			     .metric_unit = "K/sec"};
	return r;
}

static struct perf_row unsupported_row(const char *name)
{
	struct perf_row r = {.state = PERF_ROW_NOT_SUPPORTED, .note = "no hardware PMU"};

	snprintf(r.event, sizeof(r.event), "%s", name);
	return r;
}

static char *capture_csv(const char *sep, unsigned runs, const struct perf_block *b, size_t n)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct perf_run_info info = {.command = "p", .runs = runs, .wall_s = 0.002};

	perf_stat_print_csv(f, sep, &info, b, n);
	fclose(f);
	return buf;
}

static char *capture_table(const struct perf_run_info *info, const struct perf_block *b, size_t n)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	perf_stat_print_table(f, info, b, n);
	fclose(f);
	return buf;
}

START_TEST(values_in_perf_units)
{
	struct perf_row r = clock_row();
	char num[64], unit[32];

	perf_stat_value(&r, true, num, sizeof(num), unit, sizeof(unit));
	ck_assert_str_eq(num, "1.26");
	ck_assert_str_eq(unit, "msec");
	r = faults_row();
	r.value = 1234567;
	perf_stat_value(&r, false, num, sizeof(num), unit, sizeof(unit));
	ck_assert_str_eq(num, "1,234,567");
	ck_assert_str_eq(unit, "");
	perf_stat_value(&r, true, num, sizeof(num), unit, sizeof(unit));
	ck_assert_str_eq(num, "1234567");
	r = unsupported_row("cycles");
	perf_stat_value(&r, true, num, sizeof(num), unit, sizeof(unit));
	ck_assert_str_eq(num, "<not supported>");
	/* a KVM statistic in ns is not a clock: no msec */
	r = faults_row();
	snprintf(r.event, sizeof(r.event), "kvm-vcpu-stat:halt_wait_ns");
	snprintf(r.unit, sizeof(r.unit), "ns");
	perf_stat_value(&r, false, num, sizeof(num), unit, sizeof(unit));
	ck_assert_str_eq(unit, "ns");
}
END_TEST

/* perf stat -x, -e task-clock,page-faults,cycles true (perf 6.1). */
START_TEST(csv_columns_as_perf)
{
	struct perf_row rows[] = {clock_row(), faults_row(), unsupported_row("cycles")};
	struct perf_block b = {.n = 3, .rows = rows};
	char *out = capture_csv(",", 1, &b, 1);

	ck_assert_str_eq(out, "1.26,msec,task-clock,1260157,100.00,0.469,CPUs utilized\n"
			      "49,,page-faults,1260157,100.00,36.419,K/sec\n"
			      "<not supported>,,cycles,0,100.00,,\n");
	free(out);
}
END_TEST

/* perf stat -x, -r 3: the variance after the event name. */
START_TEST(csv_repeat_variance)
{
	struct perf_row rows[] = {clock_row(), unsupported_row("cycles")};
	struct perf_block b = {.n = 2, .rows = rows};
	char *out;

	rows[0].noise_pct = 6.18;
	out = capture_csv(",", 3, &b, 1);
	ck_assert_str_eq(out, "1.26,msec,task-clock,6.18%,1260157,100.00,0.469,CPUs utilized\n"
			      "<not supported>,,cycles,0.00%,0,100.00,,\n");
	free(out);
}
END_TEST

/* Splits a line on sep outside double quotes: the fields a CSV reader sees. */
static int csv_fields(const char *line, char sep)
{
	int n = 1;
	bool quoted = false;

	for (const char *p = line; *p && *p != '\n'; p++) {
		if (*p == '"')
			quoted = !quoted;
		else if (*p == sep && !quoted)
			n++;
	}
	return n;
}

START_TEST(separator_in_a_name_adds_no_field)
{
	struct perf_row rows[] = {faults_row(), faults_row()};
	struct perf_block b = {.n = 2, .rows = rows};
	char *out;

	snprintf(rows[0].event, sizeof(rows[0].event), "kvm:kvm_exit");
	snprintf(rows[1].event, sizeof(rows[1].event), "say \"hi\"");
	out = capture_csv(":", 1, &b, 1);
	ck_assert_str_eq(out, "49::\"kvm:kvm_exit\":1260157:100.00:36.419:K/sec\n"
			      "49::\"say \"\"hi\"\"\":1260157:100.00:36.419:K/sec\n");
	for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n"))
		ck_assert_int_eq(csv_fields(line, ':'), 7);
	free(out);
	/* A multi-character separator, as perf allows. */
	out = capture_csv(";;", 1, &b, 1);
	ck_assert_ptr_nonnull(strstr(out, "49;;;;kvm:kvm_exit;;1260157"));
	free(out);
}
END_TEST

START_TEST(region_column_only_with_regions)
{
	struct perf_row r0[] = {faults_row()}, tot[] = {faults_row()};
	struct perf_block b[] = {{.region = "0", .n = 1, .rows = r0},
				 {.region = "total", .n = 1, .rows = tot}};
	char *out;

	tot[0].value = 98;
	out = capture_csv(",", 1, b, 2);
	ck_assert_str_eq(out, "0,49,,page-faults,1260157,100.00,36.419,K/sec\n"
			      "total,98,,page-faults,1260157,100.00,36.419,K/sec\n");
	free(out);
}
END_TEST

/* Regions past vmm's limit have no block: the total's header says so. */
START_TEST(table_says_regions_folded)
{
	struct perf_row r0[] = {faults_row()}, tot[] = {faults_row()};
	struct perf_block b[] = {
	    {.region = "0", .n = 1, .rows = r0},
	    {.region = "total", .regions = 70, .regions_folded = 69, .n = 1, .rows = tot}};
	struct perf_run_info info = {.command = "p", .runs = 1, .wall_s = 0.002};
	char *out = capture_table(&info, b, 2);

	ck_assert_msg(strstr(out, "for 'p', all 70 regions (69 in this total only):"), "%s", out);
	free(out);
	b[1].regions_folded = 0;
	out = capture_table(&info, b, 2);
	ck_assert_msg(strstr(out, "for 'p', all 1 regions:"), "%s", out);
	free(out);
}
END_TEST

/* perf stat -e task-clock,page-faults,cycles true, line for line. */
START_TEST(table_lines_as_perf)
{
	struct perf_row rows[] = {clock_row(), faults_row(), unsupported_row("cycles")};
	struct perf_block b = {.n = 3, .rows = rows};
	struct perf_run_info info = {.command = "true", .runs = 1, .wall_s = 0.002121141};
	char *out, want[512];

	rows[0].value = 1360000;
	rows[0].metric = 0.643;
	rows[1].metric = 35.952;
	out = capture_table(&info, &b, 1);
	/* perf's lines are 91 characters up to the end of the metric field
	 * (measured on perf 6.1); vmm adds the reason after it. */
	snprintf(
	    want, sizeof(want),
	    "\n Performance counter stats for 'true':\n\n"
	    "%-91s\n%-91s\n%-91s  (no hardware PMU)\n"
	    "\n       0.002121141 seconds time elapsed\n\n",
	    "              1.36 msec task-clock                       #    0.643 CPUs utilized",
	    "                49      page-faults                      #   35.952 K/sec",
	    "   <not supported>      cycles");
	ck_assert_str_eq(out, want);
	free(out);
}
END_TEST

START_TEST(table_repeat_and_interrupted)
{
	struct perf_row rows[] = {clock_row()};
	struct perf_block b = {.n = 1, .rows = rows};
	struct perf_run_info info = {.command = "true",
				     .runs = 3,
				     .wall_s = 0.002,
				     .wall_stddev_s = 0.0001,
				     .interrupted = "SIGINT"};
	char *out;

	rows[0].noise_pct = 3.12;
	rows[0].running_pct = 50.0;
	out = capture_table(&info, &b, 1);
	ck_assert_msg(strstr(out, " Performance counter stats for 'true' (3 runs):\n"), "%s", out);
	ck_assert_msg(strstr(out, "CPUs utilized            ( +-  3.12% )  (50.00%)\n"), "%s", out);
	ck_assert_msg(strstr(out, "interrupted by SIGINT"), "%s", out);
	ck_assert_msg(
	    strstr(out, "       0.002000000 +- 0.000100000 seconds time elapsed  ( +-  5.00% )"),
	    "%s", out);
	free(out);
}
END_TEST

START_TEST(table_nothing_counted)
{
	struct perf_run_info info = {.command = "p", .runs = 1};
	char *out = capture_table(&info, NULL, 0);

	ck_assert_msg(strstr(out, "no region of interest ended, nothing counted"), "%s", out);
	free(out);
}
END_TEST

/* A metric of several events: perf's line with only the "#" part. */
START_TEST(metric_lines)
{
	struct perf_row rows[] = {faults_row(),
				  {.state = PERF_ROW_METRIC,
				   .has_metric = true,
				   .metric = 1.5,
				   .metric_unit = "per 1000 instructions (dTLB load walks)"}};
	struct perf_block b = {.n = 2, .rows = rows};
	struct perf_run_info info = {.command = "p", .runs = 1};
	char *out = capture_csv(",", 1, &b, 1);

	ck_assert_str_eq(out, "49,,page-faults,1260157,100.00,36.419,K/sec\n"
			      ",,,,,1.500,per 1000 instructions (dTLB load walks)\n");
	free(out);
	out = capture_csv(",", 3, &b, 1);
	ck_assert_msg(strstr(out, "\n,,,,,,1.500,per 1000"), "%s", out); /* + variance */
	free(out);
	out = capture_table(&info, &b, 1);
	ck_assert_msg(strstr(out, "\n                                                         #    "
				  "1.500 per 1000 instructions (dTLB load walks)\n"),
		      "%s", out);
	free(out);
}
END_TEST

UNIT_SUITE_MAIN("perf_stat", NULL, NULL, 0, values_in_perf_units, csv_columns_as_perf,
		csv_repeat_variance, separator_in_a_name_adds_no_field,
		region_column_only_with_regions, table_says_regions_folded, table_lines_as_perf,
		table_repeat_and_interrupted, table_nothing_counted, metric_lines)
