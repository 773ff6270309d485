/* Parses the -e list: perf's generic names with modifiers, tracepoints,
 * KVM statistics and raw CPU events through libpfm4, into event specs.
 * The syntax and its one ambiguity are documented in event_names.h. */
#include "counters/event_names.h"

#include <ctype.h>
#include <errno.h>
#include <linux/perf_event.h>
#include <perfmon/pfmlib_perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "counters/close_match.h"
#include "counters/metrics.h"
#include "util/err.h"
#include "util/sysfs.h"
#include "util/types.h"

#define MODIFIER_LETTERS "GHuk"
#define PREFIX_VM_STAT "kvm-stat:"
#define PREFIX_VCPU_STAT "kvm-vcpu-stat:"
#define PREFIX_PFM "pfm:"
#define PREFIX_VMM "vmm:"
#define METRICS_PREFIX "metrics:"
#define METRICS_TLB "metrics:tlb"
#define PMU_ROOT_DEFAULT "/sys/bus/event_source/devices"
#define MATCHES_MAX 400

/* PERF_TYPE_HW_CACHE config: cache | op << 8 | result << 16
 * (include/uapi/linux/perf_event.h, "Generalized hardware cache events"). */
#define HW_CACHE(cache, op, result)                                                                \
	(PERF_COUNT_HW_CACHE_##cache | (PERF_COUNT_HW_CACHE_OP_##op << 8) |                        \
	 ((uint64_t)PERF_COUNT_HW_CACHE_RESULT_##result << 16))

struct generic_event {
	const char *name;
	uint32_t type;
	uint64_t config;
	bool alias; /* another spelling of the entry before it: not listed */
};

/* perf's own spellings (tools/perf/util/parse-events.c). */
static const struct generic_event generic[] = {
    {"cycles", PERF_TYPE_HARDWARE, PERF_COUNT_HW_CPU_CYCLES, false},
    {"cpu-cycles", PERF_TYPE_HARDWARE, PERF_COUNT_HW_CPU_CYCLES, true},
    {"instructions", PERF_TYPE_HARDWARE, PERF_COUNT_HW_INSTRUCTIONS, false},
    {"cache-references", PERF_TYPE_HARDWARE, PERF_COUNT_HW_CACHE_REFERENCES, false},
    {"cache-misses", PERF_TYPE_HARDWARE, PERF_COUNT_HW_CACHE_MISSES, false},
    {"branches", PERF_TYPE_HARDWARE, PERF_COUNT_HW_BRANCH_INSTRUCTIONS, false},
    {"branch-instructions", PERF_TYPE_HARDWARE, PERF_COUNT_HW_BRANCH_INSTRUCTIONS, true},
    {"branch-misses", PERF_TYPE_HARDWARE, PERF_COUNT_HW_BRANCH_MISSES, false},
    {"bus-cycles", PERF_TYPE_HARDWARE, PERF_COUNT_HW_BUS_CYCLES, false},
    {"stalled-cycles-frontend", PERF_TYPE_HARDWARE, PERF_COUNT_HW_STALLED_CYCLES_FRONTEND, false},
    {"stalled-cycles-backend", PERF_TYPE_HARDWARE, PERF_COUNT_HW_STALLED_CYCLES_BACKEND, false},
    {"ref-cycles", PERF_TYPE_HARDWARE, PERF_COUNT_HW_REF_CPU_CYCLES, false},
    {"dTLB-loads", PERF_TYPE_HW_CACHE, HW_CACHE(DTLB, READ, ACCESS), false},
    {"dTLB-load-misses", PERF_TYPE_HW_CACHE, HW_CACHE(DTLB, READ, MISS), false},
    {"dTLB-stores", PERF_TYPE_HW_CACHE, HW_CACHE(DTLB, WRITE, ACCESS), false},
    {"dTLB-store-misses", PERF_TYPE_HW_CACHE, HW_CACHE(DTLB, WRITE, MISS), false},
    {"iTLB-loads", PERF_TYPE_HW_CACHE, HW_CACHE(ITLB, READ, ACCESS), false},
    {"iTLB-load-misses", PERF_TYPE_HW_CACHE, HW_CACHE(ITLB, READ, MISS), false},
    {"L1-dcache-loads", PERF_TYPE_HW_CACHE, HW_CACHE(L1D, READ, ACCESS), false},
    {"L1-dcache-load-misses", PERF_TYPE_HW_CACHE, HW_CACHE(L1D, READ, MISS), false},
    {"L1-dcache-stores", PERF_TYPE_HW_CACHE, HW_CACHE(L1D, WRITE, ACCESS), false},
    {"L1-icache-load-misses", PERF_TYPE_HW_CACHE, HW_CACHE(L1I, READ, MISS), false},
    {"LLC-loads", PERF_TYPE_HW_CACHE, HW_CACHE(LL, READ, ACCESS), false},
    {"LLC-load-misses", PERF_TYPE_HW_CACHE, HW_CACHE(LL, READ, MISS), false},
    {"LLC-stores", PERF_TYPE_HW_CACHE, HW_CACHE(LL, WRITE, ACCESS), false},
    {"LLC-store-misses", PERF_TYPE_HW_CACHE, HW_CACHE(LL, WRITE, MISS), false},
    {"task-clock", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_TASK_CLOCK, false},
    {"cpu-clock", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CPU_CLOCK, false},
    {"page-faults", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_PAGE_FAULTS, false},
    {"faults", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_PAGE_FAULTS, true},
    {"minor-faults", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_PAGE_FAULTS_MIN, false},
    {"major-faults", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_PAGE_FAULTS_MAJ, false},
    {"context-switches", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CONTEXT_SWITCHES, false},
    {"cs", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CONTEXT_SWITCHES, true},
    {"cpu-migrations", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CPU_MIGRATIONS, false},
    {"migrations", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CPU_MIGRATIONS, true},
    {"alignment-faults", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_ALIGNMENT_FAULTS, false},
    {"emulation-faults", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_EMULATION_FAULTS, false},
};

/* cycles and instructions first: with at most 4 events per hardware group
 * (perf_events.c) they share a group with the dTLB pair, which gives the
 * misses-per-1000-instructions figure one time base. kvm:kvm_exit and
 * kvm:kvm_page_fault are left out: the vCPU statistics exits and pf_taken
 * count the same at no cost, on PVM the tracepoints never fire, and on
 * bare metal a tracepoint per exit adds a noticeable share to a 1-2 us
 * exit. No tracepoint at all: opening the first one costs about 45 ms of
 * wall time (the kernel waits for RCU when it registers the probe), for
 * kvmmmu:kvm_mmu_set_spte as much as 5x the whole run of a small payload,
 * and pf_fixed counts the same shadow or TDP entries being installed. */
const char event_default_list[] =
    "cycles:G,instructions:G,dTLB-load-misses:G,dTLB-loads:G,iTLB-load-misses:G,"
    "page-faults,vmm:page-faults,"
    "kvm-stat:pages_4k,kvm-stat:pages_2m,kvm-stat:pages_1g,kvm-stat:remote_tlb_flush,"
    "kvm-stat:mmu_shadow_zapped,"
    "kvm-vcpu-stat:exits,kvm-vcpu-stat:pf_taken,kvm-vcpu-stat:pf_fixed,"
    "kvm-vcpu-stat:pf_guest,kvm-vcpu-stat:tlb_flush,kvm-vcpu-stat:invlpg";

const char *event_kind_name(enum event_kind k)
{
	switch (k) {
	case EVENT_HARDWARE:
		return "hardware";
	case EVENT_SOFTWARE:
		return "software";
	case EVENT_TRACEPOINT:
		return "tracepoint";
	case EVENT_KVM_VM_STAT:
		return "kvm-stat";
	case EVENT_KVM_VCPU_STAT:
		return "kvm-vcpu-stat";
	case EVENT_VMM:
		return "vmm";
	}
	return "?";
}

static const char *const vmm_counts[VMM_COUNT_N] = {
    [VMM_COUNT_PAGE_FAULTS] = "page-faults",
    [VMM_COUNT_SPURIOUS_FAULTS] = "spurious-faults",
    [VMM_COUNT_EXITS] = "exits",
    [VMM_COUNT_SYSCALLS] = "syscalls",
};

const char *vmm_count_name(enum vmm_count k)
{
	return (unsigned)k < VMM_COUNT_N ? vmm_counts[k] : "?";
}

static const char *pmu_root = PMU_ROOT_DEFAULT;

void event_names_set_pmu_root(const char *dir)
{
	pmu_root = dir ? dir : PMU_ROOT_DEFAULT;
}

const char *event_generic_names(char *buf, size_t len)
{
	size_t used = 0;

	if (len)
		buf[0] = '\0';
	for (size_t i = 0; i < ARRAY_SIZE(generic) && used < len; i++) {
		if (generic[i].alias)
			continue;
		used += (size_t)snprintf(buf + used, len - used, "%s%s", used ? ", " : "",
					 generic[i].name);
	}
	return buf;
}

static const struct generic_event *generic_find(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(generic); i++)
		if (!strcmp(generic[i].name, name))
			return &generic[i];
	return NULL;
}

static enum event_kind kind_of_type(uint32_t type)
{
	if (type == PERF_TYPE_SOFTWARE)
		return EVENT_SOFTWARE;
	if (type == PERF_TYPE_TRACEPOINT)
		return EVENT_TRACEPOINT;
	return EVENT_HARDWARE; /* HARDWARE, HW_CACHE, RAW and dynamic PMU types */
}

/* Letters that may form a name part we pass on: tracepoint and stat names
 * become paths under tracefs, so nothing like "../" gets through. */
static bool is_ident(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_')
			return false;
	return true;
}

static bool is_mods(const char *s)
{
	return *s && strspn(s, MODIFIER_LETTERS) == strlen(s);
}

/* Every libpfm4 event name of every PMU it knows, present or not: the
 * candidates for close matches. */
static void pfm_add_candidates(struct close_match *m);

static int unknown_event(const char *name)
{
	char names[768], close[MATCHES_MAX], base[EVENT_NAME_MAX];
	struct close_match m;

	snprintf(base, sizeof(base), "%s", name);
	base[strcspn(base, ":")] = '\0';
	close_match_init(&m, base);
	for (size_t i = 0; i < ARRAY_SIZE(generic); i++)
		close_match_add(&m, generic[i].name);
	for (size_t i = 0; i < VMM_COUNT_N; i++) {
		char full[64];

		snprintf(full, sizeof(full), PREFIX_VMM "%s", vmm_counts[i]);
		close_match_add(&m, full);
	}
	pfm_add_candidates(&m);
	close_match_str(&m, "", close, sizeof(close));
	return err_set("events: %s: unknown event (%s%s%sgeneric names: %s; prefixes: SYS:NAME "
		       "tracepoint, kvm-stat:NAME, kvm-vcpu-stat:NAME, vmm:NAME, pfm:NAME, "
		       "PMU/TERMS/, rNNNN; modifiers :G :H :u :k; see `vmm info` and `perf list`)",
		       name, close[0] ? "close matches: " : "", close, close[0] ? "; " : "",
		       event_generic_names(names, sizeof(names)));
}

static int apply_mods(struct event_spec *e, const char *mods)
{
	bool u = strchr(mods, 'u'), k = strchr(mods, 'k');

	for (const char *m = mods; *m; m++)
		if (!strchr(MODIFIER_LETTERS, *m))
			return err_set("events: %s: unknown modifier '%c' (modifiers: G H u k)",
				       e->name, *m);
	if (strchr(mods, 'G') && strchr(mods, 'H'))
		return err_set("events: %s: modifiers G and H exclude each other", e->name);
	for (const char *m = "GH"; *m; m++)
		if (strchr(mods, *m) && e->kind != EVENT_HARDWARE)
			return err_set("events: %s: modifier %c applies to hardware events only",
				       e->name, *m);
	e->exclude_host = strchr(mods, 'G');
	e->exclude_guest = strchr(mods, 'H');
	/* perf: u alone excludes the kernel, k alone the user; both count both. */
	e->exclude_kernel = u && !k;
	e->exclude_user = k && !u;
	return 0;
}

/* libpfm4, initialised on first use only: the default set never needs it. */
static int pfm_ready(void)
{
	static int state; /* 0 untried, 1 ready, -1 failed */
	int ret;

	if (state == 0) {
		ret = pfm_initialize();
		state = ret == PFM_SUCCESS ? 1 : -1;
		if (state < 0)
			return err_set("events: libpfm4: pfm_initialize: %s", pfm_strerror(ret));
	}
	return state > 0 ? 0 : err_set("events: libpfm4: pfm_initialize failed earlier");
}

/* The PMUs libpfm4 found on this host ("perf, perf_raw" alone: it found no
 * CPU PMU, which is why raw event names are then unknown to it); returns
 * whether a CPU (core) PMU is among them. */
static bool pfm_present(char *buf, size_t len)
{
	pfm_pmu_info_t pi;
	size_t used = 0;
	bool core = false;
	pfm_pmu_t p;

	buf[0] = '\0';
	pfm_for_all_pmus(p)
	{
		memset(&pi, 0, sizeof(pi));
		pi.size = sizeof(pi);
		if (pfm_get_pmu_info(p, &pi) != PFM_SUCCESS || !pi.is_present)
			continue;
		core |= pi.type == PFM_PMU_TYPE_CORE;
		if (used < len)
			used += (size_t)snprintf(buf + used, len - used, "%s%s", used ? ", " : "",
						 pi.name);
	}
	return core;
}

/* One event of a libpfm4 table, of a PMU present here or not. */
struct pfm_entry {
	int idx, nattrs;
	const char *pmu; /* libpfm4's own string */
	char *name;
};

/* Every event of every table, gathered once: asking libpfm4 for 18,000
 * event infos per misspelt name costs milliseconds each time. */
static struct {
	struct pfm_entry *v;
	size_t n;
	bool filled;
} pfm_cache;

static void pfm_fill_cache(void)
{
	pfm_pmu_info_t pi;
	pfm_event_info_t ei;
	size_t cap = 0;
	pfm_pmu_t p;

	pfm_cache.filled = true;
	pfm_for_all_pmus(p)
	{
		memset(&pi, 0, sizeof(pi));
		pi.size = sizeof(pi);
		if (pfm_get_pmu_info(p, &pi) != PFM_SUCCESS)
			continue;
		for (int idx = pi.first_event; idx != -1; idx = pfm_get_event_next(idx)) {
			struct pfm_entry *e;

			memset(&ei, 0, sizeof(ei));
			ei.size = sizeof(ei);
			if (pfm_get_event_info(idx, PFM_OS_NONE, &ei) != PFM_SUCCESS)
				break;
			if (pfm_cache.n == cap) {
				struct pfm_entry *grown;

				cap = cap ? 2 * cap : 4096;
				grown = realloc(pfm_cache.v, cap * sizeof(*grown));
				if (!grown)
					return; /* fewer candidates: messages only get shorter */
				pfm_cache.v = grown;
			}
			e = &pfm_cache.v[pfm_cache.n];
			e->idx = idx;
			e->nattrs = ei.nattrs;
			e->pmu = pi.name;
			e->name = strdup(ei.name);
			if (e->name)
				pfm_cache.n++;
		}
	}
}

/* Calls fn(entry, arg) for every event of every PMU libpfm4 has a table
 * for, present on this host or not (pmu: only that PMU, or NULL); stops
 * when fn returns true, and returns whether one did. */
static bool pfm_each_event(const char *pmu, bool (*fn)(const struct pfm_entry *e, void *arg),
			   void *arg)
{
	if (!pfm_cache.filled && pfm_ready() == 0)
		pfm_fill_cache();
	err_clear();
	for (size_t i = 0; i < pfm_cache.n; i++)
		if ((!pmu || !strcasecmp(pfm_cache.v[i].pmu, pmu)) && fn(&pfm_cache.v[i], arg))
			return true;
	return false;
}

static bool add_event_name(const struct pfm_entry *e, void *arg)
{
	close_match_add(arg, e->name);
	return false;
}

static void pfm_add_candidates(struct close_match *m)
{
	pfm_each_event(NULL, add_event_name, m);
}

/* A libpfm4 name taken apart: "[pmu::]EVENT[:ATTR[=V]...]". */
struct pfm_name {
	char buf[EVENT_NAME_MAX];
	const char *pmu, *event;
	char *attrs;			/* ':'-separated, "" when none */
	const char *bad_attr;		/* the first attribute no table has */
	struct close_match *attr_match; /* close matches for bad_attr, or NULL */
};

static bool attr_known(int idx, int nattrs, const char *attr, struct close_match *m)
{
	size_t len = strcspn(attr, "=");
	pfm_event_attr_info_t ai;

	for (int a = 0; a < nattrs; a++) {
		memset(&ai, 0, sizeof(ai));
		ai.size = sizeof(ai);
		if (pfm_get_event_attr_info(idx, a, PFM_OS_NONE, &ai) != PFM_SUCCESS)
			continue;
		if (strlen(ai.name) == len && !strncasecmp(ai.name, attr, len))
			return true;
		if (m)
			close_match_add(m, ai.name);
	}
	return false;
}

/* Whether this table entry is the event with every attribute named. */
static bool event_matches(const struct pfm_entry *ent, void *arg)
{
	struct pfm_name *n = arg;
	char attrs[EVENT_NAME_MAX], *save = NULL;
	int idx = ent->idx;

	if (strcasecmp(ent->name, n->event))
		return false;
	snprintf(attrs, sizeof(attrs), "%s", n->attrs);
	for (char *a = strtok_r(attrs, ":", &save); a; a = strtok_r(NULL, ":", &save))
		if (!attr_known(idx, ent->nattrs, a, NULL)) {
			if (!n->bad_attr)
				n->bad_attr = n->attrs + (a - attrs); /* into n->attrs */
			if (n->attr_match)
				attr_known(idx, ent->nattrs, a, n->attr_match);
			return false;
		}
	return true;
}

static void pfm_name_split(struct pfm_name *n, const char *name)
{
	char *sep;

	memset(n, 0, sizeof(*n));
	snprintf(n->buf, sizeof(n->buf), "%s", name);
	for (char *c = n->buf; *c; c++)
		*c = *c == '.' ? ':' : *c; /* perf's event.umask */
	n->event = n->buf;
	sep = strstr(n->buf, "::");
	if (sep) {
		*sep = '\0';
		n->pmu = n->buf;
		n->event = sep + 2;
	}
	sep = strchr(n->event, ':');
	n->attrs = sep ? sep + 1 : (char *)"";
	if (sep)
		*sep = '\0';
}

/* Whether any libpfm4 table, of a PMU present here or not, has the event
 * with these attributes: a name that exists on some CPU is "not supported"
 * here, one that exists nowhere is unknown. */
static bool pfm_known_anywhere(const char *name)
{
	struct pfm_name n;

	pfm_name_split(&n, name);
	return pfm_each_event(n.pmu, event_matches, &n);
}

/* The error for a libpfm4 name no table has, with close matches. */
static int pfm_unknown(const char *full, const char *name)
{
	struct close_match em, am;
	struct pfm_name n;
	char close[MATCHES_MAX], bad[EVENT_NAME_MAX];

	pfm_name_split(&n, name);
	close_match_init(&am, "");
	n.attr_match = &am;
	pfm_each_event(n.pmu, event_matches, &n);
	if (n.bad_attr) {
		snprintf(bad, sizeof(bad), "%.*s", (int)strcspn(n.bad_attr, ":="), n.bad_attr);
		/* The matches were collected against "": redo them against the word. */
		close_match_init(&am, bad);
		n.attr_match = &am;
		n.bad_attr = NULL;
		pfm_each_event(n.pmu, event_matches, &n);
		close_match_str(&am, "", close, sizeof(close));
		return err_set("events: %s: libpfm4 event %s has no attribute %s%s%s%s", full,
			       n.event, bad, close[0] ? " (close matches: " : "", close,
			       close[0] ? ")" : "");
	}
	close_match_init(&em, n.event);
	pfm_each_event(n.pmu, add_event_name, &em);
	close_match_str(&em, "", close, sizeof(close));
	return err_set("events: %s: no libpfm4 event %s%s%s in any of its tables%s%s%s", full,
		       n.pmu ? n.pmu : "", n.pmu ? "::" : "", n.event,
		       close[0] ? " (close matches: " : "", close, close[0] ? ")" : "");
}

/* 0: encoded; 1: known to libpfm4 but not for a PMU of this host (reason
 * in why); 2: no libpfm4 table has it; -1: error. */
static int pfm_encode(struct event_spec *e, const char *pfm_name, char *why, size_t len)
{
	struct perf_event_attr attr;
	pfm_perf_encode_arg_t arg;
	char alt[EVENT_NAME_MAX], present[128];
	int ret;

	if (pfm_ready())
		return -1;
	for (int pass = 0; pass < 2; pass++) {
		const char *try = pfm_name;

		/* perf spells event.umask, libpfm4 event:umask. */
		if (pass == 1) {
			if (!strchr(pfm_name, '.'))
				break;
			snprintf(alt, sizeof(alt), "%s", pfm_name);
			for (char *c = alt; *c; c++)
				*c = *c == '.' ? ':' : *c;
			try = alt;
		}
		memset(&attr, 0, sizeof(attr));
		memset(&arg, 0, sizeof(arg));
		arg.attr = &attr;
		arg.size = sizeof(arg);
		ret = pfm_get_os_event_encoding(try, PFM_PLM0 | PFM_PLM3, PFM_OS_PERF_EVENT_EXT,
						&arg);
		if (ret == PFM_SUCCESS) {
			/* Only the event itself: the modifiers decide the exclusions. */
			e->type = attr.type;
			e->config = attr.config;
			e->config1 = attr.config1;
			e->config2 = attr.config2;
			e->kind = kind_of_type(attr.type);
			return 0;
		}
		if (ret != PFM_ERR_NOTFOUND)
			return err_set("events: %s: libpfm4: %s", e->name, pfm_strerror(ret));
	}
	if (!pfm_known_anywhere(pfm_name))
		return 2;
	if (pfm_present(present, sizeof(present)))
		snprintf(why, len, "libpfm4 has no event %s for the PMUs it found (%s)", pfm_name,
			 present);
	else
		snprintf(why, len,
			 "libpfm4 found no CPU PMU here (only %s): no hardware PMU in "
			 "this VM?",
			 present);
	return 1;
}

/* Splits off a last ":MODS" part; returns the modifiers or "". */
static const char *split_mods(char *base)
{
	char *colon = strrchr(base, ':');

	if (colon && colon != base && is_mods(colon + 1)) {
		*colon = '\0';
		return colon + 1;
	}
	return "";
}

static int parse_stat(struct event_spec *e, const char *stat, enum event_kind kind)
{
	e->kind = kind;
	if (!is_ident(stat) || strlen(stat) >= sizeof(e->event))
		return err_set("events: %s: a KVM statistic name is letters, digits and '_' "
			       "(and takes no modifiers)",
			       e->name);
	snprintf(e->event, sizeof(e->event), "%s", stat);
	return 0;
}

static int parse_pfm(struct event_spec *e, char *rest)
{
	const char *mods;
	int ret;

	e->kind = EVENT_HARDWARE;
	mods = split_mods(rest);
	if (!*rest)
		return err_set("events: %s: pfm: needs an event name", e->name);
	ret = pfm_encode(e, rest, e->unsupported, sizeof(e->unsupported));
	if (ret < 0)
		return -1;
	if (ret == 2)
		return pfm_unknown(e->name, rest);
	return apply_mods(e, mods);
}

static int parse_vmm(struct event_spec *e, const char *what)
{
	char close[MATCHES_MAX];
	struct close_match m;

	e->kind = EVENT_VMM;
	for (size_t i = 0; i < VMM_COUNT_N; i++)
		if (!strcmp(what, vmm_counts[i])) {
			e->config = i;
			snprintf(e->event, sizeof(e->event), "%s", what);
			return 0;
		}
	close_match_init(&m, what);
	for (size_t i = 0; i < VMM_COUNT_N; i++)
		close_match_add(&m, vmm_counts[i]);
	close_match_str(&m, PREFIX_VMM, close, sizeof(close));
	if (strchr(what, ':'))
		return err_set("events: %s: vmm counts take no modifiers", e->name);
	return err_set("events: %s: unknown vmm count (%s%s%svmm counts: page-faults, "
		       "spurious-faults, exits, syscalls)",
		       e->name, close[0] ? "close matches: " : "", close, close[0] ? "; " : "");
}

/* rNNNN: perf's raw event, 1 to 16 hex digits. */
static bool is_raw(const char *s)
{
	size_t n = strlen(s + 1);

	return s[0] == 'r' && n >= 1 && n <= 16 && strspn(s + 1, "0123456789abcdefABCDEF") == n;
}

int pmu_format_apply(const char *format, uint64_t value, uint64_t config[3])
{
	const char *p = format, *colon = strchr(format, ':');
	unsigned word, used = 0;
	uint64_t left = value;

	if (!strncmp(p, "config:", 7))
		word = 0;
	else if (!strncmp(p, "config1:", 8))
		word = 1;
	else if (!strncmp(p, "config2:", 8))
		word = 2;
	else
		return err_set("format '%s': not configN:BITS", format);
	p = colon + 1;
	while (*p) {
		char *end;
		unsigned long lo = strtoul(p, &end, 10), hi = lo;

		if (end == p || lo > 63)
			return err_set("format '%s': bad bit range", format);
		if (*end == '-') {
			p = end + 1;
			hi = strtoul(p, &end, 10);
			if (end == p || hi > 63 || hi < lo)
				return err_set("format '%s': bad bit range", format);
		}
		for (unsigned long b = lo; b <= hi; b++, used++) {
			config[word] |= (left & 1) << b;
			left >>= 1;
		}
		p = end;
		if (*p == ',')
			p++;
		else if (*p && *p != '\n')
			return err_set("format '%s': bad bit range", format);
		else
			break;
	}
	if (left)
		return err_set("format '%s': value 0x%llx does not fit in %u bits", format,
			       (unsigned long long)value, used);
	return 0;
}

/* Terms that the x86 core PMUs define (Intel and AMD format/ dirs), to
 * check cpu/../ where this host has no cpu PMU to ask. */
static const char *const x86_terms[] = {
    "event", "umask",	 "edge",  "pc",	      "any",	     "inv",	     "cmask",
    "in_tx", "in_tx_cp", "ldlat", "frontend", "offcore_rsp", "metrics_clock"};

static bool cpu_pmu_name(const char *pmu)
{
	return !strcmp(pmu, "cpu") || !strcmp(pmu, "cpu_core") || !strcmp(pmu, "cpu_atom");
}

static int pmu_term(struct event_spec *e, const char *dir, bool present, char *term,
		    uint64_t config[3])
{
	char *eq = strchr(term, '='), path[512], fmt[128], close[MATCHES_MAX], list[512];
	struct close_match m;
	uint64_t value = 1; /* a term alone, as "edge", sets it to 1 (perf) */
	char *end;

	if (eq) {
		*eq = '\0';
		errno = 0;
		value = strtoull(eq + 1, &end, 0);
		if (errno || end == eq + 1 || *end)
			return err_set("events: %s: term %s: '%s' is not a number", e->name, term,
				       eq + 1);
	}
	if (!is_ident(term))
		return err_set("events: %s: a term is NAME=VALUE (NAME letters, digits, '_')",
			       e->name);
	close_match_init(&m, term);
	if (!present) {
		for (size_t i = 0; i < ARRAY_SIZE(x86_terms); i++)
			if (!strcmp(term, x86_terms[i]))
				return 0;
		for (size_t i = 0; i < ARRAY_SIZE(x86_terms); i++)
			close_match_add(&m, x86_terms[i]);
		close_match_str(&m, "", close, sizeof(close));
		return err_set("events: %s: no term '%s' in x86 PMUs%s%s%s", e->name, term,
			       close[0] ? " (close matches: " : "", close, close[0] ? ")" : "");
	}
	snprintf(path, sizeof(path), "%s/format/%s", dir, term);
	if (!sysfs_read_line(path, fmt, sizeof(fmt))) {
		snprintf(path, sizeof(path), "%s/format", dir);
		close_match_add_dir(&m, path, list, sizeof(list));
		close_match_str(&m, "", close, sizeof(close));
		return err_set("events: %s: the PMU has no term '%s' (%s%s%sterms: %s)", e->name,
			       term, close[0] ? "close matches: " : "", close, close[0] ? "; " : "",
			       list);
	}
	if (pmu_format_apply(fmt, value, config))
		return err_wrap("events: %s: term %s", e->name, term);
	return 0;
}

/* PMU/TERM=V,.../MODS: perf's syntax for a raw event of a named PMU. */
static int parse_pmu(struct event_spec *e, char *base)
{
	char *first = strchr(base, '/'), *last = strrchr(base, '/'), *save = NULL;
	char dir[320], path[400], type[32], close[MATCHES_MAX], list[512];
	const char *mods;
	uint64_t config[3] = {0, 0, 0};
	struct close_match m;
	long long t;
	bool present;

	e->kind = EVENT_HARDWARE;
	if (first == last)
		return err_set("events: %s: PMU/TERMS/ needs a closing '/'", e->name);
	*first = *last = '\0';
	mods = last[1] == ':' ? last + 2 : last + 1;
	if (!is_ident(base) || strlen(base) > 64)
		return err_set("events: %s: a PMU name is letters, digits and '_'", e->name);
	snprintf(dir, sizeof(dir), "%s/%s", pmu_root, base);
	snprintf(path, sizeof(path), "%s/type", dir);
	present = sysfs_read_line(path, type, sizeof(type));
	if (!present && !cpu_pmu_name(base)) {
		close_match_init(&m, base);
		close_match_add_dir(&m, pmu_root, list, sizeof(list));
		close_match_str(&m, "", close, sizeof(close));
		return err_set("events: %s: no PMU '%s' on this host (%s%s%sPMUs: %s)", e->name,
			       base, close[0] ? "close matches: " : "", close, close[0] ? "; " : "",
			       list[0] ? list : "none");
	}
	for (char *term = strtok_r(first + 1, ",", &save); term; term = strtok_r(NULL, ",", &save))
		if (pmu_term(e, dir, present, term, config))
			return -1;
	if (present) {
		if (!sysfs_read_long(path, &t) || t < 0 || t > UINT32_MAX)
			return err_set("events: %s: %s: not a PMU type", e->name, path);
		e->type = (uint32_t)t;
		e->config = config[0];
		e->config1 = config[1];
		e->config2 = config[2];
	} else {
		snprintf(e->unsupported, sizeof(e->unsupported),
			 "no %s PMU on this host (no %.100s): no hardware PMU in this VM?", base,
			 dir);
	}
	if (*mods && !is_mods(mods))
		return err_set("events: %s: unknown modifier '%s' (modifiers: G H u k)", e->name,
			       mods);
	return apply_mods(e, mods);
}

static int parse_tracepoint(struct event_spec *e, const char *base, const char *mods)
{
	const char *colon = strchr(base, ':');
	size_t sys_len = (size_t)(colon - base);

	e->kind = EVENT_TRACEPOINT;
	if (*mods)
		return err_set("events: %s: tracepoints take no modifiers", e->name);
	if (sys_len >= sizeof(e->sys) || strlen(colon + 1) >= sizeof(e->event))
		return err_set("events: %s: tracepoint system or name too long", e->name);
	memcpy(e->sys, base, sys_len);
	e->sys[sys_len] = '\0';
	snprintf(e->event, sizeof(e->event), "%s", colon + 1);
	if (!is_ident(e->sys) || !is_ident(e->event))
		return err_set("events: %s: a tracepoint is SYS:NAME, each letters, digits and '_'",
			       e->name);
	return 0;
}

static int parse_one(struct event_spec *e, const char *item)
{
	char base[EVENT_NAME_MAX];
	const struct generic_event *g;
	const char *mods;
	char *colon;
	int ret;

	memset(e, 0, sizeof(*e));
	if (strlen(item) >= sizeof(e->name))
		return err_set("events: %.40s...: name longer than %d characters", item,
			       EVENT_NAME_MAX - 1);
	memcpy(e->name, item, strlen(item) + 1); /* length checked above */
	if (!strncmp(item, PREFIX_VM_STAT, strlen(PREFIX_VM_STAT)))
		return parse_stat(e, item + strlen(PREFIX_VM_STAT), EVENT_KVM_VM_STAT);
	if (!strncmp(item, PREFIX_VCPU_STAT, strlen(PREFIX_VCPU_STAT)))
		return parse_stat(e, item + strlen(PREFIX_VCPU_STAT), EVENT_KVM_VCPU_STAT);
	if (!strncmp(item, PREFIX_VMM, strlen(PREFIX_VMM)))
		return parse_vmm(e, item + strlen(PREFIX_VMM));
	memcpy(base, e->name, sizeof(base)); /* NUL-terminated: length checked above */
	if (!strncmp(item, PREFIX_PFM, strlen(PREFIX_PFM)))
		return parse_pfm(e, base + strlen(PREFIX_PFM));
	if (strchr(base, '/') && strcspn(base, ":") > strcspn(base, "/"))
		return parse_pmu(e, base);

	mods = split_mods(base);
	if (is_raw(base)) {
		e->kind = EVENT_HARDWARE;
		e->type = PERF_TYPE_RAW;
		e->config = strtoull(base + 1, NULL, 16);
		return apply_mods(e, mods);
	}
	g = generic_find(base);
	if (g) {
		e->kind = kind_of_type(g->type);
		e->type = g->type;
		e->config = g->config;
		return apply_mods(e, mods);
	}
	colon = strchr(base, ':');
	if (colon) {
		/* "cycles:p": a generic name with a modifier we do not know. */
		*colon = '\0';
		if (generic_find(base)) {
			return err_set("events: %s: unknown modifier '%s' (modifiers: G H u k)",
				       e->name, colon + 1);
		}
		*colon = ':';
		return parse_tracepoint(e, base, mods);
	}
	/* Not generic, not a tracepoint: a raw CPU event name, if libpfm4 knows it. */
	ret = pfm_encode(e, base, e->unsupported, sizeof(e->unsupported));
	if (ret < 0)
		return -1;
	if (ret == 2)
		return unknown_event(e->name);
	return apply_mods(e, mods);
}

static char *trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

/* Adds one item; a member of group `group` (0: none) with the group's
 * modifiers `gmods` ("" for none) added to its own. */
static int add_item(struct event_list *l, const char *item, bool is_default, unsigned group,
		    const char *gmods)
{
	char full[EVENT_NAME_MAX + 16];
	struct event_spec *e;

	if (!*item)
		return err_set("events: empty name in the list");
	if (*gmods) {
		/* PMU/../ takes its modifiers right after the last '/' (they
		 * join any there), others after ':' (joining a ":MODS"). */
		const char *last = strrchr(item, ':');
		bool pmu = strchr(item, '/') && strcspn(item, ":") > strcspn(item, "/");
		bool joins = pmu || (last && is_mods(last + 1));

		snprintf(full, sizeof(full), "%s%s%s", item, joins ? "" : ":", gmods);
		item = full;
	}
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->ev[i].name, item))
			return err_set("events: %s: listed twice", item);
	if (l->n == EVENT_LIST_MAX)
		return err_set("events: more than %d events", EVENT_LIST_MAX);
	e = &l->ev[l->n];
	if (parse_one(e, item))
		return -1;
	e->guest_fallback = is_default && e->exclude_host;
	e->group = group;
	e->group_leader = group && (l->n == 0 || l->ev[l->n - 1].group != group);
	l->n++;
	return 0;
}

/* The end of one item at *p: the next ',' (or '}' inside a group) that is
 * not between the '/'s of PMU/TERMS/. Blanks around it are trimmed into
 * out. */
static int next_item(const char **p, bool in_group, char *out, size_t len)
{
	const char *s = *p;
	bool in_terms = false;
	size_t n;
	char *t;

	for (; *s; s++) {
		if (*s == '/')
			in_terms = !in_terms;
		else if (!in_terms && (*s == ',' || (in_group && *s == '}')))
			break;
		else if (!in_terms && (*s == '{' || *s == '}'))
			return err_set("events: '%c' out of place (groups are {A,B,...}, not "
				       "nested)",
				       *s);
	}
	n = (size_t)(s - *p);
	if (n >= len)
		return err_set("events: %.40s...: name longer than %d characters", *p,
			       EVENT_NAME_MAX - 1);
	memcpy(out, *p, n);
	out[n] = '\0';
	t = trim(out);
	memmove(out, t, strlen(t) + 1);
	*p = s;
	return 0;
}

/* "metrics:tlb": the events of this CPU's translation-metric table. */
static int add_metrics(struct event_list *l, const char *item)
{
	char list[1024], *save = NULL;
	const struct metric_table *t;
	struct cpu_model cpu;

	if (strcmp(item, METRICS_TLB))
		return err_set("events: %s: unknown metric group (metric groups: " METRICS_TLB ")",
			       item);
	if (cpu_model_read(NULL, &cpu))
		return err_wrap("events: %s", item);
	t = metrics_table_for(&cpu);
	if (!t)
		return err_set("events: %s: no translation-metric table for this CPU (%s family "
			       "%u model 0x%x)",
			       item, cpu.vendor, cpu.family, cpu.model);
	metrics_event_list(t, list, sizeof(list));
	/* Counted as the default set is: guest mode, or both where the PMU
	 * cannot tell them apart (the note says so). */
	for (char *e = strtok_r(list, ",", &save); e; e = strtok_r(NULL, ",", &save))
		if (add_item(l, e, true, 0, ""))
			return -1;
	return 0;
}

/* {A,B,...}[:MODS] at *p (just after the '{'). */
static int parse_group(struct event_list *l, const char **p, bool is_default, unsigned group)
{
	char items[EVENT_LIST_MAX][EVENT_NAME_MAX], mods[16] = "";
	const char *s = *p;
	size_t n = 0;

	for (;;) {
		if (n == EVENT_LIST_MAX)
			return err_set("events: more than %d events", EVENT_LIST_MAX);
		if (next_item(&s, true, items[n], sizeof(items[n])))
			return -1;
		if (!items[n][0])
			return err_set("events: empty name in a {...} group");
		n++;
		if (*s == '}')
			break;
		if (*s != ',')
			return err_set("events: a {...} group without its '}'");
		s++;
	}
	s++; /* the '}' */
	if (*s == ':') {
		size_t m = strcspn(s + 1, ", \t");

		if (m == 0 || m >= sizeof(mods))
			return err_set("events: bad modifiers after a {...} group");
		memcpy(mods, s + 1, m);
		mods[m] = '\0';
		if (!is_mods(mods))
			return err_set("events: {...}:%s: unknown modifier (modifiers: G H u k)",
				       mods);
		s += 1 + m;
	}
	for (size_t i = 0; i < n; i++)
		if (add_item(l, items[i], is_default, group, mods))
			return -1;
	*p = s;
	return 0;
}

int event_list_parse(struct event_list *l, const char *list)
{
	bool is_default = !list;
	char item[EVENT_NAME_MAX];
	unsigned groups = 0;
	const char *p;

	l->n = 0;
	l->ev = NULL;
	if (is_default)
		list = event_default_list;
	if (!*list)
		return err_set("events: empty event list");
	l->ev = calloc(EVENT_LIST_MAX, sizeof(*l->ev));
	if (!l->ev)
		return err_set("events: out of memory");
	for (p = list;;) {
		while (isspace((unsigned char)*p))
			p++;
		if (*p == '{') {
			p++;
			if (parse_group(l, &p, is_default, ++groups))
				goto fail;
			while (isspace((unsigned char)*p))
				p++;
		} else {
			if (next_item(&p, false, item, sizeof(item)))
				goto fail;
			if (!item[0]) {
				err_set("events: empty name in \"%s\"", list);
				goto fail;
			}
			if (!strncmp(item, METRICS_PREFIX, strlen(METRICS_PREFIX))
				? add_metrics(l, item)
				: add_item(l, item, is_default, 0, ""))
				goto fail;
		}
		if (!*p)
			break;
		if (*p != ',') {
			err_set("events: unexpected '%c' after an item in \"%s\"", *p, list);
			goto fail;
		}
		p++;
		if (!*p) {
			err_set("events: empty name in \"%s\"", list);
			goto fail;
		}
	}
	return 0;
fail:
	event_list_free(l);
	return -1;
}

void event_list_free(struct event_list *l)
{
	free(l->ev);
	l->ev = NULL;
	l->n = 0;
}
