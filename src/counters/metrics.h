/* Translation metrics per CPU generation: which libpfm4 events measure
 * page walks on this CPU model, and the derived figures the literature
 * reports from them (walks per 1000 instructions, walk cycles as a share
 * of cycles). Choosing and computing are pure functions of the CPU model
 * and the counts, so recorded tables and fake counts test them. */
#ifndef VMM_METRICS_H
#define VMM_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What an event measures, whatever the generation calls it. */
enum metric_role {
	MR_INSTRUCTIONS,
	MR_CYCLES,
	MR_DTLB_LOAD_WALKS,	  /* completed page walks for loads (STLB misses) */
	MR_DTLB_STORE_WALKS,	  /* the same for stores */
	MR_ITLB_WALKS,		  /* completed walks for instruction fetches */
	MR_DTLB_LOAD_WALK_CYCLES, /* cycles with a load walk in progress */
	MR_DTLB_STORE_WALK_CYCLES,
	MR_ITLB_WALK_CYCLES,
	MR_EPT_WALK_CYCLES, /* cycles in EPT (second-dimension) walks */
	MR_N,
};
const char *metric_role_name(enum metric_role r);

/* The CPU as /proc/cpuinfo states it. */
struct cpu_model {
	char vendor[16]; /* "GenuineIntel", "AuthenticAMD" */
	unsigned family, model;
};

/* Pure: the first processor's vendor_id, cpu family and model from the
 * text of /proc/cpuinfo. -1 (err set) when one is missing. */
int cpu_model_parse(const char *cpuinfo, struct cpu_model *m);
/* Reads /proc/cpuinfo (or path). */
int cpu_model_read(const char *path, struct cpu_model *m);
/* The value after "key<blanks>: " on the first line of a /proc/cpuinfo
 * text that starts with key, into out; false when there is none. */
bool cpuinfo_field(const char *text, const char *key, char *out, size_t len);

/* One generation: its libpfm4 PMU name and the event (a libpfm4 name,
 * "EVENT:UMASK") for each role, NULL where that generation has none. */
struct metric_table {
	const char *generation; /* "skylake", "zen2", ... */
	const char *pfm_pmu;	/* libpfm4's PMU: "skl", "amd64_fam17h_zen2" */
	const char *event[MR_N];
};

/* The table for a CPU model, NULL when there is none (an unknown or
 * too-old model, or a vendor without one). */
const struct metric_table *metrics_table_for(const struct cpu_model *m);
/* The table for this host's CPU (/proc/cpuinfo), NULL when it has none or
 * cpuinfo cannot be read; leaves no error set. */
const struct metric_table *metrics_table_for_host(void);
/* Every table, for tests and `vmm info`. */
const struct metric_table *metrics_tables(size_t *n);

/* The -e list that counts a table's events in guest mode
 * ("pfm:INST_RETIRED:ANY_P:G,..."); returns buf. */
const char *metrics_event_list(const struct metric_table *t, char *buf, size_t len);
/* The role of a counter named as in that list (with or without "pfm:",
 * a '.' for the ':' before the umask, and modifiers), or MR_N. */
enum metric_role metrics_role_of(const struct metric_table *t, const char *counter_name);

/* Counts per role; have[r] false where the event was not counted. */
struct metric_counts {
	double value[MR_N];
	bool have[MR_N];
};

#define METRIC_ROWS_MAX 8
struct metric_row {
	const char *name; /* "dTLB load walks", ... */
	double value;
	const char *unit; /* "per 1000 instructions", "% of cycles" */
};

/* Pure: the figures the counts allow; a figure whose inputs were not
 * counted (or whose divisor is 0) is left out, never given as 0. Returns
 * the number of rows written to out (at most METRIC_ROWS_MAX). */
size_t metrics_compute(const struct metric_counts *c, struct metric_row *out);

#endif
