/* event_names: the -e syntax (generic names, modifiers, the tracepoint vs
 * modifier ':' rule, KVM statistics, pfm: names), its error messages, and
 * the default set. */
#include <linux/perf_event.h>
#include <stdio.h>
#include <string.h>

#include <sys/stat.h>
#include <unistd.h>

#include "counters/close_match.h"
#include "counters/event_names.h"
#include "unit.h"
#include "util/err.h"

static const struct event_spec *find(const struct event_list *l, const char *name)
{
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->ev[i].name, name))
			return &l->ev[i];
	return NULL;
}

static void expect_error(const char *list, const char *msg)
{
	struct event_list l;

	ck_assert_int_eq(event_list_parse(&l, list), -1);
	ck_assert_str_eq(err_msg(), msg);
	ck_assert_ptr_null(l.ev);
	ck_assert_uint_eq(l.n, 0);
}

START_TEST(default_set)
{
	struct event_list l, l2;
	const struct event_spec *e;

	ck_assert_int_eq(event_list_parse(&l2, ""), -1);
	ck_assert_str_eq(err_msg(), "events: empty event list");
	ck_assert_int_eq(event_list_parse(&l, NULL), 0);
	ck_assert_int_eq(event_list_parse(&l2, event_default_list), 0);
	ck_assert_uint_eq(l.n, l2.n);
	e = find(&l, "vmm:page-faults");
	ck_assert(e && e->kind == EVENT_VMM && e->config == VMM_COUNT_PAGE_FAULTS);
	ck_assert_uint_ge(l.n, 10);

	e = find(&l, "dTLB-load-misses:G");
	ck_assert_ptr_nonnull(e);
	ck_assert_int_eq(e->kind, EVENT_HARDWARE);
	ck_assert_uint_eq(e->type, PERF_TYPE_HW_CACHE);
	ck_assert(e->exclude_host && !e->exclude_guest && e->guest_fallback);
	ck_assert_ptr_nonnull(find(&l, "iTLB-load-misses:G"));
	ck_assert_ptr_nonnull(find(&l, "cycles:G"));
	ck_assert_ptr_nonnull(find(&l, "instructions:G"));
	e = find(&l, "page-faults");
	ck_assert_int_eq(e->kind, EVENT_SOFTWARE);
	ck_assert(!e->guest_fallback);
	/* No tracepoint by default: opening one costs ~45 ms (see event_names.c). */
	for (size_t i = 0; i < l.n; i++)
		ck_assert_int_ne(l.ev[i].kind, EVENT_TRACEPOINT);
	for (const char *const *s = (const char *const[]){"pages_4k", "pages_2m", "pages_1g", NULL};
	     *s; s++) {
		char name[64];

		snprintf(name, sizeof(name), "kvm-stat:%s", *s);
		e = find(&l, name);
		ck_assert_ptr_nonnull(e);
		ck_assert_int_eq(e->kind, EVENT_KVM_VM_STAT);
		ck_assert_str_eq(e->event, *s);
	}
	e = find(&l, "kvm-vcpu-stat:exits");
	ck_assert_int_eq(e->kind, EVENT_KVM_VCPU_STAT);
	for (size_t i = 0; i < l.n; i++)
		ck_assert_str_eq(l.ev[i].unsupported, "");
	event_list_free(&l);
	event_list_free(&l2);
}
END_TEST

START_TEST(modifiers)
{
	struct event_list l;
	const struct event_spec *e;

	ck_assert_int_eq(event_list_parse(&l, " cycles:H , instructions:u,dTLB-loads:k, "
					      "branches:uk,page-faults:u,cpu-cycles"),
			 0);
	ck_assert_uint_eq(l.n, 6);
	e = find(&l, "cycles:H");
	ck_assert(e && e->exclude_guest && !e->exclude_host && !e->guest_fallback);
	ck_assert_uint_eq(e->type, PERF_TYPE_HARDWARE);
	ck_assert_uint_eq(e->config, PERF_COUNT_HW_CPU_CYCLES);
	e = find(&l, "instructions:u");
	ck_assert(e && e->exclude_kernel && !e->exclude_user);
	e = find(&l, "dTLB-loads:k");
	ck_assert(e && e->exclude_user && !e->exclude_kernel);
	ck_assert_uint_eq(e->config, PERF_COUNT_HW_CACHE_DTLB | (PERF_COUNT_HW_CACHE_OP_READ << 8) |
					 (PERF_COUNT_HW_CACHE_RESULT_ACCESS << 16));
	e = find(&l, "branches:uk");
	ck_assert(e && !e->exclude_user && !e->exclude_kernel);
	e = find(&l, "page-faults:u");
	ck_assert(e && e->kind == EVENT_SOFTWARE && e->exclude_kernel);
	e = find(&l, "cpu-cycles");
	ck_assert(e && e->config == PERF_COUNT_HW_CPU_CYCLES && !e->exclude_host);
	event_list_free(&l);
}
END_TEST

START_TEST(tracepoints_and_stats)
{
	struct event_list l;
	const struct event_spec *e;

	ck_assert_int_eq(event_list_parse(&l, "kvmmmu:kvm_mmu_set_spte,kvm-stat:mmu_shadow_zapped,"
					      "kvm-vcpu-stat:pf_taken,sched:sched_switch"),
			 0);
	e = find(&l, "kvmmmu:kvm_mmu_set_spte");
	ck_assert(e && e->kind == EVENT_TRACEPOINT);
	ck_assert_str_eq(e->sys, "kvmmmu");
	ck_assert_str_eq(e->event, "kvm_mmu_set_spte");
	e = find(&l, "kvm-stat:mmu_shadow_zapped");
	ck_assert(e && e->kind == EVENT_KVM_VM_STAT);
	ck_assert_str_eq(e->event, "mmu_shadow_zapped");
	e = find(&l, "kvm-vcpu-stat:pf_taken");
	ck_assert(e && e->kind == EVENT_KVM_VCPU_STAT);
	ck_assert_str_eq(find(&l, "sched:sched_switch")->sys, "sched");
	event_list_free(&l);
}
END_TEST

START_TEST(errors)
{
	expect_error("cycles:p", "events: cycles:p: unknown modifier 'p' (modifiers: G H u k)");
	expect_error("cycles:GH", "events: cycles:GH: modifiers G and H exclude each other");
	expect_error("page-faults:G",
		     "events: page-faults:G: modifier G applies to hardware events only");
	expect_error("kvm:kvm_exit:u", "events: kvm:kvm_exit:u: tracepoints take no modifiers");
	expect_error(
	    "kvm:../../etc",
	    "events: kvm:../../etc: a tracepoint is SYS:NAME, each letters, digits and '_'");
	expect_error("kvm-stat:pages_2m:G", "events: kvm-stat:pages_2m:G: a KVM statistic name is "
					    "letters, digits and '_' (and takes no modifiers)");
	expect_error("kvm-vcpu-stat:", "events: kvm-vcpu-stat:: a KVM statistic name is "
				       "letters, digits and '_' (and takes no modifiers)");
	expect_error("cycles,instructions,cycles", "events: cycles: listed twice");
	expect_error("cycles,,instructions", "events: empty name in \"cycles,,instructions\"");
	expect_error("cycles,", "events: empty name in \"cycles,\"");
	expect_error("cycles, ,instructions", "events: empty name in \"cycles, ,instructions\"");
	expect_error("pfm:", "events: pfm:: pfm: needs an event name");
}
END_TEST

START_TEST(unknown_lists_what_exists)
{
	struct event_list l;
	const char *m;

	ck_assert_int_eq(event_list_parse(&l, "cycles,cyclez"), -1);
	m = err_msg();
	ck_assert_msg(!strncmp(m,
			       "events: cyclez: unknown event (close matches: cycles; generic "
			       "names: cycles, instructions, ",
			       strlen("events: cyclez: unknown event (close matches: cycles; "
				      "generic names: cycles, instructions, ")),
		      "%s", m);
	ck_assert_ptr_nonnull(strstr(m, "dTLB-load-misses, "));
	ck_assert_ptr_nonnull(strstr(m, "page-faults, "));
	ck_assert_ptr_null(strstr(m, "cpu-cycles")); /* aliases are not listed */
	ck_assert_ptr_nonnull(strstr(m,
				     "prefixes: SYS:NAME tracepoint, kvm-stat:NAME, "
				     "kvm-vcpu-stat:NAME, vmm:NAME, pfm:NAME, PMU/TERMS/, rNNNN"));
	ck_assert_ptr_nonnull(strstr(m, "see `vmm info` and `perf list`)"));
	/* "kvm:G" is the event "kvm" with modifier G, not a tracepoint. */
	ck_assert_int_eq(event_list_parse(&l, "kvm:G"), -1);
	ck_assert_ptr_nonnull(strstr(err_msg(), "events: kvm:G: unknown event ("));
}
END_TEST

START_TEST(limits)
{
	char list[EVENT_LIST_MAX * 24], longname[EVENT_NAME_MAX + 8];
	struct event_list l;
	size_t used = 0;

	for (int i = 0; i <= EVENT_LIST_MAX; i++)
		used += (size_t)snprintf(list + used, sizeof(list) - used, "%skvm-stat:s%d",
					 i ? "," : "", i);
	ck_assert_uint_lt(used, sizeof(list));
	ck_assert_int_eq(event_list_parse(&l, list), -1);
	ck_assert_str_eq(err_msg(), "events: more than 64 events");

	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	ck_assert_int_eq(event_list_parse(&l, longname), -1);
	ck_assert_ptr_nonnull(strstr(err_msg(), "...: name longer than 127 characters"));
}
END_TEST

/* libpfm4's generic "perf" PMU is always there; raw CPU events are there
 * only where libpfm4 found the CPU's PMU: either way the spec says so. */
START_TEST(pfm_names)
{
	struct event_list l;
	const struct event_spec *e;

	ck_assert_int_eq(event_list_parse(&l, "pfm:perf::PERF_COUNT_HW_INSTRUCTIONS:G,"
					      "pfm:perf::PAGE-FAULTS:u,"
					      "pfm:DTLB_LOAD_MISSES.WALK_COMPLETED"),
			 0);
	e = find(&l, "pfm:perf::PERF_COUNT_HW_INSTRUCTIONS:G");
	ck_assert(e && e->kind == EVENT_HARDWARE && e->exclude_host);
	ck_assert_uint_eq(e->type, PERF_TYPE_HARDWARE);
	ck_assert_uint_eq(e->config, PERF_COUNT_HW_INSTRUCTIONS);
	ck_assert_str_eq(e->unsupported, "");
	e = find(&l, "pfm:perf::PAGE-FAULTS:u");
	ck_assert(e && e->kind == EVENT_SOFTWARE && e->exclude_kernel);
	ck_assert_uint_eq(e->config, PERF_COUNT_SW_PAGE_FAULTS);
	e = find(&l, "pfm:DTLB_LOAD_MISSES.WALK_COMPLETED");
	ck_assert(e && e->kind == EVENT_HARDWARE);
	if (e->unsupported[0])
		ck_assert_ptr_nonnull(strstr(e->unsupported, "libpfm4 "));
	else
		ck_assert(e->type != PERF_TYPE_HARDWARE || e->config != 0);
	event_list_free(&l);
}
END_TEST

START_TEST(generic_names_fit)
{
	char small[16], big[1024];

	event_generic_names(small, sizeof(small));
	ck_assert_uint_lt(strlen(small), sizeof(small));
	event_generic_names(big, sizeof(big));
	ck_assert_ptr_nonnull(strstr(big, "cycles, instructions"));
	ck_assert_ptr_nonnull(strstr(big, "iTLB-load-misses"));
	ck_assert_str_eq(event_kind_name(EVENT_KVM_VCPU_STAT), "kvm-vcpu-stat");
}
END_TEST

START_TEST(repeated_lists_and_groups)
{
	struct event_list l;
	const struct event_spec *e;

	/* What config makes of "-e task-clock -e page-faults". */
	ck_assert_int_eq(event_list_parse(&l, "task-clock,page-faults"), 0);
	ck_assert_uint_eq(l.n, 2);
	event_list_free(&l);

	ck_assert_int_eq(event_list_parse(&l, "{cycles,instructions}:u, page-faults ,"
					      "{ dTLB-loads , dTLB-load-misses:G },kvm:kvm_exit"),
			 0);
	ck_assert_uint_eq(l.n, 6);
	e = find(&l, "cycles:u");
	ck_assert(e && e->group == 1 && e->group_leader && e->exclude_kernel);
	e = find(&l, "instructions:u");
	ck_assert(e && e->group == 1 && !e->group_leader && e->exclude_kernel);
	e = find(&l, "page-faults");
	ck_assert(e && e->group == 0 && !e->group_leader);
	e = find(&l, "dTLB-loads");
	ck_assert(e && e->group == 2 && e->group_leader);
	e = find(&l, "dTLB-load-misses:G");
	ck_assert(e && e->group == 2 && !e->group_leader && e->exclude_host);
	ck_assert_int_eq(find(&l, "kvm:kvm_exit")->group, 0);
	event_list_free(&l);
	/* Group modifiers join a member's own. */
	ck_assert_int_eq(event_list_parse(&l, "{cycles:G,instructions}:u"), 0);
	e = find(&l, "cycles:Gu");
	ck_assert(e && e->exclude_host && e->exclude_kernel);
	event_list_free(&l);

	expect_error("{cycles,{instructions}}",
		     "events: '{' out of place (groups are {A,B,...}, not nested)");
	expect_error("{cycles,instructions", "events: a {...} group without its '}'");
	expect_error("{}", "events: empty name in a {...} group");
	expect_error("{cycles}:p", "events: {...}:p: unknown modifier (modifiers: G H u k)");
	expect_error("cycles}", "events: '}' out of place (groups are {A,B,...}, not nested)");
	expect_error("{cycles}x", "events: unexpected 'x' after an item in \"{cycles}x\"");
}
END_TEST

START_TEST(raw_events)
{
	struct event_list l;
	const struct event_spec *e;

	ck_assert_int_eq(event_list_parse(&l, "r01c2:u,rFF"), 0);
	e = find(&l, "r01c2:u");
	ck_assert(e && e->kind == EVENT_HARDWARE && e->type == PERF_TYPE_RAW);
	ck_assert_uint_eq(e->config, 0x1c2);
	ck_assert(e->exclude_kernel);
	ck_assert_uint_eq(find(&l, "rFF")->config, 0xff);
	event_list_free(&l);
	/* Not hex: not a raw event, and no event at all. */
	ck_assert_int_eq(event_list_parse(&l, "r01z"), -1);
	ck_assert_ptr_nonnull(strstr(err_msg(), "events: r01z: unknown event ("));
}
END_TEST

START_TEST(pmu_format_bits)
{
	uint64_t cfg[3] = {0, 0, 0};

	ck_assert_int_eq(pmu_format_apply("config:0-7", 0x3c, cfg), 0);
	ck_assert_int_eq(pmu_format_apply("config:8-15", 0x01, cfg), 0);
	ck_assert_int_eq(pmu_format_apply("config1:0-63", 0x1234, cfg), 0);
	ck_assert_int_eq(pmu_format_apply("config2:3\n", 1, cfg), 0);
	ck_assert_uint_eq(cfg[0], 0x013c);
	ck_assert_uint_eq(cfg[1], 0x1234);
	ck_assert_uint_eq(cfg[2], 0x8);
	/* AMD's event: 12 bits split over two ranges. */
	memset(cfg, 0, sizeof(cfg));
	ck_assert_int_eq(pmu_format_apply("config:0-7,32-35", 0xabc, cfg), 0);
	ck_assert_uint_eq(cfg[0], 0xbc | (0xaull << 32));
	ck_assert_int_eq(pmu_format_apply("config:0-7", 0x100, cfg), -1);
	ck_assert_str_eq(err_msg(), "format 'config:0-7': value 0x100 does not fit in 8 bits");
	ck_assert_int_eq(pmu_format_apply("cfg:1", 1, cfg), -1);
	ck_assert_str_eq(err_msg(), "format 'cfg:1': not configN:BITS");
	ck_assert_int_eq(pmu_format_apply("config:9-2", 1, cfg), -1);
	ck_assert_int_eq(pmu_format_apply("config:64", 1, cfg), -1);
}
END_TEST

static void write_file(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

/* A fake /sys/bus/event_source/devices with an x86 cpu PMU. */
static void fake_pmu_root(char *root, size_t len)
{
	char dir[512];

	snprintf(root, len, "/tmp/vmm-pmu-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(root));
	snprintf(dir, sizeof(dir), "%s/cpu", root);
	ck_assert_int_eq(mkdir(dir, 0755), 0);
	write_file(dir, "type", "4\n");
	snprintf(dir, sizeof(dir), "%s/cpu/format", root);
	ck_assert_int_eq(mkdir(dir, 0755), 0);
	write_file(dir, "event", "config:0-7\n");
	write_file(dir, "umask", "config:8-15\n");
	write_file(dir, "edge", "config:18\n");
	write_file(dir, "cmask", "config:24-31\n");
	write_file(dir, "ldlat", "config1:0-15\n");
}

/* Removes what fake_pmu_root made. */
static void remove_pmu_root(const char *root)
{
	static const char *const files[] = {"cpu/type",		"cpu/format/event",
					    "cpu/format/umask", "cpu/format/edge",
					    "cpu/format/cmask", "cpu/format/ldlat"};
	char path[512];

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", root, files[i]);
		unlink(path);
	}
	snprintf(path, sizeof(path), "%s/cpu/format", root);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/cpu", root);
	rmdir(path);
	rmdir(root);
}

START_TEST(pmu_terms)
{
	struct event_list l;
	const struct event_spec *e;
	char root[64], empty[64];

	fake_pmu_root(root, sizeof(root));
	event_names_set_pmu_root(root);
	ck_assert_int_eq(event_list_parse(&l, "cpu/event=0x08,umask=0x0e,cmask=1,edge,ldlat=3/u,"
					      "{cpu/event=0x3c/,cpu/event=0xc0/:G}"),
			 0);
	e = find(&l, "cpu/event=0x08,umask=0x0e,cmask=1,edge,ldlat=3/u");
	ck_assert(e && e->kind == EVENT_HARDWARE && e->type == 4);
	ck_assert_uint_eq(e->config, 0x01040e08);
	ck_assert_uint_eq(e->config1, 3);
	ck_assert(e->exclude_kernel && !e->exclude_user);
	ck_assert_str_eq(e->unsupported, "");
	e = find(&l, "cpu/event=0xc0/:G");
	ck_assert(e && e->group == 1 && e->config == 0xc0 && e->exclude_host);
	event_list_free(&l);
	ck_assert_int_eq(event_list_parse(&l, "{cpu/event=0x3c/k,cpu/event=0xc0/}:G"), 0);
	e = find(&l, "cpu/event=0x3c/kG");
	ck_assert(e && e->exclude_user && e->exclude_host);
	ck_assert_ptr_nonnull(find(&l, "cpu/event=0xc0/G"));
	event_list_free(&l);
	ck_assert_int_eq(event_list_parse(&l, "cpu/evnt=1/"), -1);
	ck_assert_ptr_nonnull(strstr(err_msg(), "events: cpu/evnt=1/: the PMU has no term 'evnt' "
						"(close matches: event; terms: "));
	ck_assert_ptr_nonnull(strstr(err_msg(), "umask"));
	expect_error("cpu/event=0x100/",
		     "events: cpu/event=0x100/: term event: format 'config:0-7': value 0x100 "
		     "does not fit in 8 bits");
	expect_error("cpu/event=x/", "events: cpu/event=x/: term event: 'x' is not a number");
	expect_error("cpu/event=1", "events: cpu/event=1: PMU/TERMS/ needs a closing '/'");
	expect_error("cpu/event=1/p", "events: cpu/event=1/p: unknown modifier 'p' (modifiers: "
				      "G H u k)");
	expect_error("cpx/event=1/",
		     "events: cpx/event=1/: no PMU 'cpx' on this host (close matches: cpu; PMUs: "
		     "cpu)");

	/* No cpu PMU at all (this VM): known terms are "not supported". */
	snprintf(empty, sizeof(empty), "/tmp/vmm-nopmu-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(empty));
	event_names_set_pmu_root(empty);
	ck_assert_int_eq(event_list_parse(&l, "cpu/event=0x08,umask=0x0e/"), 0);
	ck_assert_ptr_nonnull(strstr(l.ev[0].unsupported, "no cpu PMU on this host"));
	event_list_free(&l);
	expect_error("cpu/evnt=1/",
		     "events: cpu/evnt=1/: no term 'evnt' in x86 PMUs (close matches: event)");
	event_names_set_pmu_root(NULL);
	remove_pmu_root(root);
	ck_assert_int_eq(rmdir(empty), 0);
	ck_assert_int_eq(access(root, F_OK), -1); /* all of it went */
}
END_TEST

START_TEST(vmm_counts)
{
	struct event_list l;
	const struct event_spec *e;

	ck_assert_int_eq(event_list_parse(&l, "vmm:page-faults,vmm:exits,vmm:syscalls,"
					      "vmm:spurious-faults"),
			 0);
	e = find(&l, "vmm:page-faults");
	ck_assert(e && e->kind == EVENT_VMM && e->config == VMM_COUNT_PAGE_FAULTS);
	ck_assert_uint_eq(find(&l, "vmm:syscalls")->config, VMM_COUNT_SYSCALLS);
	ck_assert_str_eq(vmm_count_name(VMM_COUNT_SPURIOUS_FAULTS), "spurious-faults");
	event_list_free(&l);
	expect_error("vmm:pagefaults", "events: vmm:pagefaults: unknown vmm count (close matches: "
				       "vmm:page-faults; vmm counts: page-faults, spurious-faults, "
				       "exits, syscalls)");
	expect_error("vmm:page-faults:u",
		     "events: vmm:page-faults:u: vmm counts take no modifiers");
}
END_TEST

/* Names no libpfm4 table has are errors with the closest names; names
 * some CPU has are not (they are "not supported" where the PMU lacks them). */
START_TEST(pfm_unknown_names)
{
	struct event_list l;

	ck_assert_int_eq(event_list_parse(&l, "pfm:DTLB_LOAD_MISES"), -1);
	ck_assert_ptr_nonnull(strstr(err_msg(), "events: pfm:DTLB_LOAD_MISES: no libpfm4 event "
						"DTLB_LOAD_MISES in any of its tables (close "
						"matches: DTLB_LOAD_MISSES"));
	ck_assert_int_eq(event_list_parse(&l, "pfm:DTLB_LOAD_MISSES:WALK_COMPLETD"), -1);
	ck_assert_ptr_nonnull(strstr(err_msg(), "libpfm4 event DTLB_LOAD_MISSES has no attribute "
						"WALK_COMPLETD (close matches: WALK_COMPLETED"));
	ck_assert_int_eq(event_list_parse(&l, "pfm:skl::NO_SUCH_EVENT"), -1);
	ck_assert_ptr_nonnull(strstr(err_msg(), "no libpfm4 event skl::NO_SUCH_EVENT"));
	/* A Skylake event name: known, whatever this CPU is. */
	ck_assert_int_eq(event_list_parse(&l, "pfm:skl::DTLB_LOAD_MISSES:WALK_ACTIVE,"
					      "DTLB_LOAD_MISSES.WALK_COMPLETED"),
			 0);
	event_list_free(&l);
}
END_TEST

START_TEST(close_matches)
{
	struct close_match m;
	char buf[128];

	ck_assert_uint_eq(edit_distance("cycles", "cyclez", 10), 1);
	ck_assert_uint_eq(edit_distance("kitten", "sitting", 10), 3);
	ck_assert_uint_eq(edit_distance("", "abc", 10), 3);
	ck_assert_uint_eq(edit_distance("abc", "xyzxyzxyz", 4), 4); /* capped */
	ck_assert_uint_eq(edit_distance("PAGES_2M", "pages_2m", 10), 0);
	close_match_init(&m, "pages2m");
	close_match_add(&m, "pages_1g");
	close_match_add(&m, "exits");
	close_match_add(&m, "pages_2m");
	close_match_add(&m, "pages_4k");
	close_match_add(&m, "pages_2m"); /* once only */
	ck_assert_str_eq(close_match_str(&m, "kvm-stat:", buf, sizeof(buf)), "kvm-stat:pages_2m");
	close_match_init(&m, "exit");
	close_match_add(&m, "io_exits");
	close_match_add(&m, "exits");
	ck_assert_str_eq(close_match_str(&m, "", buf, sizeof(buf)), "exits, io_exits");
	close_match_init(&m, "zzzzzz");
	close_match_add(&m, "cycles");
	ck_assert_str_eq(close_match_str(&m, "", buf, sizeof(buf)), "");
}
END_TEST

UNIT_SUITE_MAIN("event_names", NULL, NULL, 0, default_set, modifiers, tracepoints_and_stats, errors,
		unknown_lists_what_exists, limits, pfm_names, generic_names_fit,
		repeated_lists_and_groups, raw_events, pmu_format_bits, pmu_terms, vmm_counts,
		pfm_unknown_names, close_matches)
