/* The provenance block of vmm's JSON documents. Host facts are read when a
 * document is made; one that cannot be read is null, never made up. */
#include "report/provenance.h"

#include <json-c/json.h>
#include <stdbool.h>
#include <sys/utsname.h>

#include "counters/metrics.h"
#include "util/version.h"

static int prov_argc;
static char **prov_argv;

void provenance_set_command_line(int argc, char **argv)
{
	prov_argc = argc;
	prov_argv = argv;
}

int provenance_iso8601(time_t t, char *buf, size_t len)
{
	struct tm tm;

	if (!gmtime_r(&t, &tm) || strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		return -1;
	return 0;
}

int provenance_cpu_model(FILE *cpuinfo, char *buf, size_t len)
{
	char text[8192]; /* the first processor is enough, as for cpu_model_read */
	size_t n = fread(text, 1, sizeof(text) - 1, cpuinfo);

	text[n] = '\0';
	return cpuinfo_field(text, "model name", buf, len) ? 0 : -1;
}

static json_object *prov_string_or_null(bool ok, const char *s)
{
	return ok ? json_object_new_string(s) : NULL;
}

static json_object *prov_cpu(void)
{
	FILE *f = fopen("/proc/cpuinfo", "re");
	char model[256];
	bool ok = f && provenance_cpu_model(f, model, sizeof(model)) == 0;

	if (f)
		fclose(f);
	return prov_string_or_null(ok, model);
}

static json_object *prov_command_line(void)
{
	json_object *a = json_object_new_array();

	for (int i = 0; i < prov_argc; i++)
		json_object_array_add(a, json_object_new_string(prov_argv[i]));
	return a;
}

void provenance_add(struct json_object *root, const char *kind, const char *paging_mode)
{
	json_object *p = json_object_new_object();
	struct utsname u;
	bool uname_ok = uname(&u) == 0;
	char date[32];
	bool date_ok = provenance_iso8601(time(NULL), date, sizeof(date)) == 0;

	json_object_object_add(root, "document", json_object_new_string(kind));
	json_object_object_add(root, "schema_version", json_object_new_int(REPORT_SCHEMA_VERSION));
	json_object_object_add(p, "vmm_version", json_object_new_string(vmm_version()));
	json_object_object_add(p, "vmm_commit", json_object_new_string(vmm_commit()));
	json_object_object_add(p, "host", prov_string_or_null(uname_ok, u.nodename));
	json_object_object_add(p, "kernel", prov_string_or_null(uname_ok, u.release));
	json_object_object_add(p, "cpu_model", prov_cpu());
	json_object_object_add(p, "paging_mode", json_object_new_string(paging_mode));
	json_object_object_add(p, "date", prov_string_or_null(date_ok, date));
	json_object_object_add(p, "command_line", prov_command_line());
	json_object_object_add(root, "provenance", p);
}
