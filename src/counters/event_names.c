/* Parses the -e list: perf's generic names with modifiers, tracepoints,
 * KVM statistics and raw CPU events through libpfm4, into event specs.
 * The syntax and its one ambiguity are documented in event_names.h. */
#include "counters/event_names.h"

#include <ctype.h>
#include <linux/perf_event.h>
#include <perfmon/pfmlib_perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/err.h"
#include "util/types.h"

#define MODIFIER_LETTERS "GHuk"
#define PREFIX_VM_STAT "kvm-stat:"
#define PREFIX_VCPU_STAT "kvm-vcpu-stat:"
#define PREFIX_PFM "pfm:"

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
    "page-faults,"
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
	}
	return "?";
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

static int unknown_event(const char *name)
{
	char names[768];

	return err_set("events: %s: unknown event (generic names: %s; prefixes: SYS:NAME "
		       "tracepoint, kvm-stat:NAME, kvm-vcpu-stat:NAME, pfm:NAME; modifiers :G :H "
		       ":u :k; see `vmm info` and `perf list`)",
		       name, event_generic_names(names, sizeof(names)));
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

/* 0: encoded; 1: libpfm4 has no such event (reason in why); -1: error. */
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
	snprintf(base, sizeof(base), "%s", item);
	if (!strncmp(item, PREFIX_PFM, strlen(PREFIX_PFM)))
		return parse_pfm(e, base + strlen(PREFIX_PFM));

	mods = split_mods(base);
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
	if (ret > 0)
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

static int add_item(struct event_list *l, const char *item, bool is_default)
{
	struct event_spec *e;

	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->ev[i].name, item))
			return err_set("events: %s: listed twice", item);
	if (l->n == EVENT_LIST_MAX)
		return err_set("events: more than %d events", EVENT_LIST_MAX);
	e = &l->ev[l->n];
	if (parse_one(e, item))
		return -1;
	e->guest_fallback = is_default && e->exclude_host;
	l->n++;
	return 0;
}

int event_list_parse(struct event_list *l, const char *list)
{
	bool is_default = !list || !*list;
	char *copy, *save = NULL;
	size_t len;

	l->n = 0;
	l->ev = NULL;
	if (is_default)
		list = event_default_list;
	len = strlen(list);
	if (len && (list[0] == ',' || list[len - 1] == ',' || strstr(list, ",,")))
		return err_set("events: empty name in \"%s\"", list);
	copy = strdup(list);
	l->ev = calloc(EVENT_LIST_MAX, sizeof(*l->ev));
	if (!copy || !l->ev) {
		free(copy);
		event_list_free(l);
		return err_set("events: out of memory");
	}
	for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *item = trim(tok);

		if (!*item) {
			err_set("events: empty name in \"%s\"", list);
			goto fail;
		}
		if (add_item(l, item, is_default))
			goto fail;
	}
	free(copy);
	return 0;
fail:
	free(copy);
	event_list_free(l);
	return -1;
}

void event_list_free(struct event_list *l)
{
	free(l->ev);
	l->ev = NULL;
	l->n = 0;
}
