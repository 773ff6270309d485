/* event_names: the -e syntax (generic names, modifiers, the tracepoint vs
 * modifier ':' rule, KVM statistics, pfm: names), its error messages, and
 * the default set. */
#include <linux/perf_event.h>
#include <stdio.h>
#include <string.h>

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

	ck_assert_int_eq(event_list_parse(&l, NULL), 0);
	ck_assert_int_eq(event_list_parse(&l2, ""), 0);
	ck_assert_uint_eq(l.n, l2.n);
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
			       "events: cyclez: unknown event (generic names: cycles, "
			       "instructions, ",
			       strlen("events: cyclez: unknown event (generic names: cycles, "
				      "instructions, ")),
		      "%s", m);
	ck_assert_ptr_nonnull(strstr(m, "dTLB-load-misses, "));
	ck_assert_ptr_nonnull(strstr(m, "page-faults, "));
	ck_assert_ptr_null(strstr(m, "cpu-cycles")); /* aliases are not listed */
	ck_assert_ptr_nonnull(strstr(m, "prefixes: SYS:NAME tracepoint, kvm-stat:NAME, "
					"kvm-vcpu-stat:NAME, pfm:NAME"));
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

UNIT_SUITE_MAIN("event_names", NULL, NULL, 0, default_set, modifiers, tracepoints_and_stats, errors,
		unknown_lists_what_exists, limits, pfm_names, generic_names_fit)
