/* Passing the payload's regions of interest on to an outer `perf stat`:
 * prctl(PR_TASK_PERF_EVENTS_*) only switches counters the task opened
 * itself, so perf's own counters are switched through its control channel
 * (perf stat -D -1 --control fifo:CTL,ACK). */
#ifndef VMM_PERF_CONTROL_H
#define VMM_PERF_CONTROL_H

#include "util/types.h"

struct perf_control {
	int ctl_fd, ack_fd; /* -1 when unused */
	bool enabled;
	uint64_t commands; /* enable/disable commands sent */
};

/* spec is perf's syntax: "fifo:CTL[,ACK]" or "fd:N[,M]". */
int perf_control_open(struct perf_control *pc, const char *spec);
/* Sends "enable" or "disable" and waits (at most 5 s) for perf's "ack". */
int perf_control_set(struct perf_control *pc, bool enable);
void perf_control_close(struct perf_control *pc);

#endif
