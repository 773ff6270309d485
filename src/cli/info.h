/* `vmm info [--json]`: what this host offers the measurements: KVM and its
 * paging mode, the CPUID features that decide page sizes (host and guest),
 * the PMU event by event, huge page pools, THP, tracefs and the kvm
 * tracepoints, and the KVM statistics a VM and a vCPU expose. */
#ifndef VMM_INFO_H
#define VMM_INFO_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* Exit statuses of info_main. */
#define INFO_EXIT_OK 0
#define INFO_EXIT_USAGE 125 /* a bad option, or the output could not be written */
/* vmm info --check-counters: 0 trusted, and these. */
#define INFO_EXIT_UNTRUSTED 1 /* the PMU counted the known loop wrong */
#define INFO_EXIT_NO_PMU 2    /* no PMU: nothing can be checked (this VM) */

/* argv[0] is the subcommand ("info"); options follow: --json, -h/--help.
 * Something the host lacks (no /dev/kvm, no tracefs) is reported, not an
 * error. */
int info_main(int argc, char **argv);

/* What info_main prints, into f: text or one JSON object. Returns 0, or
 * -1 with err set when f could not be written. */
int info_print(FILE *f, bool json);

/* A CPUID feature bit info reports. */
struct info_cpuid_feature {
	const char *name; /* as /proc/cpuinfo spells it */
	uint32_t leaf, subleaf;
	uint8_t reg; /* INFO_REG_* */
	uint8_t bit;
};
enum { INFO_REG_EAX, INFO_REG_EBX, INFO_REG_ECX, INFO_REG_EDX };

extern const struct info_cpuid_feature info_cpuid_features[];
extern const size_t info_cpuid_nfeatures;

/* 1 or 0: the host CPU (CPUID instruction) has the named feature; -1 for a
 * name not in info_cpuid_features. */
int info_host_has(const char *name);

#endif
