/* Counters per region of interest: hardware and software perf events,
 * tracepoints and KVM's binary statistics, opened on the vCPU thread and
 * read at region edges. A counter the host cannot provide is "not
 * supported" with a reason, never 0. */
#ifndef VMM_COUNTERS_H
#define VMM_COUNTERS_H

#include <stdio.h>

#include "types.h"

struct json_object;
struct counters; /* opaque: see counters.c */

/* Parses the -e list (NULL: the default set) and opens every counter for
 * the calling thread (the vCPU thread) and the given VM/vCPU fds. Counters
 * start disabled. Unknown names are an error (-1, err) that lists what
 * exists; a known event the host cannot count is not an error. */
int counters_open(struct counters **out, const char *event_list, int vm_fd, int vcpu_fd);
void counters_close(struct counters *c);

/* Region edges. The run loop calls region_begin when the payload enables
 * (prctl PR_TASK_PERF_EVENTS_ENABLE) and region_end when it disables; if the
 * payload never marks a region, the whole run is one region. `tsc` is the
 * guest-visible TSC at the edge when known (0 otherwise). */
int counters_region_begin(struct counters *c);
int counters_region_end(struct counters *c);
bool counters_in_region(const struct counters *c);
size_t counters_region_count(const struct counters *c);

/* Output at the end of the run. */
void counters_print_table(const struct counters *c, FILE *f);
void counters_print_csv(const struct counters *c, FILE *f, const char *sep);
/* Adds "regions": [...] and "total": {...} to root. */
void counters_add_json(const struct counters *c, struct json_object *root);

#endif
