/* The rest of the output side with fixed inputs: provenance, rows out of a
 * JSON report, the -r mean and noise, the -o/--log-fd/-r/--json options
 * and the output files opened before the run. */
#include <fcntl.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

#include "config_fixture.h"
#include "report/output.h"
#include "report/perf_rows.h"
#include "report/provenance.h"
#include "unit.h"
#include "util/err.h"
#include "vm/config.h"

START_TEST(iso8601_dates)
{
	char buf[32];

	ck_assert_int_eq(provenance_iso8601(0, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "1970-01-01T00:00:00Z");
	ck_assert_int_eq(provenance_iso8601(1795920300, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "2026-11-29T02:45:00Z");
	ck_assert_int_eq(provenance_iso8601(0, buf, 4), -1); /* too small: no partial date */
}
END_TEST

START_TEST(cpu_model_from_cpuinfo)
{
	static const char text[] = "processor\t: 0\nvendor_id\t: GenuineIntel\n"
				   "model name\t: Intel(R) Xeon(R) Processor\nflags\t\t: fpu\n"
				   "model name\t: second\n";
	FILE *f = fmemopen((void *)text, sizeof(text) - 1, "r");
	char buf[64];

	ck_assert_int_eq(provenance_cpu_model(f, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "Intel(R) Xeon(R) Processor");
	fclose(f);
	f = fmemopen((void *)"processor : 0\n", 14, "r");
	ck_assert_int_eq(provenance_cpu_model(f, buf, sizeof(buf)), -1);
	fclose(f);
}
END_TEST

START_TEST(provenance_block)
{
	char *argv[] = {"./vmm", "info", "--json"};
	json_object *root = json_object_new_object(), *p;

	provenance_set_command_line(3, argv);
	provenance_add(root, "vmm-info", "npt");
	ck_assert_str_eq(json_object_get_string(unit_json_path(root, "document", NULL)),
			 "vmm-info");
	ck_assert_int_eq(json_object_get_int(unit_json_path(root, "schema_version", NULL)),
			 REPORT_SCHEMA_VERSION);
	p = unit_json_path(root, "provenance", NULL);
	ck_assert_str_eq(json_object_get_string(unit_json_path(p, "paging_mode", NULL)), "npt");
	ck_assert(strlen(json_object_get_string(unit_json_path(p, "vmm_version", NULL))) > 0);
	ck_assert(strlen(json_object_get_string(unit_json_path(p, "vmm_commit", NULL))) > 0);
	ck_assert_int_eq(json_object_array_length(unit_json_path(p, "command_line", NULL)), 3);
	ck_assert_str_eq(json_object_get_string(
			     json_object_array_get_idx(unit_json_path(p, "command_line", NULL), 2)),
			 "--json");
	ck_assert_int_eq(strlen(json_object_get_string(unit_json_path(p, "date", NULL))), 20);
	json_object_put(root);
}
END_TEST

START_TEST(mean_and_noise)
{
	const double v[] = {1, 2, 3, 4};
	double mean, noise;

	perf_mean_noise(v, 4, &mean, &noise);
	ck_assert_double_eq_tol(mean, 2.5, 1e-12);
	/* sample stddev 1.2909944, of the mean / sqrt(4) */
	ck_assert_double_eq_tol(noise, 0.6454972, 1e-6);
	perf_mean_noise(v, 1, &mean, &noise);
	ck_assert_double_eq_tol(mean, 1, 1e-12);
	ck_assert_double_eq_tol(noise, 0, 1e-12);
}
END_TEST

/* A run report as report.c and counters.c write it, with made-up counts. */
static json_object *fake_report(bool marked, long faults, long run_ns)
{
	char text[2048];

	snprintf(text, sizeof(text),
		 "{\"run\": {\"run_ns\": %ld}, \"regions_marked\": %s,"
		 " \"regions\": [{\"index\": 0, \"wall_ns\": %ld, \"counters\": {"
		 "  \"page-faults\": {\"supported\": true, \"value\": %ld, \"unit\": \"\","
		 "   \"running_pct\": 100.0, \"running_ns\": 10}}}],"
		 " \"total\": {\"regions\": 1, \"wall_ns\": %ld, \"counters\": {"
		 "  \"page-faults\": {\"supported\": true, \"value\": %ld, \"unit\": \"\","
		 "   \"running_pct\": 100.0, \"running_ns\": 20,"
		 "   \"metric\": {\"value\": 1.5, \"unit\": \"K/sec\"}},"
		 "  \"cycles\": {\"supported\": false, \"reason\": \"no PMU\"},"
		 "  \"instructions\": {\"supported\": true, \"counted\": false, \"value\": null}},"
		 " \"metrics\": [{\"name\": \"iTLB walks\", \"value\": 0.25,"
		 "   \"unit\": \"per 1000 instructions\"}]}}",
		 run_ns, marked ? "true" : "false", run_ns / 10, faults / 2, 2 * run_ns, faults);
	return json_tokener_parse(text);
}

START_TEST(blocks_from_report)
{
	json_object *doc = fake_report(false, 7, 100);
	struct perf_block *b;
	size_t n = perf_blocks_from_report(doc, &b);

	ck_assert_uint_eq(n, 1); /* no regions marked: the total only, no column */
	ck_assert_ptr_null(b[0].region);
	ck_assert_uint_eq(b[0].n, 4); /* 3 counters and the metric line */
	ck_assert_str_eq(b[0].rows[0].event, "page-faults");
	ck_assert_int_eq(b[0].rows[0].state, PERF_ROW_COUNTED);
	ck_assert_double_eq_tol(b[0].rows[0].value, 7, 1e-9);
	ck_assert_uint_eq(b[0].rows[0].run_ns, 20);
	ck_assert(b[0].rows[0].has_metric);
	ck_assert_str_eq(b[0].rows[0].metric_unit, "K/sec");
	ck_assert_int_eq(b[0].rows[1].state, PERF_ROW_NOT_SUPPORTED);
	ck_assert_str_eq(b[0].rows[1].note, "no PMU");
	ck_assert_int_eq(b[0].rows[2].state, PERF_ROW_NOT_COUNTED);
	ck_assert_int_eq(b[0].rows[3].state, PERF_ROW_METRIC);
	ck_assert_str_eq(b[0].rows[3].metric_unit, "per 1000 instructions (iTLB walks)");
	perf_blocks_free(b, n);
	json_object_put(doc);
	doc = fake_report(true, 7, 100);
	n = perf_blocks_from_report(doc, &b);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(b[0].region, "0");
	ck_assert_str_eq(b[1].region, "total");
	ck_assert_double_eq_tol(b[0].rows[0].value, 3, 1e-9);
	perf_blocks_free(b, n);
	/* elapsed: the counted window where there are counters, else run_ns */
	ck_assert_uint_eq(perf_report_wall_ns(doc), 200);
	json_object_put(doc);
	doc = json_tokener_parse("{\"run\": {\"run_ns\": 5}}");
	ck_assert_uint_eq(perf_report_wall_ns(doc), 5);
	ck_assert_uint_eq(perf_blocks_from_report(doc, &b), 0);
	json_object_put(doc);
}
END_TEST

/* A summary's blocks and JSON, and its three runs. */
static void summary_free(struct perf_block *b, size_t n, json_object *summary, json_object **runs)
{
	perf_blocks_free(b, n);
	json_object_put(summary);
	for (size_t i = 0; i < 3; i++)
		json_object_put(runs[i]);
}

START_TEST(summary_of_runs)
{
	json_object *runs[] = {fake_report(false, 10, 100), fake_report(false, 20, 300),
			       fake_report(false, 30, 200)};
	json_object *summary = json_object_new_object(), *pf;
	struct perf_block *b;
	size_t n = perf_rows_summary(runs, 3, &b, summary);
	const struct perf_row *rows = b[0].rows;

	ck_assert_uint_eq(n, 1); /* no regions marked: the total alone */
	ck_assert_ptr_null(b[0].region);
	ck_assert_uint_eq(b[0].n, 4); /* 3 events and the metric line */
	ck_assert_double_eq_tol(rows[0].value, 20, 1e-9);
	ck_assert_int_eq(rows[3].state, PERF_ROW_METRIC);
	ck_assert_double_eq_tol(rows[3].metric, 0.25, 1e-12);
	ck_assert_int_eq(json_object_array_length(unit_json_path(summary, "metrics", NULL)), 1);
	/* stddev 10, of the mean 10/sqrt(3) = 5.7735, relative to 20 */
	ck_assert_double_eq_tol(rows[0].noise_pct, 28.8675, 1e-3);
	ck_assert_int_eq(rows[1].state, PERF_ROW_NOT_SUPPORTED);
	ck_assert_int_eq(rows[2].state, PERF_ROW_NOT_COUNTED);
	pf = unit_json_path(summary, "counters", "page-faults", NULL);
	ck_assert_int_eq(json_object_array_length(unit_json_path(pf, "values", NULL)), 3);
	ck_assert_double_eq_tol(json_object_get_double(unit_json_path(pf, "mean", NULL)), 20, 1e-9);
	ck_assert_double_eq_tol(
	    json_object_get_double(unit_json_path(summary, "run_ns", "mean", NULL)), 400, 1e-9);
	ck_assert_int_eq(json_object_get_int(unit_json_path(summary, "runs", NULL)), 3);
	ck_assert(!json_object_object_get_ex(summary, "regions", NULL));
	summary_free(b, n, summary, runs);
}
END_TEST

/* Runs that marked the same regions: a block per region, then the total,
 * and "regions" in the summary; one run without them: the total alone. */
START_TEST(summary_of_regions)
{
	json_object *runs[] = {fake_report(true, 10, 100), fake_report(true, 20, 300),
			       fake_report(true, 30, 200)};
	json_object *summary = json_object_new_object(), *r0;
	struct perf_block *b;
	size_t n = perf_rows_summary(runs, 3, &b, summary);

	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(b[0].region, "0");
	ck_assert_str_eq(b[1].region, "total");
	ck_assert_double_eq_tol(b[0].rows[0].value, 10, 1e-9); /* mean of 5, 10, 15 */
	ck_assert_uint_eq(b[0].wall_ns, 20);		       /* mean of 10, 30, 20 */
	ck_assert_double_eq_tol(b[1].rows[0].value, 20, 1e-9);
	ck_assert_uint_eq(b[1].regions, 1);
	r0 = json_object_array_get_idx(unit_json_path(summary, "regions", NULL), 0);
	ck_assert_int_eq(json_object_get_int(unit_json_path(r0, "index", NULL)), 0);
	ck_assert_double_eq_tol(
	    json_object_get_double(unit_json_path(r0, "counters", "page-faults", "mean", NULL)), 10,
	    1e-9);
	ck_assert_double_eq_tol(json_object_get_double(unit_json_path(r0, "wall_ns", "mean", NULL)),
				20, 1e-9);
	perf_blocks_free(b, n);
	json_object_put(summary);
	json_object_put(runs[1]);
	runs[1] = fake_report(false, 20, 300);
	summary = json_object_new_object();
	n = perf_rows_summary(runs, 3, &b, summary);
	ck_assert_uint_eq(n, 1);
	ck_assert_ptr_null(b[0].region);
	ck_assert(!json_object_object_get_ex(summary, "regions", NULL));
	summary_free(b, n, summary, runs);
}
END_TEST

START_TEST(output_options)
{
	struct config c;

	ck_assert_int_eq(parse(&c, (char *[]){"run", "p", NULL}), 0);
	ck_assert_uint_eq(c.repeat, 1);
	ck_assert_int_eq(c.log_fd, -1);
	ck_assert_ptr_null(c.output_path);
	ck_assert_int_eq(
	    parse(&c, (char *[]){"run", "-o", "c.txt", "-r", "5", "--json", "-", "p", NULL}), 0);
	ck_assert_str_eq(c.output_path, "c.txt");
	ck_assert_uint_eq(c.repeat, 5);
	ck_assert_str_eq(c.json_path, "-");
	ck_assert_int_eq(parse(&c, (char *[]){"run", "--log-fd", "3", "--repeat", "2", "p", NULL}),
			 0);
	ck_assert_int_eq(c.log_fd, 3);
	ck_assert_uint_eq(c.repeat, 2);
	ck_assert_int_eq(parse(&c, (char *[]){"run", "-r", "0", "p", NULL}), -1);
	ck_assert_str_eq(err_msg(), "config: --repeat '0': need a whole number from 1 to 100000");
	ck_assert_int_eq(parse(&c, (char *[]){"run", "-r", "2x", "p", NULL}), -1);
	ck_assert_int_eq(parse(&c, (char *[]){"run", "--log-fd", "-1", "p", NULL}), -1);
	ck_assert_int_eq(parse(&c, (char *[]){"run", "-o", "a", "--log-fd", "3", "p", NULL}), -1);
	ck_assert_str_eq(err_msg(), "config: -o and --log-fd exclude each other");
	ck_assert_int_eq(parse(&c, (char *[]){"run", "-o", "a", "--json", "a", "p", NULL}), -1);
}
END_TEST

START_TEST(outputs_opened_before_the_run)
{
	struct config c = {.log_fd = -1, .json_path = "/nonexistent/dir/r.json"};
	struct report_output o;
	char path[] = "/tmp/vmm-unit-out-XXXXXX";
	int fd = mkstemp(path);

	ck_assert_int_eq(report_output_open(&o, &c), -1);
	ck_assert_str_eq(err_msg(),
			 "output: --json /nonexistent/dir/r.json: No such file or directory");
	c.json_path = "-";
	c.output_path = path;
	ck_assert_int_eq(report_output_open(&o, &c), 0);
	ck_assert_ptr_eq(o.json, stdout);
	ck_assert_ptr_ne(o.counters, stderr);
	ck_assert_int_eq(fputs("counted\n", o.counters) >= 0, 1);
	ck_assert_int_eq(report_output_close(&o), 0);
	{
		char got[128] = "";
		ssize_t n = pread(fd, got, sizeof(got) - 1, 0);

		ck_assert_int_gt(n, 0);
		ck_assert_msg(strncmp(got, "# started on ", 13) == 0, "%s", got);
		ck_assert_msg(strstr(got, "\n\ncounted\n"), "%s", got);
	}
	close(fd);
	unlink(path);
	c.output_path = NULL;
	c.json_path = NULL;
	c.log_fd = open("/dev/null", O_RDONLY);
	ck_assert_int_eq(report_output_open(&o, &c), -1);
	ck_assert_msg(strstr(err_msg(), "not open for writing"), "%s", err_msg());
	close(c.log_fd);
	c.log_fd = 1000; /* not open */
	ck_assert_int_eq(report_output_open(&o, &c), -1);
	ck_assert_str_eq(err_msg(), "output: --log-fd 1000: Bad file descriptor");
}
END_TEST

UNIT_SUITE_MAIN("report_output", NULL, NULL, 0, iso8601_dates, cpu_model_from_cpuinfo,
		provenance_block, mean_and_noise, blocks_from_report, summary_of_runs,
		summary_of_regions, output_options, outputs_opened_before_the_run)
