/* perf stat's output formats, reproduced column for column from perf 6.1
 * (tools/perf/util/stat-display.c): a value field of 18, the unit, the
 * event padded to 32, a metric field of 35 (" # " %8.3f unit), then the
 * noise and the multiplexing share. */
#include "report/perf_stat.h"

#include <inttypes.h>
#include <math.h>
#include <string.h>

#define PERF_EVENT_WIDTH 32
#define PERF_METRIC_WIDTH 35

static bool perf_is_clock(const struct perf_row *r)
{
	return strcmp(r->unit, "ns") == 0 &&
	       (strncmp(r->event, "task-clock", 10) == 0 || strncmp(r->event, "cpu-clock", 9) == 0);
}

static void perf_with_commas(double v, char *buf, size_t len)
{
	char digits[40];
	int n = snprintf(digits, sizeof(digits), "%.0f", v);
	size_t o = 0;

	for (int i = 0; i < n && o + 2 < len; i++) {
		if (i && digits[i - 1] != '-' && (n - i) % 3 == 0)
			buf[o++] = ',';
		buf[o++] = digits[i];
	}
	buf[o] = '\0';
}

void perf_stat_value(const struct perf_row *r, bool csv, char *num, size_t nlen, char *unit,
		     size_t ulen)
{
	if (r->state == PERF_ROW_METRIC) {
		snprintf(num, nlen, "%s", "");
		snprintf(unit, ulen, "%s", "");
		return;
	}
	if (r->state != PERF_ROW_COUNTED) {
		snprintf(num, nlen, "%s",
			 r->state == PERF_ROW_NOT_SUPPORTED ? "<not supported>" : "<not counted>");
		snprintf(unit, ulen, "%s", r->state == PERF_ROW_NOT_SUPPORTED ? "" : r->unit);
		if (perf_is_clock(r))
			snprintf(unit, ulen, "msec");
		return;
	}
	if (perf_is_clock(r)) {
		snprintf(num, nlen, "%.2f", r->value / 1e6);
		snprintf(unit, ulen, "msec");
		return;
	}
	if (csv)
		snprintf(num, nlen, "%.0f", r->value);
	else
		perf_with_commas(r->value, num, nlen);
	snprintf(unit, ulen, "%s", r->unit);
}

static int perf_unit_width(const struct perf_block *blocks, size_t nblocks)
{
	int w = 4;
	char num[64], unit[32];

	for (size_t b = 0; b < nblocks; b++)
		for (size_t i = 0; i < blocks[b].n; i++) {
			perf_stat_value(&blocks[b].rows[i], false, num, sizeof(num), unit,
					sizeof(unit));
			if ((int)strlen(unit) > w)
				w = (int)strlen(unit);
		}
	return w;
}

/* " #    0.643 CPUs utilized          ", or blanks of the same width. */
static void perf_metric_text(const struct perf_row *r, char *buf, size_t len)
{
	int n;

	if ((r->state != PERF_ROW_COUNTED && r->state != PERF_ROW_METRIC) || !r->has_metric) {
		snprintf(buf, len, "%*s", PERF_METRIC_WIDTH, "");
		return;
	}
	if (r->metric_unit[0] == '%')
		n = snprintf(buf, len, " # %7.2f%%", r->metric);
	else
		n = snprintf(buf, len, " # %8.3f", r->metric);
	if (n < 0 || (size_t)n >= len)
		return;
	snprintf(buf + n, len - (size_t)n, " %-*s",
		 n + 1 < PERF_METRIC_WIDTH ? PERF_METRIC_WIDTH - n - 1 : 0,
		 r->metric_unit[0] == '%' ? r->metric_unit + 1 + (r->metric_unit[1] == ' ')
					  : r->metric_unit);
}

static void perf_table_row(FILE *f, const struct perf_row *r, int unit_w, unsigned runs)
{
	char num[64], unit[32], metric[160];

	perf_stat_value(r, false, num, sizeof(num), unit, sizeof(unit));
	perf_metric_text(r, metric, sizeof(metric));
	fprintf(f, "%18s %-*s %-*s%s", num, unit_w, unit, PERF_EVENT_WIDTH, r->event, metric);
	if (runs > 1 && r->state == PERF_ROW_COUNTED)
		fprintf(f, "  ( +-%6.2f%% )", r->noise_pct);
	if (r->state == PERF_ROW_COUNTED && r->running_pct < 100.0)
		fprintf(f, "  (%.2f%%)", r->running_pct);
	if (r->state != PERF_ROW_COUNTED && r->note[0])
		fprintf(f, "  (%s)", r->note);
	fputc('\n', f);
}

static void perf_table_header(FILE *f, const struct perf_run_info *info, const struct perf_block *b,
			      size_t nblocks)
{
	fprintf(f, "\n Performance counter stats for '%s'", info->command);
	if (b->region && strcmp(b->region, "total") == 0 && b->regions_folded)
		fprintf(f, ", all %" PRIu64 " regions (%" PRIu64 " in this total only)", b->regions,
			b->regions_folded);
	else if (b->region && strcmp(b->region, "total") == 0)
		fprintf(f, ", all %zu regions", nblocks - 1);
	else if (b->region)
		fprintf(f, ", region %s", b->region);
	if (info->runs > 1)
		fprintf(f, " (%u runs)", info->runs);
	fputs(":\n\n", f);
}

void perf_stat_print_table(FILE *f, const struct perf_run_info *info,
			   const struct perf_block *blocks, size_t nblocks)
{
	int unit_w = perf_unit_width(blocks, nblocks);

	for (size_t b = 0; b < nblocks; b++) {
		perf_table_header(f, info, &blocks[b], nblocks);
		for (size_t i = 0; i < blocks[b].n; i++)
			perf_table_row(f, &blocks[b].rows[i], unit_w, info->runs);
		if (blocks[b].region)
			fprintf(f, "\n%18.9f seconds in %s\n", (double)blocks[b].wall_ns / 1e9,
				strcmp(blocks[b].region, "total") ? "this region" : "the regions");
	}
	/* Remarks on counted events (e.g. a modifier the PMU could not
	 * honour): the same for every block, so once. */
	for (size_t i = 0; nblocks && i < blocks[nblocks - 1].n; i++) {
		const struct perf_row *r = &blocks[nblocks - 1].rows[i];

		if (r->state == PERF_ROW_COUNTED && r->note[0])
			fprintf(f, " note: %s: %s\n", r->event, r->note);
	}
	if (nblocks == 0)
		fprintf(f,
			"\n Performance counter stats for '%s': no region of interest ended, "
			"nothing counted\n",
			info->command);
	if (info->interrupted)
		fprintf(f, "\n vmm: interrupted by %s: the counts stop there\n", info->interrupted);
	if (info->runs > 1 && info->wall_s > 0)
		fprintf(f, "\n%18.9f +- %.9f seconds time elapsed  ( +-%6.2f%% )\n\n", info->wall_s,
			info->wall_stddev_s, 100.0 * info->wall_stddev_s / info->wall_s);
	else
		fprintf(f, "\n%18.9f seconds time elapsed\n\n", info->wall_s);
}

void perf_stat_csv_field(FILE *f, const char *field, const char *sep)
{
	if (!strstr(field, sep) && !strpbrk(field, "\"\n")) {
		fputs(field, f);
		return;
	}
	fputc('"', f);
	for (const char *p = field; *p; p++) {
		if (*p == '"')
			fputc('"', f);
		fputc(*p == '\n' ? ' ' : *p, f);
	}
	fputc('"', f);
}

static void perf_csv_row(FILE *f, const char *sep, const char *region, const struct perf_row *r,
			 unsigned runs)
{
	char num[64], unit[32], buf[64];
	bool counted = r->state == PERF_ROW_COUNTED;

	perf_stat_value(r, true, num, sizeof(num), unit, sizeof(unit));
	if (region) {
		perf_stat_csv_field(f, region, sep);
		fputs(sep, f);
	}
	perf_stat_csv_field(f, num, sep);
	fputs(sep, f);
	perf_stat_csv_field(f, unit, sep);
	fputs(sep, f);
	perf_stat_csv_field(f, r->event, sep);
	if (r->state == PERF_ROW_METRIC) { /* perf: the earlier fields empty */
		fprintf(f, "%s%s%s%s%.3f%s", runs > 1 ? sep : "", sep, sep, sep, r->metric, sep);
		perf_stat_csv_field(f, r->metric_unit, sep);
		fputc('\n', f);
		return;
	}
	if (runs > 1) {
		snprintf(buf, sizeof(buf), "%.2f%%", counted ? r->noise_pct : 0.0);
		fputs(sep, f);
		perf_stat_csv_field(f, buf, sep);
	}
	snprintf(buf, sizeof(buf), "%llu", counted ? (unsigned long long)r->run_ns : 0ull);
	fputs(sep, f);
	perf_stat_csv_field(f, buf, sep);
	snprintf(buf, sizeof(buf), "%.2f",
		 r->state == PERF_ROW_NOT_COUNTED ? 0.0
		 : counted			  ? r->running_pct
						  : 100.0);
	fputs(sep, f);
	perf_stat_csv_field(f, buf, sep);
	fputs(sep, f);
	if (counted && r->has_metric) {
		snprintf(buf, sizeof(buf), "%.3f", r->metric);
		perf_stat_csv_field(f, buf, sep);
		fputs(sep, f);
		perf_stat_csv_field(f, r->metric_unit, sep);
	} else {
		fputs(sep, f);
	}
	fputc('\n', f);
}

void perf_stat_print_csv(FILE *f, const char *sep, const struct perf_run_info *info,
			 const struct perf_block *blocks, size_t nblocks)
{
	if (!sep || !*sep)
		sep = ",";
	for (size_t b = 0; b < nblocks; b++)
		for (size_t i = 0; i < blocks[b].n; i++)
			perf_csv_row(f, sep, blocks[b].region, &blocks[b].rows[i], info->runs);
}
