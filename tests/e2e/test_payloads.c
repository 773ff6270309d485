/* End-to-end test of the stress payloads (guest-payloads/): each one, glibc
 * and musl builds, runs natively and under ./vmm run with small parameters,
 * exits 0 and prints well-formed JSON lines with the fields, op counts and
 * working sets that were asked for. */
#include "e2e.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>

#define MAX_ARGS 24
#define MAX_WS 24

struct spec {
	const char *elf; /* base name in build/payloads/ */
	const char *args[MAX_ARGS];
	const char *pages;   /* expected "pages" field */
	uint64_t ops;	     /* expected "ops" of every line */
	uint64_t ws[MAX_WS]; /* expected ws_bytes, line by line */
	size_t nws;
	const char *keys[6]; /* payload-specific keys every line must have */
};

/* Small enough to finish in well under a second each natively. */
static const struct spec specs[] = {
    {"tlb-sweep",
     {"--min", "4K", "--max", "32K", "--ops", "1000", NULL},
     "4k",
     1000,
     {4 * KB, 8 * KB, 16 * KB, 32 * KB, 4 * KB, 8 * KB, 16 * KB, 32 * KB, 4 * KB, 8 * KB, 16 * KB,
      32 * KB, 4 * KB, 8 * KB, 16 * KB, 32 * KB},
     16,
     {"layout", "pattern", "n_elems", "pages_touched", NULL}},
    {"tlb-sweep",
     {"--min", "4K", "--max", "4M", "--ops", "2000", "--layout", "page", "--pattern", "rand",
      "--pages", "2m", NULL},
     "2m",
     2000,
     {4 * KB, 8 * KB, 16 * KB, 32 * KB, 64 * KB, 128 * KB, 256 * KB, 512 * KB, 1 * MB, 2 * MB,
      4 * MB},
     11,
     {"layout", "pattern", NULL}},
    {"chase",
     {"--min", "4K", "--max", "64K", "--ops", "1000", NULL},
     "4k",
     1000,
     {4 * KB, 8 * KB, 16 * KB, 32 * KB, 64 * KB},
     5,
     {"per", "n_elems", NULL}},
    {"chase",
     {"--ws", "2M", "--ops", "1500", "--per", "page", "--pages", "2m", NULL},
     "2m",
     1500,
     {2 * MB},
     1,
     {"per", NULL}},
    {"gups",
     {"--size", "1M", "--updates", "1000", "--verify", NULL},
     "4k",
     1000,
     {1 * MB},
     1,
     {"entries", "gups", "verify", NULL}},
    {"itlb",
     {"--min", "1", "--max", "16", "--ops", "1000", "--order", "rand", NULL},
     "4k",
     1000,
     {4 * KB, 8 * KB, 16 * KB, 32 * KB, 64 * KB},
     5,
     {"order", "code_pages", NULL}},
    {"itlb-2m",
     {"--min", "4096", "--max", "4096", "--ops", "1000", "--pages", "2m", NULL},
     "2m",
     1000,
     {16 * MB, 16 * MB},
     2,
     {"code_align", "text_madvise", "text_collapse", NULL}},
    {"ptchurn",
     {"--min", "4K", "--max", "16K", "--iters", "10", NULL},
     "4k",
     10,
     {4 * KB, 8 * KB, 16 * KB, 4 * KB, 8 * KB, 16 * KB},
     6,
     {"test", "syscalls_per_op", NULL}},
    {"ptsparse",
     {"--count", "16", "--ops", "1000", NULL},
     "4k",
     1000,
     {64 * KB, 64 * KB, 64 * KB, 64 * KB},
     4,
     {"spread", "pt_pages", "pd_pages", "pdpt_pages", "table_bytes", NULL}},
    {"tlb-prefetch",
     {"--min", "64k", "--max", "128K", "--ops", "1000", NULL},
     "4k",
     1000,
     {64 * KB, 128 * KB, 64 * KB, 128 * KB, 64 * KB, 128 * KB},
     6,
     {"mode", "distance", NULL}},
};

static const char *const common_keys[] = {"payload",  "libc",	"pages",     "seed",
					  "ws_bytes", "ops",	"ns_per_op", "cycles_per_op",
					  "tsc_mhz",  "wall_ns"};

/* ---- a minimal check of one flat JSON object per line ---- */

static const char *skip_string(const char *p)
{
	if (*p++ != '"')
		return NULL;
	while (*p && *p != '"') {
		if (*p == '\\' || (unsigned char)*p < 0x20)
			return NULL; /* payloads never need escapes */
		p++;
	}
	return *p == '"' ? p + 1 : NULL;
}

static const char *skip_value(const char *p)
{
	char *end;

	if (*p == '"')
		return skip_string(p);
	if (strncmp(p, "true", 4) == 0 || strncmp(p, "null", 4) == 0)
		return p + 4;
	if (strncmp(p, "false", 5) == 0)
		return p + 5;
	if (*p != '-' && !isdigit((unsigned char)*p))
		return NULL;
	strtod(p, &end);
	return end > p ? end : NULL;
}

/* {"k":v,...} and nothing else. */
static bool json_flat_ok(const char *s)
{
	const char *p = s;

	if (*p++ != '{')
		return false;
	for (;;) {
		if (!(p = skip_string(p)) || *p++ != ':' || !(p = skip_value(p)))
			return false;
		if (*p == '}')
			return p[1] == '\0';
		if (*p++ != ',')
			return false;
	}
}

/* Start of the value of "key" in the line, or NULL. */
static const char *field(const char *line, const char *key)
{
	char pat[64];
	const char *p;

	snprintf(pat, sizeof(pat), "\"%s\":", key);
	p = strstr(line, pat);
	return p ? p + strlen(pat) : NULL;
}

static bool field_is_str(const char *line, const char *key, const char *val)
{
	const char *v = field(line, key);
	size_t n = strlen(val);

	return v && v[0] == '"' && strncmp(v + 1, val, n) == 0 && v[n + 1] == '"';
}

/* ---- running and checking ---- */

static void check_output(const struct spec *sp, const char *libc, const char *out, bool native)
{
	char *buf = strdup(out), *save = NULL, *line;
	/* itlb-2m is the itlb payload, linked differently. */
	const char *payload = strcmp(sp->elf, "itlb-2m") == 0 ? "itlb" : sp->elf;
	size_t nlines = 0;

	ck_assert(buf);
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "{\"payload\":", 11) != 0) {
			/* Under the VMM its own report may share stdout. */
			ck_assert_msg(!native, "%s: not a JSON line: %s", sp->elf, line);
			continue;
		}
		ck_assert_msg(json_flat_ok(line), "%s: malformed JSON: %s", sp->elf, line);
		for (size_t k = 0; k < ARRAY_SIZE(common_keys); k++)
			ck_assert_msg(field(line, common_keys[k]), "%s: no \"%s\" in %s", sp->elf,
				      common_keys[k], line);
		for (size_t k = 0; sp->keys[k]; k++)
			ck_assert_msg(field(line, sp->keys[k]), "%s: no \"%s\" in %s", sp->elf,
				      sp->keys[k], line);
		ck_assert_msg(field_is_str(line, "payload", payload), "%s: payload field: %s",
			      sp->elf, line);
		ck_assert_msg(field_is_str(line, "libc", libc), "%s: libc field: %s", sp->elf,
			      line);
		ck_assert_msg(field_is_str(line, "pages", sp->pages), "%s: pages field: %s",
			      sp->elf, line);
		ck_assert_msg(strtoull(field(line, "ops"), NULL, 10) == sp->ops,
			      "%s: ops != %" PRIu64 ": %s", sp->elf, sp->ops, line);
		ck_assert_msg(strtod(field(line, "ns_per_op"), NULL) > 0, "%s: ns_per_op <= 0: %s",
			      sp->elf, line);
		ck_assert_msg(strtod(field(line, "tsc_mhz"), NULL) > 1, "%s: tsc_mhz: %s", sp->elf,
			      line);
		ck_assert_msg(nlines < sp->nws, "%s: more lines than the %zu working sets asked",
			      sp->elf, sp->nws);
		ck_assert_msg(strtoull(field(line, "ws_bytes"), NULL, 10) == sp->ws[nlines],
			      "%s: line %zu: ws_bytes != %" PRIu64 ": %s", sp->elf, nlines + 1,
			      sp->ws[nlines], line);
		if (field(line, "verify"))
			ck_assert_msg(field_is_str(line, "verify", "ok"), "%s: %s", sp->elf, line);
		nlines++;
	}
	ck_assert_msg(nlines == sp->nws, "%s: %zu lines, expected %zu", sp->elf, nlines, sp->nws);
	free(buf);
}

/* argv: prefix (may be empty), then the ELF, then the spec's arguments. */
static void run_spec(struct run_result *r, const struct spec *sp, const char *suffix,
		     const char *const *prefix, size_t nprefix)
{
	static char path[256];
	char *argv[MAX_ARGS + 16];
	size_t n = 0;

	snprintf(path, sizeof(path), PAYLOAD_DIR "%s%s.elf", sp->elf, suffix);
	ck_assert_msg(access(path, X_OK) == 0, "%s missing: run `make payloads`", path);
	for (size_t i = 0; i < nprefix; i++)
		argv[n++] = (char *)prefix[i];
	argv[n++] = path;
	for (size_t i = 0; sp->args[i]; i++)
		argv[n++] = (char *)sp->args[i];
	argv[n] = NULL;
	e2e_runv(r, NULL, argv);
}

static const char *const suffixes[] = {"", "-musl"};
static const char *const libcs[] = {"glibc", "musl"};

/* _i runs over specs x {glibc, musl}. */
START_TEST(test_native)
{
	const struct spec *sp = &specs[_i / 2];
	struct run_result r;

	run_spec(&r, sp, suffixes[_i % 2], NULL, 0);
	ck_assert_msg(r.status == 0, "%s%s exited %d: %s", sp->elf, suffixes[_i % 2], r.status,
		      r.err);
	ck_assert_msg(strstr(r.err, "warning") == NULL, "%s: %s", sp->elf, r.err);
	check_output(sp, libcs[_i % 2], r.out, true);
	e2e_free(&r);
}
END_TEST

START_TEST(test_help_and_errors)
{
	const char *names[] = {"tlb-sweep", "chase",	"gups",		"itlb",
			       "ptchurn",   "ptsparse", "tlb-prefetch", "shootdown"};
	char path[256];
	struct run_result r;

	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		snprintf(path, sizeof(path), PAYLOAD_DIR "%s.elf", names[i]);
		e2e_run(&r, NULL, path, "--help", NULL);
		ck_assert_msg(r.status == 0 && strstr(r.out, "usage: ") && strstr(r.out, "--seed"),
			      "%s --help: %d %s", names[i], r.status, r.out);
		ck_assert_msg(strstr(r.out, "--pages 4k|2m"), "%s --help has no --pages", names[i]);
		e2e_free(&r);

		e2e_run(&r, NULL, path, "--no-such-option", NULL);
		ck_assert_msg(r.status == 2 && strstr(r.err, "unknown option"), "%s: %d %s",
			      names[i], r.status, r.err);
		e2e_free(&r);
	}
	e2e_run(&r, NULL, PAYLOAD_DIR "chase.elf", "--max", "12X", NULL);
	ck_assert_msg(r.status == 2 && strstr(r.err, "chase: --max: bad size '12X'"), "%d %s",
		      r.status, r.err);
	e2e_free(&r);
	e2e_run(&r, NULL, PAYLOAD_DIR "gups.elf", "--size", "99999999999999999999", NULL);
	ck_assert_msg(r.status == 2 && strstr(r.err, "bad size"), "%d %s", r.status, r.err);
	e2e_free(&r);
	e2e_run(&r, NULL, PAYLOAD_DIR "tlb-sweep.elf", "--max", "16777216T", NULL);
	ck_assert_msg(r.status == 2 && strstr(r.err, "bad size"), "overflow: %d %s", r.status,
		      r.err);
	e2e_free(&r);
	e2e_run(&r, NULL, PAYLOAD_DIR "tlb-sweep.elf", "--min", "64K", "--max", "32K", NULL);
	ck_assert_msg(r.status == 2 && strstr(r.err, "min <= max"), "%d %s", r.status, r.err);
	e2e_free(&r);
	e2e_run(&r, NULL, PAYLOAD_DIR "chase.elf", "--pages", "1g", NULL);
	ck_assert_msg(r.status == 2 && strstr(r.err, "'1g' is not one of 4k|2m"), "%d %s", r.status,
		      r.err);
	e2e_free(&r);
}
END_TEST

/* The same binaries, unmodified, as the only process of a guest; with
 * --timeout a hung guest fails its own test, not the whole run. */
#define GUEST_ARGS(pages, backing)                                                                 \
	VMM_BIN, "run", "--mem", "512M", "--timeout", "15", "--guest-pages", pages, "--backing",   \
	    backing
static const char *const guest_4k[] = {GUEST_ARGS("4k", "anon")};
static const char *const guest_2m[] = {GUEST_ARGS("2m", "thp")};

static void guest_case(int i, const char *const *prefix, size_t nprefix)
{
	const struct spec *sp = &specs[i / 2];
	struct run_result r;

	e2e_require_kvm("payloads in the guest");
	ck_assert_msg(access(VMM_BIN, X_OK) == 0, "%s missing: run `make`", VMM_BIN);
	run_spec(&r, sp, suffixes[i % 2], prefix, nprefix);
	ck_assert_msg(r.status == 0, "vmm run %s%s exited %d: %s", sp->elf, suffixes[i % 2],
		      r.status, r.err);
	check_output(sp, libcs[i % 2], r.out, false);
	e2e_free(&r);
}

START_TEST(test_guest_4k)
{
	guest_case(_i, guest_4k, ARRAY_SIZE(guest_4k));
}
END_TEST

START_TEST(test_guest_2m)
{
	/* Only the specs that ask for 2 MiB pages themselves. */
	if (strcmp(specs[_i / 2].pages, "2m") == 0)
		guest_case(_i, guest_2m, ARRAY_SIZE(guest_2m));
}
END_TEST

static Suite *payloads_suite(void)
{
	Suite *s = suite_create("payloads");
	TCase *nat = tcase_create("native"), *gst = tcase_create("guest");
	int n = (int)(2 * ARRAY_SIZE(specs));

	tcase_set_timeout(nat, 30);
	tcase_add_loop_test(nat, test_native, 0, n);
	tcase_add_test(nat, test_help_and_errors);
	tcase_set_timeout(gst, 20);
	tcase_add_loop_test(gst, test_guest_4k, 0, n);
	tcase_add_loop_test(gst, test_guest_2m, 0, n);
	suite_add_tcase(s, nat);
	suite_add_tcase(s, gst);
	return s;
}

UNIT_MAIN(payloads_suite)
