/* From the JSON run report to perf stat's rows: the report is the one
 * source of every counter output (table, -x, -r summary), so they cannot
 * disagree with what --json wrote. */
#ifndef VMM_PERF_ROWS_H
#define VMM_PERF_ROWS_H

#include "report/perf_stat.h"

struct json_object;

/* The blocks of one run report: one per region and "total" when the
 * payload marked regions ("regions_marked"), else the total alone with no
 * region column. 0 blocks when no region ended. Free with perf_blocks_free. */
size_t perf_blocks_from_report(struct json_object *report, struct perf_block **blocks);
void perf_blocks_free(struct perf_block *blocks, size_t n);

/* The elapsed time a report's table shows: the counted window (total
 * wall_ns) where there are counters, else the run loop's run_ns. */
uint64_t perf_report_wall_ns(struct json_object *report);

/* Mean and the standard deviation of the mean (perf's "noise": sqrt of the
 * sample variance over n), of n values; noise 0 for n < 2. */
void perf_mean_noise(const double *v, size_t n, double *mean, double *noise);

/* -r: nruns run reports as blocks of mean rows, like
 * perf_blocks_from_report's: one per region when every run marked the
 * same number of regions, then the total (alone, with no region column,
 * otherwise). A block has one row per event of the first run, the mean
 * over the runs that counted it and its relative noise in percent, then
 * the first run's metric lines as their means. The same goes to summary
 * (a JSON object): "runs"; for the total "counters": {NAME: {"supported",
 * "unit", "runs_counted", "values", "mean", "stddev_of_mean",
 * "noise_pct"}}, "metrics": [{"line", "mean", "values"}] and "run_ns":
 * {"mean", "stddev_of_mean"} of perf_report_wall_ns; with regions,
 * "regions": [{"index", "wall_ns", "counters", "metrics"}] alike. Free
 * with perf_blocks_free. */
size_t perf_rows_summary(struct json_object *const *runs, size_t nruns, struct perf_block **blocks,
			 struct json_object *summary);

#endif
