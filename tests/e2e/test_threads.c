/* End-to-end tests of threads (clone as vCPUs, futex, exit across threads,
 * TLB shootdowns): each pthread_ payload of tests/payloads, glibc and musl
 * builds, runs natively and under ./vmm run and must print the same and end
 * with the same status (xz_mt, a real threaded compressor, among them); the
 * threaded stress payloads (gups --threads, shootdown) must run and give
 * well-formed lines in the guest. */
#include "e2e.h"
#include "unit.h"

static const char *const libcs[] = {"glibc", "musl"};

/* A hang (a lost futex wake, a vCPU never kicked) must fail the test, not
 * stall it: each run gets this many seconds (status 124 after). Thousands
 * of threads take ~15 ms each in the guest on a loaded 2-core machine
 * (a vCPU, its counters and a host thread per guest thread), hence more. */
#define RUN_LIMIT "60"
#define MANY_LIMIT "300"

/* Natively under timeout(1) and in the guest under --timeout, both with
 * `limit` seconds, compared (e2e_same_as_native). */
static void same_as_native_within(const char *name, const char *const *args, int want_status,
				  const char *limit)
{
	const char *const nat_pre[] = {"/usr/bin/timeout", limit, NULL};
	const char *const vmm_opts[] = {"--timeout", limit, NULL};

	e2e_same_as_native(name, nat_pre, vmm_opts, args, want_status);
}

static void same_as_native(const char *name, const char *const *args, int want_status)
{
	same_as_native_within(name, args, want_status, RUN_LIMIT);
}

START_TEST(sync_like_native)
{
	same_as_native("pthread_sync", NULL, 0);
}
END_TEST

/* PI mutexes: FUTEX_LOCK_PI, TRYLOCK_PI, UNLOCK_PI, a timeout, EDEADLK
 * and a robust one's EOWNERDEAD. */
START_TEST(pi_mutexes_like_native)
{
	same_as_native("pthread_pi", NULL, 0);
}
END_TEST

START_TEST(tls_like_native)
{
	same_as_native("pthread_tls", NULL, 0);
}
END_TEST

START_TEST(life_cycle_like_native)
{
	same_as_native("pthread_life", NULL, 0);
}
END_TEST

/* 2000 threads in batches of 16: exited threads' vCPUs must be reused. */
START_TEST(thousands_of_threads_like_native)
{
	static const char *const args[] = {"2000", "16", NULL};

	same_as_native_within("pthread_many", args, 0, MANY_LIMIT);
}
END_TEST

/* More threads alive at once than this machine has cores. */
START_TEST(many_live_threads_like_native)
{
	static const char *const args[] = {"256", "64", NULL};

	same_as_native("pthread_many", args, 0);
}
END_TEST

START_TEST(worker_fault_is_139)
{
	static const char *const args[] = {"segv", NULL};

	same_as_native("pthread_die", args, 139);
}
END_TEST

START_TEST(worker_abort_is_134)
{
	static const char *const args[] = {"abort", NULL};

	same_as_native("pthread_die", args, 134);
}
END_TEST

START_TEST(worker_exit_group_code)
{
	static const char *const args[] = {"exit", "7", NULL};

	same_as_native("pthread_die", args, 7);
}
END_TEST

/* The shootdown correctness test, three times over: a missed invalidation
 * is a race, so one lucky run proves little. */
START_TEST(shootdown_remap_sees_new_contents)
{
	static const char *const args[] = {"remap", "300", NULL};

	for (int i = 0; i < 3; i++)
		same_as_native("pthread_shootdown", args, 0);
}
END_TEST

START_TEST(shootdown_protect_faults_after_flag)
{
	static const char *const args[] = {"protect", "300", NULL};

	for (int i = 0; i < 3; i++)
		same_as_native("pthread_shootdown", args, 0);
}
END_TEST

/* A real multi-threaded compressor (liblzma's threaded xz coder, 2 MiB in
 * 256 KiB blocks) with 1, 2 and 4 threads: same output and status as
 * natively, and the compressed stream's CRC32 shows every byte agreed. */
START_TEST(xz_compressor_like_native)
{
	static const char *const threads[] = {"1", "2", "4"};

	for (size_t i = 0; i < ARRAY_SIZE(threads); i++) {
		const char *const args[] = {threads[i], "2", NULL};

		same_as_native("xz_mt", args, 0);
	}
}
END_TEST

/* The compressor's worker threads really ran as vCPUs: with 2 threads the
 * encoder alone clones twice (its 8 blocks outnumber its threads). */
START_TEST(xz_compressor_clones_vcpus)
{
	for (size_t l = 0; l < ARRAY_SIZE(libcs); l++) {
		char elf[256];
		struct run_result r;
		const char *line;
		int peak = 0, clones = 0;

		snprintf(elf, sizeof(elf), TPAY_DIR "xz_mt-%s-static.elf", libcs[l]);
		e2e_run(&r, NULL, VMM_BIN, "run", "--stats", "--timeout", RUN_LIMIT, elf, "2", "2",
			NULL);
		ck_assert_msg(r.status == 0 && strstr(r.out, "round trip: same"), "%s: %d\n%s", elf,
			      r.status, r.err);
		line = strstr(r.err, "threads       peak ");
		ck_assert_msg(line &&
				  sscanf(line, "threads peak %d, %d clones", &peak, &clones) == 2,
			      "%s: no threads line in\n%s", elf, r.err);
		ck_assert_msg(clones >= 2 && peak >= 2, "%s: peak %d, %d clones", elf, peak,
			      clones);
		e2e_free(&r);
	}
}
END_TEST

/* A threaded stress payload in the guest: exits 0 and its one JSON line
 * holds every `want` substring. */
static void stress_in_guest(const char *elf, const char *const *args, const char *const *want)
{
	static const char *const suffix[] = {"", "-musl"};

	for (size_t l = 0; l < 2; l++) {
		char path[256], *argv[24];
		struct run_result r;
		int j = 0;

		snprintf(path, sizeof(path), PAYLOAD_DIR "%s%s.elf", elf, suffix[l]);
		argv[j++] = VMM_BIN;
		argv[j++] = "run";
		argv[j++] = "--timeout";
		argv[j++] = RUN_LIMIT;
		argv[j++] = path;
		for (size_t i = 0; args[i]; i++)
			argv[j++] = (char *)args[i];
		argv[j] = NULL;
		e2e_runv(&r, NULL, argv);
		ck_assert_msg(r.status == 0, "%s: status %d\n%s", path, r.status, r.err);
		for (size_t i = 0; want[i]; i++)
			ck_assert_msg(strstr(r.out, want[i]), "%s: no %s in\n%s", path, want[i],
				      r.out);
		e2e_free(&r);
	}
}

START_TEST(gups_threads_verify_in_guest)
{
	static const char *const args[] = {"--threads", "2",	  "--size",   "4M",
					   "--updates", "200000", "--verify", NULL};
	static const char *const want[] = {"\"threads\":2", "\"verify\":\"ok\"", "\"ops\":200000",
					   NULL};

	stress_in_guest("gups", args, want);
}
END_TEST

START_TEST(shootdown_payload_in_guest)
{
	static const char *const mp[] = {"--threads", "2", "--ops", "200", "--size", "256K", NULL};
	static const char *const rm[] = {"--threads", "1",	"--ops", "200", "--op",
					 "remap",     "--size", "256K",	 NULL};
	static const char *const want_mp[] = {"\"op\":\"mprotect\"", "\"threads\":2", "\"ops\":200",
					      NULL};
	static const char *const want_rm[] = {"\"op\":\"remap\"", "\"threads\":1", "\"ops\":200",
					      NULL};

	stress_in_guest("shootdown", mp, want_mp);
	stress_in_guest("shootdown", rm, want_rm);
}
END_TEST

/* The threaded options' bounds, natively: exit 2 with the limit named. */
START_TEST(thread_options_checked)
{
	static const char *const bad[][4] = {
	    {"gups", "--threads", "0", "need 1..64"},
	    {"gups", "--threads", "65", "need 1..64"},
	    {"shootdown", "--threads", "65", "at most 64"},
	    {"shootdown", "--change", "100", "positive multiple of 4K"},
	};

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		char path[256];
		struct run_result r;

		snprintf(path, sizeof(path), PAYLOAD_DIR "%s.elf", bad[i][0]);
		e2e_run(&r, NULL, path, bad[i][1], bad[i][2], NULL);
		ck_assert_msg(r.status == 2 && strstr(r.err, bad[i][3]), "%s %s %s: %d %s",
			      bad[i][0], bad[i][1], bad[i][2], r.status, r.err);
		e2e_free(&r);
	}
}
END_TEST

E2E_SUITE_MAIN("e2e_threads", 660, thread_options_checked, sync_like_native, pi_mutexes_like_native,
	       tls_like_native, life_cycle_like_native, thousands_of_threads_like_native,
	       many_live_threads_like_native, worker_fault_is_139, worker_abort_is_134,
	       worker_exit_group_code, shootdown_remap_sees_new_contents,
	       shootdown_protect_faults_after_flag, gups_threads_verify_in_guest,
	       shootdown_payload_in_guest, xz_compressor_like_native, xz_compressor_clones_vcpus)
