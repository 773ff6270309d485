/* info: options and exit statuses, the JSON's shape (what the report and
 * scripts read), the text's sections, and the CPUID feature table checked
 * against the kernel's own view in /proc/cpuinfo. */
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "cli/info.h"
#include "unit.h"
#include "util/err.h"
#include "util/types.h"

static char *capture(bool json)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	ck_assert_int_eq(info_print(f, json), 0);
	fclose(f);
	return buf;
}

START_TEST(options)
{
	char *bad[] = {"info", "--jsn", NULL};
	char *help[] = {"info", "--help", NULL};

	ck_assert_int_eq(info_main(2, bad), INFO_EXIT_USAGE);
	ck_assert_int_eq(INFO_EXIT_USAGE, 125);
	ck_assert_int_eq(info_main(2, help), INFO_EXIT_OK);
}
END_TEST

START_TEST(json_shape)
{
	char *text = capture(true);
	json_object *root = json_tokener_parse(text), *kvm, *pools, *o;

	ck_assert_msg(root != NULL, "not JSON:\n%s", text);
	ck_assert(
	    json_object_is_type(unit_json_path(root, "cpu", "vendor", NULL), json_type_string));
	for (size_t i = 0; i < info_cpuid_nfeatures; i++)
		ck_assert(json_object_is_type(
		    unit_json_path(root, "cpuid", "host", info_cpuid_features[i].name, NULL),
		    json_type_boolean));
	ck_assert(
	    json_object_is_type(unit_json_path(root, "paging", "mode", NULL), json_type_string));

	kvm = unit_json_path(root, "kvm", NULL);
	if (json_object_get_boolean(unit_json_path(kvm, "available", NULL))) {
		bool found = false;
		json_object *vm = unit_json_path(kvm, "stats", "vm", NULL);

		ck_assert_int_eq(json_object_get_int(unit_json_path(kvm, "api_version", NULL)), 12);
		for (size_t i = 0; i < json_object_array_length(vm); i++)
			found |= !strcmp(json_object_get_string(unit_json_path(
					     json_object_array_get_idx(vm, i), "name", NULL)),
					 "pages_4k");
		ck_assert(found);
	} else {
		ck_assert(strlen(json_object_get_string(unit_json_path(kvm, "error", NULL))) > 0);
	}

	/* Every default hardware event: supported, or not with a reason. */
	json_object_object_foreach(unit_json_path(root, "pmu", "events", NULL), name, ev)
	{
		if (!json_object_get_boolean(unit_json_path(ev, "supported", NULL)))
			ck_assert_msg(
			    strlen(json_object_get_string(unit_json_path(ev, "reason", NULL))) > 0,
			    "%s", name);
	}
	ck_assert_ptr_nonnull(unit_json_path(root, "pmu", "events", "dTLB-load-misses:G", NULL));

	pools = unit_json_path(root, "hugetlb_pools", NULL);
	for (size_t i = 0; i < json_object_array_length(pools); i++) {
		o = json_object_array_get_idx(pools, i);
		ck_assert_int_gt(json_object_get_int64(unit_json_path(o, "size_kb", NULL)), 0);
		if (i)
			ck_assert_int_gt(
			    json_object_get_int64(unit_json_path(o, "size_kb", NULL)),
			    json_object_get_int64(unit_json_path(
				json_object_array_get_idx(pools, i - 1), "size_kb", NULL)));
	}
	unit_json_path(root, "thp", "enabled", NULL);
	o = unit_json_path(root, "tracefs", NULL);
	if (json_object_get_string(unit_json_path(o, "events_dir", NULL)))
		unit_json_path(o, "tracepoints", "kvm", NULL);
	else
		ck_assert(strlen(json_object_get_string(unit_json_path(o, "error", NULL))) > 0);
	json_object_put(root);
	free(text);
}
END_TEST

START_TEST(text_sections)
{
	char *text = capture(false);
	static const char *const sections[] = {"CPU:", "CPUID features:", "KVM:", "Paging:",
					       "PMU:", "hugetlb pools:",  "THP:", "tracefs:"};

	for (size_t i = 0; i < ARRAY_SIZE(sections); i++)
		ck_assert_msg(strstr(text, sections[i]), "no %s in\n%s", sections[i], text);
	free(text);
}
END_TEST

/* The kernel may hide a feature the CPU has, never show one it lacks: each
 * flag /proc/cpuinfo shows must be set where the table says it is. */
START_TEST(cpuid_table_matches_cpuinfo)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[8192] = "";
	size_t checked = 0;

	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f) && strncmp(line, "flags", 5))
		;
	fclose(f);
	ck_assert_msg(!strncmp(line, "flags", 5), "no flags line in /proc/cpuinfo");
	line[strcspn(line, "\n")] = ' ';
	for (size_t i = 0; i < info_cpuid_nfeatures; i++) {
		char word[64];

		snprintf(word, sizeof(word), " %s ", info_cpuid_features[i].name);
		if (!strstr(line, word))
			continue;
		ck_assert_msg(info_host_has(info_cpuid_features[i].name) == 1, "%s",
			      info_cpuid_features[i].name);
		checked++;
	}
	ck_assert_uint_gt(checked, 0); /* nx at least: every x86-64 CPU has it */
	ck_assert_int_eq(info_host_has("no-such-feature"), -1);
}
END_TEST

UNIT_SUITE_MAIN("info", NULL, NULL, 0, options, json_shape, text_sections,
		cpuid_table_matches_cpuinfo)
