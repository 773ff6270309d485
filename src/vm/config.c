/* `vmm run` options. Parsing stops at the payload: what follows belongs to
 * it, options included, as with env(1). */
#include "vm/config.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/err.h"

#define CONFIG_MIN_MEM (16ull << 20) /* system area, tables, 8 MiB stack */
#define CONFIG_MAX_MEM (1ull << 52)  /* MAXPHYADDR is 52 bits at most (SDM 3A 4.1.4) */

void config_usage(FILE *f)
{
	fputs(
	    "usage: vmm run [OPTIONS] PAYLOAD [ARGS...]\n"
	    "Runs a static x86-64 Linux executable in a KVM guest at CPL3, with vmm as its "
	    "kernel.\n"
	    "\n"
	    "  --mem SIZE              guest RAM: MiB, or with a K/M/G/T suffix (default 1G; "
	    "costs nothing\n"
	    "                          until touched)\n"
	    "  --backing KIND          host backing of guest RAM: anon (4 KiB), thp, hugetlb-2m, "
	    "hugetlb-1g\n"
	    "                          (default anon)\n"
	    "  --guest-pages POLICY    guest page tables: 4k, 2m, 1g, or madvise (2 MiB only where "
	    "the payload\n"
	    "                          asked with madvise(MADV_HUGEPAGE)) (default 4k)\n"
	    "  --prealloc              populate all guest RAM on the host before the payload "
	    "starts\n"
	    "  --tlb-flush POLICY      how page-table updates invalidate the guest TLB: auto "
	    "(invlpg per\n"
	    "                          page up to 33 pages, then a full flush, like Linux), full, "
	    "page\n"
	    "  --dir HOST[:GUEST][:ro|rw]\n"
	    "                          expose host directory HOST at GUEST (default: the same "
	    "path),\n"
	    "                          read-only unless rw; repeatable. /tmp is always a private "
	    "empty\n"
	    "                          directory, removed at exit\n"
	    "  --cwd PATH              the payload's working directory (default /)\n"
	    "  --vdso MODE             clock reads: tsc (the vDSO answers from the TSC, no exit), "
	    "syscall\n"
	    "                          (the vDSO makes the syscall), off (no vDSO) (default tsc)\n"
	    "  --timeout DURATION      stop the payload after DURATION: seconds, or with suffix "
	    "s, m, h, d\n"
	    "                          as timeout(1) (fractions allowed) (exit status 124)\n"
	    "  --max-output SIZE       the payload may write SIZE bytes in all, then SIGXFSZ "
	    "(153)\n"
	    "  --max-threads N         live guest threads, one vCPU each (default 64): clone then "
	    "fails with EAGAIN\n"
	    "  -e, --events LIST       counters, comma separated, repeatable (perf names and "
	    "{a,b} groups,\n"
	    "                          :u :k :G :H, rNNNN, cpu/event=..,umask=../, "
	    "sys:tracepoint,\n"
	    "                          kvm-stat:NAME, kvm-vcpu-stat:NAME, vmm:page-faults, "
	    "pfm:NAME,\n"
	    "                          metrics:tlb: this CPU's translation metrics);\n"
	    "                          default: a TLB-oriented set. page-faults counts vmm's "
	    "own host\n"
	    "                          faults; vmm:page-faults the payload's #PF exits vmm "
	    "handled\n"
	    "  --no-counters           open no counters at all\n"
	    "  --no-seccomp            run without vmm's seccomp filter (for debugging)\n"
	    "  --perf-control SPEC     pass the payload's regions to an outer perf stat -D -1 "
	    "--control\n"
	    "                          SPEC (fifo:CTL[,ACK] or fd:N[,M], as perf's --control)\n"
	    "  --stats                 print the run report and counters on stderr\n"
	    "  --json FILE             write the report and counters as one JSON object (- : "
	    "stdout);\n"
	    "                          the layout is docs/json-schema.md\n"
	    "  -x SEP                  print counters as perf stat -x does: value, unit, event, "
	    "run-time,\n"
	    "                          percent, metric, metric unit (a region column first when "
	    "the payload\n"
	    "                          marks regions)\n"
	    "  -o FILE                 write the counters (and --stats) to FILE, not stderr\n"
	    "  --log-fd N              write the counters (and --stats) to descriptor N\n"
	    "  -r, --repeat N          run the payload N times, a fresh VM each; counters as mean "
	    "and\n"
	    "                          ( +- relative stddev of the mean ), as perf stat -r\n"
	    "  -h, --help              this help\n"
	    "\n"
	    "Exit status: the payload's own; 128+N when it dies of signal N (139 SIGSEGV, 132 "
	    "SIGILL,\n"
	    "136 SIGFPE, 133 SIGTRAP); 124 timeout; 125 vmm failure (bad option, KVM unavailable, "
	    "out of\n"
	    "memory, triple fault, an output file that cannot be written); 126 payload cannot be "
	    "loaded;\n"
	    "127 payload not found; 128+N when vmm got signal N (SIGINT 130, SIGTERM 143, SIGHUP "
	    "129):\n"
	    "it stops the guest and still prints and writes what it counted.\n",
	    f);
}

/* A number with an optional K, M, G or T suffix (powers of 1024, "iB" or
 * "B" may follow); a bare number counts in bare_unit, "B" alone in bytes. */
static int parse_size_unit(const char *s, uint64_t bare_unit, uint64_t *out)
{
	static const char suffixes[] = "KMGT";
	const char *at;
	char *end;
	unsigned long long v;
	uint64_t mult = bare_unit;

	errno = 0;
	if (!s || !*s || *s == '-')
		return err_set("config: size '%s': not a number", s ? s : "");
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return err_set("config: size '%s': not a number", s);
	if (*end && (at = strchr(suffixes, toupper((unsigned char)*end)))) {
		mult = 1ull << (10 * (at - suffixes + 1));
		end++;
		if (*end == 'i' && end[1] == 'B')
			end += 2;
		else if (*end == 'B')
			end++;
	} else if (*end == 'B') {
		mult = 1;
		end++;
	} else if (*end) {
		return err_set("config: size '%s': unknown suffix (use K, M, G or T)", s);
	}
	if (*end)
		return err_set("config: size '%s': trailing characters", s);
	if (__builtin_mul_overflow((uint64_t)v, mult, out))
		return err_set("config: size '%s': too large", s);
	return 0;
}

int config_parse_size(const char *s, uint64_t *out)
{
	return parse_size_unit(s, 1, out);
}

int config_parse_mem(const char *s, uint64_t *out)
{
	return parse_size_unit(s, 1ull << 20, out);
}

int config_parse_dir(const char *s, struct config_dir *d)
{
	const char *parts[4];
	size_t lens[4], n = 0;
	const char *p = s;

	memset(d, 0, sizeof(*d));
	while (n < 4) {
		size_t len = strcspn(p, ":");

		parts[n] = p;
		lens[n++] = len;
		if (!p[len])
			break;
		p += len + 1;
	}
	if (n > 1 && ((lens[n - 1] == 2 && strncmp(parts[n - 1], "rw", 2) == 0) ||
		      (lens[n - 1] == 2 && strncmp(parts[n - 1], "ro", 2) == 0))) {
		d->rw = parts[n - 1][1] == 'w';
		n--;
	}
	if (n > 2 || lens[0] == 0)
		return err_set("config: --dir '%s': use HOST[:GUEST][:ro|rw]", s);
	if (lens[0] >= sizeof(d->host) || (n == 2 && lens[1] >= sizeof(d->guest)))
		return err_set("config: --dir '%s': path too long", s);
	memcpy(d->host, parts[0], lens[0]);
	if (n == 2) {
		memcpy(d->guest, parts[1], lens[1]);
		if (d->guest[0] != '/')
			return err_set("config: --dir '%s': the guest path must be absolute", s);
	}
	return 0;
}

const char *tlb_flush_policy_name(enum tlb_flush_policy p)
{
	return p == TLB_FLUSH_FULL ? "full" : p == TLB_FLUSH_PAGE ? "page" : "auto";
}

static int config_parse_tlb_flush(const char *s, enum tlb_flush_policy *out)
{
	static const enum tlb_flush_policy all[] = {TLB_FLUSH_AUTO, TLB_FLUSH_FULL, TLB_FLUSH_PAGE};

	for (size_t i = 0; i < ARRAY_SIZE(all); i++)
		if (strcmp(s, tlb_flush_policy_name(all[i])) == 0) {
			*out = all[i];
			return 0;
		}
	return err_set("config: --tlb-flush '%s': use auto, full or page", s);
}

const char *vdso_mode_name(enum vdso_mode m)
{
	return m == VDSO_SYSCALL ? "syscall" : m == VDSO_OFF ? "off" : "tsc";
}

static int config_parse_vdso(const char *s, enum vdso_mode *out)
{
	static const enum vdso_mode all[] = {VDSO_TSC, VDSO_SYSCALL, VDSO_OFF};

	for (size_t i = 0; i < ARRAY_SIZE(all); i++)
		if (strcmp(s, vdso_mode_name(all[i])) == 0) {
			*out = all[i];
			return 0;
		}
	return err_set("config: --vdso '%s': use tsc, syscall or off", s);
}

int config_parse_duration(const char *s, double *out)
{
	char *end;
	double mult = 1;

	errno = 0;
	*out = strtod(s, &end);
	if (errno || end == s || !isfinite(*out) || *out <= 0)
		goto bad;
	/* timeout(1)'s suffixes: s seconds (the default), m minutes, h hours, d days. */
	switch (*end) {
	case 's':
		end++;
		break;
	case 'm':
		mult = 60;
		end++;
		break;
	case 'h':
		mult = 3600;
		end++;
		break;
	case 'd':
		mult = 86400;
		end++;
		break;
	}
	*out *= mult;
	if (*end || *out > 1e7)
		goto bad;
	return 0;
bad:
	return err_set("config: --timeout '%s': need a positive duration: a number with "
		       "an optional suffix s, m, h or d (as timeout(1)), at most 10^7 s",
		       s);
}

/* -e may be given more than once: the lists add up, as with perf. */
static int config_add_events(struct config *c, const char *arg)
{
	size_t used = strlen(c->events_buf), len = strlen(arg);

	if (!*arg)
		return err_set("config: -e '': empty event list (leave -e out for the default "
			       "set)");
	if (used + len + 2 > sizeof(c->events_buf))
		return err_set("config: -e: the event lists add up to more than %zu characters",
			       sizeof(c->events_buf) - 1);
	if (used)
		c->events_buf[used++] = ',';
	memcpy(c->events_buf + used, arg, len + 1);
	c->events = c->events_buf;
	return 0;
}

/* Checks that need every option at once. */
static int config_validate(const struct config *c)
{
	if (!c->payload)
		return err_set(
		    "config: no payload given (usage: vmm run [OPTIONS] PAYLOAD [ARGS...])");
	if (c->mem_bytes < CONFIG_MIN_MEM)
		return err_set("config: --mem %lluK is too small: need at least %lluM",
			       (unsigned long long)(c->mem_bytes >> 10),
			       (unsigned long long)(CONFIG_MIN_MEM >> 20));
	/* What this host's KVM can address (MAXPHYADDR) is checked by vm_setup. */
	if (c->mem_bytes > CONFIG_MAX_MEM)
		return err_set("config: --mem %lluG is more than x86-64 can address (4096T: "
			       "52-bit physical addresses)",
			       (unsigned long long)(c->mem_bytes >> 30));
	if (c->no_counters && c->events)
		return err_set("config: --no-counters and -e exclude each other");
	if (c->csv_sep && !*c->csv_sep)
		return err_set("config: -x needs a non-empty separator");
	if (c->output_path && c->log_fd >= 0)
		return err_set("config: -o and --log-fd exclude each other");
	if (c->output_path && c->json_path && strcmp(c->output_path, c->json_path) == 0)
		return err_set("config: -o and --json name the same file '%s'", c->json_path);
	return 0;
}

enum {
	OPT_MEM = 256,
	OPT_BACKING,
	OPT_GUEST_PAGES,
	OPT_PREALLOC,
	OPT_TIMEOUT,
	OPT_MAX_OUTPUT,
	OPT_STATS,
	OPT_JSON,
	OPT_NO_COUNTERS,
	OPT_NO_SECCOMP,
	OPT_PERF_CONTROL,
	OPT_TLB_FLUSH,
	OPT_DIR,
	OPT_CWD,
	OPT_VDSO,
	OPT_LOG_FD,
	OPT_MAX_THREADS,
};

/* A whole decimal number in [min, max]. */
static int config_parse_uint(const char *opt, const char *s, long min, long max, long *out)
{
	char *end;

	errno = 0;
	*out = strtol(s, &end, 10);
	if (errno || end == s || *end || *out < min || *out > max)
		return err_set("config: %s '%s': need a whole number from %ld to %ld", opt, s, min,
			       max);
	return 0;
}

static int config_option(struct config *c, int opt, const char *arg)
{
	long n;

	switch (opt) {
	case OPT_MEM:
		return config_parse_mem(arg, &c->mem_bytes) < 0 ? err_wrap("config: --mem") : 0;
	case OPT_BACKING:
		return mem_backing_parse(arg, &c->backing);
	case OPT_GUEST_PAGES:
		return guest_page_policy_parse(arg, &c->guest_pages);
	case OPT_PREALLOC:
		c->prealloc = true;
		return 0;
	case OPT_TLB_FLUSH:
		return config_parse_tlb_flush(arg, &c->tlb_flush);
	case OPT_VDSO:
		return config_parse_vdso(arg, &c->vdso);
	case OPT_MAX_OUTPUT:
		return config_parse_size(arg, &c->max_output);
	case OPT_MAX_THREADS: /* 1: no threads */
		if (config_parse_uint("--max-threads", arg, 1, CONFIG_MAX_THREADS, &n) < 0)
			return -1;
		c->max_threads = (unsigned)n;
		return 0;
	case OPT_TIMEOUT:
		return config_parse_duration(arg, &c->timeout_s);
	case OPT_STATS:
		c->stats = true;
		return 0;
	case OPT_JSON:
		c->json_path = arg;
		return 0;
	case OPT_NO_SECCOMP:
		c->no_seccomp = true;
		return 0;
	case OPT_NO_COUNTERS:
		c->no_counters = true;
		return 0;
	case OPT_PERF_CONTROL:
		c->perf_control = arg;
		return 0;
	case OPT_DIR:
		if (c->ndirs == CONFIG_MAX_DIRS)
			return err_set("config: --dir: at most %d directories", CONFIG_MAX_DIRS);
		return config_parse_dir(arg, &c->dirs[c->ndirs++]);
	case OPT_CWD:
		if (arg[0] != '/')
			return err_set("config: --cwd '%s': must be an absolute guest path", arg);
		c->cwd = arg;
		return 0;
	case 'e':
		return config_add_events(c, arg);
	case 'x':
		c->csv_sep = arg;
		return 0;
	case 'o':
		c->output_path = arg;
		return 0;
	case OPT_LOG_FD:
		if (config_parse_uint("--log-fd", arg, 0, INT32_MAX, &n) < 0)
			return -1;
		c->log_fd = (int)n;
		return 0;
	case 'r':
		if (config_parse_uint("--repeat", arg, 1, CONFIG_MAX_REPEAT, &n) < 0)
			return -1;
		c->repeat = (unsigned)n;
		return 0;
	case 'h':
		c->help = true;
		return 0;
	default:
		return err_set("config: unknown option (see vmm run --help)");
	}
}

int config_parse(struct config *c, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"mem", required_argument, NULL, OPT_MEM},
	    {"backing", required_argument, NULL, OPT_BACKING},
	    {"guest-pages", required_argument, NULL, OPT_GUEST_PAGES},
	    {"prealloc", no_argument, NULL, OPT_PREALLOC},
	    {"tlb-flush", required_argument, NULL, OPT_TLB_FLUSH},
	    {"vdso", required_argument, NULL, OPT_VDSO},
	    {"timeout", required_argument, NULL, OPT_TIMEOUT},
	    {"max-output", required_argument, NULL, OPT_MAX_OUTPUT},
	    {"max-threads", required_argument, NULL, OPT_MAX_THREADS},
	    {"stats", no_argument, NULL, OPT_STATS},
	    {"json", required_argument, NULL, OPT_JSON},
	    {"events", required_argument, NULL, 'e'},
	    {"no-counters", no_argument, NULL, OPT_NO_COUNTERS},
	    {"no-seccomp", no_argument, NULL, OPT_NO_SECCOMP},
	    {"perf-control", required_argument, NULL, OPT_PERF_CONTROL},
	    {"dir", required_argument, NULL, OPT_DIR},
	    {"cwd", required_argument, NULL, OPT_CWD},
	    {"help", no_argument, NULL, 'h'},
	    {"output", required_argument, NULL, 'o'},
	    {"log-fd", required_argument, NULL, OPT_LOG_FD},
	    {"repeat", required_argument, NULL, 'r'},
	    {0, 0, 0, 0},
	};
	int opt;

	memset(c, 0, sizeof(*c));
	c->mem_bytes = CONFIG_DEFAULT_MEM;
	c->backing = MEM_BACKING_ANON;
	c->guest_pages = GUEST_PAGES_4K;
	c->log_fd = -1;
	c->repeat = 1;
	c->max_threads = CONFIG_DEFAULT_THREADS;
	/* 0, not 1: glibc then also forgets a half-read "-ab" cluster of an
	 * earlier call that failed, which would point into freed memory. */
	optind = 0;
	opterr = 0;
	/* '+': stop at the payload; ':' : report a missing argument distinctly. */
	while ((opt = getopt_long(argc, argv, "+:e:x:o:r:h", opts, NULL)) != -1) {
		/* A short option inside a cluster ("-sx") is named by optopt. */
		if (opt == '?' && optopt)
			return err_set("config: unknown option '-%c' (see vmm run --help)", optopt);
		if (opt == '?')
			return err_set("config: unknown option '%s' (see vmm run --help)",
				       argv[optind - 1]);
		if (opt == ':')
			return err_set("config: option '%s' needs an argument", argv[optind - 1]);
		if (config_option(c, opt, optarg) < 0)
			return -1;
		if (c->help)
			return 0;
	}
	if (optind < argc) {
		c->payload = argv[optind];
		c->payload_argc = argc - optind;
		c->payload_argv = argv + optind;
	}
	return config_validate(c);
}
