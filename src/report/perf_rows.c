/* Rows for report/perf_stat.c out of the JSON report (counters.h
 * counters_add_json), and the -r summary over several reports. */
#include "report/perf_rows.h"

#include <json-c/json.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static json_object *rows_get(json_object *o, const char *key)
{
	json_object *v = NULL;

	return o && json_object_object_get_ex(o, key, &v) ? v : NULL;
}

static void rows_copy(char *dst, size_t len, json_object *s)
{
	snprintf(dst, len, "%s",
		 s && json_object_is_type(s, json_type_string) ? json_object_get_string(s) : "");
}

static void rows_one(const char *name, json_object *o, struct perf_row *r)
{
	json_object *m = rows_get(o, "metric");

	memset(r, 0, sizeof(*r));
	snprintf(r->event, sizeof(r->event), "%s", name);
	rows_copy(r->unit, sizeof(r->unit), rows_get(o, "unit"));
	r->running_pct = 100.0;
	if (!json_object_get_boolean(rows_get(o, "supported"))) {
		r->state = PERF_ROW_NOT_SUPPORTED;
		rows_copy(r->note, sizeof(r->note), rows_get(o, "reason"));
		return;
	}
	if (!rows_get(o, "value")) {
		r->state = PERF_ROW_NOT_COUNTED;
		return;
	}
	r->state = PERF_ROW_COUNTED;
	r->value = json_object_get_double(rows_get(o, "value"));
	r->run_ns = (uint64_t)json_object_get_uint64(rows_get(o, "running_ns"));
	if (rows_get(o, "running_pct"))
		r->running_pct = json_object_get_double(rows_get(o, "running_pct"));
	if (m && rows_get(m, "value")) {
		r->has_metric = true;
		r->metric = json_object_get_double(rows_get(m, "value"));
		rows_copy(r->metric_unit, sizeof(r->metric_unit), rows_get(m, "unit"));
	}
	rows_copy(r->note, sizeof(r->note), rows_get(o, "note"));
}

/* A metric of several events ({"name", "value", "unit"} of a block's
 * "metrics"): a "#"-only line, "per 1000 instructions (dTLB load walks)". */
static void rows_metric(json_object *o, struct perf_row *r)
{
	json_object *name = rows_get(o, "name"), *unit = rows_get(o, "unit");

	memset(r, 0, sizeof(*r));
	r->state = PERF_ROW_METRIC;
	r->has_metric = true;
	r->running_pct = 100.0;
	r->metric = json_object_get_double(rows_get(o, "value"));
	snprintf(r->metric_unit, sizeof(r->metric_unit), "%s (%s)",
		 unit ? json_object_get_string(unit) : "",
		 name ? json_object_get_string(name) : "");
}

/* The rows of one "counters" object, in the report's order, then one line
 * per entry of metrics (a JSON array, or NULL). */
static size_t rows_of(json_object *counters, json_object *metrics, struct perf_row **out)
{
	size_t n = 0, nm = json_object_is_type(metrics, json_type_array)
			       ? json_object_array_length(metrics)
			       : 0;
	size_t cap = (counters ? (size_t)json_object_object_length(counters) : 0) + nm;
	struct perf_row *rows = calloc(cap ? cap : 1, sizeof(*rows));

	if (rows && counters) {
		json_object_object_foreach(counters, name, o) rows_one(name, o, &rows[n++]);
	}
	for (size_t m = 0; rows && m < nm; m++)
		rows_metric(json_object_array_get_idx(metrics, m), &rows[n++]);
	*out = rows;
	return rows ? n : 0;
}

static bool rows_block(struct perf_block *b, const char *region, json_object *o)
{
	struct perf_row *rows;

	b->region = region ? strdup(region) : NULL;
	b->wall_ns = (uint64_t)json_object_get_uint64(rows_get(o, "wall_ns"));
	b->n = rows_of(rows_get(o, "counters"), rows_get(o, "metrics"), &rows);
	b->rows = rows;
	return rows && (!region || b->region);
}

size_t perf_blocks_from_report(json_object *report, struct perf_block **blocks)
{
	json_object *regions = rows_get(report, "regions"), *total = rows_get(report, "total");
	bool marked = json_object_get_boolean(rows_get(report, "regions_marked"));
	size_t nreg = regions ? json_object_array_length(regions) : 0, n = 0;
	struct perf_block *b;
	char name[24];

	*blocks = NULL;
	if (!total || json_object_get_uint64(rows_get(total, "regions")) == 0)
		return 0;
	b = calloc(nreg + 1, sizeof(*b));
	if (!b)
		return 0;
	for (size_t r = 0; marked && r < nreg; r++) {
		snprintf(name, sizeof(name), "%zu", r);
		if (!rows_block(&b[n++], name, json_object_array_get_idx(regions, r)))
			break;
	}
	b[n].regions = (uint64_t)json_object_get_uint64(rows_get(total, "regions"));
	b[n].regions_folded = (uint64_t)json_object_get_uint64(rows_get(total, "regions_folded"));
	rows_block(&b[n++], marked ? "total" : NULL, total);
	*blocks = b;
	return n;
}

void perf_blocks_free(struct perf_block *blocks, size_t n)
{
	for (size_t i = 0; blocks && i < n; i++) {
		free((char *)blocks[i].region);
		free((struct perf_row *)blocks[i].rows);
	}
	free(blocks);
}

uint64_t perf_report_wall_ns(json_object *report)
{
	json_object *total = rows_get(report, "total");

	if (total && rows_get(total, "wall_ns"))
		return (uint64_t)json_object_get_uint64(rows_get(total, "wall_ns"));
	return (uint64_t)json_object_get_uint64(rows_get(rows_get(report, "run"), "run_ns"));
}

void perf_mean_noise(const double *v, size_t n, double *mean, double *noise)
{
	double sum = 0, m2 = 0;

	*mean = *noise = 0;
	if (n == 0)
		return;
	for (size_t i = 0; i < n; i++)
		sum += v[i];
	*mean = sum / (double)n;
	if (n < 2)
		return;
	for (size_t i = 0; i < n; i++)
		m2 += (v[i] - *mean) * (v[i] - *mean);
	*noise = sqrt(m2 / (double)(n - 1) / (double)n);
}

/* What a summary reads in each run: its total (region < 0) or a region. */
static json_object *rows_scope(json_object *run, long region)
{
	return region < 0 ? rows_get(run, "total")
			  : json_object_array_get_idx(rows_get(run, "regions"), (size_t)region);
}

static double rows_pct(double noise, double mean)
{
	return mean != 0 ? 100.0 * noise / fabs(mean) : 0.0;
}

/* Event r->event over every run that counted it (in the scope region):
 * r becomes the mean. */
static void rows_summarize(struct perf_row *r, json_object *const *runs, size_t nruns, long region,
			   double *vals, double *metrics, json_object *out)
{
	size_t n = 0, nm = 0;
	double mean, noise, mmean, mnoise;
	json_object *values = json_object_new_array();

	for (size_t k = 0; k < nruns; k++) {
		struct perf_row one;
		json_object *o =
		    rows_get(rows_get(rows_scope(runs[k], region), "counters"), r->event);

		if (!o)
			continue;
		rows_one(r->event, o, &one);
		if (one.state != PERF_ROW_COUNTED)
			continue;
		vals[n++] = one.value;
		json_object_array_add(values, json_object_new_double(one.value));
		if (one.has_metric)
			metrics[nm++] = one.metric;
	}
	json_object_object_add(out, "supported",
			       json_object_new_boolean(r->state != PERF_ROW_NOT_SUPPORTED));
	json_object_object_add(out, "unit", json_object_new_string(r->unit));
	json_object_object_add(out, "runs_counted", json_object_new_uint64(n));
	json_object_object_add(out, "values", values);
	if (n == 0)
		return; /* as the first run left it: not supported or not counted */
	perf_mean_noise(vals, n, &mean, &noise);
	r->state = PERF_ROW_COUNTED;
	r->value = mean;
	r->noise_pct = rows_pct(noise, mean);
	json_object_object_add(out, "mean", json_object_new_double(mean));
	json_object_object_add(out, "stddev_of_mean", json_object_new_double(noise));
	json_object_object_add(out, "noise_pct", json_object_new_double(r->noise_pct));
	r->has_metric = nm > 0 && r->has_metric;
	if (r->has_metric) {
		perf_mean_noise(metrics, nm, &mmean, &mnoise);
		r->metric = mmean;
	}
}

/* Metric line r (of the first run) over every run that has it: the mean;
 * {"line", "mean", "values"} into out. */
static void rows_summarize_metric(struct perf_row *r, json_object *const *runs, size_t nruns,
				  long region, double *vals, json_object *out)
{
	size_t n = 0;
	double mean, noise;
	json_object *o = json_object_new_object(), *values = json_object_new_array();

	for (size_t k = 0; k < nruns; k++) {
		json_object *ms = rows_get(rows_scope(runs[k], region), "metrics");
		size_t nm =
		    json_object_is_type(ms, json_type_array) ? json_object_array_length(ms) : 0;

		for (size_t m = 0; m < nm; m++) {
			struct perf_row one;

			rows_metric(json_object_array_get_idx(ms, m), &one);
			if (strcmp(one.metric_unit, r->metric_unit) != 0)
				continue;
			vals[n++] = one.metric;
			json_object_array_add(values, json_object_new_double(one.metric));
			break;
		}
	}
	perf_mean_noise(vals, n, &mean, &noise);
	r->metric = mean;
	r->noise_pct = rows_pct(noise, mean);
	json_object_object_add(o, "line", json_object_new_string(r->metric_unit));
	json_object_object_add(o, "mean", json_object_new_double(mean));
	json_object_object_add(o, "values", values);
	json_object_array_add(out, o);
}

/* One scope (the total, or region `region`) of the runs: a block of mean
 * rows, and the same as JSON into dst ("counters", "metrics", and the
 * scope's elapsed time under wall_key: {"mean", "stddev_of_mean"}). */
static void rows_summary_scope(json_object *const *runs, size_t nruns, long region,
			       struct perf_block *b, json_object *dst, const char *wall_key)
{
	json_object *first = rows_scope(runs[0], region);
	struct perf_row *rows = NULL;
	size_t n = rows_of(rows_get(first, "counters"), rows_get(first, "metrics"), &rows);
	double *vals = calloc(nruns + 1, sizeof(double)),
	       *metrics = calloc(nruns + 1, sizeof(double));
	json_object *counters = json_object_new_object(), *wall = json_object_new_object();
	json_object *mlines = json_object_new_array();
	double mean = 0, noise = 0;

	for (size_t i = 0; vals && metrics && i < n; i++) {
		json_object *o;

		if (rows[i].state == PERF_ROW_METRIC) {
			rows_summarize_metric(&rows[i], runs, nruns, region, vals, mlines);
			continue;
		}
		o = json_object_new_object();
		rows_summarize(&rows[i], runs, nruns, region, vals, metrics, o);
		json_object_object_add(counters, rows[i].event, o);
	}
	if (json_object_array_length(mlines))
		json_object_object_add(dst, "metrics", mlines);
	else
		json_object_put(mlines);
	for (size_t k = 0; vals && k < nruns; k++)
		vals[k] =
		    region < 0
			? (double)perf_report_wall_ns(runs[k])
			: json_object_get_double(rows_get(rows_scope(runs[k], region), "wall_ns"));
	if (vals)
		perf_mean_noise(vals, nruns, &mean, &noise);
	json_object_object_add(wall, "mean", json_object_new_double(mean));
	json_object_object_add(wall, "stddev_of_mean", json_object_new_double(noise));
	json_object_object_add(dst, wall_key, wall);
	json_object_object_add(dst, "counters", counters);
	free(vals);
	free(metrics);
	b->wall_ns = (uint64_t)mean;
	b->n = n;
	b->rows = rows;
}

/* How many regions every run marked alike; 0 when a run marked none or a
 * different number (then only the total is summarized). */
static size_t rows_common_regions(json_object *const *runs, size_t nruns)
{
	size_t nreg = 0;

	for (size_t k = 0; k < nruns; k++) {
		json_object *regs = rows_get(runs[k], "regions");
		size_t n = regs ? json_object_array_length(regs) : 0;

		if (!json_object_get_boolean(rows_get(runs[k], "regions_marked")) ||
		    (k > 0 && n != nreg))
			return 0;
		nreg = n;
	}
	return nreg;
}

size_t perf_rows_summary(json_object *const *runs, size_t nruns, struct perf_block **blocks,
			 json_object *summary)
{
	size_t nreg = nruns ? rows_common_regions(runs, nruns) : 0, n = 0;
	struct perf_block *b = nruns ? calloc(nreg + 1, sizeof(*b)) : NULL;
	json_object *total0 = nruns ? rows_get(runs[0], "total") : NULL;
	json_object *regions = nreg ? json_object_new_array() : NULL;
	char name[24];

	*blocks = b;
	json_object_object_add(summary, "runs", json_object_new_uint64(nruns));
	if (!b)
		return 0;
	for (size_t r = 0; r < nreg; r++) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "index", json_object_new_uint64(r));
		snprintf(name, sizeof(name), "%zu", r);
		b[n].region = strdup(name);
		rows_summary_scope(runs, nruns, (long)r, &b[n++], o, "wall_ns");
		json_object_array_add(regions, o);
	}
	if (regions)
		json_object_object_add(summary, "regions", regions);
	b[n].region = nreg ? strdup("total") : NULL;
	b[n].regions = (uint64_t)json_object_get_uint64(rows_get(total0, "regions"));
	b[n].regions_folded = (uint64_t)json_object_get_uint64(rows_get(total0, "regions_folded"));
	rows_summary_scope(runs, nruns, -1, &b[n++], summary, "run_ns");
	return n;
}
