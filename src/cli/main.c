/* vmm: a KVM VMM that runs one static Linux program at guest CPL3 to
 * measure what virtual memory costs in a VM. main is the only place that
 * prints module errors and decides the exit status. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli/info.h"
#include "report/report.h"
#include "util/err.h"
#include "vm/vm.h"

static void usage(FILE *f)
{
	fputs("usage: vmm run [OPTIONS] PAYLOAD [ARGS...]   run a static ELF in a guest\n"
	      "       vmm info [--json]                     what this host offers\n"
	      "       vmm run --help                        options of run\n",
	      f);
}

static void cmd_run_report(struct vm *vm)
{
	const struct config *c = vm->cfg;

	if (c->stats)
		report_print(vm, stderr);
	if (vm->counters && c->csv_sep)
		counters_print_csv(vm->counters, stderr, c->csv_sep);
	else if (vm->counters && (c->stats || c->events))
		counters_print_table(vm->counters, stderr);
	if (c->json_path && report_write_json(vm, c->json_path) < 0)
		fprintf(stderr, "vmm: %s\n", err_msg());
}

static int cmd_run(int argc, char **argv)
{
	struct config cfg;
	struct vm vm;
	struct run_result res;
	int status;

	if (config_parse(&cfg, argc, argv) < 0) {
		fprintf(stderr, "vmm: %s\n", err_msg());
		return EXIT_VMM;
	}
	if (cfg.help) {
		config_usage(stdout);
		return 0;
	}
	/* A closed pipe is the payload's SIGPIPE (kernel/sys_signal.c), not vmm's. */
	signal(SIGPIPE, SIG_IGN);
	status = vm_setup(&vm, &cfg);
	if (status != 0) {
		fprintf(stderr, "vmm: %s\n", err_msg());
		vm_destroy(&vm);
		return status;
	}
	res = vm_run(&vm);
	run_end_print(&vm, stderr);
	cmd_run_report(&vm);
	vm_destroy(&vm);
	return run_exit_status(res);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return EXIT_VMM;
	}
	if (strcmp(argv[1], "run") == 0)
		return cmd_run(argc - 1, argv + 1);
	if (strcmp(argv[1], "info") == 0)
		return info_main(argc - 1, argv + 1);
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	fprintf(stderr, "vmm: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return EXIT_VMM;
}
