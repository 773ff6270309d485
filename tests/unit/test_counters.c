/* counters and perf_events: multiplexing scale and group reads against
 * fake read buffers, then the default set on this thread against a real VM
 * and vCPU: every counter is either counted or unsupported with a reason,
 * page faults land in the region that made them, and the JSON is well
 * formed, as are the table and -x lines vmm prints from it. */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <linux/kvm.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "counters/counters.h"
#include "counters/perf_events.h"
#include "report/perf_rows.h"
#include "report/perf_stat.h"
#include "unit.h"
#include "util/err.h"
#include "util/types.h"

#define TOUCH_PAGES 2048

/* The layout PERF_FORMAT_GROUP | TOTAL_TIME_ENABLED | TOTAL_TIME_RUNNING |
 * ID gives a read(), spelled out as the kernel documents it. */
struct fake_group_read {
	uint64_t nr, time_enabled, time_running;
	struct {
		uint64_t value, id;
	} cnt[3];
};

START_TEST(scale_pure)
{
	double pct;

	ck_assert_uint_eq(perf_scale(1000, 500, 500, &pct), 1000);
	ck_assert(pct == 100.0);
	ck_assert_uint_eq(perf_scale(1000, 400, 100, &pct), 4000);
	ck_assert(pct == 25.0);
	ck_assert_uint_eq(perf_scale(999, 3, 2, &pct), 1498); /* rounds down */
	ck_assert_uint_eq(perf_scale(77, 100, 0, &pct), 0);   /* never counted */
	ck_assert(pct == 0.0);
	ck_assert_uint_eq(perf_scale(0, 0, 0, &pct), 0); /* never enabled */
	ck_assert(pct == 100.0);
	/* value * enabled overflows 64 bits but the quotient does not. */
	ck_assert_uint_eq(perf_scale(1ull << 62, 1ull << 40, 1ull << 39, &pct), 1ull << 63);
	ck_assert_uint_eq(perf_scale(1ull << 63, 4, 1, &pct), UINT64_MAX);
}
END_TEST

START_TEST(group_read_parse)
{
	struct fake_group_read r = {
	    .nr = 3,
	    .time_enabled = 2000,
	    .time_running = 500,
	    .cnt = {{111, 7}, {222, 9}, {333, 8}},
	};
	uint64_t ids[3] = {9, 8, 7};
	struct perf_reading out[3];
	double pct;

	ck_assert_int_eq(perf_group_parse((const uint64_t *)&r, sizeof(r) / 8, ids, 3, out), 0);
	ck_assert_uint_eq(out[0].value, 222);
	ck_assert_uint_eq(out[1].value, 333);
	ck_assert_uint_eq(out[2].value, 111);
	ck_assert_uint_eq(out[2].enabled, 2000);
	ck_assert_uint_eq(out[2].running, 500);
	/* Multiplexed a quarter of the time: perf stat shows 4x and 25.00%. */
	ck_assert_uint_eq(perf_scale(out[0].value, out[0].enabled, out[0].running, &pct), 888);
	ck_assert(pct == 25.0);

	ids[1] = 5;
	ck_assert_int_eq(perf_group_parse((const uint64_t *)&r, sizeof(r) / 8, ids, 3, out), -1);
	ck_assert_str_eq(err_msg(), "perf: group read: id 5 not in the group");
	ck_assert_int_eq(perf_group_parse((const uint64_t *)&r, 7, ids, 3, out), -1);
	ck_assert_str_eq(err_msg(), "perf: group read: 7 words, need 9 for 3 events");
	r.nr = UINT64_MAX; /* a corrupt count must not overflow the bound */
	ck_assert_int_eq(perf_group_parse((const uint64_t *)&r, sizeof(r) / 8, ids, 3, out), -1);
	ck_assert_int_eq(perf_group_parse((const uint64_t *)&r, 2, ids, 0, out), -1);
	ck_assert_str_eq(err_msg(), "perf: group read: 2 words, need at least 3");
}
END_TEST

START_TEST(unknown_event_is_an_error)
{
	struct counters *c = (struct counters *)&c;

	ck_assert_int_eq(counters_open(&c, "page-faults,cyclez", -1, -1), -1);
	ck_assert_ptr_null(c);
	ck_assert_ptr_nonnull(strstr(
	    err_msg(), "events: cyclez: unknown event (close matches: cycles; generic names: "));
}
END_TEST

/* Touches n fresh pages: n page faults (no THP: one fault per 4 KiB). */
static void touch_pages(size_t n)
{
	size_t len = n * 4096;
	volatile char *p =
	    mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	ck_assert(p != MAP_FAILED);
	madvise((void *)p, len, MADV_NOHUGEPAGE);
	for (size_t i = 0; i < n; i++)
		p[i * 4096] = 1;
	munmap((void *)p, len);
}

/* The hardware grouping path with software events standing in for PMU
 * events (the kind decides the grouping, the type what the kernel counts):
 * six events make two groups of PERF_GROUP_MAX and 2, each enabled, read
 * and parsed by id. */
START_TEST(grouping_with_stand_ins)
{
	static const uint64_t configs[] = {
	    PERF_COUNT_SW_PAGE_FAULTS,	    PERF_COUNT_SW_TASK_CLOCK,
	    PERF_COUNT_SW_CONTEXT_SWITCHES, PERF_COUNT_SW_CPU_CLOCK,
	    PERF_COUNT_SW_PAGE_FAULTS_MIN,  PERF_COUNT_SW_CPU_MIGRATIONS,
	};
	struct event_spec specs[ARRAY_SIZE(configs)];
	struct perf_reading before[ARRAY_SIZE(configs)], after[ARRAY_SIZE(configs)];
	struct perf_set ps;

	memset(specs, 0, sizeof(specs));
	for (size_t i = 0; i < ARRAY_SIZE(configs); i++) {
		snprintf(specs[i].name, sizeof(specs[i].name), "stand-in-%zu", i);
		specs[i].kind = EVENT_HARDWARE;
		specs[i].type = PERF_TYPE_SOFTWARE;
		specs[i].config = configs[i];
	}
	ck_assert_int_eq(perf_set_open(&ps, specs, ARRAY_SIZE(configs)), 0);
	ck_assert_uint_eq(ps.ngroups, 2);
	ck_assert_uint_eq(ps.groups[0].n, PERF_GROUP_MAX);
	ck_assert_uint_eq(ps.groups[1].n, ARRAY_SIZE(configs) - PERF_GROUP_MAX);
	for (size_t i = 0; i < ARRAY_SIZE(configs); i++)
		ck_assert_msg(ps.slot[i].fd >= 0, "%s: %s", specs[i].name, ps.slot[i].reason);
	ck_assert_int_eq(perf_set_read(&ps, before), 0);
	ck_assert_uint_eq(before[0].value, 0); /* opened disabled */
	ck_assert_int_eq(perf_set_enable(&ps), 0);
	touch_pages(TOUCH_PAGES);
	ck_assert_int_eq(perf_set_disable(&ps), 0);
	ck_assert_int_eq(perf_set_read(&ps, after), 0);
	ck_assert_uint_ge(after[0].value, TOUCH_PAGES / 2); /* group 0 leader */
	ck_assert_uint_ge(after[4].value, TOUCH_PAGES / 2); /* group 1 leader */
	ck_assert_uint_gt(after[1].value, 0);		    /* task-clock, a member */
	ck_assert_uint_gt(after[0].enabled, 0);
	ck_assert_uint_eq(after[0].enabled, after[0].running); /* software: never multiplexed */
	perf_set_close(&ps);
}
END_TEST

/* Every counter either has a value or says why it has none. */
static void check_counter_json(const char *name, json_object *o)
{
	json_object *v;

	if (json_object_get_boolean(unit_json_path(o, "supported", NULL))) {
		v = unit_json_path(o, "value", NULL);
		if (json_object_object_get_ex(o, "counted", NULL))
			ck_assert(json_object_is_type(v, json_type_null));
		else
			ck_assert_msg(json_object_is_type(v, json_type_int), "%s: value", name);
	} else {
		ck_assert_msg(strlen(json_object_get_string(unit_json_path(o, "reason", NULL))) > 0,
			      "%s: no reason", name);
		ck_assert(!json_object_object_get_ex(o, "value", NULL));
	}
}

static int64_t region_value(json_object *root, size_t region, const char *name)
{
	json_object *r = json_object_array_get_idx(unit_json_path(root, "regions", NULL), region);

	return json_object_get_int64(unit_json_path(r, "counters", name, "value", NULL));
}

static int open_vm(int *kvm, int *vm, int *vcpu)
{
	*kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	*vm = *vcpu = -1;
	if (*kvm < 0) {
		printf("SKIP (KVM part) default_set_real_host: /dev/kvm: %s\n", strerror(errno));
		return -1;
	}
	*vm = ioctl(*kvm, KVM_CREATE_VM, 0);
	if (*vm >= 0)
		*vcpu = ioctl(*vm, KVM_CREATE_VCPU, 0);
	if (*vm < 0 || *vcpu < 0) {
		printf("SKIP (KVM part) default_set_real_host: KVM_CREATE_VM/VCPU: %s\n",
		       strerror(errno));
		return -1;
	}
	return 0;
}

/* What vmm prints for a report (cli/main.c print_counters): the table,
 * or the -x lines when sep is not NULL. The caller frees the text. */
static char *print_report(json_object *report, const char *sep)
{
	struct perf_block *blocks;
	size_t n = perf_blocks_from_report(report, &blocks), len = 0;
	struct perf_run_info info = {.command = "payload", .runs = 1, .wall_s = 0.5};
	char *buf = NULL;
	FILE *f = open_memstream(&buf, &len);

	ck_assert_ptr_nonnull(f);
	if (sep)
		perf_stat_print_csv(f, sep, &info, blocks, n);
	else
		perf_stat_print_table(f, &info, blocks, n);
	fclose(f);
	perf_blocks_free(blocks, n);
	return buf;
}

/* The lines one block of the report prints: a counter each, then a
 * metric line each. */
static size_t block_lines(json_object *block)
{
	json_object *m;
	size_t n = (size_t)json_object_object_length(unit_json_path(block, "counters", NULL));

	if (json_object_object_get_ex(block, "metrics", &m))
		n += json_object_array_length(m);
	return n;
}

static void check_table(json_object *root)
{
	char *buf = print_report(root, NULL), want[32];
	int64_t pf = region_value(root, 0, "page-faults");
	json_object *total = unit_json_path(root, "total", "counters", NULL);

	ck_assert_ptr_nonnull(strstr(buf, "Performance counter stats for 'payload', region 0:"));
	ck_assert_ptr_nonnull(strstr(buf, "Performance counter stats for 'payload', region 1:"));
	ck_assert_ptr_nonnull(
	    strstr(buf, "Performance counter stats for 'payload', all 2 regions:"));
	/* TOUCH_PAGES/2 >= 1000: the count has a thousands separator. */
	ck_assert_int_ge(pf, 1000);
	snprintf(want, sizeof(want), "%lld,%03lld", (long long)pf / 1000, (long long)pf % 1000);
	ck_assert_msg(strstr(buf, want), "no %s in\n%s", want, buf);
	json_object_object_foreach(total, name, o)
	{
		if (json_object_get_boolean(unit_json_path(o, "supported", NULL)))
			continue;
		ck_assert_msg(
		    strstr(buf, name) &&
			strstr(buf, json_object_get_string(unit_json_path(o, "reason", NULL))),
		    "%s", name);
	}
	free(buf);
}

/* perf's 7 fields (no -r: no variance) behind the region column. perf's
 * -x has no reason column: the reason is the table's only. */
static void check_csv(json_object *root)
{
	char *buf = print_report(root, ";");
	json_object *regions = unit_json_path(root, "regions", NULL);
	size_t lines = 0, want = block_lines(unit_json_path(root, "total", NULL));

	for (size_t r = 0; r < json_object_array_length(regions); r++)
		want += block_lines(json_object_array_get_idx(regions, r));
	for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n"), lines++) {
		size_t seps = 0;

		for (char *p = line; *p; p++)
			seps += *p == ';';
		ck_assert_msg(seps == 7, "%zu separators in %s", seps, line);
		ck_assert(!strncmp(line, "0;", 2) || !strncmp(line, "1;", 2) ||
			  !strncmp(line, "total;", 6));
	}
	ck_assert_uint_eq(lines, want);
	free(buf);
}

START_TEST(default_set_real_host)
{
	int kvm, vm, vcpu, have_vm = 0;
	struct counters *c;
	json_object *root = json_object_new_object(), *parsed, *total;
	uint64_t v;

	have_vm = open_vm(&kvm, &vm, &vcpu) == 0;
	ck_assert_int_eq(counters_open(&c, NULL, vm, vcpu), 0);
	ck_assert(!counters_in_region(c));
	ck_assert_int_eq(counters_region_end(c), 0); /* outside a region: nothing */
	ck_assert_uint_eq(counters_region_count(c), 0);
	ck_assert_int_eq(counters_total_value(c, "page-faults", &v), -1);
	ck_assert_str_eq(err_msg(), "counters: page-faults: no region ended yet");

	ck_assert_int_eq(counters_region_begin(c), 0);
	ck_assert_int_eq(counters_region_begin(c), 0); /* inside: nothing */
	ck_assert(counters_in_region(c));
	touch_pages(TOUCH_PAGES);
	ck_assert_int_eq(counters_region_end(c), 0);
	ck_assert_int_eq(counters_region_begin(c), 0);
	ck_assert_int_eq(counters_region_end(c), 0);
	ck_assert_uint_eq(counters_region_count(c), 2);

	counters_add_json(c, root);
	/* Round trip through text: the JSON the report writes is valid. */
	parsed = json_tokener_parse(json_object_to_json_string(root));
	ck_assert_ptr_nonnull(parsed);
	ck_assert_uint_eq(json_object_array_length(unit_json_path(parsed, "regions", NULL)), 2);
	total = unit_json_path(parsed, "total", NULL);
	ck_assert_int_eq(json_object_get_int(unit_json_path(total, "regions", NULL)), 2);
	ck_assert_int_eq(json_object_get_int(unit_json_path(total, "regions_folded", NULL)), 0);
	json_object_object_foreach(unit_json_path(total, "counters", NULL), name, o)
	{
		check_counter_json(name, o);
		for (size_t r = 0; r < 2; r++) {
			json_object *reg =
			    json_object_array_get_idx(unit_json_path(parsed, "regions", NULL), r);

			check_counter_json(name, unit_json_path(reg, "counters", name, NULL));
		}
	}
	ck_assert_int_ge(region_value(parsed, 0, "page-faults"), TOUCH_PAGES / 2);
	ck_assert_int_lt(region_value(parsed, 1, "page-faults"), TOUCH_PAGES / 2);
	ck_assert_int_eq(counters_total_value(c, "page-faults", &v), 0);
	ck_assert_uint_ge(v, TOUCH_PAGES / 2);
	ck_assert_int_eq(counters_total_value(c, "no-such", &v), -1);
	ck_assert_str_eq(err_msg(), "counters: no-such: no such counter");
	if (have_vm) {
		/* A VM that never ran has mapped nothing. */
		ck_assert_int_eq(counters_total_value(c, "kvm-stat:pages_4k", &v), 0);
		ck_assert_uint_eq(v, 0);
		ck_assert_int_eq(counters_total_value(c, "kvm-vcpu-stat:exits", &v), 0);
	} else {
		ck_assert_int_eq(counters_total_value(c, "kvm-stat:pages_4k", &v), -1);
		ck_assert_str_eq(err_msg(), "counters: kvm-stat:pages_4k: not supported: no vm fd "
					    "(not a VM run)");
	}
	/* As vmm's report says when the payload marked its regions. */
	json_object_object_add(parsed, "regions_marked", json_object_new_boolean(1));
	check_table(parsed);
	check_csv(parsed);
	json_object_put(parsed);
	json_object_put(root);
	counters_close(c);
	if (have_vm) {
		close(vcpu);
		close(vm);
	}
	if (kvm >= 0)
		close(kvm);
}
END_TEST

/* Names that exist but that this run cannot count are rows with a
 * reason; names that exist nowhere are errors before anything runs. */
START_TEST(missing_things_have_reasons)
{
	struct counters *c;
	json_object *root = json_object_new_object(), *ctrs;
	uint64_t v;

	ck_assert_int_eq(counters_open(&c, "kvm:no_such_tracepoint,task-clock", -1, -1), -1);
	if (!strstr(err_msg(), "tracefs"))
		ck_assert_ptr_nonnull(strstr(err_msg(),
					     "events: kvm:no_such_tracepoint: no tracepoint "
					     "no_such_tracepoint in kvm ("));
	ck_assert_int_eq(counters_open(&c,
				       "kvm-stat:pages_3m,kvm-vcpu-stat:exits,task-clock,"
				       "vmm:page-faults",
				       -1, -1),
			 0);
	ck_assert_int_eq(counters_region_begin(c), 0);
	ck_assert_int_eq(counters_region_end(c), 0);
	counters_add_json(c, root);
	ctrs = unit_json_path(root, "total", "counters", NULL);
	ck_assert_str_eq(
	    json_object_get_string(unit_json_path(ctrs, "kvm-vcpu-stat:exits", "reason", NULL)),
	    "no vcpu fd (not a VM run)");
	ck_assert_int_eq(counters_total_value(c, "kvm-stat:pages_3m", &v), -1);
	ck_assert_str_eq(err_msg(),
			 "counters: kvm-stat:pages_3m: not supported: no vm fd (not a VM run)");
	ck_assert_int_eq(counters_total_value(c, "vmm:page-faults", &v), -1);
	ck_assert_str_eq(err_msg(), "counters: vmm:page-faults: not supported: counted by vmm's "
				    "run loop only");
	ck_assert_str_eq(json_object_get_string(unit_json_path(ctrs, "task-clock", "unit", NULL)),
			 "ns");
	json_object_put(root);
	counters_close(c);
}
END_TEST

/* vmm:NAME counts are differences of the bound counter per region. */
START_TEST(vmm_counts_per_region)
{
	struct counters *c;
	uint64_t faults = 7, exits = 0, v;

	ck_assert_int_eq(counters_open(&c, "vmm:page-faults,vmm:exits", -1, -1), 0);
	counters_bind_vmm(c, VMM_COUNT_PAGE_FAULTS, &faults);
	counters_bind_vmm(c, VMM_COUNT_EXITS, &exits);
	ck_assert_int_eq(counters_region_begin(c), 0);
	faults += 5;
	exits += 3;
	ck_assert_int_eq(counters_region_end(c), 0);
	faults += 100; /* outside any region */
	ck_assert_int_eq(counters_region_begin(c), 0);
	faults += 2;
	ck_assert_int_eq(counters_region_end(c), 0);
	ck_assert_int_eq(counters_total_value(c, "vmm:page-faults", &v), 0);
	ck_assert_uint_eq(v, 7);
	ck_assert_int_eq(counters_total_value(c, "vmm:exits", &v), 0);
	ck_assert_uint_eq(v, 3);
	counters_close(c);
}
END_TEST

/* metrics:tlb: where its inputs cannot be counted (no PMU) the figures
 * are absent from the JSON, never 0; where they are counted they are there. */
START_TEST(metrics_absent_without_inputs)
{
	struct counters *c;
	json_object *root = json_object_new_object(), *total, *m;
	char *buf;

	if (counters_open(&c, "metrics:tlb", -1, -1)) {
		ck_assert_ptr_nonnull(
		    strstr(err_msg(), "no translation-metric table for this CPU"));
		printf("SKIP: metrics_absent_without_inputs: %s\n", err_msg());
		json_object_put(root);
		return;
	}
	ck_assert_int_eq(counters_region_begin(c), 0);
	for (volatile int i = 0; i < 1000000; i++)
		;
	ck_assert_int_eq(counters_region_end(c), 0);
	counters_add_json(c, root);
	total = unit_json_path(root, "total", NULL);
	ck_assert_ptr_nonnull(unit_json_path(total, "metrics_generation", NULL));
	{
		bool any = false;

		json_object_object_foreach(unit_json_path(total, "counters", NULL), name, o)
		{
			(void)name;
			any |= json_object_get_boolean(unit_json_path(o, "supported", NULL));
		}
		/* Nothing counted: no figures at all. (Counted: some may be.) */
		if (!any) {
			struct metric_row rows[METRIC_ROWS_MAX];

			ck_assert(!json_object_object_get_ex(total, "metrics", &m));
			ck_assert_uint_eq(counters_metrics(c, -1, rows), 0);
			ck_assert_uint_eq(counters_metrics(c, 0, rows), 0);
			ck_assert_uint_eq(counters_metrics(c, 7, rows), 0); /* no such region */
		}
	}
	buf = print_report(root, NULL);
	if (!json_object_object_get_ex(total, "metrics", &m))
		ck_assert_ptr_null(strstr(buf, "per 1000 instructions"));
	free(buf);
	json_object_put(root);
	counters_close(c);
}
END_TEST

/* The implicit whole-run region goes once the payload marks its own. */
START_TEST(discard_regions)
{
	struct counters *c;
	json_object *root = json_object_new_object();
	uint64_t v;

	ck_assert_int_eq(counters_open(&c, "page-faults,task-clock", -1, -1), 0);
	ck_assert_int_eq(counters_region_begin(c), 0);
	touch_pages(TOUCH_PAGES);
	ck_assert_int_eq(counters_region_end(c), 0);
	ck_assert_int_eq(counters_region_begin(c), 0);
	ck_assert_int_eq(counters_region_end(c), 0);
	counters_discard_regions(c);
	ck_assert_uint_eq(counters_region_count(c), 0);
	ck_assert_int_eq(counters_total_value(c, "page-faults", &v), -1);
	ck_assert_str_eq(err_msg(), "counters: page-faults: no region ended yet");

	ck_assert_int_eq(counters_region_begin(c), 0);
	ck_assert_int_eq(counters_region_end(c), 0);
	ck_assert_uint_eq(counters_region_count(c), 1);
	ck_assert_int_eq(counters_total_value(c, "page-faults", &v), 0);
	ck_assert_uint_lt(v, TOUCH_PAGES / 2); /* the touched pages were discarded */
	counters_add_json(c, root);
	ck_assert_uint_eq(json_object_array_length(unit_json_path(root, "regions", NULL)), 1);
	ck_assert_int_eq(json_object_get_int(unit_json_path(root, "total", "regions", NULL)), 1);
	json_object_put(root);
	counters_close(c);
}
END_TEST

START_TEST(missing_kvm_stat_on_real_vm)
{
	int kvm, vm, vcpu;
	struct counters *c;
	uint64_t v;

	if (open_vm(&kvm, &vm, &vcpu)) {
		if (kvm >= 0)
			close(kvm);
		return;
	}
	ck_assert_int_eq(counters_open(&c, "kvm-stat:pages2m,kvm-vcpu-stat:pf_taken", vm, vcpu),
			 -1);
	ck_assert_str_eq(err_msg(), "events: kvm-stat:pages2m: no KVM VM statistic pages2m on this "
				    "kernel (close matches: kvm-stat:pages_2m; `vmm info` lists "
				    "them)");
	if (counters_open(&c, "kvm-vcpu-stat:halt_wait_hist,kvm-vcpu-stat:pf_taken", vm, vcpu)) {
		/* This kernel has no halt_wait_hist: an unknown name then. */
		ck_assert_ptr_nonnull(strstr(err_msg(), "no KVM vCPU statistic halt_wait_hist"));
		ck_assert_int_eq(counters_open(&c, "kvm-vcpu-stat:pf_taken", vm, vcpu), 0);
	}
	ck_assert_int_eq(counters_region_begin(c), 0);
	ck_assert_int_eq(counters_region_end(c), 0);
	/* A histogram is not a count (where this kernel has it at all). */
	ck_assert_int_eq(counters_total_value(c, "kvm-vcpu-stat:halt_wait_hist", &v), -1);
	if (!strstr(err_msg(), "no such counter"))
		ck_assert_str_eq(err_msg(), "counters: kvm-vcpu-stat:halt_wait_hist: not "
					    "supported: log-hist statistic: not a single count");
	ck_assert_int_eq(counters_total_value(c, "kvm-vcpu-stat:pf_taken", &v), 0);
	counters_close(c);
	close(vcpu);
	close(vm);
	close(kvm);
}
END_TEST

UNIT_SUITE_MAIN("counters", NULL, NULL, 0, scale_pure, vmm_counts_per_region,
		metrics_absent_without_inputs, group_read_parse, grouping_with_stand_ins,
		unknown_event_is_an_error, default_set_real_host, missing_things_have_reasons,
		missing_kvm_stat_on_real_vm, discard_regions)
