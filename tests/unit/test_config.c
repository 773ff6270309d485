/* `vmm run` option parsing: sizes, policies, cross-option checks, and the
 * point where the payload's own arguments begin. */
#include <string.h>

#include "config_fixture.h"
#include "unit.h"
#include "util/err.h"
#include "vm/config.h"

/* --mem: a bare number is MiB, as in QEMU and kvmtool. */
START_TEST(mem_sizes)
{
	struct config c;
	uint64_t v;
	char *bare[] = {"run", "--mem", "512", "p.elf", NULL};
	char *tera[] = {"run", "--mem", "256T", "p.elf", NULL};
	char *huge[] = {"run", "--mem", "8192T", "p.elf", NULL};

	ck_assert_int_eq(config_parse_mem("512", &v), 0);
	ck_assert_uint_eq(v, 512ull << 20);
	ck_assert_int_eq(config_parse_mem("1t", &v), 0);
	ck_assert_uint_eq(v, 1ull << 40);
	ck_assert_int_eq(config_parse_mem("64K", &v), 0);
	ck_assert_uint_eq(v, 64ull << 10);
	ck_assert_int_eq(config_parse_mem("16777216B", &v), 0);
	ck_assert_uint_eq(v, 16ull << 20);
	ck_assert_int_eq(config_parse_mem("17592186044416", &v), -1); /* MiB: overflows */
	ck_assert_int_eq(parse(&c, bare), 0);
	ck_assert_uint_eq(c.mem_bytes, 512ull << 20);
	ck_assert_int_eq(parse(&c, tera), 0);
	ck_assert_uint_eq(c.mem_bytes, 256ull << 40);
	ck_assert_int_eq(parse(&c, huge), -1);
	ck_assert_str_eq(err_msg(), "config: --mem 8388608G is more than x86-64 can address "
				    "(4096T: 52-bit physical addresses)");
}
END_TEST

START_TEST(sizes)
{
	uint64_t v;

	ck_assert_int_eq(config_parse_size("1G", &v), 0);
	ck_assert_uint_eq(v, 1ull << 30);
	ck_assert_int_eq(config_parse_size("512m", &v), 0);
	ck_assert_uint_eq(v, 512ull << 20);
	ck_assert_int_eq(config_parse_size("64KiB", &v), 0);
	ck_assert_uint_eq(v, 64ull << 10);
	ck_assert_int_eq(config_parse_size("4096", &v), 0);
	ck_assert_uint_eq(v, 4096);
	ck_assert_int_eq(config_parse_size("12X", &v), -1);
	ck_assert_str_eq(err_msg(), "config: size '12X': unknown suffix (use K, M, G or T)");
	ck_assert_int_eq(config_parse_size("2T", &v), 0);
	ck_assert_uint_eq(v, 2ull << 40);
	ck_assert_int_eq(config_parse_size("4096B", &v), 0);
	ck_assert_uint_eq(v, 4096);
	ck_assert_int_eq(config_parse_size("-1G", &v), -1);
	ck_assert_int_eq(config_parse_size("", &v), -1);
	ck_assert_int_eq(config_parse_size("99999999999999G", &v), -1);
	ck_assert_str_eq(err_msg(), "config: size '99999999999999G': too large");
	ck_assert_int_eq(config_parse_size("1GG", &v), -1);
}
END_TEST

START_TEST(defaults_and_payload_args)
{
	char *argv[] = {"run", "--stats", "p.elf", "--mem", "2G", "x", NULL};
	struct config c;

	ck_assert_int_eq(parse(&c, argv), 0);
	ck_assert_uint_eq(c.mem_bytes, 1ull << 30);
	ck_assert_int_eq(c.backing, MEM_BACKING_ANON);
	ck_assert_int_eq(c.guest_pages, GUEST_PAGES_4K);
	ck_assert(c.stats);
	ck_assert_str_eq(c.payload, "p.elf");
	/* Options after the payload are the payload's. */
	ck_assert_int_eq(c.payload_argc, 4);
	ck_assert_str_eq(c.payload_argv[1], "--mem");
}
END_TEST

START_TEST(all_options)
{
	char *argv[] = {
	    "run",     "--mem",	     "256M",	  "--backing", "hugetlb-2m", "--guest-pages",
	    "madvise", "--prealloc", "--timeout", "2.5",       "--json",     "r.json",
	    "-e",      "cycles",     "-x",	  ";",	       "p.elf",	     NULL};
	struct config c;

	ck_assert_int_eq(parse(&c, argv), 0);
	ck_assert_uint_eq(c.mem_bytes, 256ull << 20);
	ck_assert_int_eq(c.backing, MEM_BACKING_HUGETLB_2M);
	ck_assert_int_eq(c.guest_pages, GUEST_PAGES_MADVISE);
	ck_assert(c.prealloc);
	ck_assert(c.timeout_s > 2.4 && c.timeout_s < 2.6);
	ck_assert_str_eq(c.json_path, "r.json");
	ck_assert_str_eq(c.events, "cycles");
	ck_assert_str_eq(c.csv_sep, ";");
}
END_TEST

START_TEST(errors)
{
	struct config c;
	char *no_payload[] = {"run", "--stats", NULL};
	char *unknown[] = {"run", "--bogus", "p.elf", NULL};
	char *missing_arg[] = {"run", "p.elf", NULL};
	char *small[] = {"run", "--mem", "1M", "p.elf", NULL};
	char *timeout[] = {"run", "--timeout", "-3", "p.elf", NULL};
	char *both[] = {"run", "--no-counters", "-e", "cycles", "p.elf", NULL};
	char *noarg[] = {"run", "--mem", NULL};
	char *flush[] = {"run", "--tlb-flush", "sometimes", "p.elf", NULL};
	char *flush_ok[] = {"run", "--tlb-flush", "page", "p.elf", NULL};

	ck_assert_int_eq(parse(&c, no_payload), -1);
	ck_assert(strstr(err_msg(), "no payload given"));
	ck_assert_int_eq(parse(&c, unknown), -1);
	ck_assert_str_eq(err_msg(), "config: unknown option '--bogus' (see vmm run --help)");
	ck_assert_int_eq(parse(&c, missing_arg), 0);
	ck_assert_int_eq(parse(&c, small), -1);
	ck_assert_str_eq(err_msg(), "config: --mem 1024K is too small: need at least 16M");
	ck_assert_int_eq(parse(&c, timeout), -1);
	ck_assert(strstr(err_msg(), "--timeout '-3'"));
	ck_assert_int_eq(parse(&c, both), -1);
	ck_assert_int_eq(parse(&c, noarg), -1);
	ck_assert(strstr(err_msg(), "needs an argument"));
	ck_assert_int_eq(parse(&c, flush), -1);
	ck_assert_str_eq(err_msg(), "config: --tlb-flush 'sometimes': use auto, full or page");
	ck_assert_int_eq(parse(&c, flush_ok), 0);
	ck_assert_int_eq(c.tlb_flush, TLB_FLUSH_PAGE);
	ck_assert_str_eq(tlb_flush_policy_name(c.tlb_flush), "page");
}
END_TEST

START_TEST(dirs_and_cwd)
{
	static struct config c;
	char *ok[] = {"run",   "--dir",	   "/h",    "--dir", "/h2:/g:rw", "--dir", "rel:ro",
		      "--dir", "/x:/y:ro", "--cwd", "/g",    "p.elf",	  NULL};
	char *bad1[] = {"run", "--dir", "/h:g", "p.elf", NULL};
	char *bad2[] = {"run", "--dir", "/a:/b:/c", "p.elf", NULL};
	char *bad3[] = {"run", "--cwd", "rel", "p.elf", NULL};
	char *bad4[] = {"run", "--dir", ":/g", "p.elf", NULL};
	struct config_dir d;

	ck_assert_int_eq(parse(&c, ok), 0);
	ck_assert_int_eq(c.ndirs, 4);
	ck_assert_str_eq(c.dirs[0].host, "/h");
	ck_assert_str_eq(c.dirs[0].guest, "");
	ck_assert(!c.dirs[0].rw); /* read-only unless asked */
	ck_assert_str_eq(c.dirs[1].guest, "/g");
	ck_assert(c.dirs[1].rw);
	ck_assert_str_eq(c.dirs[2].host, "rel");
	ck_assert(!c.dirs[2].rw);
	ck_assert_str_eq(c.dirs[3].guest, "/y");
	ck_assert_str_eq(c.cwd, "/g");
	ck_assert_int_eq(parse(&c, bad1), -1);
	ck_assert_int_eq(parse(&c, bad2), -1);
	ck_assert_int_eq(parse(&c, bad3), -1);
	ck_assert_int_eq(parse(&c, bad4), -1);
	ck_assert_int_eq(config_parse_dir("/only-rw:rw", &d), 0);
	ck_assert_str_eq(d.host, "/only-rw");
	ck_assert(d.rw);
}
END_TEST

START_TEST(vdso_option)
{
	struct config c;
	char *dflt[] = {"run", "p.elf", NULL};
	char *off[] = {"run", "--vdso", "off", "p.elf", NULL};
	char *sys[] = {"run", "--vdso", "syscall", "p.elf", NULL};
	char *bad[] = {"run", "--vdso", "fast", "p.elf", NULL};

	ck_assert_int_eq(parse(&c, dflt), 0);
	ck_assert_int_eq(c.vdso, VDSO_TSC);
	ck_assert_str_eq(vdso_mode_name(c.vdso), "tsc");
	ck_assert_int_eq(parse(&c, off), 0);
	ck_assert_int_eq(c.vdso, VDSO_OFF);
	ck_assert_int_eq(parse(&c, sys), 0);
	ck_assert_int_eq(c.vdso, VDSO_SYSCALL);
	ck_assert_int_eq(parse(&c, bad), -1);
	ck_assert_str_eq(err_msg(), "config: --vdso 'fast': use tsc, syscall or off");
}
END_TEST

START_TEST(max_output_and_no_seccomp)
{
	char *argv[] = {"run", "--max-output", "2M", "--no-seccomp", "p.elf", NULL};
	struct config c;

	ck_assert_int_eq(parse(&c, argv), 0);
	ck_assert_uint_eq(c.max_output, 2u << 20);
	ck_assert(c.no_seccomp);
}
END_TEST

START_TEST(help)
{
	char *argv[] = {"run", "--help", NULL};
	struct config c;

	ck_assert_int_eq(parse(&c, argv), 0);
	ck_assert(c.help);
}
END_TEST

/* Found by tests/fuzz/fuzz_config: a call that failed inside "-@x" left
 * getopt's cluster pointer behind, and the next call went on reading the
 * earlier argv (freed memory when it was a copy) instead of its own. */
START_TEST(reparse_after_failed_cluster)
{
	char *bad = strdup("-@x"), *argv1[] = {"run", bad, "p.elf", NULL};
	char *argv2[] = {"run", "--stats", "q.elf", NULL};
	struct config c;

	ck_assert_int_eq(parse(&c, argv1), -1);
	ck_assert_str_eq(err_msg(), "config: unknown option '-@' (see vmm run --help)");
	memset(bad, 'x', 3);
	free(bad);
	ck_assert_int_eq(parse(&c, argv2), 0);
	ck_assert(c.stats);
	ck_assert_ptr_null(c.csv_sep);
	ck_assert_str_eq(c.payload, "q.elf");
}
END_TEST

START_TEST(timeout_suffixes)
{
	static const struct {
		const char *arg;
		double seconds;
	} ok[] = {{"2.5", 2.5},	 {"90s", 90},	 {"1.5m", 90}, {"0.5h", 1800},
		  {"1d", 86400}, {".25s", 0.25}, {"1e2", 100}};
	static const char *const bad[] = {"0",	 "-3",	"1x",  "s",    "",   "1ms",
					  "1 m", "nan", "inf", "200d", "1mm"};
	double v;

	for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
		ck_assert_msg(config_parse_duration(ok[i].arg, &v) == 0, "%s", ok[i].arg);
		ck_assert_msg(v > ok[i].seconds * 0.999 && v < ok[i].seconds * 1.001, "%s: %f",
			      ok[i].arg, v);
	}
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		ck_assert_msg(config_parse_duration(bad[i], &v) == -1, "%s accepted", bad[i]);
	ck_assert_str_eq(err_msg(), "config: --timeout '1mm': need a positive duration: a number "
				    "with an optional suffix s, m, h or d (as timeout(1)), at most "
				    "10^7 s");
}
END_TEST

START_TEST(events_add_up)
{
	char *two[] = {"run",
		       "-e",
		       "task-clock",
		       "--events",
		       "page-faults,{cycles,instructions}",
		       "-e",
		       "vmm:page-faults",
		       "p.elf",
		       NULL};
	char *empty[] = {"run", "-e", "task-clock", "-e", "", "p.elf", NULL};
	char *timeout[] = {"run", "--timeout", "2m", "p.elf", NULL};
	struct config c;

	ck_assert_int_eq(parse(&c, two), 0);
	ck_assert_str_eq(c.events, "task-clock,page-faults,{cycles,instructions},vmm:page-faults");
	ck_assert_int_eq(parse(&c, empty), -1);
	ck_assert_str_eq(err_msg(),
			 "config: -e '': empty event list (leave -e out for the default set)");
	ck_assert_int_eq(parse(&c, timeout), 0);
	ck_assert(c.timeout_s > 119.9 && c.timeout_s < 120.1);
	ck_assert_ptr_null(c.events);
}
END_TEST

UNIT_SUITE_MAIN("config", NULL, NULL, 0, sizes, mem_sizes, timeout_suffixes, events_add_up,
		defaults_and_payload_args, all_options, errors, dirs_and_cwd, help, vdso_option,
		reparse_after_failed_cluster, max_output_and_no_seccomp)
