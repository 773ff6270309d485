/* Counters per region of interest: hardware and software perf events,
 * tracepoints and KVM's binary statistics, opened on the vCPU thread and
 * read at region edges. A counter the host cannot provide is "not
 * supported" with a reason, never 0. */
#ifndef VMM_COUNTERS_H
#define VMM_COUNTERS_H

#include "counters/event_names.h"
#include "counters/metrics.h"
#include "util/types.h"

struct json_object;
struct counters; /* opaque: see counters.c */

/* Regions kept one by one; later ones still add to the total, and the
 * output says how many were folded in that way. */
#define COUNTERS_MAX_REGIONS 10000

/* Parses the -e list (NULL or "": the default set, event_names.h) and opens
 * every counter for the calling thread (the vCPU thread) and the given
 * VM/vCPU fds (-1: none; their KVM statistics are then not supported).
 * Counters start disabled. Unknown names are an error (-1, err) that lists
 * what exists; a known event the host cannot count is not an error. */
int counters_open(struct counters **out, const char *event_list, int vm_fd, int vcpu_fd);
void counters_close(struct counters *c);
/* A vCPU the payload's threads use beside vCPU 0: from now on the
 * kvm-vcpu-stat counters are the sum over every vCPU (a peak: the highest).
 * vCPUs are only ever added (reused, never destroyed); one added inside a
 * region counts from 0. Safe against region edges on other threads. When
 * its statistics cannot be had or differ in layout from vCPU 0's, -1 (err)
 * and the kvm-vcpu-stat counters become not supported, with the reason. */
int counters_add_vcpu(struct counters *c, int vcpu_fd);
/* Where the vmm:NAME counters read their count (a run loop's counter,
 * read at every region edge); until bound they are not supported. */
void counters_bind_vmm(struct counters *c, enum vmm_count k, const uint64_t *src);

/* Region edges. The run loop calls region_begin when the payload enables
 * (prctl PR_TASK_PERF_EVENTS_ENABLE) and region_end when it disables; if the
 * payload never marks a region, the whole run is one region. As with perf,
 * a begin inside a region and an end outside one change nothing (return 0).
 * begin reads KVM statistics and perf counts, then enables the perf groups;
 * end disables them first, then reads, so the reads stay outside the
 * counted window. The wall time is CLOCK_MONOTONIC between the two. */
int counters_region_begin(struct counters *c);
int counters_region_end(struct counters *c);
bool counters_in_region(const struct counters *c);
/* Regions ended so far, including any beyond COUNTERS_MAX_REGIONS. */
size_t counters_region_count(const struct counters *c);
/* Forgets every region ended so far and their part of the total: the run
 * loop's implicit whole-run region, once the payload marks its own. A
 * region in progress is not touched. */
void counters_discard_regions(struct counters *c);

/* The total over all regions of one counter, by its name in the -e list
 * (a scaled estimate where the PMU multiplexed it; for an instant or peak
 * KVM statistic, its value at the end of the last region). Errors:
 * "counters: cycles:G: not supported: <reason>", "counters: pages_3m: no
 * such counter", "counters: cycles: not counted (never on the PMU)",
 * "counters: cycles: no region ended yet". */
int counters_total_value(const struct counters *c, const char *name, uint64_t *val);

/* The translation metrics (metrics.h) of one stored region, or of the
 * total (region -1), from the counters of this CPU's metric table that
 * were counted: at most METRIC_ROWS_MAX rows, 0 when there are none. For
 * output formats that print them their own way (perf's -x metric columns). */
size_t counters_metrics(const struct counters *c, long region, struct metric_row *rows);

/* Adds "regions": [{"index", "wall_ns", "counters": {NAME: {...}}}] and
 * "total": {"regions", "regions_folded", "wall_ns", "counters"} to root. A
 * counter is {"supported": true, "value", "unit", "source", "scaled",
 * "running_pct"[, "raw"][, "type"][, "note"]}, or {"supported": true,
 * "counted": false, "value": null}, or {"supported": false, "reason"}. */
void counters_add_json(const struct counters *c, struct json_object *root);

#endif
