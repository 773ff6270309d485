/* The one place where an error message lives until main prints it. One
 * buffer per thread: a vCPU thread's failure must not overwrite another's
 * message before its caller reads it. */
#include "util/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static _Thread_local char err_buf[ERR_MSG_MAX];

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
	char inner[sizeof(err_buf)], outer[sizeof(err_buf) / 2];
	va_list ap;

	memcpy(inner, err_buf, sizeof(inner));
	va_start(ap, fmt);
	vsnprintf(outer, sizeof(outer), fmt, ap);
	va_end(ap);
	/* outer, then ": ", then as much of inner as fits. */
	size_t n = strlen(outer);
	memcpy(err_buf, outer, n);
	if (n + 2 < sizeof(err_buf)) {
		memcpy(err_buf + n, ": ", 2);
		n += 2;
	}
	size_t m = strnlen(inner, sizeof(err_buf) - n - 1);
	memcpy(err_buf + n, inner, m);
	err_buf[n + m] = '\0';
	return -1;
}

const char *err_msg(void)
{
	return err_buf[0] ? err_buf : "unknown error";
}

void err_clear(void)
{
	err_buf[0] = '\0';
}

void vmm_warn(const char *fmt, ...)
{
	va_list ap;

	fputs("vmm: warning: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}
