/* perf_event_open on the calling thread (pid 0, cpu -1) for the hardware,
 * software and tracepoint events of an event list. Hardware events go into
 * groups of at most PERF_GROUP_MAX, the others into one software group;
 * every group is read in one read() (PERF_FORMAT_GROUP) and switched with one
 * ioctl on its leader. An event that cannot be opened keeps the reason. */
#ifndef VMM_PERF_EVENTS_H
#define VMM_PERF_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "counters/event_names.h"

/* Events per hardware group: 4 fit the general-purpose counters of every
 * x86 PMU still in use (plus Intel's fixed counters for cycles and
 * instructions), so a group never waits for a PMU that cannot hold it. */
#define PERF_GROUP_MAX 4
#define PERF_REASON_MAX 200

struct perf_event_slot {
	int fd;	      /* -1: not supported */
	size_t group; /* index into perf_set.groups when fd >= 0 */
	uint64_t id;  /* PERF_EVENT_IOC_ID: matches the group read */
	/* The name the event was opened under: spec->name, or without ":G"
	 * where guest_fallback had to drop exclude_host. */
	char name[EVENT_NAME_MAX];
	char note[PERF_REASON_MAX];   /* why the name changed, else "" */
	char reason[PERF_REASON_MAX]; /* why not supported, else "" */
};

struct perf_group {
	int leader_fd;
	size_t n;		       /* members, leader included */
	size_t member[EVENT_LIST_MAX]; /* slot indices, leader first */
};

struct perf_set {
	size_t n; /* slots, in the order of the specs given to open */
	struct perf_event_slot *slot;
	size_t ngroups;
	struct perf_group *groups;
	uint64_t *buf; /* one group read: 3 + 2 * EVENT_LIST_MAX words */
};

/* A count as read, and how long the event was enabled and on the PMU. */
struct perf_reading {
	uint64_t value, enabled, running;
};

/* Opens every spec (all of kind HARDWARE, SOFTWARE or TRACEPOINT) for the
 * calling thread, disabled. Returns -1 only for an internal failure (out of
 * memory); events the host cannot count are marked in their slot. */
int perf_set_open(struct perf_set *ps, const struct event_spec *specs, size_t n);
void perf_set_close(struct perf_set *ps);
int perf_set_enable(struct perf_set *ps);
int perf_set_disable(struct perf_set *ps);
/* Fills out[0..n) (zeros for unsupported slots); one read() per group. */
int perf_set_read(struct perf_set *ps, struct perf_reading *out);

/* Pure: parses one group read in the layout of PERF_FORMAT_GROUP |
 * TOTAL_TIME_ENABLED | TOTAL_TIME_RUNNING | ID:
 *   { u64 nr, time_enabled, time_running; { u64 value, id; } cnt[nr]; }
 * into out[i] for the slot whose id is ids[i] (n ids). Errors: "perf: group
 * read: 5 words, need 7 for 2 events", "perf: group read: id 9 not in the
 * group". */
int perf_group_parse(const uint64_t *buf, size_t words, const uint64_t *ids, size_t n,
		     struct perf_reading *out);
/* Pure: the count estimated for the whole enabled time of a multiplexed
 * event, value * enabled / running (perf stat's scaling), and the percentage
 * of the time it was counted (100 when running == enabled). running == 0
 * with enabled > 0 means never counted: returns 0 with *pct 0. */
uint64_t perf_scale(uint64_t value, uint64_t enabled, uint64_t running, double *pct);

/* Tries to open one spec on the calling thread and closes it again: for
 * `vmm info`. 0 when it opens, -1 with the reason in `reason`. */
int perf_probe(const struct event_spec *spec, char *reason, size_t len);

/* Whether the tracepoint SYS:NAME of a spec exists: 0 when it does or
 * when this host cannot tell (no tracefs: opening it then gives the
 * reason); -1 when it does not, with the close matches in the message:
 * "events: kvm:kvm_exti: no tracepoint kvm_exti in kvm (close matches:
 * kvm_exit; `ls /sys/kernel/tracing/events/kvm`)". */
int perf_tracepoint_check(const struct event_spec *e);

/* The tracefs events directory, mounting tracefs on /sys/kernel/tracing
 * when it is missing and we may (root); NULL when none is usable, with why
 * in `why`. The result is remembered. `mounted` says whether vmm mounted it. */
const char *perf_tracefs_events(char *why, size_t len, bool *mounted);

#endif
