/* The -e list: perf's event syntax plus KVM statistics, parsed into specs
 * that perf_events and kvm_stats open. Parsing never touches the host
 * except libpfm4's tables for raw CPU event names.
 *
 * Syntax, comma separated, blanks around names ignored:
 *   cycles, dTLB-load-misses, page-faults, ...   generic perf names
 *   NAME:MODS        MODS from G (guest only: exclude_host), H (host only:
 *                    exclude_guest), u (user only), k (kernel only)
 *   SYS:NAME         a tracepoint, e.g. kvm:kvm_exit, kvmmmu:kvm_mmu_set_spte
 *   kvm-stat:NAME    a VM statistic (KVM_GET_STATS_FD), e.g. kvm-stat:pages_2m
 *   kvm-vcpu-stat:NAME   a vCPU statistic, e.g. kvm-vcpu-stat:exits
 *   pfm:NAME[:MODS]  a raw CPU event through libpfm4, e.g.
 *                    pfm:DTLB_LOAD_MISSES:WALK_COMPLETED (a '.' between
 *                    event and umask, perf's spelling, is accepted too)
 *   NAME             not a generic name and without ':': tried through
 *                    libpfm4 (use pfm: for libpfm4 names with ':')
 * The ':' ambiguity: a last ':'-part made of modifier letters only is a
 * modifier ("cycles:G"); otherwise the ':' separates a tracepoint's system
 * and name ("kvm:kvm_exit"). After a generic name, anything after ':' must
 * be modifiers ("cycles:p" is an error, not a tracepoint). G and H apply to
 * hardware events only; tracepoints and KVM statistics take no modifiers.
 * Without a modifier an event counts host and guest (perf stat, unlike
 * this, excludes the guest by default). */
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
};

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

/* Parses `list` (NULL or "": the default set). Errors: "events: cyclez:
 * unknown event (generic names: cycles, ...; prefixes: ...)",
 * "events: cycles:p: unknown modifier 'p' (modifiers: G H u k)",
 * "events: page-faults:G: modifier G applies to hardware events only",
 * "events: kvm:kvm_exit:u: tracepoints take no modifiers",
 * "events: cycles: listed twice", "events: empty name in \"a,,b\"". */
int event_list_parse(struct event_list *l, const char *list);
void event_list_free(struct event_list *l);

const char *event_kind_name(enum event_kind k);
/* Writes the generic names (aliases left out), comma separated, for help
 * and messages; returns buf. */
const char *event_generic_names(char *buf, size_t len);

#endif
