/* perf_event_open for the vCPU thread: grouping, enabling at region edges,
 * group reads and multiplexing scale, and a reason for every event that
 * cannot be opened (errno text plus what it means on a host like this). */
#include "counters/perf_events.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "counters/close_match.h"
#include "util/err.h"
#include "util/sysfs.h"
#include "util/types.h"

#define READ_FORMAT                                                                                \
	(PERF_FORMAT_GROUP | PERF_FORMAT_TOTAL_TIME_ENABLED | PERF_FORMAT_TOTAL_TIME_RUNNING |     \
	 PERF_FORMAT_ID)
#define GROUP_READ_WORDS (3 + 2 * EVENT_LIST_MAX)

#define TRACEFS_DIR "/sys/kernel/tracing"
#define DEBUGFS_TRACING_DIR "/sys/kernel/debug/tracing"
#define PMU_DEVICES "/sys/bus/event_source/devices"

static bool is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

const char *perf_tracefs_events(char *why, size_t len, bool *mounted)
{
	static int state; /* 0 untried, 1 found, -1 none */
	static bool did_mount;
	static const char *dir;
	static char reason[PERF_REASON_MAX];

	if (state == 0) {
		state = 1;
		if (is_dir(TRACEFS_DIR "/events")) {
			dir = TRACEFS_DIR "/events";
		} else if (is_dir(DEBUGFS_TRACING_DIR "/events")) {
			dir = DEBUGFS_TRACING_DIR "/events";
		} else if (geteuid() != 0) {
			snprintf(reason, sizeof(reason),
				 "tracefs not mounted (as root: mount -t tracefs nodev %s)",
				 TRACEFS_DIR);
			state = -1;
		} else if (mount("nodev", TRACEFS_DIR, "tracefs", 0, NULL) != 0) {
			snprintf(reason, sizeof(reason),
				 "tracefs not mounted and mounting it on %s failed: %s",
				 TRACEFS_DIR, strerror(errno));
			state = -1;
		} else if (!is_dir(TRACEFS_DIR "/events")) {
			snprintf(reason, sizeof(reason), "tracefs mounted on %s has no events/",
				 TRACEFS_DIR);
			state = -1;
		} else {
			dir = TRACEFS_DIR "/events";
			did_mount = true;
		}
	}
	if (mounted)
		*mounted = did_mount;
	if (state < 0 && len)
		snprintf(why, len, "%s", reason);
	return state > 0 ? dir : NULL;
}

/* 0 and the id from <events>/<sys>/<name>/id, or -1 and the reason. */
static int tracepoint_id(const struct event_spec *e, uint64_t *id, char *why, size_t len)
{
	const char *events = perf_tracefs_events(why, len, NULL);
	char path[256], buf[32], *end;
	ssize_t got;
	int fd;

	if (!events)
		return -1;
	snprintf(path, sizeof(path), "%s/%s/%s/id", events, e->sys, e->event);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			snprintf(why, len, "no such tracepoint (no %s/%s/%s)", events, e->sys,
				 e->event);
		else
			snprintf(why, len, "%s: %s", path, strerror(errno));
		return -1;
	}
	got = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (got <= 0) {
		snprintf(why, len, "%s: cannot read the tracepoint id", path);
		return -1;
	}
	buf[got] = '\0';
	errno = 0;
	*id = strtoull(buf, &end, 10);
	if (errno || end == buf || (*end && *end != '\n')) {
		snprintf(why, len, "%s: not a tracepoint id: \"%.20s\"", path, buf);
		return -1;
	}
	return 0;
}

int perf_tracepoint_check(const struct event_spec *e)
{
	char why[PERF_REASON_MAX], path[320], close[400];
	const char *events = perf_tracefs_events(why, sizeof(why), NULL);
	struct close_match m;

	if (!events)
		return 0; /* cannot tell: the open gives the reason */
	snprintf(path, sizeof(path), "%s/%s", events, e->sys);
	if (!is_dir(path)) {
		close_match_init(&m, e->sys);
		close_match_add_dir(&m, events, NULL, 0);
		close_match_str(&m, "", close, sizeof(close));
		return err_set("events: %s: no tracepoint system %s (%s%s%s`ls %s`)", e->name,
			       e->sys, close[0] ? "close matches: " : "", close,
			       close[0] ? "; " : "", events);
	}
	snprintf(path, sizeof(path), "%s/%s/%s", events, e->sys, e->event);
	if (!is_dir(path)) {
		close_match_init(&m, e->event);
		snprintf(path, sizeof(path), "%s/%s", events, e->sys);
		close_match_add_dir(&m, path, NULL, 0);
		close_match_str(&m, "", close, sizeof(close));
		return err_set("events: %s: no tracepoint %s in %s (%s%s%s`ls %s/%s`)", e->name,
			       e->event, e->sys, close[0] ? "close matches: " : "", close,
			       close[0] ? "; " : "", events, e->sys);
	}
	return 0;
}

static int paranoid_level(void)
{
	long long level;

	return sysfs_read_long("/proc/sys/kernel/perf_event_paranoid", &level) ? (int)level : -99;
}

/* Whether the kernel registered a CPU PMU at all (Intel hybrid: cpu_core). */
static bool have_cpu_pmu(void)
{
	return is_dir(PMU_DEVICES "/cpu") || is_dir(PMU_DEVICES "/cpu_core") ||
	       is_dir(PMU_DEVICES "/cpu_atom");
}

static void open_reason(const struct event_spec *e, int err, char *buf, size_t len)
{
	const char *hint = NULL;
	bool hw = e->kind == EVENT_HARDWARE;

	if (err == EACCES || err == EPERM) {
		snprintf(buf, len, "%s: perf_event_paranoid is %d: run as root or lower it",
			 strerror(err), paranoid_level());
		return;
	}
	if (hw && (err == ENOENT || err == EOPNOTSUPP || err == ENODEV))
		hint = have_cpu_pmu() ? "this CPU's PMU has no such event"
				      : "no hardware PMU in this VM (kvm.enable_pmu or the "
					"hypervisor hides it)";
	else if (hw && err == EINVAL && (e->exclude_host || e->exclude_guest))
		hint = "the PMU cannot count guest and host mode apart";
	else if (err == EINVAL)
		hint = "the kernel rejected these event attributes";
	else if (err == EMFILE)
		hint = "too many open files (ulimit -n)";
	else if (err == EBUSY)
		hint = "counter in use (NMI watchdog or a pinned event)";
	else if (err == ENOENT)
		hint = "the kernel has no such event";
	if (hint)
		snprintf(buf, len, "%s: %s", strerror(err), hint);
	else
		snprintf(buf, len, "%s", strerror(err));
}

static void fill_attr(struct perf_event_attr *a, const struct event_spec *e, uint64_t tp_id,
		      bool leader, bool exclude_host)
{
	memset(a, 0, sizeof(*a));
	a->size = sizeof(*a);
	a->type = e->kind == EVENT_TRACEPOINT ? PERF_TYPE_TRACEPOINT : e->type;
	a->config = e->kind == EVENT_TRACEPOINT ? tp_id : e->config;
	a->config1 = e->config1;
	a->config2 = e->config2;
	a->read_format = READ_FORMAT;
	/* The payload's threads run on host threads vmm starts later (one
	 * per vCPU): inherited, so the counts cover every vCPU. */
	a->inherit = 1;
	/* Members follow their leader: only the leader starts disabled. */
	a->disabled = leader;
	a->exclude_host = exclude_host;
	a->exclude_guest = e->exclude_guest;
	a->exclude_user = e->exclude_user;
	a->exclude_kernel = e->exclude_kernel;
	a->exclude_hv = e->exclude_user || e->exclude_kernel;
}

static int sys_perf_event_open(struct perf_event_attr *a, int group_fd)
{
	long fd = syscall(SYS_perf_event_open, a, 0 /* this thread */, -1 /* any cpu */, group_fd,
			  PERF_FLAG_FD_CLOEXEC);

	return fd < 0 ? -errno : (int)fd;
}

/* The fd or -errno; where guest_fallback allows, retries without :G and
 * renames the slot so that the report never claims guest-only counts. */
static int open_spec(struct perf_event_slot *s, const struct event_spec *e, uint64_t tp_id,
		     int group_fd)
{
	struct perf_event_attr a;
	char *suffix;
	int fd;

	fill_attr(&a, e, tp_id, group_fd < 0, e->exclude_host);
	fd = sys_perf_event_open(&a, group_fd);
	if (fd >= 0 || !e->guest_fallback || (fd != -EINVAL && fd != -EOPNOTSUPP))
		return fd;
	fill_attr(&a, e, tp_id, group_fd < 0, false);
	fd = sys_perf_event_open(&a, group_fd);
	if (fd >= 0) {
		suffix = strrchr(s->name, ':');
		if (suffix && !strcmp(suffix, ":G"))
			*suffix = '\0';
		snprintf(s->note, sizeof(s->note), "%s",
			 "asked for :G, but the PMU cannot count guest mode alone "
			 "(exclude_host): counts host and guest");
	}
	return fd;
}

static int new_group(struct perf_set *ps, size_t slot, int fd)
{
	struct perf_group *g = &ps->groups[ps->ngroups];

	g->leader_fd = fd;
	g->n = 1;
	g->member[0] = slot;
	ps->slot[slot].group = ps->ngroups;
	return (int)ps->ngroups++;
}

static void join_group(struct perf_set *ps, size_t group, size_t slot)
{
	struct perf_group *g = &ps->groups[group];

	g->member[g->n++] = slot;
	ps->slot[slot].group = group;
}

/* Opens slot i alone, as the leader of a new group that *cur then names;
 * alone, the error says what is wrong with the event itself. */
static void open_leader(struct perf_set *ps, size_t i, const struct event_spec *e, uint64_t tp_id,
			size_t *cur)
{
	struct perf_event_slot *s = &ps->slot[i];
	int fd = open_spec(s, e, tp_id, -1);

	if (fd < 0) {
		open_reason(e, -fd, s->reason, sizeof(s->reason));
		return;
	}
	s->fd = fd;
	*cur = (size_t)new_group(ps, i, fd);
}

/* Opens slot i into group *cur (SIZE_MAX: none yet), starting a new group
 * when *cur is full or the kernel refuses the member (a hardware group that
 * no longer fits the PMU fails with EINVAL). */
static void open_into(struct perf_set *ps, size_t i, const struct event_spec *e, uint64_t tp_id,
		      size_t *cur, size_t cap)
{
	struct perf_event_slot *s = &ps->slot[i];
	int fd;

	if (*cur != SIZE_MAX && ps->groups[*cur].n < cap) {
		fd = open_spec(s, e, tp_id, ps->groups[*cur].leader_fd);
		if (fd >= 0) {
			join_group(ps, *cur, i);
			s->fd = fd;
			return;
		}
	}
	open_leader(ps, i, e, tp_id, cur);
}

/* A member of a {...} group from the -e list: the first of the group
 * that reaches here leads it, the others open with its fd, so that the
 * PMU counts them all at once or not at all (no splitting, unlike
 * open_into). *group and *cur: the group being opened and its index. */
static void open_explicit(struct perf_set *ps, size_t i, const struct event_spec *e, uint64_t tp_id,
			  unsigned *group, size_t *cur)
{
	struct perf_event_slot *s = &ps->slot[i];
	int fd;

	if (*group != e->group) {
		*group = e->group;
		*cur = SIZE_MAX;
		open_leader(ps, i, e, tp_id, cur);
		return;
	}
	if (*cur == SIZE_MAX) {
		snprintf(s->reason, sizeof(s->reason),
			 "the leader of its {...} group could not be opened");
		return;
	}
	fd = open_spec(s, e, tp_id, ps->groups[*cur].leader_fd);
	if (fd < 0) {
		open_reason(e, -fd, s->reason, sizeof(s->reason));
		return;
	}
	s->fd = fd;
	join_group(ps, *cur, i);
}

static void close_slot(struct perf_event_slot *s, const char *why)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	snprintf(s->reason, sizeof(s->reason), "%s", why);
}

int perf_set_open(struct perf_set *ps, const struct event_spec *specs, size_t n)
{
	size_t hw = SIZE_MAX, sw = SIZE_MAX, exp_cur = SIZE_MAX;
	unsigned exp_group = 0;

	memset(ps, 0, sizeof(*ps));
	ps->slot = calloc(n ? n : 1, sizeof(*ps->slot));
	ps->groups = calloc(n ? n : 1, sizeof(*ps->groups));
	ps->buf = calloc(GROUP_READ_WORDS, sizeof(*ps->buf));
	if (!ps->slot || !ps->groups || !ps->buf) {
		perf_set_close(ps);
		return err_set("perf: out of memory for %zu events", n);
	}
	if (n > EVENT_LIST_MAX) {
		perf_set_close(ps);
		return err_set("perf: %zu events, at most %d", n, EVENT_LIST_MAX);
	}
	ps->n = n;
	for (size_t i = 0; i < n; i++)
		ps->slot[i].fd = -1; /* before any early return closes slots */
	for (size_t i = 0; i < n; i++) {
		const struct event_spec *e = &specs[i];
		struct perf_event_slot *s = &ps->slot[i];
		uint64_t tp_id = 0;

		if (e->kind != EVENT_HARDWARE && e->kind != EVENT_SOFTWARE &&
		    e->kind != EVENT_TRACEPOINT) {
			perf_set_close(ps);
			return err_set("perf: %s: a %s is not a perf event", e->name,
				       event_kind_name(e->kind));
		}
		snprintf(s->name, sizeof(s->name), "%s", e->name);
		if (e->unsupported[0]) {
			snprintf(s->reason, sizeof(s->reason), "%s", e->unsupported);
			continue;
		}
		if (e->kind == EVENT_TRACEPOINT &&
		    tracepoint_id(e, &tp_id, s->reason, sizeof(s->reason)))
			continue;
		if (e->group)
			open_explicit(ps, i, e, tp_id, &exp_group, &exp_cur);
		else if (e->kind == EVENT_HARDWARE)
			open_into(ps, i, e, tp_id, &hw, PERF_GROUP_MAX);
		else
			open_into(ps, i, e, tp_id, &sw, EVENT_LIST_MAX);
		if (s->fd >= 0 && ioctl(s->fd, PERF_EVENT_IOC_ID, &s->id) != 0) {
			err_set("perf: %s: PERF_EVENT_IOC_ID: %s", e->name, strerror(errno));
			perf_set_close(ps);
			return -1;
		}
	}
	return 0;
}

void perf_set_close(struct perf_set *ps)
{
	/* Members first: closing a leader first would promote its members. */
	for (size_t i = ps->n; i-- > 0;)
		if (ps->slot[i].fd >= 0)
			close_slot(&ps->slot[i], "closed");
	free(ps->slot);
	free(ps->groups);
	free(ps->buf);
	memset(ps, 0, sizeof(*ps));
}

static int switch_groups(struct perf_set *ps, unsigned long req, const char *what)
{
	for (size_t g = 0; g < ps->ngroups; g++)
		if (ioctl(ps->groups[g].leader_fd, req, PERF_IOC_FLAG_GROUP) != 0)
			return err_set("perf: %s on group of %s: %s", what,
				       ps->slot[ps->groups[g].member[0]].name, strerror(errno));
	return 0;
}

int perf_set_enable(struct perf_set *ps)
{
	return switch_groups(ps, PERF_EVENT_IOC_ENABLE, "PERF_EVENT_IOC_ENABLE");
}

int perf_set_disable(struct perf_set *ps)
{
	return switch_groups(ps, PERF_EVENT_IOC_DISABLE, "PERF_EVENT_IOC_DISABLE");
}

int perf_group_parse(const uint64_t *buf, size_t words, const uint64_t *ids, size_t n,
		     struct perf_reading *out)
{
	uint64_t nr;

	if (words < 3)
		return err_set("perf: group read: %zu words, need at least 3", words);
	nr = buf[0];
	if (nr > (words - 3) / 2 || nr < n)
		return err_set("perf: group read: %zu words, need %llu for %llu events", words,
			       3 + 2 * (unsigned long long)(nr < n ? n : nr),
			       (unsigned long long)(nr < n ? n : nr));
	for (size_t i = 0; i < n; i++) {
		size_t k;

		for (k = 0; k < nr && buf[3 + 2 * k + 1] != ids[i]; k++)
			;
		if (k == nr)
			return err_set("perf: group read: id %llu not in the group",
				       (unsigned long long)ids[i]);
		out[i] = (struct perf_reading){buf[3 + 2 * k], buf[1], buf[2]};
	}
	return 0;
}

uint64_t perf_scale(uint64_t value, uint64_t enabled, uint64_t running, double *pct)
{
	unsigned __int128 scaled;

	if (enabled == 0 || running >= enabled) {
		*pct = 100.0;
		return value;
	}
	if (running == 0) {
		*pct = 0.0;
		return 0;
	}
	*pct = 100.0 * (double)running / (double)enabled;
	scaled = (unsigned __int128)value * enabled / running;
	return scaled > UINT64_MAX ? UINT64_MAX : (uint64_t)scaled;
}

int perf_set_read(struct perf_set *ps, struct perf_reading *out)
{
	uint64_t ids[EVENT_LIST_MAX];
	struct perf_reading r[EVENT_LIST_MAX];

	memset(out, 0, ps->n * sizeof(*out));
	for (size_t g = 0; g < ps->ngroups; g++) {
		const struct perf_group *grp = &ps->groups[g];
		size_t want = (3 + 2 * grp->n) * sizeof(uint64_t);
		ssize_t got = read(grp->leader_fd, ps->buf, GROUP_READ_WORDS * sizeof(uint64_t));

		if (got < 0)
			return err_set("perf: read group of %s: %s", ps->slot[grp->member[0]].name,
				       strerror(errno));
		if ((size_t)got < want)
			return err_set("perf: read group of %s: %zd bytes, want %zu",
				       ps->slot[grp->member[0]].name, got, want);
		for (size_t m = 0; m < grp->n; m++)
			ids[m] = ps->slot[grp->member[m]].id;
		if (perf_group_parse(ps->buf, (size_t)got / sizeof(uint64_t), ids, grp->n, r))
			return -1;
		for (size_t m = 0; m < grp->n; m++)
			out[grp->member[m]] = r[m];
	}
	return 0;
}

int perf_probe(const struct event_spec *spec, char *reason, size_t len)
{
	struct perf_event_slot s = {.fd = -1};
	uint64_t tp_id = 0;
	int fd;

	snprintf(s.name, sizeof(s.name), "%s", spec->name);
	if (spec->unsupported[0]) {
		snprintf(reason, len, "%s", spec->unsupported);
		return -1;
	}
	if (spec->kind == EVENT_TRACEPOINT && tracepoint_id(spec, &tp_id, reason, len))
		return -1;
	fd = open_spec(&s, spec, tp_id, -1);
	if (fd < 0) {
		open_reason(spec, -fd, reason, len);
		return -1;
	}
	close(fd);
	snprintf(reason, len, "%s", s.note);
	return 0;
}
