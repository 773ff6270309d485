/* Counters per region: ties the parsed -e list to perf events and KVM
 * statistics, turns edge readings into region values (differences for
 * counts, levels for instant KVM statistics), and adds them to the JSON
 * report, which report/perf_rows.c turns into every printed form. */
#include "counters/counters.h"

#include <json-c/json.h>
#include <linux/perf_event.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "counters/close_match.h"
#include "counters/event_names.h"
#include "counters/metrics.h"
#include "counters/perf_events.h"
#include "kvm/kvm_stats.h"
#include "util/err.h"
#include "util/types.h"

#define REASON_MAX PERF_REASON_MAX

struct counter {
	struct event_spec spec;
	char name[EVENT_NAME_MAX]; /* the key in the output: spec.name */
	bool supported;
	char reason[REASON_MAX]; /* why not supported */
	char note[REASON_MAX];	 /* e.g. :G dropped because the PMU cannot */
	char unit[24];
	size_t slot;		     /* perf kinds: index into counters.perf */
	const struct kvm_stat *stat; /* KVM kinds */
};

/* One counter over one region (or the total). For perf events: the count
 * read and its enabled/running times; `scaled` estimates the count over the
 * whole enabled time. For KVM statistics enabled = running = wall time. */
struct cvalue {
	uint64_t value, scaled, enabled, running;
};

struct region {
	uint64_t wall_ns;
	struct cvalue *v; /* n values */
};

/* The readings at one edge: perf counts and both KVM data blocks (the
 * vCPU block is the fold of every vCPU's, kvm_stats_fold). */
struct snapshot {
	struct perf_reading *perf;
	uint64_t *vm, *vcpu;
	uint64_t vmm[VMM_COUNT_N];
};

/* Tracepoints that some KVMs never fire (PVM handles exits and shadow
 * faults without them: measured, 0 kvm:kvm_exit against 76 vCPU exits),
 * each with the vCPU statistic that counts the same thing. */
static const struct {
	const char *tracepoint, *stat;
} traced_by_stat[] = {
    {"kvm_exit", "exits"},
    {"kvm_entry", "exits"},
    {"kvm_page_fault", "pf_taken"},
};
#define NTRACED ARRAY_SIZE(traced_by_stat)

struct counters {
	size_t n;
	struct counter *ctr;
	struct event_list list;
	struct event_spec *perf_specs;
	struct perf_set perf;
	struct kvm_stats vm, vcpu;
	bool vm_ok, vcpu_ok;
	/* vCPUs the payload's threads added (counters_add_vcpu), beside vCPU 0
	 * (`vcpu`, whose layout they share), and a block to read each into.
	 * The lock keeps a clone's add apart from a region edge's read. */
	pthread_mutex_t vcpus_lock;
	struct kvm_stats *more;
	size_t nmore, more_cap;
	uint64_t *one_vcpu;
	const uint64_t *vmm_src[VMM_COUNT_N]; /* counters_bind_vmm, or NULL */
	/* This CPU's translation-metric table (NULL: none) and each
	 * counter's role in it (MR_N: none). */
	const struct metric_table *mt;
	enum metric_role *role;
	struct snapshot at_begin, at_end;
	const struct kvm_stat *xstat[NTRACED]; /* traced_by_stat[k].stat, or NULL */
	uint64_t xtotal[NTRACED];	       /* its total over the regions */
	bool in_region;
	uint64_t begin_ns;
	size_t nregions, nended; /* stored, and ended in all */
	struct region *regions;
	struct region total;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static bool is_perf_kind(enum event_kind k)
{
	return k == EVENT_HARDWARE || k == EVENT_SOFTWARE || k == EVENT_TRACEPOINT;
}

/* Opens the stats fd of one VM or vCPU fd; the reason goes to every
 * counter that needs it when it cannot be had. */
static bool open_stats(struct kvm_stats *s, int fd, const char *what, char *why, size_t len)
{
	s->fd = -1;
	if (fd < 0) {
		snprintf(why, len, "no %s fd (not a VM run)", what);
		return false;
	}
	if (kvm_stats_open(s, fd, what)) {
		snprintf(why, len, "%s", err_msg());
		return false;
	}
	return true;
}

/* A statistic this KVM does not have is an error (before the payload
 * runs) that names the close matches; one that is there but is no single
 * count is not supported. */
static int bind_stat(struct counter *ct, const struct kvm_stats *s, bool ok, const char *why)
{
	const char *what = ct->spec.kind == EVENT_KVM_VM_STAT ? "VM" : "vCPU";
	struct close_match m;
	char close[400];

	if (!ok) {
		snprintf(ct->reason, sizeof(ct->reason), "%s", why);
		return 0;
	}
	ct->stat = kvm_stats_find(s, ct->spec.event);
	if (!ct->stat) {
		close_match_init(&m, ct->spec.event);
		for (size_t i = 0; i < s->n; i++)
			close_match_add(&m, s->stat[i].name);
		close_match_str(
		    &m, ct->spec.kind == EVENT_KVM_VM_STAT ? "kvm-stat:" : "kvm-vcpu-stat:", close,
		    sizeof(close));
		return err_set("events: %s: no KVM %s statistic %s on this kernel (%s%s%s`vmm "
			       "info` lists them)",
			       ct->spec.name, what, ct->spec.event,
			       close[0] ? "close matches: " : "", close, close[0] ? "; " : "");
	}
	if (ct->stat->type != KVM_STAT_CUMULATIVE && ct->stat->type != KVM_STAT_INSTANT &&
	    ct->stat->type != KVM_STAT_PEAK) {
		snprintf(ct->reason, sizeof(ct->reason), "%s statistic: not a single count",
			 kvm_stat_type_name(ct->stat->type));
		ct->stat = NULL;
		return 0;
	}
	kvm_stat_unit_str(ct->stat, ct->unit, sizeof(ct->unit));
	ct->supported = true;
	return 0;
}

static bool alloc_snapshot(struct counters *c, struct snapshot *s)
{
	s->perf = calloc(c->perf.n ? c->perf.n : 1, sizeof(*s->perf));
	s->vm = calloc(c->vm.data_words ? c->vm.data_words : 1, sizeof(*s->vm));
	s->vcpu = calloc(c->vcpu.data_words ? c->vcpu.data_words : 1, sizeof(*s->vcpu));
	return s->perf && s->vm && s->vcpu;
}

static void free_snapshot(struct snapshot *s)
{
	free(s->perf);
	free(s->vm);
	free(s->vcpu);
}

static bool name_taken(const struct counters *c, const char *name)
{
	for (size_t i = 0; i < c->n; i++)
		if (!strcmp(c->ctr[i].name, name))
			return true;
	return false;
}

static int open_perf(struct counters *c)
{
	size_t np = 0;

	c->perf_specs = calloc(c->n ? c->n : 1, sizeof(*c->perf_specs));
	if (!c->perf_specs)
		return err_set("counters: out of memory");
	for (size_t i = 0; i < c->n; i++)
		if (is_perf_kind(c->ctr[i].spec.kind)) {
			c->ctr[i].slot = np;
			c->perf_specs[np++] = c->ctr[i].spec;
		}
	if (perf_set_open(&c->perf, c->perf_specs, np))
		return -1;
	for (size_t i = 0; i < c->n; i++) {
		struct counter *ct = &c->ctr[i];
		const struct perf_event_slot *s;

		if (!is_perf_kind(ct->spec.kind))
			continue;
		s = &c->perf.slot[ct->slot];
		ct->supported = s->fd >= 0;
		/* "cycles" where :G could not be had: the output never claims it
		 * (unless -e lists "cycles" too; the note tells then). */
		if (!name_taken(c, s->name))
			snprintf(ct->name, sizeof(ct->name), "%s", s->name);
		snprintf(ct->reason, sizeof(ct->reason), "%s", s->reason);
		snprintf(ct->note, sizeof(ct->note), "%s", s->note);
		if (ct->spec.type == PERF_TYPE_SOFTWARE &&
		    (ct->spec.config == PERF_COUNT_SW_TASK_CLOCK ||
		     ct->spec.config == PERF_COUNT_SW_CPU_CLOCK))
			snprintf(ct->unit, sizeof(ct->unit), "ns");
	}
	return 0;
}

int counters_open(struct counters **out, const char *event_list, int vm_fd, int vcpu_fd)
{
	struct counters *c = calloc(1, sizeof(*c));
	char vm_why[REASON_MAX], vcpu_why[REASON_MAX];

	*out = NULL;
	if (!c)
		return err_set("counters: out of memory");
	c->vm.fd = c->vcpu.fd = -1;
	pthread_mutex_init(&c->vcpus_lock, NULL);
	if (event_list_parse(&c->list, event_list)) {
		pthread_mutex_destroy(&c->vcpus_lock);
		free(c);
		return -1;
	}
	c->n = c->list.n;
	c->ctr = calloc(c->n, sizeof(*c->ctr));
	if (!c->ctr) {
		counters_close(c);
		return err_set("counters: out of memory");
	}
	for (size_t i = 0; i < c->n; i++) {
		c->ctr[i].spec = c->list.ev[i];
		snprintf(c->ctr[i].name, sizeof(c->ctr[i].name), "%s", c->list.ev[i].name);
	}
	c->role = calloc(c->n, sizeof(*c->role));
	if (!c->role) {
		counters_close(c);
		return err_set("counters: out of memory");
	}
	c->mt = metrics_table_for_host();
	for (size_t i = 0; i < c->n; i++)
		c->role[i] = c->mt ? metrics_role_of(c->mt, c->ctr[i].spec.name) : MR_N;
	c->vm_ok = open_stats(&c->vm, vm_fd, "vm", vm_why, sizeof(vm_why));
	c->vcpu_ok = open_stats(&c->vcpu, vcpu_fd, "vcpu", vcpu_why, sizeof(vcpu_why));
	for (size_t i = 0; i < c->n; i++) {
		struct counter *ct = &c->ctr[i];
		int r = 0;

		if (ct->spec.kind == EVENT_KVM_VM_STAT)
			r = bind_stat(ct, &c->vm, c->vm_ok, vm_why);
		else if (ct->spec.kind == EVENT_KVM_VCPU_STAT)
			r = bind_stat(ct, &c->vcpu, c->vcpu_ok, vcpu_why);
		else if (ct->spec.kind == EVENT_TRACEPOINT)
			r = perf_tracepoint_check(&ct->spec);
		else if (ct->spec.kind == EVENT_VMM)
			snprintf(ct->reason, sizeof(ct->reason), "counted by vmm's run loop only");
		if (r) {
			counters_close(c);
			return -1;
		}
	}
	for (size_t k = 0; k < NTRACED && c->vcpu_ok; k++)
		c->xstat[k] = kvm_stats_find(&c->vcpu, traced_by_stat[k].stat);
	if (open_perf(c)) {
		counters_close(c);
		return -1;
	}
	c->total.v = calloc(c->n, sizeof(*c->total.v));
	c->one_vcpu = calloc(c->vcpu.data_words ? c->vcpu.data_words : 1, sizeof(*c->one_vcpu));
	if (!c->total.v || !c->one_vcpu || !alloc_snapshot(c, &c->at_begin) ||
	    !alloc_snapshot(c, &c->at_end)) {
		counters_close(c);
		return err_set("counters: out of memory");
	}
	*out = c;
	return 0;
}

void counters_bind_vmm(struct counters *c, enum vmm_count k, const uint64_t *src)
{
	if ((unsigned)k >= VMM_COUNT_N)
		return;
	c->vmm_src[k] = src;
	for (size_t i = 0; i < c->n; i++)
		if (c->ctr[i].spec.kind == EVENT_VMM && c->ctr[i].spec.config == k) {
			c->ctr[i].supported = src != NULL;
			c->ctr[i].reason[0] = '\0';
		}
}

void counters_close(struct counters *c)
{
	if (!c)
		return;
	perf_set_close(&c->perf);
	if (c->vm.fd >= 0)
		kvm_stats_close(&c->vm);
	if (c->vcpu.fd >= 0)
		kvm_stats_close(&c->vcpu);
	for (size_t k = 0; k < c->nmore; k++)
		kvm_stats_close(&c->more[k]);
	free(c->more);
	free(c->one_vcpu);
	pthread_mutex_destroy(&c->vcpus_lock);
	free_snapshot(&c->at_begin);
	free_snapshot(&c->at_end);
	for (size_t r = 0; r < c->nregions; r++)
		free(c->regions[r].v);
	free(c->regions);
	free(c->total.v);
	free(c->perf_specs);
	free(c->role);
	free(c->ctr);
	event_list_free(&c->list);
	free(c);
}

/* vCPU statistics that cannot be summed over every vCPU any more are not
 * supported from now on: a part of the sum would be a wrong value. */
static void vcpu_stats_lost(struct counters *c, const char *why)
{
	c->vcpu_ok = false;
	memset(c->xstat, 0, sizeof(c->xstat));
	for (size_t i = 0; i < c->n; i++)
		if (c->ctr[i].spec.kind == EVENT_KVM_VCPU_STAT && c->ctr[i].supported) {
			c->ctr[i].supported = false;
			c->ctr[i].stat = NULL;
			snprintf(c->ctr[i].reason, sizeof(c->ctr[i].reason), "%s", why);
		}
}

int counters_add_vcpu(struct counters *c, int vcpu_fd)
{
	struct kvm_stats s;
	char why[REASON_MAX];
	int r = 0;

	pthread_mutex_lock(&c->vcpus_lock);
	if (!c->vcpu_ok)
		goto out; /* no vCPU statistics to sum */
	if (c->nmore == c->more_cap) {
		size_t cap = c->more_cap ? 2 * c->more_cap : 4;
		struct kvm_stats *grown = realloc(c->more, cap * sizeof(*grown));

		if (!grown) {
			r = err_set("counters: vCPU %zu: out of memory", c->nmore + 1);
			goto lost;
		}
		c->more = grown;
		c->more_cap = cap;
	}
	if (kvm_stats_open(&s, vcpu_fd, "vcpu") || kvm_stats_same_layout(&c->vcpu, &s)) {
		if (s.fd >= 0)
			kvm_stats_close(&s);
		r = err_wrap("counters: vCPU %zu", c->nmore + 1);
		goto lost;
	}
	c->more[c->nmore++] = s;
	goto out;
lost:
	snprintf(why, sizeof(why), "not summed over every vCPU: %s", err_msg());
	vcpu_stats_lost(c, why);
out:
	pthread_mutex_unlock(&c->vcpus_lock);
	return r;
}

/* Every vCPU's block folded into one. A vCPU added inside a region was
 * not in its begin reading: it counts from 0, all inside the region. */
static int read_vcpus(struct counters *c, uint64_t *sum)
{
	int r = 0;

	pthread_mutex_lock(&c->vcpus_lock);
	if (!c->vcpu_ok)
		goto out;
	if (kvm_stats_read(&c->vcpu, sum, c->vcpu.data_words)) {
		r = err_wrap("counters");
		goto out;
	}
	for (size_t k = 0; k < c->nmore; k++) {
		if (kvm_stats_read(&c->more[k], c->one_vcpu, c->vcpu.data_words)) {
			r = err_wrap("counters: vCPU %zu", k + 1);
			goto out;
		}
		kvm_stats_fold(&c->vcpu, sum, c->one_vcpu);
	}
out:
	pthread_mutex_unlock(&c->vcpus_lock);
	return r;
}

static int take_snapshot(struct counters *c, struct snapshot *s)
{
	if (c->vm_ok && kvm_stats_read(&c->vm, s->vm, c->vm.data_words))
		return err_wrap("counters");
	if (read_vcpus(c, s->vcpu))
		return -1;
	if (perf_set_read(&c->perf, s->perf))
		return err_wrap("counters");
	/* Other vCPUs' run loops add to these as we read (atomically). */
	for (size_t k = 0; k < VMM_COUNT_N; k++)
		s->vmm[k] = c->vmm_src[k] ? __atomic_load_n(c->vmm_src[k], __ATOMIC_RELAXED) : 0;
	return 0;
}

int counters_region_begin(struct counters *c)
{
	if (c->in_region)
		return 0;
	if (take_snapshot(c, &c->at_begin))
		return -1;
	c->begin_ns = now_ns();
	if (perf_set_enable(&c->perf))
		return err_wrap("counters");
	c->in_region = true;
	return 0;
}

static uint64_t diff(uint64_t end, uint64_t begin)
{
	return end >= begin ? end - begin : 0;
}

/* The value of counter i between the two snapshots of a region. */
static struct cvalue region_value(const struct counters *c, size_t i, uint64_t wall)
{
	const struct counter *ct = &c->ctr[i];
	struct cvalue v = {0};
	double pct;

	if (!ct->supported)
		return v;
	if (is_perf_kind(ct->spec.kind)) {
		const struct perf_reading *b = &c->at_begin.perf[ct->slot];
		const struct perf_reading *e = &c->at_end.perf[ct->slot];

		v.value = diff(e->value, b->value);
		v.enabled = diff(e->enabled, b->enabled);
		v.running = diff(e->running, b->running);
		v.scaled = perf_scale(v.value, v.enabled, v.running, &pct);
		return v;
	}
	if (ct->spec.kind == EVENT_VMM) {
		v.value = v.scaled =
		    diff(c->at_end.vmm[ct->spec.config], c->at_begin.vmm[ct->spec.config]);
		v.enabled = v.running = wall;
		return v;
	}
	const uint64_t *b = ct->spec.kind == EVENT_KVM_VM_STAT ? c->at_begin.vm : c->at_begin.vcpu;
	const uint64_t *e = ct->spec.kind == EVENT_KVM_VM_STAT ? c->at_end.vm : c->at_end.vcpu;

	v.value = ct->stat->type == KVM_STAT_CUMULATIVE
		      ? diff(kvm_stat_value(ct->stat, e), kvm_stat_value(ct->stat, b))
		      : kvm_stat_value(ct->stat, e);
	v.scaled = v.value;
	v.enabled = v.running = wall;
	return v;
}

static void add_to_total(struct counters *c, size_t i, const struct cvalue *v)
{
	struct cvalue *t = &c->total.v[i];
	const struct counter *ct = &c->ctr[i];

	if (ct->stat && ct->stat->type != KVM_STAT_CUMULATIVE) {
		/* A level: the total is the level at the end of the last region. */
		t->value = t->scaled = v->value;
	} else {
		t->value += v->value;
		t->scaled += v->scaled;
	}
	t->enabled += v->enabled;
	t->running += v->running;
}

/* A kvm tracepoint that stayed at 0 while KVM's own statistic for the same
 * thing grew does not fire on this KVM: its 0 would be a lie. */
static void check_traced(struct counters *c)
{
	for (size_t k = 0; k < NTRACED; k++) {
		if (!c->xstat[k])
			continue;
		c->xtotal[k] += diff(kvm_stat_value(c->xstat[k], c->at_end.vcpu),
				     kvm_stat_value(c->xstat[k], c->at_begin.vcpu));
		for (size_t i = 0; i < c->n; i++) {
			struct counter *ct = &c->ctr[i];

			if (!ct->supported || ct->spec.kind != EVENT_TRACEPOINT ||
			    strcmp(ct->spec.sys, "kvm") ||
			    strcmp(ct->spec.event, traced_by_stat[k].tracepoint) ||
			    c->total.v[i].value != 0 || c->xtotal[k] == 0)
				continue;
			ct->supported = false;
			snprintf(ct->reason, sizeof(ct->reason),
				 "never fires on this KVM (PVM?): 0 events while KVM counted %llu "
				 "(kvm-vcpu-stat:%s)",
				 (unsigned long long)c->xtotal[k], traced_by_stat[k].stat);
		}
	}
}

static void store_region(struct counters *c, uint64_t wall)
{
	struct region *r;

	if (c->nregions == COUNTERS_MAX_REGIONS)
		return;
	if (!(c->nregions & (c->nregions - 1))) { /* 0, 1, 2, 4, ...: grow */
		size_t cap = c->nregions ? 2 * c->nregions : 1;
		struct region *grown = realloc(c->regions, cap * sizeof(*grown));

		if (!grown)
			return; /* the total still has it; the output says folded */
		c->regions = grown;
	}
	r = &c->regions[c->nregions];
	r->v = malloc(c->n * sizeof(*r->v));
	if (!r->v)
		return;
	r->wall_ns = wall;
	for (size_t i = 0; i < c->n; i++)
		r->v[i] = region_value(c, i, wall);
	c->nregions++;
}

int counters_region_end(struct counters *c)
{
	uint64_t wall;

	if (!c->in_region)
		return 0;
	c->in_region = false;
	if (perf_set_disable(&c->perf))
		return err_wrap("counters");
	wall = now_ns() - c->begin_ns;
	if (take_snapshot(c, &c->at_end))
		return -1;
	c->nended++;
	store_region(c, wall);
	c->total.wall_ns += wall;
	for (size_t i = 0; i < c->n; i++) {
		struct cvalue v = region_value(c, i, wall);

		add_to_total(c, i, &v);
	}
	check_traced(c);
	return 0;
}

bool counters_in_region(const struct counters *c)
{
	return c->in_region;
}

size_t counters_region_count(const struct counters *c)
{
	return c->nended;
}

void counters_discard_regions(struct counters *c)
{
	for (size_t r = 0; r < c->nregions; r++)
		free(c->regions[r].v);
	free(c->regions);
	c->regions = NULL;
	c->nregions = c->nended = 0;
	memset(c->total.v, 0, c->n * sizeof(*c->total.v));
	c->total.wall_ns = 0;
	memset(c->xtotal, 0, sizeof(c->xtotal));
}

/* Never counted: the PMU was enabled for the event but never ran it. */
static bool not_counted(const struct counter *ct, const struct cvalue *v)
{
	return ct->supported && v->enabled > 0 && v->running == 0;
}

static double running_pct(const struct cvalue *v)
{
	return v->enabled == 0 || v->running >= v->enabled
		   ? 100.0
		   : 100.0 * (double)v->running / (double)v->enabled;
}

static const struct counter *find_counter(const struct counters *c, const char *name, size_t *idx)
{
	for (size_t i = 0; i < c->n; i++)
		if (!strcmp(c->ctr[i].name, name) || !strcmp(c->ctr[i].spec.name, name)) {
			*idx = i;
			return &c->ctr[i];
		}
	return NULL;
}

int counters_total_value(const struct counters *c, const char *name, uint64_t *val)
{
	size_t i;
	const struct counter *ct = find_counter(c, name, &i);

	if (!ct)
		return err_set("counters: %s: no such counter", name);
	if (!ct->supported)
		return err_set("counters: %s: not supported: %s", name, ct->reason);
	if (!c->nended)
		return err_set("counters: %s: no region ended yet", name);
	if (not_counted(ct, &c->total.v[i]))
		return err_set("counters: %s: not counted (never on the PMU)", name);
	*val = c->total.v[i].scaled;
	return 0;
}

/* ---- output ---- */

/* The part after the event's base name: ":G" in "cycles:G", "" otherwise. */
static const char *mods_of(const char *name)
{
	const char *colon = strrchr(name, ':');

	return colon && strspn(colon + 1, "GHuk") == strlen(colon + 1) ? colon : "";
}

static bool base_is(const char *name, const char *base)
{
	size_t len = strlen(base);

	return !strncmp(name, base, len) && (name[len] == '\0' || name[len] == ':');
}

/* A counted value of the counter named base + mods in the same region. */
static bool peer_value(const struct counters *c, const struct cvalue *vals, const char *base,
		       const char *mods, double *out)
{
	char name[EVENT_NAME_MAX];
	size_t i;
	const struct counter *ct;

	snprintf(name, sizeof(name), "%s%s", base, mods);
	ct = find_counter(c, name, &i);
	if (!ct || !ct->supported || not_counted(ct, &vals[i]) || vals[i].scaled == 0)
		return false;
	*out = (double)vals[i].scaled;
	return true;
}

/* perf stat's "#" column: the figure that makes the raw count readable. */
static void derived(const struct counters *c, size_t i, const struct cvalue *vals, uint64_t wall_ns,
		    char *buf, size_t len)
{
	const struct counter *ct = &c->ctr[i];
	const char *name = ct->name, *mods = mods_of(name);
	double v = (double)vals[i].scaled, peer, secs = (double)wall_ns / 1e9;
	const char *miss = strstr(name, "-misses");
	char access[EVENT_NAME_MAX];

	buf[0] = '\0';
	if (miss && peer_value(c, vals, "instructions", mods, &peer)) {
		snprintf(buf, len, "%10.3f per 1000 instructions", 1000.0 * v / peer);
	} else if (miss && (size_t)(miss - name) < sizeof(access) - 8) {
		/* dTLB-load-misses -> dTLB-loads */
		snprintf(access, sizeof(access), "%.*ss", (int)(miss - name), name);
		if (peer_value(c, vals, access, mods, &peer))
			snprintf(buf, len, "%9.2f%% of all %.40s", 100.0 * v / peer, access);
	} else if (base_is(name, "instructions") && peer_value(c, vals, "cycles", mods, &peer)) {
		snprintf(buf, len, "%10.3f insn per cycle", v / peer);
	} else if (base_is(name, "task-clock") || base_is(name, "cpu-clock")) {
		if (wall_ns)
			snprintf(buf, len, "%10.3f CPUs utilized", v / (double)wall_ns);
	} else if (ct->spec.kind != EVENT_HARDWARE && secs > 0 &&
		   !(ct->stat && ct->stat->type != KVM_STAT_CUMULATIVE)) {
		double rate = v / secs;

		if (rate >= 1e6)
			snprintf(buf, len, "%10.3f M/sec", rate / 1e6);
		else if (rate >= 1e3)
			snprintf(buf, len, "%10.3f K/sec", rate / 1e3);
		else
			snprintf(buf, len, "%10.3f /sec", rate);
	}
}

/* The translation metrics of one region from the counters that have a
 * role in this CPU's table: only counted values go in. */
static size_t region_metrics(const struct counters *c, const struct cvalue *vals,
			     struct metric_row *rows)
{
	struct metric_counts mc;

	if (!c->mt)
		return 0;
	memset(&mc, 0, sizeof(mc));
	for (size_t i = 0; i < c->n; i++) {
		enum metric_role r = c->role[i];

		if (r == MR_N || mc.have[r] || !c->ctr[i].supported ||
		    not_counted(&c->ctr[i], &vals[i]))
			continue;
		mc.value[r] = (double)vals[i].scaled;
		mc.have[r] = true;
	}
	return metrics_compute(&mc, rows);
}

size_t counters_metrics(const struct counters *c, long region, struct metric_row *rows)
{
	if (region >= 0 && (size_t)region >= c->nregions)
		return 0;
	return region_metrics(c, region < 0 ? c->total.v : c->regions[region].v, rows);
}

static json_object *json_counter(const struct counter *ct, const struct cvalue *v)
{
	json_object *o = json_object_new_object();
	double pct = running_pct(v);

	if (!ct->supported) {
		json_object_object_add(o, "supported", json_object_new_boolean(0));
		json_object_object_add(o, "reason", json_object_new_string(ct->reason));
		return o;
	}
	json_object_object_add(o, "supported", json_object_new_boolean(1));
	json_object_object_add(o, "source", json_object_new_string(event_kind_name(ct->spec.kind)));
	if (not_counted(ct, v)) {
		json_object_object_add(o, "counted", json_object_new_boolean(0));
		json_object_object_add(o, "value", NULL);
		return o;
	}
	json_object_object_add(o, "value", json_object_new_uint64(v->scaled));
	json_object_object_add(o, "unit", json_object_new_string(ct->unit));
	json_object_object_add(o, "scaled", json_object_new_boolean(pct < 100.0));
	json_object_object_add(o, "running_pct", json_object_new_double(pct));
	if (pct < 100.0)
		json_object_object_add(o, "raw", json_object_new_uint64(v->value));
	if (ct->stat)
		json_object_object_add(o, "type",
				       json_object_new_string(kvm_stat_type_name(ct->stat->type)));
	if (ct->note[0])
		json_object_object_add(o, "note", json_object_new_string(ct->note));
	return o;
}

/* [{"name", "value", "unit"}] of the translation metrics; NULL when none. */
static json_object *json_metrics(const struct counters *c, const struct cvalue *vals)
{
	struct metric_row rows[METRIC_ROWS_MAX];
	size_t n = region_metrics(c, vals, rows);
	json_object *a;

	if (!n)
		return NULL;
	a = json_object_new_array();
	for (size_t m = 0; m < n; m++) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "name", json_object_new_string(rows[m].name));
		json_object_object_add(o, "value", json_object_new_double(rows[m].value));
		json_object_object_add(o, "unit", json_object_new_string(rows[m].unit));
		json_object_array_add(a, o);
	}
	return a;
}

static void add_metrics(const struct counters *c, const struct cvalue *vals, json_object *o)
{
	json_object *m = json_metrics(c, vals);

	if (m)
		json_object_object_add(o, "metrics", m);
	if (c->mt)
		json_object_object_add(o, "metrics_generation",
				       json_object_new_string(c->mt->generation));
}

/* "metric": {"value", "unit"}: derived()'s "#" figure as numbers, for
 * the table and -x lines of report/perf_stat.c. */
static void json_metric(const struct counters *c, size_t i, const struct cvalue *vals,
			uint64_t wall_ns, json_object *o)
{
	char fig[96], *unit;
	double v;
	json_object *m;

	if (!c->ctr[i].supported || not_counted(&c->ctr[i], &vals[i]))
		return;
	derived(c, i, vals, wall_ns, fig, sizeof(fig));
	v = strtod(fig, &unit);
	if (!fig[0] || unit == fig)
		return;
	m = json_object_new_object();
	json_object_object_add(m, "value", json_object_new_double(v));
	json_object_object_add(m, "unit", json_object_new_string(unit + strspn(unit, " ")));
	json_object_object_add(o, "metric", m);
}

static json_object *json_counters(const struct counters *c, const struct cvalue *vals,
				  uint64_t wall_ns)
{
	json_object *o = json_object_new_object();

	for (size_t i = 0; i < c->n; i++) {
		json_object *ct = json_counter(&c->ctr[i], &vals[i]);

		if (c->ctr[i].supported) {
			json_object_object_add(ct, "enabled_ns",
					       json_object_new_uint64(vals[i].enabled));
			json_object_object_add(ct, "running_ns",
					       json_object_new_uint64(vals[i].running));
		}
		json_metric(c, i, vals, wall_ns, ct);
		json_object_object_add(o, c->ctr[i].name, ct);
	}
	return o;
}

void counters_add_json(const struct counters *c, struct json_object *root)
{
	json_object *regions = json_object_new_array(), *total = json_object_new_object();

	for (size_t r = 0; r < c->nregions; r++) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "index", json_object_new_uint64(r));
		json_object_object_add(o, "wall_ns", json_object_new_uint64(c->regions[r].wall_ns));
		json_object_object_add(o, "counters",
				       json_counters(c, c->regions[r].v, c->regions[r].wall_ns));
		add_metrics(c, c->regions[r].v, o);
		json_object_array_add(regions, o);
	}
	json_object_object_add(total, "regions", json_object_new_uint64(c->nended));
	json_object_object_add(total, "regions_folded",
			       json_object_new_uint64(c->nended - c->nregions));
	json_object_object_add(total, "wall_ns", json_object_new_uint64(c->total.wall_ns));
	json_object_object_add(total, "counters", json_counters(c, c->total.v, c->total.wall_ns));
	add_metrics(c, c->total.v, total);
	json_object_object_add(root, "regions", regions);
	json_object_object_add(root, "total", total);
}
