/* End to end, issue "counters per region of interest": the table, CSV and
 * JSON agree, a region that touches N fresh pages shows about N faults and
 * an idle region about none, unsupported events say why, and an outer
 * perf stat sees exactly the payload's regions through --perf-control. */
#include <json-c/json.h>

#include "e2e.h"

#define REGIONS TPAY_DIR "regions-glibc-static.elf"
#define NPAGES 2000

/* The value printed for `name` in the block of region n (perf stat's
 * header, then ", region N:"). */
static long long table_value(const char *err, int region, const char *name)
{
	char head[64];
	const char *p, *line;

	snprintf(head, sizeof(head), ", region %d:", region);
	p = strstr(err, head);
	ck_assert_msg(p != NULL, "no '%s' in:\n%s", head, err);
	for (line = p; (line = strchr(line, '\n')) != NULL; line++) {
		char num[64], nm[128];
		long long v = 0;
		size_t j = 0;

		if (strncmp(line + 1, " Performance counter stats", 26) == 0)
			break;
		if (sscanf(line + 1, " %63s %127s", num, nm) != 2 || strcmp(nm, name) != 0)
			continue;
		for (const char *c = num; *c; c++)
			if (*c >= '0' && *c <= '9') {
				v = v * 10 + (*c - '0');
				j++;
			}
		ck_assert_msg(j > 0, "%s: not a number: %s", name, num);
		return v;
	}
	ck_abort_msg("no %s in region %d", name, region);
	return -1;
}

static json_object *region_counter(json_object *root, int region, const char *name)
{
	json_object *regions = unit_json_path(root, "regions", NULL);

	ck_assert_int_gt((int)json_object_array_length(regions), region);
	return unit_json_path(json_object_array_get_idx(regions, (size_t)region), "counters", name,
			      NULL);
}

static json_object *run_json(struct run_result *r, const char *events)
{
	char json[sizeof(E2E_JSON_TEMPLATE)];

	e2e_json_path(json);
	e2e_run(r, NULL, VMM_BIN, "run", "--mem", "64M", "-e", events, "--json", json, REGIONS,
		NULL);
	ck_assert_msg(r->status == 0, "status %d\n%s", r->status, r->err);
	return e2e_json_take(json);
}

START_TEST(issue_command_two_regions)
{
	struct run_result r;
	json_object *root =
	    run_json(&r, "dTLB-load-misses,iTLB-load-misses,kvm:kvm_page_fault,page-faults");
	json_object *v, *regions;
	const char *hw[] = {"dTLB-load-misses", "iTLB-load-misses"};

	ck_assert(strstr(r.err, ", region 0:"));
	ck_assert(strstr(r.err, ", region 1:"));
	ck_assert(json_object_object_get_ex(root, "regions", &regions));
	ck_assert_int_eq((int)json_object_array_length(regions), 2);
	/* Hardware events: counted, or unsupported with a reason; never a bare 0. */
	for (int i = 0; i < 2; i++) {
		json_object *c = region_counter(root, 0, hw[i]), *sup, *reason;
		ck_assert(json_object_object_get_ex(c, "supported", &sup));
		if (!json_object_get_boolean(sup)) {
			ck_assert(json_object_object_get_ex(c, "reason", &reason));
			ck_assert_int_gt((int)strlen(json_object_get_string(reason)), 5);
			ck_assert_msg(strstr(r.err, "<not supported>"), "%s", r.err);
		}
	}
	/* The table and the JSON hold the same numbers. */
	for (int reg = 0; reg < 2; reg++) {
		ck_assert(json_object_object_get_ex(region_counter(root, reg, "page-faults"),
						    "value", &v));
		ck_assert_int_eq(table_value(r.err, reg, "page-faults"), json_object_get_int64(v));
	}
	json_object_put(root);
	e2e_free(&r);
}
END_TEST

START_TEST(faults_land_in_the_right_region)
{
	struct run_result r;
	json_object *root = run_json(&r, "kvm-vcpu-stat:pf_fixed,kvmmmu:kvm_mmu_set_spte");
	json_object *v;
	long long r0, r1;

	ck_assert(json_object_object_get_ex(region_counter(root, 0, "kvm-vcpu-stat:pf_fixed"),
					    "value", &v));
	r0 = json_object_get_int64(v);
	ck_assert(json_object_object_get_ex(region_counter(root, 1, "kvm-vcpu-stat:pf_fixed"),
					    "value", &v));
	r1 = json_object_get_int64(v);
	ck_assert_msg(r0 >= NPAGES * 9 / 10 && r0 <= NPAGES * 2,
		      "region 0: %lld faults for %d pages", r0, NPAGES);
	ck_assert_msg(r1 <= NPAGES / 20, "region 1: %lld faults, want about 0", r1);
	ck_assert_int_eq(table_value(r.err, 0, "kvm-vcpu-stat:pf_fixed"), r0);
	json_object_put(root);
	e2e_free(&r);
}
END_TEST

START_TEST(csv_like_perf_stat)
{
	struct run_result r;
	int lines = 0;

	e2e_run(&r, NULL, VMM_BIN, "run", "--mem", "64M", "-x", ";", "-e",
		"page-faults,kvm-vcpu-stat:pf_fixed", REGIONS, NULL);
	ck_assert_int_eq(r.status, 0);
	for (char *l = strtok(r.err, "\n"); l; l = strtok(NULL, "\n")) {
		int seps = 0;
		for (char *c = l; *c; c++)
			seps += *c == ';';
		/* the region column, then perf stat -x's 7 fields */
		ck_assert_msg(seps == 7, "CSV line with %d separators: %s", seps, l);
		lines++;
	}
	ck_assert_int_eq(lines, 6); /* 2 counters x (2 regions + total) */
	e2e_free(&r);
}
END_TEST

START_TEST(unknown_event_lists_names)
{
	struct run_result r;

	e2e_run(&r, NULL, VMM_BIN, "run", "-e", "no-such-event", TPAY_DIR "hello-musl-static.elf",
		NULL);
	ck_assert_int_eq(r.status, 125);
	ck_assert_msg(strstr(r.err, "no-such-event") && strstr(r.err, "dTLB-load-misses") &&
			  strstr(r.err, "kvm-stat:"),
		      "%s", r.err);
	e2e_free(&r);
}
END_TEST

START_TEST(outer_perf_stat_sees_only_the_regions)
{
	const char *ctl = "/tmp/vmm-e2e-perf-ctl", *ack = "/tmp/vmm-e2e-perf-ack";
	char spec[128], control[160];
	struct run_result r;
	int enabled = 0;

	if (access("/usr/bin/perf", X_OK) != 0) {
		printf("SKIP: perf stat recipe: /usr/bin/perf missing\n");
		return;
	}
	unlink(ctl);
	unlink(ack);
	ck_assert(mkfifo(ctl, 0600) == 0 && mkfifo(ack, 0600) == 0);
	snprintf(spec, sizeof(spec), "fifo:%s,%s", ctl, ack);
	snprintf(control, sizeof(control), "--control=%s", spec);
	e2e_run(&r, NULL, "/usr/bin/perf", "stat", "-D", "-1", control, "-e", "task-clock", "--",
		VMM_BIN, "run", "--mem", "64M", "--perf-control", spec, REGIONS, NULL);
	unlink(ctl);
	unlink(ack);
	ck_assert_msg(r.status == 0, "status %d\n%s", r.status, r.err);
	for (const char *p = r.err; (p = strstr(p, "Events enabled")) != NULL; p++)
		enabled++;
	ck_assert_msg(enabled == 2, "perf enabled %d times, want 2 (one per region):\n%s", enabled,
		      r.err);
	ck_assert(strstr(r.err, "task-clock"));
	e2e_free(&r);
}
END_TEST

START_TEST(info_text_and_json)
{
	struct run_result r;
	json_object *root;

	e2e_run(&r, NULL, VMM_BIN, "info", NULL);
	ck_assert_int_eq(r.status, 0);
	ck_assert_msg(strstr(r.out, "paging") && strstr(r.out, "hugetlb"), "%s", r.out);
	e2e_free(&r);
	e2e_run(&r, NULL, VMM_BIN, "info", "--json", NULL);
	ck_assert_int_eq(r.status, 0);
	root = json_tokener_parse(r.out);
	ck_assert_msg(root != NULL, "not JSON:\n%s", r.out);
	json_object_put(root);
	e2e_free(&r);
}
END_TEST

/* The CPUID cache as info reports it: in a fresh cache directory the
 * first open asks KVM and writes it, the second reads it; off, it says so. */
START_TEST(info_cpuid_cache)
{
	char dir[] = "/tmp/vmm-e2e-cache-XXXXXX", env[64];
	struct run_result r;
	json_object *root;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(env, sizeof(env), "XDG_CACHE_HOME=%s", dir);
	for (int i = 0; i < 2; i++) {
		e2e_run(&r, NULL, "/usr/bin/env", env, VMM_BIN, "info", "--json", NULL);
		ck_assert_int_eq(r.status, 0);
		root = json_tokener_parse(r.out);
		ck_assert_ptr_nonnull(root);
		ck_assert_int_eq(json_object_get_boolean(
				     unit_json_path(root, "kvm", "cpuid_cache", "hit", NULL)),
				 i == 1);
		json_object_put(root);
		e2e_free(&r);
	}
	e2e_run(&r, NULL, "/usr/bin/env", "VMM_CPUID_CACHE=0", VMM_BIN, "info", NULL);
	ck_assert_msg(strstr(r.out, "CPUID cache:    off"), "%s", r.out);
	e2e_free(&r);
	snprintf(env, sizeof(env), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(env), 0);
}
END_TEST

E2E_SUITE_MAIN("e2e_counters", 120, issue_command_two_regions, faults_land_in_the_right_region,
	       csv_like_perf_stat, unknown_event_lists_names, outer_perf_stat_sees_only_the_regions,
	       info_text_and_json, info_cpuid_cache)
