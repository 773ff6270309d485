/* The one place where an error message lives until main prints it. */
#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static char err_buf[1024];

int err_set(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err_buf, sizeof(err_buf), fmt, ap);
	va_end(ap);
	return -1;
}

int err_wrap(const char *fmt, ...)
{
	char inner[sizeof(err_buf)], outer[sizeof(err_buf)];
	va_list ap;

	memcpy(inner, err_buf, sizeof(inner));
	va_start(ap, fmt);
	vsnprintf(outer, sizeof(outer), fmt, ap);
	va_end(ap);
	snprintf(err_buf, sizeof(err_buf), "%s: %s", outer, inner);
	return -1;
}

const char *err_msg(void) { return err_buf[0] ? err_buf : "unknown error"; }

void err_clear(void) { err_buf[0] = '\0'; }

void vmm_warn(const char *fmt, ...)
{
	va_list ap;

	fputs("vmm: warning: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}
