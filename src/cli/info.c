/* `vmm info`: gathers what the host offers into one JSON object (the
 * single source for both outputs), then prints it as JSON or as text.
 * Nothing here is an error except bad options and a failed write. */
#include "cli/info.h"

#include <cpuid.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "counters/event_names.h"
#include "counters/metrics.h"
#include "counters/perf_events.h"
#include "counters/selftest.h"
#include "kvm/cpuid_cache.h"
#include "kvm/kvm.h"
#include "kvm/kvm_stats.h"
#include "kvm/vcpu.h"
#include "report/provenance.h"
#include "util/err.h"
#include "util/sysfs.h"

#define HUGEPAGES_DIR "/sys/kernel/mm/hugepages"
#define THP_DIR "/sys/kernel/mm/transparent_hugepage"
#define CPU_PMU_DIR "/sys/bus/event_source/devices/cpu"
#define TEXT_WIDTH 100

static const char usage[] =
    "usage: vmm info [--json] [--check-counters]\n"
    "  what this host offers: KVM and its paging mode, CPUID features,\n"
    "  the PMU, huge pages, THP, tracefs and KVM statistics\n"
    "  --check-counters: count a loop of a known number of instructions and say\n"
    "  whether the counters can be trusted here (exit 0), not (1), or there is\n"
    "  no PMU to check (2); also the translation-metric events for this CPU\n";

/* Intel SDM Vol. 2A, CPUID, Tables 3-8 and 3-10 (leaves 01H, 07H, 80000001H);
 * AMD APM Vol. 3, Appendix E.4.2 (80000001H ECX: SVM, PerfCtrExtCore). */
const struct info_cpuid_feature info_cpuid_features[] = {
    {"pdpe1gb", 0x80000001, 0, INFO_REG_EDX, 26}, /* 1 GiB pages */
    {"nx", 0x80000001, 0, INFO_REG_EDX, 20},
    {"pcid", 0x1, 0, INFO_REG_ECX, 17},
    {"invpcid", 0x7, 0, INFO_REG_EBX, 10},
    {"la57", 0x7, 0, INFO_REG_ECX, 16}, /* 5-level paging */
    {"vmx", 0x1, 0, INFO_REG_ECX, 5},
    {"svm", 0x80000001, 0, INFO_REG_ECX, 2},
    {"hypervisor", 0x1, 0, INFO_REG_ECX, 31},	       /* set by hypervisors (SDM: reserved) */
    {"perfctr_core", 0x80000001, 0, INFO_REG_ECX, 23}, /* AMD core PMU extension */
};
const size_t info_cpuid_nfeatures = ARRAY_SIZE(info_cpuid_features);

/* CPUID.0AH:EAX (SDM Vol. 3B 20.2.1): [7:0] perfmon version, [15:8] counters. */
#define CPUID_LEAF_PERFMON 0xa
/* CPUID.15H: TSC/crystal ratio EBX/EAX, crystal Hz in ECX; 16H: base MHz. */
#define CPUID_LEAF_TSC 0x15
#define CPUID_LEAF_FREQ 0x16
/* The hypervisor timing leaf (VMware's, also KVM's): EAX = TSC kHz. */
#define CPUID_LEAF_HV_BASE 0x40000000
#define CPUID_LEAF_HV_TIMING 0x40000010

struct regs {
	uint32_t r[4]; /* INFO_REG_* order */
};

#define CPUID_1_ECX_HYPERVISOR (1u << 31)

/* The host CPU: zeros for a leaf above the highest of its range, and for
 * hypervisor leaves unless CPUID.1:ECX says a hypervisor is there (without
 * one, Intel answers 0x4000xxxx with its highest basic leaf). */
static struct regs host_cpuid(uint32_t leaf, uint32_t subleaf)
{
	struct regs x = {{0}};
	uint32_t range = leaf & 0xc0000000u;

	if (range == CPUID_LEAF_HV_BASE &&
	    !(host_cpuid(1, 0).r[INFO_REG_ECX] & CPUID_1_ECX_HYPERVISOR))
		return x;
	if (leaf > (uint32_t)__get_cpuid_max(range, NULL))
		return x;
	__cpuid_count(leaf, subleaf, x.r[0], x.r[1], x.r[2], x.r[3]);
	return x;
}

static bool feature_in(const struct info_cpuid_feature *f, struct regs x)
{
	return x.r[f->reg] & (1u << f->bit);
}

int info_host_has(const char *name)
{
	for (size_t i = 0; i < info_cpuid_nfeatures; i++)
		if (!strcmp(info_cpuid_features[i].name, name))
			return feature_in(&info_cpuid_features[i],
					  host_cpuid(info_cpuid_features[i].leaf,
						     info_cpuid_features[i].subleaf));
	return -1;
}

/* ---- small readers ---- */

static json_object *read_int(const char *path)
{
	long long v;

	return sysfs_read_long(path, &v) ? json_object_new_int64(v) : NULL;
}

/* "always [madvise] never" -> "madvise". */
static json_object *bracketed(const char *path)
{
	char buf[256], *open, *close;

	if (!sysfs_read_line(path, buf, sizeof(buf)))
		return NULL;
	open = strchr(buf, '[');
	close = open ? strchr(open, ']') : NULL;
	if (!close)
		return json_object_new_string(buf);
	*close = '\0';
	return json_object_new_string(open + 1);
}

static int pool_cmp(const void *a, const void *b)
{
	int64_t x =
	    json_object_get_int64(json_object_object_get(*(json_object *const *)a, "size_kb"));
	int64_t y =
	    json_object_get_int64(json_object_object_get(*(json_object *const *)b, "size_kb"));

	return (x > y) - (x < y);
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The subdirectories of dir, sorted, as a JSON array of names. */
static json_object *subdirs(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, cap = 0;
	json_object *arr;

	if (!d)
		return NULL;
	while ((de = readdir(d))) {
		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		if (n == cap) {
			char **grown = realloc(names, (cap = cap ? 2 * cap : 64) * sizeof(*names));

			if (!grown)
				break;
			names = grown;
		}
		names[n] = strdup(de->d_name);
		if (names[n])
			n++;
	}
	closedir(d);
	qsort(names, n, sizeof(*names), name_cmp);
	arr = json_object_new_array();
	for (size_t i = 0; i < n; i++) {
		json_object_array_add(arr, json_object_new_string(names[i]));
		free(names[i]);
	}
	free(names);
	return arr;
}

/* ---- gathering ---- */

static json_object *stats_list(int fd, const char *what)
{
	struct kvm_stats s;
	json_object *arr;
	char unit[32];

	if (kvm_stats_open(&s, fd, what))
		return json_object_new_string(err_msg());
	arr = json_object_new_array();
	for (size_t i = 0; i < s.n; i++) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "name", json_object_new_string(s.stat[i].name));
		json_object_object_add(o, "type",
				       json_object_new_string(kvm_stat_type_name(s.stat[i].type)));
		json_object_object_add(
		    o, "unit",
		    json_object_new_string(kvm_stat_unit_str(&s.stat[i], unit, sizeof(unit))));
		json_object_array_add(arr, o);
	}
	kvm_stats_close(&s);
	return arr;
}

/* Where KVM's CPUID table is cached (kvm/cpuid_cache.h) and whether
 * this open read it from there; null when the cache is off. */
static void add_cpuid_cache(json_object *kvm, const struct kvm *k)
{
	char path[4096];
	json_object *cc = NULL;

	if (cpuid_cache_path(path, sizeof(path))) {
		cc = json_object_new_object();
		json_object_object_add(cc, "path", json_object_new_string(path));
		json_object_object_add(cc, "hit", json_object_new_boolean(k->cpuid_cached));
	}
	json_object_object_add(kvm, "cpuid_cache", cc);
}

/* A throwaway VM and vCPU: the statistics they expose and the guest TSC. */
static void add_vm_facts(json_object *kvm, struct kvm *k)
{
	json_object *stats = json_object_new_object();
	struct vcpu v;
	int khz;

	if (kvm_create_vm(k) < 0) {
		json_object_object_add(kvm, "vm_error", json_object_new_string(err_msg()));
		json_object_put(stats);
		return;
	}
	json_object_object_add(stats, "vm", stats_list(k->vm_fd, "vm"));
	if (vcpu_create(&v, k, 0) == 0) {
		json_object_object_add(stats, "vcpu", stats_list(v.fd, "vcpu"));
		khz = vcpu_ioctl(&v, KVM_GET_TSC_KHZ, NULL);
		json_object_object_add(kvm, "guest_tsc_khz",
				       khz > 0 ? json_object_new_int(khz) : NULL);
	}
	vcpu_destroy(&v);
	json_object_object_add(kvm, "stats", stats);
}

static json_object *cpuid_features(const struct kvm *k)
{
	json_object *o = json_object_new_object();

	for (size_t i = 0; i < info_cpuid_nfeatures; i++) {
		const struct info_cpuid_feature *f = &info_cpuid_features[i];
		const struct kvm_cpuid_entry2 *e;
		struct regs x;

		if (!k) {
			x = host_cpuid(f->leaf, f->subleaf);
		} else {
			e = kvm_cpuid_find(k, f->leaf, f->subleaf);
			if (!e) {
				json_object_object_add(o, f->name, json_object_new_boolean(0));
				continue;
			}
			x = (struct regs){{e->eax, e->ebx, e->ecx, e->edx}};
		}
		json_object_object_add(o, f->name, json_object_new_boolean(feature_in(f, x)));
	}
	return o;
}

static void add_kvm(json_object *root)
{
	json_object *kvm = json_object_new_object(), *cpuid = json_object_new_object();
	struct kvm k;
	struct kvm_paging_info paging;
	json_object *p = json_object_new_object();
	bool ok;

	kvm_detect_paging(&paging);
	json_object_object_add(p, "mode",
			       json_object_new_string(kvm_paging_mode_name(paging.mode)));
	json_object_object_add(p, "detail", json_object_new_string(paging.detail));
	json_object_object_add(root, "paging", p);
	json_object_object_add(cpuid, "host", cpuid_features(NULL));
	json_object_object_add(root, "cpuid", cpuid);
	json_object_object_add(root, "kvm", kvm);

	json_object_object_add(kvm, "device", json_object_new_string(KVM_DEV_PATH));
	ok = kvm_open(&k) == 0;
	json_object_object_add(kvm, "available", json_object_new_boolean(ok));
	if (k.api_version > 0)
		json_object_object_add(kvm, "api_version", json_object_new_int(k.api_version));
	if (!ok) {
		json_object_object_add(kvm, "error", json_object_new_string(err_msg()));
		kvm_close(&k);
		return;
	}
	json_object_object_add(kvm, "binary_stats",
			       json_object_new_boolean(ioctl(k.sys_fd, KVM_CHECK_EXTENSION,
							     KVM_CAP_BINARY_STATS_FD) > 0));
	json_object_object_add(cpuid, "guest", cpuid_features(&k));
	add_cpuid_cache(kvm, &k);
	add_vm_facts(kvm, &k);
	kvm_close(&k);
}

static void add_cpu(json_object *root)
{
	json_object *cpu = json_object_new_object(), *tsc = json_object_new_object();
	struct regs v = host_cpuid(0, 0), t = host_cpuid(CPUID_LEAF_TSC, 0);
	struct regs fq = host_cpuid(CPUID_LEAF_FREQ, 0), hv = host_cpuid(CPUID_LEAF_HV_TIMING, 0);
	char vendor[13], line[256] = "";
	FILE *f = fopen("/proc/cpuinfo", "re");

	memcpy(vendor, &v.r[INFO_REG_EBX], 4);
	memcpy(vendor + 4, &v.r[INFO_REG_EDX], 4);
	memcpy(vendor + 8, &v.r[INFO_REG_ECX], 4);
	vendor[12] = '\0';
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "model name", 10) && strchr(line, ':'))
			break;
	if (f)
		fclose(f);
	line[strcspn(line, "\n")] = '\0';
	json_object_object_add(
	    cpu, "model", strchr(line, ':') ? json_object_new_string(strchr(line, ':') + 2) : NULL);
	json_object_object_add(cpu, "vendor", json_object_new_string(vendor));
	/* The host TSC from the sources that state it, best first. */
	if (t.r[0] && t.r[1] && t.r[2]) {
		json_object_object_add(tsc, "hz",
				       json_object_new_int64((int64_t)t.r[2] * t.r[1] / t.r[0]));
		json_object_object_add(tsc, "source", json_object_new_string("CPUID 0x15"));
	} else if (hv.r[0]) {
		json_object_object_add(tsc, "hz", json_object_new_int64((int64_t)hv.r[0] * 1000));
		json_object_object_add(tsc, "source",
				       json_object_new_string("CPUID 0x40000010 (hypervisor)"));
	} else if (fq.r[0] & 0xffff) {
		json_object_object_add(
		    tsc, "hz", json_object_new_int64((int64_t)(fq.r[0] & 0xffff) * 1000000));
		json_object_object_add(
		    tsc, "source",
		    json_object_new_string("CPUID 0x16 base frequency, approximate"));
	} else {
		json_object_object_add(tsc, "hz", NULL);
		json_object_object_add(tsc, "source",
				       json_object_new_string("unknown: CPUID 0x15, 0x16 and "
							      "0x40000010 are empty"));
	}
	json_object_object_add(cpu, "host_tsc", tsc);
	json_object_object_add(root, "cpu", cpu);
}

/* This CPU's translation-metric generation and the events -e metrics:tlb
 * counts (null where there is no table for it). */
static void add_metrics_table(json_object *pmu)
{
	const struct metric_table *t = metrics_table_for_host();
	char list[1024];

	json_object_object_add(pmu, "metrics_generation",
			       t ? json_object_new_string(t->generation) : NULL);
	json_object_object_add(pmu, "metrics_events",
			       t ? json_object_new_string(metrics_event_list(t, list, sizeof(list)))
				 : NULL);
}

static void add_pmu(json_object *root)
{
	json_object *pmu = json_object_new_object(), *events = json_object_new_object();
	struct regs pm = host_cpuid(CPUID_LEAF_PERFMON, 0);
	struct event_list l;
	char reason[PERF_REASON_MAX];

	json_object_object_add(pmu, "cpu_pmu_registered",
			       json_object_new_boolean(access(CPU_PMU_DIR, F_OK) == 0));
	json_object_object_add(pmu, "arch_perfmon_version", json_object_new_int(pm.r[0] & 0xff));
	json_object_object_add(pmu, "gp_counters", json_object_new_int((pm.r[0] >> 8) & 0xff));
	json_object_object_add(pmu, "perf_event_paranoid",
			       read_int("/proc/sys/kernel/perf_event_paranoid"));
	if (event_list_parse(&l, NULL) == 0) {
		for (size_t i = 0; i < l.n; i++) {
			json_object *o;

			if (l.ev[i].kind != EVENT_HARDWARE)
				continue;
			l.ev[i].guest_fallback = false; /* report :G as it is */
			o = json_object_new_object();
			if (perf_probe(&l.ev[i], reason, sizeof(reason)) == 0) {
				json_object_object_add(o, "supported", json_object_new_boolean(1));
			} else {
				json_object_object_add(o, "supported", json_object_new_boolean(0));
				json_object_object_add(o, "reason", json_object_new_string(reason));
			}
			json_object_object_add(events, l.ev[i].name, o);
		}
		event_list_free(&l);
	}
	json_object_object_add(pmu, "events", events);
	add_metrics_table(pmu);
	json_object_object_add(root, "pmu", pmu);
}

static void add_memory(json_object *root)
{
	json_object *pools = json_object_new_array(), *thp = json_object_new_object();
	json_object *dirs = subdirs(HUGEPAGES_DIR);
	char path[512];

	for (size_t i = 0; dirs && i < json_object_array_length(dirs); i++) {
		const char *d = json_object_get_string(json_object_array_get_idx(dirs, i));
		unsigned long kb;
		json_object *o;

		if (sscanf(d, "hugepages-%lukB", &kb) != 1)
			continue;
		o = json_object_new_object();
		json_object_object_add(o, "size_kb", json_object_new_int64((int64_t)kb));
		snprintf(path, sizeof(path), "%s/%s/nr_hugepages", HUGEPAGES_DIR, d);
		json_object_object_add(o, "total", read_int(path));
		snprintf(path, sizeof(path), "%s/%s/free_hugepages", HUGEPAGES_DIR, d);
		json_object_object_add(o, "free", read_int(path));
		json_object_array_add(pools, o);
	}
	json_object_put(dirs);
	json_object_array_sort(pools, pool_cmp); /* smallest page size first */
	json_object_object_add(thp, "enabled", bracketed(THP_DIR "/enabled"));
	json_object_object_add(thp, "defrag", bracketed(THP_DIR "/defrag"));
	json_object_object_add(root, "hugetlb_pools", pools);
	json_object_object_add(root, "thp", thp);
}

static void add_tracefs(json_object *root)
{
	json_object *t = json_object_new_object(), *tps = json_object_new_object();
	char why[PERF_REASON_MAX], path[512];
	bool mounted = false;
	const char *dir = perf_tracefs_events(why, sizeof(why), &mounted);
	static const char *const systems[] = {"kvm", "kvmmmu"};

	json_object_object_add(root, "tracefs", t);
	json_object_object_add(t, "events_dir", dir ? json_object_new_string(dir) : NULL);
	if (!dir) {
		json_object_object_add(t, "error", json_object_new_string(why));
		json_object_put(tps);
		return;
	}
	json_object_object_add(t, "mounted_by_vmm", json_object_new_boolean(mounted));
	for (size_t i = 0; i < ARRAY_SIZE(systems); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, systems[i]);
		json_object_object_add(tps, systems[i], subdirs(path));
	}
	json_object_object_add(t, "tracepoints", tps);
}

static json_object *gather(void)
{
	json_object *root = json_object_new_object();

	add_cpu(root);
	add_kvm(root);
	add_pmu(root);
	add_memory(root);
	add_tracefs(root);
	/* The paging mode add_kvm detected, in the provenance as in a run's. */
	provenance_add(root, "vmm-info",
		       json_object_get_string(
			   json_object_object_get(json_object_object_get(root, "paging"), "mode")));
	return root;
}

/* ---- text ---- */

static json_object *at(json_object *o, const char *key)
{
	json_object *v = NULL;

	return o && json_object_object_get_ex(o, key, &v) ? v : NULL;
}

static const char *str(json_object *o, const char *key, const char *dflt)
{
	json_object *v = at(o, key);

	return v ? json_object_get_string(v) : dflt;
}

/* Words after a label, wrapped under it. */
static void print_words(FILE *f, const char *label, json_object *arr, const char *key)
{
	size_t col = (size_t)fprintf(f, "  %-12s", label);

	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		json_object *e = json_object_array_get_idx(arr, i);
		const char *w = key ? str(e, key, "?") : json_object_get_string(e);

		if (col + 1 + strlen(w) > TEXT_WIDTH && col > 14)
			col = (size_t)fprintf(f, "\n  %-12s", "");
		col += (size_t)fprintf(f, " %s", w);
	}
	fputc('\n', f);
}

static const char *yes_no(json_object *o, const char *key)
{
	json_object *v = at(o, key);

	if (!v)
		return "-";
	return json_object_get_boolean(v) ? "yes" : "no";
}

static void text_kvm(FILE *f, json_object *root)
{
	json_object *kvm = at(root, "kvm"), *p = at(root, "paging"), *stats = at(kvm, "stats");

	if (json_object_get_boolean(at(kvm, "available")))
		fprintf(f, "KVM:            %s, API version %d, binary statistics %s\n",
			str(kvm, "device", "?"), json_object_get_int(at(kvm, "api_version")),
			yes_no(kvm, "binary_stats"));
	else
		fprintf(f, "KVM:            not available: %s\n", str(kvm, "error", "?"));
	if (json_object_get_boolean(at(kvm, "available"))) {
		json_object *cc = at(kvm, "cpuid_cache");

		if (cc)
			fprintf(f, "CPUID cache:    %s (%s)\n", str(cc, "path", "?"),
				json_object_get_boolean(at(cc, "hit"))
				    ? "read: written earlier this boot"
				    : "asked KVM, written now");
		else
			fprintf(f,
				"CPUID cache:    off (VMM_CPUID_CACHE=0, or no home directory)\n");
	}
	fprintf(f, "Paging:         %s (%s)\n", str(p, "mode", "?"), str(p, "detail", ""));
	if (at(kvm, "vm_error"))
		fprintf(f, "KVM VM:         %s\n", str(kvm, "vm_error", "?"));
	if (at(kvm, "guest_tsc_khz"))
		fprintf(f, "Guest TSC:      %d kHz (KVM_GET_TSC_KHZ of a vCPU)\n",
			json_object_get_int(at(kvm, "guest_tsc_khz")));
	if (!stats)
		return;
	fprintf(f, "KVM statistics (kvm-stat:NAME, kvm-vcpu-stat:NAME):\n");
	for (const char *const *w = (const char *const[]){"vm", "vcpu", NULL}; *w; w++) {
		json_object *l = at(stats, *w);

		if (json_object_is_type(l, json_type_array))
			print_words(f, *w, l, "name");
		else if (l)
			fprintf(f, "  %-12s %s\n", *w, json_object_get_string(l));
	}
}

static void text_cpu(FILE *f, json_object *root)
{
	json_object *cpu = at(root, "cpu"), *tsc = at(cpu, "host_tsc");
	json_object *host = at(at(root, "cpuid"), "host"), *guest = at(at(root, "cpuid"), "guest");

	fprintf(f, "CPU:            %s (%s)\n", str(cpu, "model", "unknown model"),
		str(cpu, "vendor", "?"));
	if (at(tsc, "hz"))
		fprintf(f, "Host TSC:       %.3f MHz (%s)\n",
			(double)json_object_get_int64(at(tsc, "hz")) / 1e6, str(tsc, "source", ""));
	else
		fprintf(f, "Host TSC:       %s\n", str(tsc, "source", "unknown"));
	fprintf(f, "CPUID features: %-14s %-6s %s\n", "", "host",
		"guest (KVM_GET_SUPPORTED_CPUID)");
	for (size_t i = 0; i < info_cpuid_nfeatures; i++) {
		const char *n = info_cpuid_features[i].name;

		fprintf(f, "  %-28s %-6s %s\n", n, yes_no(host, n),
			json_object_is_type(guest, json_type_object) ? yes_no(guest, n) : "-");
	}
	if (guest && !json_object_is_type(guest, json_type_object))
		fprintf(f, "  guest: %s\n", json_object_get_string(guest));
}

static void text_pmu(FILE *f, json_object *root)
{
	json_object *pmu = at(root, "pmu");

	fprintf(f,
		"PMU:            %s; CPUID 0xa perfmon version %d, %d counters; "
		"perf_event_paranoid %s\n",
		json_object_get_boolean(at(pmu, "cpu_pmu_registered"))
		    ? "CPU PMU registered"
		    : "no CPU PMU registered (" CPU_PMU_DIR " missing)",
		json_object_get_int(at(pmu, "arch_perfmon_version")),
		json_object_get_int(at(pmu, "gp_counters")), str(pmu, "perf_event_paranoid", "?"));
	json_object_object_foreach(at(pmu, "events"), name, o)
	{
		if (json_object_get_boolean(at(o, "supported")))
			fprintf(f, "  %-28s supported\n", name);
		else
			fprintf(f, "  %-28s not supported: %s\n", name, str(o, "reason", "?"));
	}
	if (at(pmu, "metrics_generation"))
		fprintf(
		    f,
		    "  translation metrics: %s table (-e metrics:tlb; vmm info --check-counters)\n",
		    str(pmu, "metrics_generation", "?"));
	else
		fprintf(f, "  translation metrics: no table for this CPU\n");
}

static void text_memory(FILE *f, json_object *root)
{
	json_object *pools = at(root, "hugetlb_pools"), *thp = at(root, "thp");

	fprintf(f, "hugetlb pools: ");
	for (size_t i = 0; i < json_object_array_length(pools); i++) {
		json_object *p = json_object_array_get_idx(pools, i);

		fprintf(f, "%s %lld kB: %s free of %s", i ? ";" : "",
			(long long)json_object_get_int64(at(p, "size_kb")), str(p, "free", "?"),
			str(p, "total", "?"));
	}
	fprintf(f, "%s\n", json_object_array_length(pools) ? "" : " none");
	fprintf(f, "THP:            enabled %s, defrag %s\n", str(thp, "enabled", "unknown"),
		str(thp, "defrag", "unknown"));
}

static void text_tracefs(FILE *f, json_object *root)
{
	json_object *t = at(root, "tracefs");

	if (!at(t, "events_dir")) {
		fprintf(f, "tracefs:        not available: %s\n", str(t, "error", "?"));
		return;
	}
	fprintf(f, "tracefs:        %s%s\n", str(t, "events_dir", "?"),
		json_object_get_boolean(at(t, "mounted_by_vmm")) ? " (mounted by vmm)" : "");
	json_object_object_foreach(at(t, "tracepoints"), sys, list)
	{
		if (list)
			print_words(f, sys, list, NULL);
		else
			fprintf(f, "  %-12s none\n", sys);
	}
}

int info_print(FILE *f, bool json)
{
	json_object *root = gather();

	if (json) {
		fprintf(f, "%s\n",
			json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
								 JSON_C_TO_STRING_NOSLASHESCAPE));
	} else {
		text_cpu(f, root);
		text_kvm(f, root);
		text_pmu(f, root);
		text_memory(f, root);
		text_tracefs(f, root);
	}
	json_object_put(root);
	if (fflush(f) != 0 || ferror(f))
		return err_set("info: write: %s", strerror(errno));
	return 0;
}

/* The self-test and this CPU's metric table, as JSON or text; the exit
 * status says the verdict. */
static int check_counters(FILE *f, bool json)
{
	struct selftest_result r;
	struct cpu_model cpu;
	const struct metric_table *t = NULL;
	char list[1024] = "";
	json_object *o = json_object_new_object();

	selftest_run(&r);
	if (cpu_model_read(NULL, &cpu) == 0)
		t = metrics_table_for(&cpu);
	if (t)
		metrics_event_list(t, list, sizeof(list));
	json_object_object_add(o, "verdict",
			       json_object_new_string(selftest_verdict_name(r.verdict)));
	json_object_object_add(o, "why", json_object_new_string(r.why));
	json_object_object_add(o, "expected_instructions", json_object_new_uint64(r.expected));
	json_object_object_add(
	    o, "counted_instructions",
	    r.verdict == SELFTEST_NO_PMU ? NULL : json_object_new_uint64(r.instructions));
	json_object_object_add(o, "cycles", r.cycles_ok ? json_object_new_uint64(r.cycles) : NULL);
	json_object_object_add(o, "guest_mode_counting", json_object_new_boolean(r.guest_mode));
	json_object_object_add(o, "metrics_generation",
			       t ? json_object_new_string(t->generation) : NULL);
	json_object_object_add(o, "metrics_events", t ? json_object_new_string(list) : NULL);
	if (json) {
		struct kvm_paging_info paging;

		kvm_detect_paging(&paging);
		provenance_add(o, "vmm-counter-check", kvm_paging_mode_name(paging.mode));
		fprintf(f, "%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY));
	} else {
		fprintf(f, "counter self-test: %s: %s\n",
			r.verdict == SELFTEST_TRUSTED ? "counters can be trusted"
			: r.verdict == SELFTEST_UNTRUSTED
			    ? "counters CANNOT be trusted"
			    : "cannot check: this host has no usable PMU",
			r.why);
		fprintf(f, "guest-mode counting (:G, exclude_host): %s\n",
			r.guest_mode ? "opens" : "does not open here");
		if (t)
			fprintf(f,
				"translation metrics: %s table (%s family %u model 0x%x): -e "
				"metrics:tlb counts\n  %s\n",
				t->generation, cpu.vendor, cpu.family, cpu.model, list);
		else
			fprintf(f, "translation metrics: no table for this CPU\n");
	}
	json_object_put(o);
	return r.verdict == SELFTEST_TRUSTED	 ? INFO_EXIT_OK
	       : r.verdict == SELFTEST_UNTRUSTED ? INFO_EXIT_UNTRUSTED
						 : INFO_EXIT_NO_PMU;
}

int info_main(int argc, char **argv)
{
	bool json = false, check = false;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--check-counters")) {
			check = true;
		} else if (!strcmp(argv[i], "--json")) {
			json = true;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			fputs(usage, stdout);
			return INFO_EXIT_OK;
		} else {
			fprintf(stderr, "vmm info: unknown option '%s'\n%s", argv[i], usage);
			return INFO_EXIT_USAGE;
		}
	}
	if (check)
		return check_counters(stdout, json);
	if (info_print(stdout, json)) {
		fprintf(stderr, "vmm: %s\n", err_msg());
		return INFO_EXIT_USAGE;
	}
	return INFO_EXIT_OK;
}
