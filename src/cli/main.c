/* vmm: a KVM VMM that runs one static Linux program at guest CPL3 to
 * measure what virtual memory costs in a VM. main is the only place that
 * prints module errors and decides the exit status. */
#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/info.h"
#include "cli/run_cmd.h"
#include "report/perf_rows.h"
#include "report/provenance.h"
#include "report/report.h"
#include "util/err.h"
#include "util/version.h"
#include "vm/vm.h"

static void usage(FILE *f)
{
	fputs("usage: vmm run [OPTIONS] PAYLOAD [ARGS...]   run a static ELF in a guest\n"
	      "       vmm info [--json]                     what this host offers\n"
	      "       vmm run --help                        options of run\n"
	      "       vmm --version                         version and commit\n",
	      f);
}

/* The counters of one run report, as perf stat prints them. */
static void print_counters(const struct config *c, FILE *f, json_object *doc)
{
	struct perf_block *blocks;
	size_t n = perf_blocks_from_report(doc, &blocks);
	char cmd[512];
	json_object *intr = NULL;
	struct perf_run_info info = {.command = cmd, .runs = 1};

	run_cmd_command(c, cmd, sizeof(cmd));
	info.wall_s = (double)perf_report_wall_ns(doc) / 1e9;
	if (json_object_object_get_ex(doc, "interrupted", &intr) && intr)
		info.interrupted = json_object_get_string(intr);
	if (c->csv_sep)
		perf_stat_print_csv(f, c->csv_sep, &info, blocks, n);
	else
		perf_stat_print_table(f, &info, blocks, n);
	perf_blocks_free(blocks, n);
}

static int cmd_run_single(const struct config *c, struct report_output *out)
{
	json_object *doc;
	int status = run_cmd_once(c, out, &doc);

	if (!doc)
		return status;
	if (run_cmd_wants_counters(c) && json_object_object_get_ex(doc, "total", NULL)) {
		print_counters(c, out->counters, doc);
		fflush(out->counters); /* before the JSON, should both go to stdout */
	}
	if (out->json && report_json_write(doc, out->json, out->json_name) < 0) {
		fprintf(stderr, "vmm: %s\n", err_msg());
		status = EXIT_VMM;
	}
	json_object_put(doc);
	return status;
}

static int cmd_run(int argc, char **argv)
{
	struct config cfg;
	struct report_output out;
	int status;

	if (config_parse(&cfg, argc, argv) < 0) {
		fprintf(stderr, "vmm: %s\n", err_msg());
		return EXIT_VMM;
	}
	if (cfg.help) {
		config_usage(stdout);
		return 0;
	}
	/* Counters that no output shows would only cost start-up and every
	 * region edge: a plain run opens none. */
	if (!run_cmd_wants_counters(&cfg) && !cfg.json_path)
		cfg.no_counters = true;
	/* Before the payload runs: a report that cannot be written is an
	 * error now, not after the run. */
	if (run_cmd_catch_signals() < 0 || report_output_open(&out, &cfg) < 0) {
		fprintf(stderr, "vmm: %s\n", err_msg());
		return EXIT_VMM;
	}
	/* A closed pipe is the payload's SIGPIPE (kernel/sys_signal.c), not vmm's. */
	signal(SIGPIPE, SIG_IGN);
	status = cfg.repeat > 1 ? repeat_run(&cfg, &out) : cmd_run_single(&cfg, &out);
	/* No report at all (set-up failed): leave no empty --json file. */
	if (out.own_json && ftell(out.json) == 0)
		unlink(cfg.json_path);
	if (report_output_close(&out) < 0) {
		fprintf(stderr, "vmm: %s\n", err_msg());
		return status ? status : EXIT_VMM;
	}
	return status;
}

int main(int argc, char **argv)
{
	provenance_set_command_line(argc, argv);
	if (argc < 2) {
		usage(stderr);
		return EXIT_VMM;
	}
	if (strcmp(argv[1], "run") == 0)
		return cmd_run(argc - 1, argv + 1);
	if (strcmp(argv[1], "info") == 0)
		return info_main(argc - 1, argv + 1);
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
		printf("vmm version %s (commit %s)\n", vmm_version(), vmm_commit());
		return 0;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	fprintf(stderr, "vmm: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return EXIT_VMM;
}
