/* End to end, issue "both translation dimensions": unmodified glibc- and
 * musl-static programs give the same output in the guest as natively, and
 * the JSON report proves which page sizes each dimension really got. */
#include <json-c/json.h>

#include "e2e.h"

#define HUGE_NR "/proc/sys/vm/nr_hugepages"

/* Output and status of the native run and of the guest run must match. */
static void check_same_as_native(const char *payload, const char *input, const char *arg)
{
	struct run_result n, g;

	e2e_run(&n, input, payload, arg, NULL);
	e2e_run(&g, input, VMM_BIN, "run", "--mem", "256M", payload, arg, NULL);
	ck_assert_msg(g.status == n.status, "%s: guest status %d, native %d\n%s", payload, g.status,
		      n.status, g.err);
	ck_assert_msg(strcmp(g.out, n.out) == 0,
		      "%s: guest output differs:\n--- native\n%s--- guest\n%s", payload, n.out,
		      g.out);
	e2e_free(&n);
	e2e_free(&g);
}

START_TEST(memtest_like_native)
{
	check_same_as_native(TPAY_DIR "memtest-glibc-static.elf", NULL, NULL);
	check_same_as_native(TPAY_DIR "memtest-musl-static.elf", NULL, NULL);
	check_same_as_native(TPAY_DIR "memtest-glibc-static-pie.elf", NULL, NULL); /* ET_DYN */
}
END_TEST

START_TEST(mprotect_beyond_one_batch_like_native)
{
	check_same_as_native(TPAY_DIR "bigprot-glibc-static.elf", NULL, NULL);
}
END_TEST

START_TEST(args_env_stdin_like_native)
{
	setenv("VMM_TEST_VAR", "value with spaces", 1);
	check_same_as_native(TPAY_DIR "echo-glibc-static.elf", "line one\nline two\n",
			     "--an-option");
	check_same_as_native(TPAY_DIR "echo-musl-static.elf", "", "x");
}
END_TEST

START_TEST(bad_syscall_arguments_like_native)
{
	check_same_as_native(TPAY_DIR "badsys-glibc-static.elf", NULL, NULL);
	check_same_as_native(TPAY_DIR "badsys-musl-static.elf", NULL, NULL);
}
END_TEST

/* Runs touch256 with 64 MiB and returns the parsed report. */
static json_object *run_touch(const char *backing, const char *pages, int *status)
{
	char json[sizeof(E2E_JSON_TEMPLATE)];
	struct run_result r;
	json_object *root;

	e2e_json_path(json);
	e2e_run(&r, NULL, VMM_BIN, "run", "--mem", "128M", "--backing", backing, "--guest-pages",
		pages, "--json", json, TPAY_DIR "touch256-glibc-static.elf", "64", NULL);
	*status = r.status;
	ck_assert_msg(r.status == 0, "%s/%s: status %d\n%s", backing, pages, r.status, r.err);
	ck_assert_msg(strstr(r.out, "touched 64 MiB"), "%s", r.out);
	root = e2e_json_take(json);
	e2e_free(&r);
	return root;
}

START_TEST(anon_4k_maps_no_2m_pages)
{
	int st;
	json_object *root = run_touch("anon", "4k", &st);

	ck_assert_int_eq(json_object_get_int64(unit_json_path(root, "kvm_pages", "pages_2m", NULL)),
			 0);
	ck_assert_int_gt(json_object_get_int64(unit_json_path(root, "kvm_pages", "pages_4k", NULL)),
			 16384);
	ck_assert_int_eq(json_object_get_int64(
			     unit_json_path(root, "guest_tables", "payload_leaves", "2m", NULL)),
			 0);
	ck_assert_str_eq(json_object_get_string(unit_json_path(root, "config", "backing", NULL)),
			 "anon");
	json_object_put(root);
}
END_TEST

START_TEST(hugetlb_2m_guest_2m_maps_2m_pages)
{
	uint64_t old, now;
	bool have_old = unit_read_u64(HUGE_NR, &old);
	json_object *root;
	int st;

	if (!have_old || !unit_write_u64(HUGE_NR, old + 64) || !unit_read_u64(HUGE_NR, &now) ||
	    now < old + 64) {
		printf("SKIP: hugetlb_2m: cannot reserve 64 huge pages in %s\n", HUGE_NR);
		if (have_old)
			unit_write_u64(HUGE_NR, old);
		return;
	}
	root = run_touch("hugetlb-2m", "2m", &st);
	unit_write_u64(HUGE_NR, old);
	ck_assert_int_gt(json_object_get_int64(unit_json_path(root, "kvm_pages", "pages_2m", NULL)),
			 0);
	ck_assert_int_gt(json_object_get_int64(
			     unit_json_path(root, "guest_tables", "payload_leaves", "2m", NULL)),
			 16);
	json_object_put(root);
}
END_TEST

START_TEST(guest_pages_1g_without_pdpe1gb_is_an_error)
{
	struct run_result r;

	e2e_run(&r, NULL, VMM_BIN, "run", "--guest-pages", "1g", TPAY_DIR "hello-musl-static.elf",
		NULL);
	/* Either the host offers 1 GiB pages and it runs, or it says why not. */
	if (r.status != 0) {
		ck_assert_int_eq(r.status, 125);
		ck_assert_msg(strstr(r.err, "1 GiB"), "%s", r.err);
	} else {
		ck_assert_str_eq(r.out, "hello, world\n");
	}
	e2e_free(&r);
}
END_TEST

/* --guest-pages madvise: 2 MiB pages exactly where the payload asked. */
static int64_t madvise_leaves_2m(const char *pages)
{
	char json[sizeof(E2E_JSON_TEMPLATE)];
	struct run_result r;
	json_object *root;
	int64_t n;

	e2e_json_path(json);
	e2e_run(&r, NULL, VMM_BIN, "run", "--mem", "256M", "--guest-pages", "madvise", "--json",
		json, PAYLOAD_DIR "chase.elf", "--pages", pages, "--min", "8M", "--max", "8M",
		"--ops", "1000", NULL);
	ck_assert_msg(r.status == 0, "status %d\n%s", r.status, r.err);
	root = e2e_json_take(json);
	n = json_object_get_int64(
	    unit_json_path(root, "guest_tables", "payload_leaves", "2m", NULL));
	json_object_put(root);
	e2e_free(&r);
	return n;
}

START_TEST(madvise_policy_follows_the_payload)
{
	ck_assert_int_ge(madvise_leaves_2m("2m"), 4); /* 8 MiB asked with MADV_HUGEPAGE */
	ck_assert_int_eq(madvise_leaves_2m("4k"), 0);
}
END_TEST

/* Nothing falls back silently: an empty 1 GiB pool is an error that says
 * which file to write. */
START_TEST(hugetlb_pool_too_small_is_125)
{
	const char *pool = "/sys/kernel/mm/hugepages/hugepages-1048576kB/free_hugepages";
	struct run_result r;
	uint64_t free_pages;

	if (!unit_read_u64(pool, &free_pages) || free_pages >= 2) {
		printf("SKIP: hugetlb_pool_too_small: %s missing or holds 2+ pages\n", pool);
		return;
	}
	e2e_run(&r, NULL, VMM_BIN, "run", "--backing", "hugetlb-1g", "--mem", "2G",
		TPAY_DIR "hello-musl-static.elf", NULL);
	ck_assert_int_eq(r.status, 125);
	ck_assert_msg(strstr(r.err, "hugetlb 1G pool has") &&
			  strstr(r.err, "hugepages-1048576kB/nr_hugepages"),
		      "%s", r.err);
	ck_assert_int_eq((int)r.out_len, 0);
	e2e_free(&r);
}
END_TEST

/* A real static program that no one here wrote: Debian's busybox-static,
 * its output compared with the native run on the same input. */
START_TEST(busybox_like_native)
{
	static const char *const cmds[][4] = {
	    {"md5sum", NULL},
	    {"sort", NULL},
	    {"gzip", "-c", NULL},
	    {"awk", "BEGIN { for (i = 0; i < 200000; i++) s += i * i; print s }", NULL},
	    {"sh", "-c", "x=6; echo $((x * 7)); [ -n \"$x\" ] && echo yes",
	     NULL}, /* builtins: no fork */
	};
	char input[64 * 1024];
	unsigned x = 1;

	if (access("/bin/busybox", X_OK) != 0) {
		printf("SKIP: busybox: /bin/busybox missing (apt-get install busybox-static)\n");
		return;
	}
	for (size_t i = 0; i + 1 < sizeof(input); i++) {
		x = x * 1103515245 + 12345;
		input[i] = (i % 61 == 60) ? '\n' : (char)('a' + (x >> 16) % 26);
	}
	input[sizeof(input) - 1] = '\0';
	for (size_t c = 0; c < sizeof(cmds) / sizeof(cmds[0]); c++) {
		char *nat[8] = {"/bin/busybox"}, *gst[8] = {VMM_BIN, "run", "/bin/busybox"};
		struct run_result n, g;
		int k;

		for (k = 0; cmds[c][k]; k++)
			nat[1 + k] = gst[3 + k] = (char *)cmds[c][k];
		e2e_runv(&n, input, nat);
		e2e_runv(&g, input, gst);
		ck_assert_msg(n.status == 0 && g.status == 0, "busybox %s: native %d guest %d\n%s",
			      cmds[c][0], n.status, g.status, g.err);
		ck_assert_msg(n.out_len == g.out_len && memcmp(n.out, g.out, n.out_len) == 0,
			      "busybox %s: output differs from native", cmds[c][0]);
		e2e_free(&n);
		e2e_free(&g);
	}
}
END_TEST

/* --tlb-flush full|page: the same program, the same output, and the report
 * shows only the kind of invalidation that was asked for. */
START_TEST(tlb_flush_policies)
{
	const char *policy[] = {"full", "page"};
	struct run_result n, g;

	e2e_run(&n, NULL, TPAY_DIR "bigprot-musl-static.elf", NULL);
	for (int i = 0; i < 2; i++) {
		char json[sizeof(E2E_JSON_TEMPLATE)];
		json_object *root, *tlb;

		e2e_json_path(json);
		e2e_run(&g, NULL, VMM_BIN, "run", "--mem", "256M", "--tlb-flush", policy[i],
			"--json", json, TPAY_DIR "bigprot-musl-static.elf", NULL);
		ck_assert_msg(g.status == 0, "%s: status %d\n%s", policy[i], g.status, g.err);
		ck_assert_str_eq(g.out, n.out);
		root = e2e_json_take(json);
		tlb = unit_json_path(root, "run", "tlb_invalidations", NULL);
		if (i == 0) {
			ck_assert_int_gt(
			    json_object_get_int64(unit_json_path(tlb, "full_flushes", NULL)), 0);
			ck_assert_int_eq(
			    json_object_get_int64(unit_json_path(tlb, "single_page", NULL)), 0);
		} else {
			ck_assert_int_eq(
			    json_object_get_int64(unit_json_path(tlb, "full_flushes", NULL)), 0);
			ck_assert_int_ge(
			    json_object_get_int64(unit_json_path(tlb, "single_page", NULL)), 16384);
		}
		ck_assert_str_eq(
		    json_object_get_string(unit_json_path(root, "config", "tlb_flush", NULL)),
		    policy[i]);
		json_object_put(root);
		e2e_free(&g);
	}
	e2e_free(&n);
}
END_TEST

/* A write right after mprotect RO -> RW: vmm flushes nothing on an upgrade
 * (as Linux), so a stale TLB entry may take a spurious #PF, which vmm must
 * resume. Shadow paging (PVM here) absorbs them in KVM: the count is 0;
 * with NPT/EPT it is at most one per upgrade (the nested lane runs that). */
START_TEST(permission_upgrade_then_write)
{
	char json[sizeof(E2E_JSON_TEMPLATE)];
	struct run_result r;
	json_object *root;
	const char *mode;
	int64_t spurious;

	e2e_json_path(json);
	e2e_run(&r, NULL, VMM_BIN, "run", "--mem", "64M", "--json", json,
		TPAY_DIR "protupgrade-musl-static.elf", "200", NULL);
	ck_assert_msg(r.status == 0, "status %d\n%s", r.status, r.err);
	ck_assert_str_eq(r.out, "protupgrade: 200 upgrades, all writes seen\n");
	root = e2e_json_take(json);
	mode = json_object_get_string(unit_json_path(root, "kvm_paging", "mode", NULL));
	spurious = json_object_get_int64(unit_json_path(root, "run", "spurious_page_faults", NULL));
	if (strstr(mode, "shadow"))
		ck_assert_msg(spurious == 0, "%s: %lld spurious #PF", mode, (long long)spurious);
	else
		ck_assert_int_le(spurious, 200);
	json_object_put(root);
	e2e_free(&r);
}
END_TEST

E2E_SUITE_MAIN("e2e_memory", 300, memtest_like_native, args_env_stdin_like_native,
	       mprotect_beyond_one_batch_like_native, tlb_flush_policies,
	       bad_syscall_arguments_like_native, anon_4k_maps_no_2m_pages,
	       hugetlb_2m_guest_2m_maps_2m_pages, guest_pages_1g_without_pdpe1gb_is_an_error,
	       madvise_policy_follows_the_payload, hugetlb_pool_too_small_is_125,
	       busybox_like_native, permission_upgrade_then_write)
