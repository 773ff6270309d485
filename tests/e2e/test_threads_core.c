/* Threads end to end, glibc and musl (tests/payloads/thr_basic.c): create
 * and join with a mutex counter and TLS, a condition variable's futex
 * wake, vCPU reuse over 200 threads, exit and abort and a fault in a
 * worker with Linux's statuses, --max-threads, and the shootdowns an
 * mprotect under a reading thread sends, counted in the JSON report, and
 * kvm-vcpu-stat counters summed over every vCPU. */
#include <string.h>

#include "e2e.h"

static const char *const libcs[] = {"glibc", "musl"};

static void thr_path(char *buf, size_t len, const char *libc)
{
	snprintf(buf, len, TPAY_DIR "thr_basic-%s-static.elf", libc);
}

static void run_mode(struct run_result *r, const char *libc, const char *mode, const char *extra)
{
	char path[256];

	thr_path(path, sizeof(path), libc);
	if (extra)
		e2e_run(r, NULL, VMM_BIN, "run", "--timeout", "30", extra, path, mode, NULL);
	else
		e2e_run(r, NULL, VMM_BIN, "run", "--timeout", "30", path, mode, NULL);
}

/* run_mode ends with status 0 and prints exactly `want`. */
static void expect_output(const char *libc, const char *mode, const char *extra, const char *want)
{
	struct run_result r;

	run_mode(&r, libc, mode, extra);
	ck_assert_msg(r.status == 0, "%s: status %d\n%s", libc, r.status, r.err);
	ck_assert_str_eq(r.out, want);
	e2e_free(&r);
}

START_TEST(join_mutex_tls)
{
	for (size_t i = 0; i < ARRAY_SIZE(libcs); i++)
		expect_output(libcs[i], "join", NULL,
			      "counter 80000 tls ok tids distinct getcpu agrees\n");
}
END_TEST

START_TEST(condvar_wake_churn_and_pipes)
{
	for (size_t i = 0; i < ARRAY_SIZE(libcs); i++) {
		expect_output(libcs[i], "wake", NULL, "woken 42\n");
		/* 200 threads, 4 at a time, on a limit of 5 vCPUs: reused. */
		expect_output(libcs[i], "churn", "--max-threads=5", "churn sum 19900\n");
		/* A thread blocked on a pipe leaves the others free to fill it. */
		expect_output(libcs[i], "pipe", NULL,
			      "blocked read got 2 (wrote 2)\nblocked poll ready 1\n"
			      "blocked write wrote 262144, drained 262144\n"
			      "poll sleep 0, meanwhile 1\n");
	}
}
END_TEST

START_TEST(limit_gives_eagain)
{
	struct run_result r;

	/* One thread allowed: pthread_create fails (EAGAIN), no crash. */
	run_mode(&r, "glibc", "join", "--max-threads=1");
	ck_assert_int_eq(r.status, 2);
	ck_assert_str_eq(r.out, "pthread_create failed\n");
	e2e_free(&r);
	e2e_run(&r, NULL, VMM_BIN, "run", "--max-threads", "0", TPAY_DIR "hello-glibc-static.elf",
		NULL);
	ck_assert_int_eq(r.status, 125);
	ck_assert_msg(strstr(r.err, "--max-threads '0'"), "%s", r.err);
	e2e_free(&r);
}
END_TEST

START_TEST(worker_ends_the_process)
{
	for (size_t i = 0; i < ARRAY_SIZE(libcs); i++) {
		struct run_result r;

		run_mode(&r, libcs[i], "exit", NULL);
		ck_assert_msg(r.status == 7, "%s: status %d\n%s", libcs[i], r.status, r.err);
		e2e_free(&r);
		run_mode(&r, libcs[i], "abort", NULL);
		ck_assert_msg(r.status == 134, "%s: status %d\n%s", libcs[i], r.status, r.err);
		ck_assert_msg(strstr(r.err, "killed by SIGABRT"), "%s", r.err);
		ck_assert_msg(strstr(r.err, "in thread ") && strstr(r.err, "(vCPU 1)"), "%s",
			      r.err);
		e2e_free(&r);
		run_mode(&r, libcs[i], "fault", NULL);
		ck_assert_msg(r.status == 139, "%s: status %d\n%s", libcs[i], r.status, r.err);
		ck_assert_msg(strstr(r.err, "in thread ") && strstr(r.err, "write of 0x0"), "%s",
			      r.err);
		e2e_free(&r);
	}
}
END_TEST

/* mprotect read-only under a reading thread, then munmap: the reader
 * faults (its translation is gone everywhere), and every write-removing
 * mprotect and the munmap were shot down to vCPU 1. */
START_TEST(shootdowns_counted)
{
	char json[sizeof(E2E_JSON_TEMPLATE)], path[256];
	struct run_result r;
	json_object *root, *sd, *per;

	e2e_json_path(json);
	thr_path(path, sizeof(path), "glibc");
	e2e_run(&r, NULL, VMM_BIN, "run", "--timeout", "30", "--no-counters", "--json", json, path,
		"mprot", NULL);
	ck_assert_msg(r.status == 139, "status %d\n%s", r.status, r.err);
	ck_assert_msg(strstr(r.err, "read of "), "%s", r.err);
	root = e2e_json_take(json);
	sd = unit_json_path(root, "threads", "shootdowns", NULL);
	/* 50 write-removing mprotects and the munmap, to one other vCPU. */
	ck_assert_int_ge(json_object_get_int64(unit_json_path(sd, "count", NULL)), 51);
	ck_assert_int_eq(json_object_get_int64(unit_json_path(sd, "vcpus_waited", NULL)) +
			     json_object_get_int64(unit_json_path(sd, "vcpus_lazy", NULL)),
			 json_object_get_int64(unit_json_path(sd, "count", NULL)));
	per = unit_json_path(root, "threads", "per_vcpu", NULL);
	ck_assert_int_eq(json_object_array_length(per), 2);
	ck_assert_int_ge(json_object_get_int64(unit_json_path(json_object_array_get_idx(per, 1),
							      "shootdowns_received", NULL)),
			 51);
	ck_assert_int_eq(
	    json_object_get_int64(unit_json_path(root, "threads", "sum", "exits", NULL)),
	    json_object_get_int64(unit_json_path(root, "run", "exits", NULL)));
	json_object_put(root);
	e2e_free(&r);
}
END_TEST

/* kvm-vcpu-stat:exits over the whole run is every vCPU's exits: the
 * region begins before vCPU 0 first runs and ends after every thread has
 * left, where the per-vCPU breakdown is read too, so the two are equal;
 * and the workers' own exits make it more than vCPU 0's. Churn reuses 4
 * vCPUs for 200 threads: each is in the sum once. */
START_TEST(vcpu_stat_sums_every_vcpu)
{
	static const struct {
		const char *libc, *mode, *extra;
	} runs[] = {
	    {"glibc", "join", NULL}, {"musl", "join", NULL}, {"glibc", "churn", "--max-threads=5"}};

	for (size_t i = 0; i < ARRAY_SIZE(runs); i++) {
		char json[sizeof(E2E_JSON_TEMPLATE)], path[256];
		struct run_result r;
		json_object *root, *per;
		int64_t counter, sum = 0;
		size_t n;

		e2e_json_path(json);
		thr_path(path, sizeof(path), runs[i].libc);
		e2e_run(&r, NULL, VMM_BIN, "run", "--timeout", "30", "--json", json, "-e",
			"kvm-vcpu-stat:exits", runs[i].extra ? runs[i].extra : "--max-threads=64",
			path, runs[i].mode, NULL);
		ck_assert_msg(r.status == 0, "%s %s: status %d\n%s", runs[i].libc, runs[i].mode,
			      r.status, r.err);
		root = e2e_json_take(json);
		if (!json_object_get_boolean(unit_json_path(
			root, "total", "counters", "kvm-vcpu-stat:exits", "supported", NULL))) {
			printf("SKIP vcpu_stat_sums_every_vcpu: no KVM vCPU statistics here\n");
			json_object_put(root);
			e2e_free(&r);
			return;
		}
		counter = json_object_get_int64(unit_json_path(
		    root, "total", "counters", "kvm-vcpu-stat:exits", "value", NULL));
		per = unit_json_path(root, "threads", "per_vcpu", NULL);
		n = json_object_array_length(per);
		ck_assert_uint_ge(n, 2);
		for (size_t k = 0; k < n; k++)
			sum += json_object_get_int64(
			    unit_json_path(json_object_array_get_idx(per, k), "kvm_exits", NULL));
		ck_assert_msg(counter == sum, "%s %s: counter %lld, vCPUs' exits %lld",
			      runs[i].libc, runs[i].mode, (long long)counter, (long long)sum);
		ck_assert_int_gt(
		    counter, json_object_get_int64(unit_json_path(json_object_array_get_idx(per, 0),
								  "kvm_exits", NULL)));
		json_object_put(root);
		e2e_free(&r);
	}
}
END_TEST

E2E_SUITE_MAIN("e2e_threads_core", 120, join_mutex_tls, condvar_wake_churn_and_pipes,
	       limit_gives_eagain, worker_ends_the_process, shootdowns_counted,
	       vcpu_stat_sums_every_vcpu)
