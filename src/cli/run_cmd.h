/* `vmm run`, split by job: run_cmd.c runs the payload once in this
 * process and prints the counters; repeat.c runs it -r N times, each in a
 * child process with a fresh VM, and prints the summary. */
#ifndef VMM_RUN_CMD_H
#define VMM_RUN_CMD_H

#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>

#include "report/output.h"
#include "vm/config.h"

struct json_object;

/* The first stop signal vmm got (SIGINT, SIGTERM, SIGHUP), 0: none. */
extern volatile sig_atomic_t run_cmd_signal;
/* The child running a repeat's VM, which a stop signal is passed on to. */
extern volatile pid_t run_cmd_child;

/* Installs the handler of the stop signals; -1 with err set. The first
 * stops the VM; a second one ends vmm at once (128 + signal), except in a
 * repeat's child, which gets a terminal's signal twice (from the terminal
 * and passed on by its parent). */
int run_cmd_catch_signals(void);
/* Called first in a repeat's child process. */
void run_cmd_as_repeat_child(void);
/* "SIGINT" for SIGINT. */
const char *run_cmd_signal_name(int sig, char *buf, size_t len);

/* One run in this process: sets up the VM, runs it, prints how it ended
 * (stderr) and --stats (out->counters). Returns vmm's exit status; *doc is
 * the JSON run report, NULL when the VM could not be set up. */
int run_cmd_once(const struct config *c, struct report_output *out, struct json_object **doc);

/* Whether the counters are printed (-e, --stats, -x, -o, --log-fd, -r). */
bool run_cmd_wants_counters(const struct config *c);
/* "PAYLOAD ARG..." into buf, as perf's header quotes it. */
void run_cmd_command(const struct config *c, char *buf, size_t len);

/* -r N (N > 1): exit status of the last run, or 128 + signal. */
int repeat_run(const struct config *c, struct report_output *out);

#endif
