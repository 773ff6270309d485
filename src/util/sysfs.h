/* One-line files of /sys and /proc (module parameters, hugetlb pools,
 * perf_event_paranoid): read the first line, or the number on it. */
#ifndef VMM_SYSFS_H
#define VMM_SYSFS_H

#include <stdbool.h>
#include <stddef.h>

/* The first line without its newline; false when the file cannot be opened
 * or is empty. */
bool sysfs_read_line(const char *path, char *buf, size_t len);
/* The decimal number the first line starts with; false otherwise. */
bool sysfs_read_long(const char *path, long long *val);

#endif
