/* Translation metrics: the per-generation event tables and the figures.
 *
 * Event choice, by generation (libpfm4's names; Intel SDM vol. 3B ch. 19
 * and libpfm4's tables):
 * - Nehalem/Westmere: DTLB_LOAD_MISSES:WALK_COMPLETED, ITLB_MISSES:
 *   WALK_COMPLETED; Westmere adds WALK_CYCLES and EPT:WALK_CYCLES.
 * - Sandy Bridge to Broadwell: walks as above plus DTLB_STORE_MISSES;
 *   walk time as WALK_DURATION (cycles with a walk in progress);
 *   EPT:WALK_CYCLES.
 * - Skylake and later: WALK_DURATION became WALK_PENDING (a sum over
 *   walks in flight); WALK_ACTIVE (cmask=1 of it) is the cycles with a
 *   walk, the counterpart of the older WALK_DURATION; Skylake has
 *   EPT:WALK_DURATION, Ice Lake and later no EPT event.
 * - AMD Zen 1-4: L1_DTLB_MISS with the *_L2_MISS umasks (an L2 DTLB miss
 *   is a table walk), L1_ITLB_MISS_L2_ITLB_MISS; libpfm4 has no walk
 *   cycle event for Zen, so those figures are absent there. */
#include "counters/metrics.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/err.h"
#include "util/types.h"

#define INTEL_INSN "INST_RETIRED:ANY_P"
#define INTEL_CYC "UNHALTED_CORE_CYCLES"
#define AMD_INSN "RETIRED_INSTRUCTIONS"
#define AMD_CYC "CYCLES_NOT_IN_HALT"
#define ZEN_DTLB_WALKS                                                                             \
	"L1_DTLB_MISS:TLB_RELOAD_4K_L2_MISS:TLB_RELOAD_2M_L2_MISS:TLB_RELOAD_1G_L2_MISS:"          \
	"TLB_RELOAD_COALESCED_PAGE_MISS"
#define ZEN_ITLB_WALKS "L1_ITLB_MISS_L2_ITLB_MISS:IF4K:IF2M:IF1G"

/* Intel walk events from Sandy Bridge on; walk_cycles is the walk-time
 * umask: WALK_DURATION to Broadwell, WALK_ACTIVE from Skylake. */
#define INTEL_EVENTS(walk_cycles, ept)                                                             \
	{                                                                                          \
		[MR_INSTRUCTIONS] = INTEL_INSN, [MR_CYCLES] = INTEL_CYC,                           \
		[MR_DTLB_LOAD_WALKS] = "DTLB_LOAD_MISSES:WALK_COMPLETED",                          \
		[MR_DTLB_STORE_WALKS] = "DTLB_STORE_MISSES:WALK_COMPLETED",                        \
		[MR_ITLB_WALKS] = "ITLB_MISSES:WALK_COMPLETED",                                    \
		[MR_DTLB_LOAD_WALK_CYCLES] = "DTLB_LOAD_MISSES:" walk_cycles,                      \
		[MR_DTLB_STORE_WALK_CYCLES] = "DTLB_STORE_MISSES:" walk_cycles,                    \
		[MR_ITLB_WALK_CYCLES] = "ITLB_MISSES:" walk_cycles, [MR_EPT_WALK_CYCLES] = ept,    \
	}
#define SNB_EVENTS(ept) INTEL_EVENTS("WALK_DURATION", ept)
#define SKL_EVENTS(ept) INTEL_EVENTS("WALK_ACTIVE", ept)
#define ZEN_EVENTS                                                                                 \
	{                                                                                          \
		[MR_INSTRUCTIONS] = AMD_INSN, [MR_CYCLES] = AMD_CYC,                               \
		[MR_DTLB_LOAD_WALKS] = ZEN_DTLB_WALKS, [MR_ITLB_WALKS] = ZEN_ITLB_WALKS,           \
	}

static const struct metric_table tables[] = {
    {"nehalem",
     "nhm",
     {[MR_INSTRUCTIONS] = INTEL_INSN,
      [MR_CYCLES] = INTEL_CYC,
      [MR_DTLB_LOAD_WALKS] = "DTLB_LOAD_MISSES:WALK_COMPLETED",
      [MR_ITLB_WALKS] = "ITLB_MISSES:WALK_COMPLETED"}},
    {"westmere",
     "wsm",
     {[MR_INSTRUCTIONS] = INTEL_INSN,
      [MR_CYCLES] = INTEL_CYC,
      [MR_DTLB_LOAD_WALKS] = "DTLB_LOAD_MISSES:WALK_COMPLETED",
      [MR_ITLB_WALKS] = "ITLB_MISSES:WALK_COMPLETED",
      [MR_DTLB_LOAD_WALK_CYCLES] = "DTLB_LOAD_MISSES:WALK_CYCLES",
      [MR_ITLB_WALK_CYCLES] = "ITLB_MISSES:WALK_CYCLES",
      [MR_EPT_WALK_CYCLES] = "EPT:WALK_CYCLES"}},
    {"sandybridge", "snb", SNB_EVENTS("EPT:WALK_CYCLES")},
    {"ivybridge", "ivb", SNB_EVENTS("EPT:WALK_CYCLES")},
    {"haswell", "hsw", SNB_EVENTS("EPT:WALK_CYCLES")},
    {"broadwell", "bdw", SNB_EVENTS("EPT:WALK_CYCLES")},
    {"skylake", "skl", SKL_EVENTS("EPT:WALK_DURATION")},
    {"skylake-x", "skx", SKL_EVENTS("EPT:WALK_DURATION")},
    {"icelake", "icl", SKL_EVENTS(NULL)},
    {"icelake-x", "icx", SKL_EVENTS(NULL)},
    {"sapphirerapids", "spr", SKL_EVENTS(NULL)},
    {"zen1", "amd64_fam17h_zen1", ZEN_EVENTS},
    {"zen2", "amd64_fam17h_zen2", ZEN_EVENTS},
    {"zen3", "amd64_fam19h_zen3", ZEN_EVENTS},
    {"zen4", "amd64_fam19h_zen4", ZEN_EVENTS},
};

static const struct metric_table *table_named(const char *generation)
{
	for (size_t i = 0; i < ARRAY_SIZE(tables); i++)
		if (!strcmp(tables[i].generation, generation))
			return &tables[i];
	return NULL;
}

const struct metric_table *metrics_tables(size_t *n)
{
	*n = ARRAY_SIZE(tables);
	return tables;
}

const char *metric_role_name(enum metric_role r)
{
	static const char *const names[MR_N] = {
	    [MR_INSTRUCTIONS] = "instructions",
	    [MR_CYCLES] = "cycles",
	    [MR_DTLB_LOAD_WALKS] = "dtlb_load_walks",
	    [MR_DTLB_STORE_WALKS] = "dtlb_store_walks",
	    [MR_ITLB_WALKS] = "itlb_walks",
	    [MR_DTLB_LOAD_WALK_CYCLES] = "dtlb_load_walk_cycles",
	    [MR_DTLB_STORE_WALK_CYCLES] = "dtlb_store_walk_cycles",
	    [MR_ITLB_WALK_CYCLES] = "itlb_walk_cycles",
	    [MR_EPT_WALK_CYCLES] = "ept_walk_cycles",
	};

	return (unsigned)r < MR_N ? names[r] : "?";
}

/* Intel family 6 models (arch/x86/include/asm/intel-family.h) by the
 * libpfm4 table that covers them. */
static const struct {
	unsigned model;
	const char *generation;
} intel_models[] = {
    {0x1a, "nehalem"},	      {0x1e, "nehalem"},	{0x1f, "nehalem"},
    {0x2e, "nehalem"},	      {0x25, "westmere"},	{0x2c, "westmere"},
    {0x2f, "westmere"},	      {0x2a, "sandybridge"},	{0x2d, "sandybridge"},
    {0x3a, "ivybridge"},      {0x3e, "ivybridge"},	{0x3c, "haswell"},
    {0x3f, "haswell"},	      {0x45, "haswell"},	{0x46, "haswell"},
    {0x3d, "broadwell"},      {0x47, "broadwell"},	{0x4f, "broadwell"},
    {0x56, "broadwell"},      {0x4e, "skylake"},	{0x5e, "skylake"},
    {0x8e, "skylake"},	      {0x9e, "skylake"},	{0xa5, "skylake"},
    {0xa6, "skylake"},	      {0x55, "skylake-x"},	{0x7d, "icelake"},
    {0x7e, "icelake"},	      {0x6a, "icelake-x"},	{0x6c, "icelake-x"},
    {0x8f, "sapphirerapids"}, {0xcf, "sapphirerapids"}, /* Emerald Rapids: the same core events */
};

const struct metric_table *metrics_table_for(const struct cpu_model *m)
{
	if (!strcmp(m->vendor, "GenuineIntel") && m->family == 6) {
		for (size_t i = 0; i < ARRAY_SIZE(intel_models); i++)
			if (intel_models[i].model == m->model)
				return table_named(intel_models[i].generation);
		return NULL;
	}
	if (!strcmp(m->vendor, "AuthenticAMD") || !strcmp(m->vendor, "HygonGenuine")) {
		if (m->family == 0x17)
			return table_named(m->model >= 0x30 ? "zen2" : "zen1");
		if (m->family == 0x19)
			return table_named((m->model >= 0x10 && m->model <= 0x1f) ||
						   (m->model >= 0x60 && m->model <= 0xaf)
					       ? "zen4"
					       : "zen3");
	}
	return NULL;
}

bool cpuinfo_field(const char *text, const char *key, char *out, size_t len)
{
	size_t klen = strlen(key);

	for (const char *line = text; line && *line;
	     line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
		const char *p = line + klen;
		size_t n;

		if (strncmp(line, key, klen) || (*p != ' ' && *p != '\t' && *p != ':'))
			continue;
		p += strspn(p, " \t");
		if (*p != ':')
			continue;
		p++;
		p += strspn(p, " \t");
		n = strcspn(p, "\n");
		if (n >= len)
			n = len - 1;
		memcpy(out, p, n);
		out[n] = '\0';
		return true;
	}
	return false;
}

int cpu_model_parse(const char *cpuinfo, struct cpu_model *m)
{
	char family[16], model[16], *end;

	memset(m, 0, sizeof(*m));
	if (!cpuinfo_field(cpuinfo, "vendor_id", m->vendor, sizeof(m->vendor)) ||
	    !cpuinfo_field(cpuinfo, "cpu family", family, sizeof(family)) ||
	    !cpuinfo_field(cpuinfo, "model", model, sizeof(model)))
		return err_set("cpuinfo: no vendor_id, cpu family or model line");
	m->family = (unsigned)strtoul(family, &end, 10);
	if (end == family || *end)
		return err_set("cpuinfo: cpu family '%s' is not a number", family);
	m->model = (unsigned)strtoul(model, &end, 10);
	if (end == model || *end)
		return err_set("cpuinfo: model '%s' is not a number", model);
	return 0;
}

int cpu_model_read(const char *path, struct cpu_model *m)
{
	char buf[8192];
	size_t n;
	FILE *f = fopen(path ? path : "/proc/cpuinfo", "r");

	if (!f)
		return err_set("cpuinfo: cannot open %s", path ? path : "/proc/cpuinfo");
	n = fread(buf, 1, sizeof(buf) - 1, f); /* the first processor is enough */
	fclose(f);
	buf[n] = '\0';
	return cpu_model_parse(buf, m);
}

const struct metric_table *metrics_table_for_host(void)
{
	struct cpu_model cpu;
	const struct metric_table *t =
	    cpu_model_read(NULL, &cpu) == 0 ? metrics_table_for(&cpu) : NULL;

	err_clear();
	return t;
}

const char *metrics_event_list(const struct metric_table *t, char *buf, size_t len)
{
	size_t used = 0;

	if (len)
		buf[0] = '\0';
	for (size_t r = 0; r < MR_N && used < len; r++)
		if (t->event[r])
			used += (size_t)snprintf(buf + used, len - used, "%spfm:%s:G",
						 used ? "," : "", t->event[r]);
	return buf;
}

/* Whether name (after "pfm:", '.' as ':') is event, up to modifiers. */
static bool same_event(const char *name, const char *event)
{
	size_t n = strlen(event);

	for (size_t i = 0; i < n; i++) {
		char a = name[i] == '.' ? ':' : name[i];

		if (!a || toupper((unsigned char)a) != toupper((unsigned char)event[i]))
			return false;
	}
	/* What may follow: nothing, or ":MODS" with modifier letters only. */
	return !name[n] || (name[n] == ':' && name[n + 1] &&
			    strspn(name + n + 1, "GHuk") == strlen(name + n + 1));
}

enum metric_role metrics_role_of(const struct metric_table *t, const char *counter_name)
{
	const char *name = counter_name;

	if (!strncmp(name, "pfm:", 4))
		name += 4;
	for (size_t r = 0; r < MR_N; r++)
		if (t->event[r] && same_event(name, t->event[r]))
			return (enum metric_role)r;
	return MR_N;
}

static bool ratio(const struct metric_counts *c, enum metric_role num, enum metric_role den,
		  double scale, double *out)
{
	if (!c->have[num] || !c->have[den] || c->value[den] <= 0)
		return false;
	*out = scale * c->value[num] / c->value[den];
	return true;
}

size_t metrics_compute(const struct metric_counts *c, struct metric_row *out)
{
	static const struct {
		const char *name;
		enum metric_role num, den;
		double scale;
		const char *unit;
	} figures[] = {
	    {"dTLB load walks", MR_DTLB_LOAD_WALKS, MR_INSTRUCTIONS, 1000, "per 1000 instructions"},
	    {"dTLB store walks", MR_DTLB_STORE_WALKS, MR_INSTRUCTIONS, 1000,
	     "per 1000 instructions"},
	    {"iTLB walks", MR_ITLB_WALKS, MR_INSTRUCTIONS, 1000, "per 1000 instructions"},
	    {"dTLB load walk cycles", MR_DTLB_LOAD_WALK_CYCLES, MR_CYCLES, 100, "% of cycles"},
	    {"dTLB store walk cycles", MR_DTLB_STORE_WALK_CYCLES, MR_CYCLES, 100, "% of cycles"},
	    {"iTLB walk cycles", MR_ITLB_WALK_CYCLES, MR_CYCLES, 100, "% of cycles"},
	    {"EPT walk cycles", MR_EPT_WALK_CYCLES, MR_CYCLES, 100, "% of cycles"},
	};
	size_t n = 0;
	double v;

	for (size_t i = 0; i < ARRAY_SIZE(figures); i++)
		if (ratio(c, figures[i].num, figures[i].den, figures[i].scale, &v))
			out[n++] = (struct metric_row){figures[i].name, v, figures[i].unit};
	/* All walk cycles together, only when every part was counted: a sum
	 * of some parts would pass for the whole. Walks of different kinds
	 * can overlap, so this is an upper bound. */
	if (c->have[MR_CYCLES] && c->value[MR_CYCLES] > 0 && c->have[MR_DTLB_LOAD_WALK_CYCLES] &&
	    c->have[MR_DTLB_STORE_WALK_CYCLES] && c->have[MR_ITLB_WALK_CYCLES])
		out[n++] = (struct metric_row){"page-walk cycles (upper bound)",
					       100 *
						   (c->value[MR_DTLB_LOAD_WALK_CYCLES] +
						    c->value[MR_DTLB_STORE_WALK_CYCLES] +
						    c->value[MR_ITLB_WALK_CYCLES]) /
						   c->value[MR_CYCLES],
					       "% of cycles"};
	return n;
}
