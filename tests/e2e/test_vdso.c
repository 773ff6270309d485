/* End to end, the guest's vDSO: static glibc and musl programs read the
 * clock a million times without one more exit than an empty run, their
 * values are monotonic and agree with the host's clocks (the syscall vmm
 * answers from them, and this harness's own reads around the run), and
 * what the vDSO does not serve still reaches the syscall. */
#include <stdint.h>
#include <time.h>

#include "e2e.h"

#define PAYLOAD(libc) TPAY_DIR "vdsoclock-" libc "-static.elf"

static const char *const libcs[] = {PAYLOAD("glibc"), PAYLOAD("musl")};

struct clock_run {
	struct run_result r;
	uint64_t exits, syscalls, refreshes;
	char source[16];
	int64_t host_real[2], host_mono[2]; /* this harness, before and after */
};

static int64_t host_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Runs vdsoclock MODE N under vmm with --vdso vdso. */
static void run_clock(struct clock_run *c, const char *payload, const char *vdso, const char *mode,
		      const char *n)
{
	char path[sizeof(E2E_JSON_TEMPLATE)];
	json_object *root;

	e2e_json_path(path);
	c->host_real[0] = host_ns(CLOCK_REALTIME);
	c->host_mono[0] = host_ns(CLOCK_MONOTONIC);
	e2e_run(&c->r, NULL, VMM_BIN, "run", "--no-counters", "--vdso", vdso, "--json", path,
		payload, mode, n, NULL);
	c->host_real[1] = host_ns(CLOCK_REALTIME);
	c->host_mono[1] = host_ns(CLOCK_MONOTONIC);
	ck_assert_msg(c->r.status == 0, "%s %s %s: status %d\n%s", payload, mode, n, c->r.status,
		      c->r.err);
	root = e2e_json_take(path);
	c->exits = json_object_get_uint64(unit_json_path(root, "run", "exits", NULL));
	c->syscalls = json_object_get_uint64(unit_json_path(root, "run", "syscalls", NULL));
	c->refreshes = json_object_get_uint64(unit_json_path(root, "clock", "refreshes", NULL));
	snprintf(c->source, sizeof(c->source), "%s",
		 json_object_get_string(unit_json_path(root, "clock", "source", NULL)));
	json_object_put(root);
}

/* The value of the payload's line "key VALUE". */
static const char *value_of(const struct run_result *r, const char *key)
{
	static char buf[128];
	size_t k = strlen(key);

	for (const char *p = r->out; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		if (strncmp(p, key, k) == 0 && p[k] == ' ') {
			size_t n = strcspn(p + k + 1, "\n");

			ck_assert(n < sizeof(buf));
			memcpy(buf, p + k + 1, n);
			buf[n] = '\0';
			return buf;
		}
	}
	ck_abort_msg("no '%s' line in:\n%s", key, r->out);
	return NULL;
}

static int64_t num_of(const struct run_result *r, const char *key)
{
	return strtoll(value_of(r, key), NULL, 10);
}

/* What every mode checks: each clock's syscall reading lies between the
 * libc readings around it (tolerance 0 ns: the window is one exit), the
 * fallbacks answer, values never went back, and the first and last
 * readings lie within this harness's own reads around the whole run. */
static void check_common(const struct clock_run *c, const char *vdso)
{
	static const char *const clocks[] = {"realtime", "monotonic",	    "monotonic_raw",
					     "boottime", "realtime_coarse", "monotonic_coarse"};
	const struct run_result *r = &c->r;
	char key[64];

	ck_assert_str_eq(value_of(r, "vdso"), strcmp(vdso, "off") ? "yes" : "no");
	for (size_t i = 0; i < sizeof(clocks) / sizeof(clocks[0]); i++) {
		snprintf(key, sizeof(key), "outside_ns %s", clocks[i]);
		ck_assert_msg(num_of(r, key) == 0, "%s: %s ns outside\n%s", clocks[i],
			      value_of(r, key), r->out);
	}
	ck_assert_str_eq(value_of(r, "bad_clock"), "-1 Invalid argument");
	ck_assert_str_eq(value_of(r, "cputime"), "ok");
	ck_assert_int_eq(num_of(r, "res_monotonic"), 1);
	ck_assert_str_eq(value_of(r, "time_agrees"), "yes");
	ck_assert_str_eq(value_of(r, "getcpu_syscall"), "0 0 0");
	ck_assert_str_eq(value_of(r, "sched_getcpu"), "0");
	ck_assert_int_eq(num_of(r, "backwards"), 0);
	ck_assert_int_le(c->host_real[0], num_of(r, "first_realtime_ns"));
	ck_assert_int_le(num_of(r, "first_realtime_ns"), num_of(r, "last_realtime_ns"));
	ck_assert_int_le(num_of(r, "last_realtime_ns"), c->host_real[1]);
	ck_assert_int_le(c->host_mono[0], num_of(r, "first_monotonic_ns"));
	ck_assert_int_le(num_of(r, "first_monotonic_ns"), num_of(r, "last_monotonic_ns"));
	ck_assert_int_le(num_of(r, "last_monotonic_ns"), c->host_mono[1]);
}

START_TEST(million_reads_make_no_exit)
{
	const char *libc = libcs[_i];
	struct clock_run none, million;

	run_clock(&none, libc, "tsc", "loop", "0");
	run_clock(&million, libc, "tsc", "loop", "1000000");
	check_common(&none, "tsc");
	check_common(&million, "tsc");
	if (strcmp(million.source, "tsc") != 0) {
		printf("SKIP: %s: no TSC clock on this host, every read exits:\n%s\n", libc,
		       million.r.err);
		return;
	}
	ck_assert_msg(million.exits == none.exits && million.syscalls == none.syscalls,
		      "%s: 1M reads: %llu exits (%llu syscalls), none: %llu (%llu)", libc,
		      (unsigned long long)million.exits, (unsigned long long)million.syscalls,
		      (unsigned long long)none.exits, (unsigned long long)none.syscalls);
	e2e_free(&none.r);
	e2e_free(&million.r);
}
END_TEST

/* A clock the vDSO does not serve is one syscall per read. */
START_TEST(cputime_clock_falls_back_to_the_syscall)
{
	const char *libc = libcs[_i];
	struct clock_run none, some;

	run_clock(&none, libc, "tsc", "cputime", "0");
	run_clock(&some, libc, "tsc", "cputime", "1000");
	check_common(&some, "tsc");
	ck_assert_uint_eq(some.syscalls - none.syscalls, 1000);
	e2e_free(&none.r);
	e2e_free(&some.r);
}
END_TEST

/* --vdso syscall (what a host without a usable TSC gets) and --vdso off:
 * the same answers, one exit per read. */
START_TEST(without_tsc_every_read_exits)
{
	const char *libc = libcs[_i];
	static const char *const modes[] = {"syscall", "off"};
	struct clock_run none, some;

	for (size_t m = 0; m < 2; m++) {
		run_clock(&none, libc, modes[m], "loop", "0");
		run_clock(&some, libc, modes[m], "loop", "1000");
		check_common(&some, modes[m]);
		ck_assert_str_eq(some.source, "syscall");
		ck_assert_uint_eq(some.syscalls - none.syscalls, 1000);
		ck_assert_uint_eq(some.refreshes, 0);
		e2e_free(&none.r);
		e2e_free(&some.r);
	}
}
END_TEST

/* 1.5 s of reads with an exit every 50 us: vmm re-anchors the clocks many
 * times (and fits the rate after 1 s); no reading goes back, and the
 * syscall still lies between the readings around it. */
START_TEST(refreshes_keep_time_monotonic)
{
	const char *libc = libcs[_i];
	struct clock_run c;

	run_clock(&c, libc, "tsc", "refresh", "1500");
	check_common(&c, "tsc");
	ck_assert_int_eq(num_of(&c.r, "outside_ns_after monotonic"), 0);
	if (strcmp(c.source, "tsc") == 0)
		ck_assert_uint_ge(c.refreshes, 100);
	e2e_free(&c.r);
}
END_TEST

/* Each test runs for glibc (_i 0) and musl (_i 1): loop tests, so this
 * file builds its own suite instead of E2E_SUITE_MAIN's. */
static Suite *vdso_suite(void)
{
	Suite *s = suite_create("vdso");
	TCase *tc = tcase_create("vdso");

	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, million_reads_make_no_exit, 0, 2);
	tcase_add_loop_test(tc, cputime_clock_falls_back_to_the_syscall, 0, 2);
	tcase_add_loop_test(tc, without_tsc_every_read_exits, 0, 2);
	tcase_add_loop_test(tc, refreshes_keep_time_monotonic, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	e2e_require_kvm("test_vdso");
	return unit_run(vdso_suite());
}
