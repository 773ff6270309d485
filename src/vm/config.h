/* Command line of `vmm run`: every option, its default, and all validation
 * that does not need KVM, in one place. */
#ifndef VMM_CONFIG_H
#define VMM_CONFIG_H

#include <stdio.h>

#include "guest/mem.h"
#include "kernel/mm.h"

#define CONFIG_DEFAULT_MEM (1ull << 30)

/* How page-table updates invalidate the guest TLB. */
enum tlb_flush_policy {
	TLB_FLUSH_AUTO, /* invlpg per page up to 33 pages, then a full flush (Linux) */
	TLB_FLUSH_FULL, /* always a full flush (CR3 reload) */
	TLB_FLUSH_PAGE, /* always invlpg per page, however many */
};
const char *tlb_flush_policy_name(enum tlb_flush_policy p);

/* --dir HOST[:GUEST][:ro|rw]: a host directory the payload may use. */
#define CONFIG_MAX_DIRS 16
#define CONFIG_PATH_MAX 4096
struct config_dir {
	char host[CONFIG_PATH_MAX];
	char guest[CONFIG_PATH_MAX]; /* "": the host's absolute path */
	bool rw;
};

/* What the guest's clock reads do (--vdso). */
enum vdso_mode {
	VDSO_TSC,     /* the vDSO answers from the TSC (syscall where it cannot) */
	VDSO_SYSCALL, /* the vDSO is there but every read makes the syscall */
	VDSO_OFF,     /* no vDSO (no AT_SYSINFO_EHDR): libc makes the syscall */
};
const char *vdso_mode_name(enum vdso_mode m);

/* --max-threads: the default and the most vmm accepts (KVM may allow
 * fewer: vm_setup caps it at KVM_CAP_MAX_VCPUS). */
#define CONFIG_DEFAULT_THREADS 64
#define CONFIG_MAX_THREADS 1024

struct config {
	uint64_t mem_bytes;
	enum mem_backing backing;
	enum guest_page_policy guest_pages;
	bool prealloc;
	enum tlb_flush_policy tlb_flush;	 /* --tlb-flush */
	enum vdso_mode vdso;			 /* --vdso */
	double timeout_s;			 /* 0: none */
	uint64_t max_output;			 /* --max-output bytes, 0: none */
	unsigned max_threads;			 /* --max-threads: live guest threads (vCPUs) */
	bool stats;				 /* report on stderr */
	const char *json_path;			 /* --json FILE */
	const char *events;			 /* -e LIST, NULL: default set */
	const char *csv_sep;			 /* -x SEP */
	bool no_counters;			 /* --no-counters */
	bool no_seccomp;			 /* --no-seccomp: no filter (debugging) */
	const char *perf_control;		 /* --perf-control fifo:CTL[,ACK] | fd:N[,M] */
	struct config_dir dirs[CONFIG_MAX_DIRS]; /* --dir, in order */
	int ndirs;
	const char *cwd; /* --cwd: the payload's working directory, NULL: / */
	const char *payload;
	int payload_argc; /* payload + its arguments */
	char **payload_argv;
	bool help;
};

/* Parses `vmm run` arguments (argv[0] is "run"). -1 with err set on bad
 * input; help is set (and 0 returned) for --help. */
int config_parse(struct config *c, int argc, char **argv);
void config_usage(FILE *f);

/* One --dir argument into d. -1 with err set. */
int config_parse_dir(const char *s, struct config_dir *d);

/* "1G", "512M", "4096K", "8192": bytes, overflow-checked. */
int config_parse_size(const char *s, uint64_t *out);

#endif
