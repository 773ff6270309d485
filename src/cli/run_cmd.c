/* One run of the payload in this process, and the stop signals: SIGINT,
 * SIGTERM or SIGHUP stop the guest (vm_request_stop), and the run still
 * prints and writes everything counted, marked as interrupted. */
#include "cli/run_cmd.h"

#include <errno.h>
#include <json-c/json.h>
#include <string.h>
#include <unistd.h>

#include "report/report.h"
#include "util/err.h"
#include "vm/vm.h"

volatile sig_atomic_t run_cmd_signal;
volatile pid_t run_cmd_child;
static struct vm *volatile running_vm;
static volatile sig_atomic_t second_signal_exits = 1;

static void run_cmd_on_signal(int sig)
{
	int saved = errno;

	/* A second one is the user insisting (a set-up that takes long, a
	 * report that will not come): go now, as perf stat does. */
	if (run_cmd_signal && second_signal_exits)
		_exit(128 + sig);
	if (!run_cmd_signal)
		run_cmd_signal = sig;
	if (running_vm)
		vm_request_stop(running_vm, sig);
	if (run_cmd_child > 0)
		kill(run_cmd_child, sig);
	errno = saved;
}

int run_cmd_catch_signals(void)
{
	static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
	/* No SA_RESTART: a wait in progress returns, and the caller looks. */
	struct sigaction sa = {.sa_handler = run_cmd_on_signal};

	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (sigaction(sigs[i], &sa, NULL) < 0)
			return err_set("run: sigaction(SIG%s): %s", sigabbrev_np(sigs[i]),
				       strerror(errno));
	return 0;
}

void run_cmd_as_repeat_child(void)
{
	run_cmd_child = 0;
	second_signal_exits = 0;
}

const char *run_cmd_signal_name(int sig, char *buf, size_t len)
{
	const char *abbrev = sigabbrev_np(sig);

	if (abbrev)
		snprintf(buf, len, "SIG%s", abbrev);
	else
		snprintf(buf, len, "signal %d", sig);
	return buf;
}

bool run_cmd_wants_counters(const struct config *c)
{
	return c->stats || c->events || c->csv_sep || c->output_path || c->log_fd >= 0 ||
	       c->repeat > 1;
}

void run_cmd_command(const struct config *c, char *buf, size_t len)
{
	size_t o = 0;

	buf[0] = '\0';
	for (int i = 0; i < c->payload_argc && o + 1 < len; i++) {
		int n = snprintf(buf + o, len - o, "%s%s", i ? " " : "", c->payload_argv[i]);

		if (n < 0)
			break;
		o += (size_t)n;
	}
}

int run_cmd_once(const struct config *c, struct report_output *out, json_object **doc)
{
	struct vm vm;
	struct run_result res;
	char name[32];
	int status;

	*doc = NULL;
	status = vm_setup(&vm, c);
	if (status != 0) {
		fprintf(stderr, "vmm: %s\n", err_msg());
		vm_destroy(&vm);
		return status;
	}
	running_vm = &vm;
	if (run_cmd_signal) /* it came during the set-up */
		vm_request_stop(&vm, run_cmd_signal);
	res = vm_run(&vm);
	running_vm = NULL;
	run_end_print(&vm, stderr);
	if (res.end == RUN_INTERRUPTED)
		fprintf(stderr, "vmm: interrupted by %s: the guest was stopped\n",
			run_cmd_signal_name(res.status, name, sizeof(name)));
	if (c->stats)
		report_print(&vm, out->counters);
	if (out->json || run_cmd_wants_counters(c)) /* else nobody reads it */
		*doc = report_json(&vm, res.end == RUN_INTERRUPTED
					    ? run_cmd_signal_name(res.status, name, sizeof(name))
					    : NULL);
	vm_destroy(&vm);
	return run_exit_status(res);
}
