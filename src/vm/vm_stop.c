/* Stopping the VM from outside the run loop: a signal vmm got (SIGINT,
 * SIGTERM, SIGHUP). Every vCPU's run loop sees the request before its next
 * entry and the run ends as RUN_INTERRUPTED, with everything counted so far. */
#include "vm/vm.h"

int vm_request_stop(struct vm *vm, int sig)
{
	vm->stop_signal = sig;
	/* vCPUs not started yet have no thread to kick: the run loop still
	 * sees stop_signal before its first entry. */
	vm_stop_all(vm);
	return 0;
}
