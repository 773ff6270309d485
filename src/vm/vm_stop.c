/* Stopping the VM from outside the run loop: a signal vmm got (SIGINT,
 * SIGTERM, SIGHUP). The run loop sees the request before its next entry
 * and ends the run as RUN_INTERRUPTED, with everything counted so far. */
#include "vm/vm.h"

int vm_request_stop(struct vm *vm, int sig)
{
	vm->stop_signal = sig;
	/* A vCPU not created yet has no thread to kick; the run loop still
	 * sees stop_signal before its first entry. */
	if (vm->vcpu.tid <= 0)
		return 0;
	return vcpu_request_stop(&vm->vcpu);
}
