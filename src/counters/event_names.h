/* The -e list: perf's event syntax plus KVM statistics and vmm's own
 * counts, parsed into specs that perf_events, kvm_stats and counters open.
 * Parsing reads libpfm4's tables and, for PMU/terms/ events only, the
 * PMU's sysfs directory.
 *
 * Syntax: a comma separated list (-e may be given more than once: the
 * lists add up), blanks around names ignored; an item is
 *   cycles, dTLB-load-misses, page-faults, ...   generic perf names
 *   NAME:MODS        MODS from G (guest only: exclude_host), H (host only:
 *                    exclude_guest), u (user only), k (kernel only)
 *   {A,B,...}[:MODS] a group: perf schedules its members together (one
 *                    group leader, the others opened with its group_fd);
 *                    MODS apply to every member
 *   rNNNN[:MODS]     a raw PMU event, NNNN hex (PERF_TYPE_RAW config)
 *   PMU/TERMS/[MODS] e.g. cpu/event=0x08,umask=0x0e/u: the type from
 *                    <pmu>/type, each term's bits from <pmu>/format/<term>
 *   SYS:NAME         a tracepoint, e.g. kvm:kvm_exit, kvmmmu:kvm_mmu_set_spte
 *   kvm-stat:NAME    a VM statistic (KVM_GET_STATS_FD), e.g. kvm-stat:pages_2m
 *   kvm-vcpu-stat:NAME   a vCPU statistic, e.g. kvm-vcpu-stat:exits
 *   vmm:NAME         a count vmm keeps itself: vmm:page-faults (the
 *                    payload's #PF exits vmm handled), vmm:exits, ...
 *   pfm:NAME[:MODS]  a raw CPU event through libpfm4, e.g.
 *                    pfm:DTLB_LOAD_MISSES:WALK_COMPLETED (a '.' between
 *                    event and umask, perf's spelling, is accepted too)
 *   metrics:tlb      the events of this CPU generation's translation
 *                    metrics (metrics.h), counted in guest mode; the
 *                    output adds the figures
 *   NAME             not a generic name and without ':': tried through
 *                    libpfm4 (use pfm: for libpfm4 names with ':')
 * The ':' ambiguity: a last ':'-part made of modifier letters only is a
 * modifier ("cycles:G"); otherwise the ':' separates a tracepoint's system
 * and name ("kvm:kvm_exit"). After a generic name, anything after ':' must
 * be modifiers ("cycles:p" is an error, not a tracepoint). G and H apply to
 * hardware events only; tracepoints, KVM statistics and vmm counts take no
 * modifiers. Without a modifier an event counts host and guest (perf stat,
 * unlike this, excludes the guest by default).
 *
 * A name that exists nowhere is an error, with the close matches of its
 * kind; a name that exists but that this host cannot count (a libpfm4
 * event of a PMU this CPU lacks, cpu/../ without a cpu PMU) is a spec with
 * `unsupported` set, reported as <not supported>. KVM statistics and
 * tracepoints are checked against the host when they are opened
 * (counters_open), still before the payload runs. */
#ifndef VMM_EVENT_NAMES_H
#define VMM_EVENT_NAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EVENT_NAME_MAX 128
#define EVENT_LIST_MAX 64 /* more events than this only multiplex into noise */

enum event_kind {
	EVENT_HARDWARE,	     /* PMU events: generic, cache, or raw via libpfm4 */
	EVENT_SOFTWARE,	     /* kernel software events: page-faults, task-clock */
	EVENT_TRACEPOINT,    /* PERF_TYPE_TRACEPOINT: sys:name */
	EVENT_KVM_VM_STAT,   /* kvm-stat:NAME */
	EVENT_KVM_VCPU_STAT, /* kvm-vcpu-stat:NAME */
	EVENT_VMM,	     /* vmm:NAME: counted by vmm itself */
};

/* The counts vmm keeps itself, as vmm:NAME events (vmm_count_name). */
enum vmm_count {
	VMM_COUNT_PAGE_FAULTS,	   /* the payload's #PF exits that vmm handled */
	VMM_COUNT_SPURIOUS_FAULTS, /* of those, on a translation already fixed */
	VMM_COUNT_EXITS,	   /* KVM_RUN returns */
	VMM_COUNT_SYSCALLS,	   /* the payload's system calls */
	VMM_COUNT_N,
};
const char *vmm_count_name(enum vmm_count k);

struct event_spec {
	char name[EVENT_NAME_MAX]; /* as written, blanks trimmed: the report's key */
	enum event_kind kind;
	/* perf_event_attr fields for hardware and software events. */
	uint32_t type;
	uint64_t config, config1, config2;
	bool exclude_host, exclude_guest, exclude_user, exclude_kernel;
	/* Default set: where the PMU cannot tell guest from host, count without
	 * :G under the name without ":G" instead of reporting nothing. */
	bool guest_fallback;
	char sys[64], event[64]; /* tracepoint system and name; KVM stat in event */
	/* {...} groups: 0 for none, else the group's number (1, 2, ...); the
	 * first member of a group is its leader. */
	unsigned group;
	bool group_leader;
	/* A name that is known but cannot be encoded on this host (a pfm: event
	 * libpfm4 has no table for): the reason, reported as not supported. */
	char unsupported[160];
};

struct event_list {
	size_t n;
	struct event_spec *ev;
};

/* The set counted when no -e is given: TLB misses and cycles/instructions
 * in guest mode, page faults, the KVM statistics that prove page sizes,
 * and the vCPU's exits, faults and TLB flushes. Counting only, no
 * sampling, no tracepoints (slow to open, see event_names.c). */
extern const char event_default_list[];

/* Parses `list` (NULL: the default set). Errors: "events: empty event list",
 * "events: cyclez: unknown event (close matches: cycles; generic names:
 * cycles, ...; prefixes: ...)", "events: vmm:pagefaults: unknown vmm count
 * (close matches: vmm:page-faults; ...)",
 * "events: cycles:p: unknown modifier 'p' (modifiers: G H u k)",
 * "events: page-faults:G: modifier G applies to hardware events only",
 * "events: kvm:kvm_exit:u: tracepoints take no modifiers",
 * "events: cycles: listed twice", "events: empty name in \"a,,b\"". */
int event_list_parse(struct event_list *l, const char *list);
void event_list_free(struct event_list *l);

const char *event_kind_name(enum event_kind k);

/* Where PMU/terms/ events look for <pmu>/type and <pmu>/format/ (default
 * /sys/bus/event_source/devices): tests point it at a fake tree. */
void event_names_set_pmu_root(const char *dir);
/* Pure: ORs `value` into the config words per one sysfs format line,
 * "config:0-7", "config1:0-63" or "config:0-7,32-35" (bits taken from the
 * value's low end, range by range). Errors: "format 'config:0-7': value
 * 0x100 does not fit in 8 bits", "format 'cfg:1': not configN:BITS". */
int pmu_format_apply(const char *format, uint64_t value, uint64_t config[3]);
/* Writes the generic names (aliases left out), comma separated, for help
 * and messages; returns buf. */
const char *event_generic_names(char *buf, size_t len);

#endif
