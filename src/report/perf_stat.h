/* Counter output as perf stat prints it (perf 6.x): the human table and
 * the -x SEP lines. Pure formatting of rows the caller fills (from the
 * JSON report: report/perf_rows.c), so unit tests call it with fixed
 * inputs. */
#ifndef VMM_PERF_STAT_H
#define VMM_PERF_STAT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

enum perf_row_state {
	PERF_ROW_COUNTED,
	PERF_ROW_NOT_SUPPORTED, /* "<not supported>" */
	PERF_ROW_NOT_COUNTED,	/* "<not counted>": enabled but never on the PMU */
	PERF_ROW_METRIC,	/* a metric of several events: only the "#" part */
};

/* One event of one region (or of the whole run), or a metric line. */
struct perf_row {
	char event[128];
	char unit[24]; /* as vmm records it: "ns" for task-clock, printed in msec */
	enum perf_row_state state;
	double value;	    /* in unit; the mean over the runs with -r */
	double noise_pct;   /* -r: relative standard deviation of the mean */
	uint64_t run_ns;    /* time the event was counted */
	double running_pct; /* share of the enabled time it was on the PMU */
	bool has_metric;    /* perf's "#" column */
	double metric;
	char metric_unit[64];
	char note[160]; /* why not supported, or a remark */
};

/* One block of rows: a region, or the whole run. */
struct perf_block {
	const char *region; /* "0", "1", ..., "total"; NULL: the run has no regions */
	uint64_t wall_ns;   /* the block's wall time */
	/* "total" only: the regions it sums, and how many of them have no
	 * block of their own (past vmm's limit: in the total only). */
	uint64_t regions, regions_folded;
	size_t n;
	const struct perf_row *rows;
};

/* What the table's header and footer say about the run. */
struct perf_run_info {
	const char *command;	      /* the payload and its arguments, blank separated */
	unsigned runs;		      /* -r N (1: no noise column) */
	double wall_s, wall_stddev_s; /* "seconds time elapsed" (stddev: -r only) */
	const char *interrupted;      /* "SIGINT", ...; NULL: the run was not interrupted */
};

/* Value columns: task-clock's ns become msec ("%.2f"), counts print as
 * integers. Writes the number and the unit perf shows into num and unit. */
void perf_stat_value(const struct perf_row *r, bool csv, char *num, size_t nlen, char *unit,
		     size_t ulen);

/* The table: perf's header, one line per event (value, unit, event, "#"
 * metric, "( +- x% )" with -r, "(p%)" when the PMU multiplexed), a block
 * per region when there are regions, and the elapsed time. */
void perf_stat_print_table(FILE *f, const struct perf_run_info *info,
			   const struct perf_block *blocks, size_t nblocks);

/* -x SEP: perf stat's columns
 *   value SEP unit SEP event [SEP variance] SEP run-time SEP percent SEP metric SEP metric-unit
 * (variance "1.23%" only with -r, as perf prints it); a metric line has
 * every field before the metric empty, as perf's; preceded by a region
 * column (0, 1, ..., total) only when the run has regions. A field that
 * holds SEP, a double quote or a newline is quoted as CSV does ("a:b",
 * "" for a quote inside), so it never adds a field. */
void perf_stat_print_csv(FILE *f, const char *sep, const struct perf_run_info *info,
			 const struct perf_block *blocks, size_t nblocks);
/* One CSV field, quoted as above when it must be. */
void perf_stat_csv_field(FILE *f, const char *field, const char *sep);

#endif
