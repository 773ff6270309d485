/* Reading the one-line files through which the kernel reports its settings.
 * Every caller decides what a missing file means. */
#include "util/sysfs.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool sysfs_read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");
	bool ok;

	if (!f)
		return false;
	ok = fgets(buf, (int)len, f) != NULL;
	fclose(f);
	if (ok)
		buf[strcspn(buf, "\n")] = '\0';
	return ok;
}

bool sysfs_read_long(const char *path, long long *val)
{
	char buf[32], *end;

	if (!sysfs_read_line(path, buf, sizeof(buf)))
		return false;
	errno = 0;
	*val = strtoll(buf, &end, 10);
	return errno == 0 && end != buf;
}
