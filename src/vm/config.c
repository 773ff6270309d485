/* `vmm run` options. Parsing stops at the payload: what follows belongs to
 * it, options included, as with env(1). */
#include "vm/config.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/err.h"

#define CONFIG_MIN_MEM (16ull << 20) /* system area, tables, 8 MiB stack */

void config_usage(FILE *f)
{
	fputs(
	    "usage: vmm run [OPTIONS] PAYLOAD [ARGS...]\n"
	    "Runs a static x86-64 Linux executable in a KVM guest at CPL3, with vmm as its "
	    "kernel.\n"
	    "\n"
	    "  --mem SIZE              guest RAM, with K/M/G suffix (default 1G; costs nothing "
	    "until touched)\n"
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
	    "  --timeout SECONDS       stop the payload after SECONDS (exit status 124)\n"
	    "  --max-output SIZE       the payload may write SIZE bytes in all, then SIGXFSZ "
	    "(153)\n"
	    "  --max-threads N         live guest threads, one vCPU each (default 64): clone then "
	    "fails with EAGAIN\n"
	    "  -e, --events LIST       counters, comma separated (perf names, sys:tracepoint, "
	    "kvm-stat:NAME,\n"
	    "                          kvm-vcpu-stat:NAME, pfm:RAW); default: a TLB-oriented set\n"
	    "  --no-counters           open no counters at all\n"
	    "  --no-seccomp            run without vmm's seccomp filter (for debugging)\n"
	    "  --perf-control SPEC     pass the payload's regions to an outer perf stat -D -1 "
	    "--control\n"
	    "                          SPEC (fifo:CTL[,ACK] or fd:N[,M], as perf's --control)\n"
	    "  --stats                 print the run report and counters on stderr\n"
	    "  --json FILE             write the report and counters as one JSON object\n"
	    "  -x SEP                  print counters as CSV with separator SEP (like perf stat "
	    "-x)\n"
	    "  -h, --help              this help\n"
	    "\n"
	    "Exit status: the payload's own; 128+N when it dies of signal N (139 SIGSEGV, 132 "
	    "SIGILL,\n"
	    "136 SIGFPE, 133 SIGTRAP); 124 timeout; 125 vmm failure (bad option, KVM unavailable, "
	    "out of\n"
	    "memory, triple fault); 126 payload cannot be loaded; 127 payload not found.\n",
	    f);
}

int config_parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	uint64_t mult = 1;

	errno = 0;
	if (!s || !*s || *s == '-')
		return err_set("config: size '%s': not a number", s ? s : "");
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return err_set("config: size '%s': not a number", s);
	switch (*end) {
	case 'k':
	case 'K':
		mult = 1ull << 10;
		end++;
		break;
	case 'm':
	case 'M':
		mult = 1ull << 20;
		end++;
		break;
	case 'g':
	case 'G':
		mult = 1ull << 30;
		end++;
		break;
	case '\0':
		break;
	default:
		return err_set("config: size '%s': unknown suffix (use K, M or G)", s);
	}
	if (*end == 'i' && end[1] == 'B')
		end += 2;
	else if (*end == 'B')
		end++;
	if (*end)
		return err_set("config: size '%s': trailing characters", s);
	if (__builtin_mul_overflow((uint64_t)v, mult, out))
		return err_set("config: size '%s': too large", s);
	return 0;
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

static int config_parse_timeout(const char *s, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(*out) || *out <= 0 || *out > 1e7)
		return err_set("config: --timeout '%s': need a positive number of seconds", s);
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
	if (c->mem_bytes > (1ull << 46))
		return err_set("config: --mem %lluG is more than 64 TiB of guest physical memory",
			       (unsigned long long)(c->mem_bytes >> 30));
	if (c->no_counters && c->events)
		return err_set("config: --no-counters and -e exclude each other");
	if (c->csv_sep && !*c->csv_sep)
		return err_set("config: -x needs a non-empty separator");
	return 0;
}

/* --max-threads N: 1 (no threads) .. CONFIG_MAX_THREADS. */
static int config_parse_threads(const char *s, unsigned *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || v < 1 || v > CONFIG_MAX_THREADS)
		return err_set("config: --max-threads '%s': want a number from 1 to %d", s,
			       CONFIG_MAX_THREADS);
	*out = (unsigned)v;
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
	OPT_MAX_THREADS,
};

static int config_option(struct config *c, int opt, const char *arg)
{
	switch (opt) {
	case OPT_MEM:
		return config_parse_size(arg, &c->mem_bytes) < 0 ? err_wrap("config: --mem") : 0;
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
	case OPT_MAX_THREADS:
		return config_parse_threads(arg, &c->max_threads);
	case OPT_TIMEOUT:
		return config_parse_timeout(arg, &c->timeout_s);
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
		c->events = arg;
		return 0;
	case 'x':
		c->csv_sep = arg;
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
	    {0, 0, 0, 0},
	};
	int opt;

	memset(c, 0, sizeof(*c));
	c->mem_bytes = CONFIG_DEFAULT_MEM;
	c->backing = MEM_BACKING_ANON;
	c->guest_pages = GUEST_PAGES_4K;
	c->max_threads = CONFIG_DEFAULT_THREADS;
	/* 0, not 1: glibc then also forgets a half-read "-ab" cluster of an
	 * earlier call that failed, which would point into freed memory. */
	optind = 0;
	opterr = 0;
	/* '+': stop at the payload; ':' : report a missing argument distinctly. */
	while ((opt = getopt_long(argc, argv, "+:e:x:h", opts, NULL)) != -1) {
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
