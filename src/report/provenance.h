/* Where a JSON document came from: every document vmm writes carries
 * "schema_version" (docs/json-schema.md) and "provenance": the vmm version
 * and commit, the host, its kernel and CPU model, the paging mode KVM
 * gave, the date (ISO 8601 UTC) and vmm's command line. */
#ifndef VMM_PROVENANCE_H
#define VMM_PROVENANCE_H

#include <stddef.h>
#include <stdio.h>
#include <time.h>

/* The layout version of vmm's JSON documents: raised when a key changes
 * meaning or goes away (new keys do not raise it). */
#define REPORT_SCHEMA_VERSION 1

struct json_object;

/* Remembers vmm's own argv for the "command_line" of later documents
 * (main calls it first). The strings must outlive the documents. */
void provenance_set_command_line(int argc, char **argv);

/* Adds "document": kind, "schema_version" and "provenance" to root.
 * paging_mode: "shadow", "npt", "ept", ... (kvm_paging_mode_name). */
void provenance_add(struct json_object *root, const char *kind, const char *paging_mode);

/* "2026-12-01T02:45:00Z" into buf (at least 21 bytes); -1 if t is out of
 * range. */
int provenance_iso8601(time_t t, char *buf, size_t len);
/* The first "model name" of a /proc/cpuinfo text into buf; -1 if none. */
int provenance_cpu_model(FILE *cpuinfo, char *buf, size_t len);

#endif
