/* The seccomp filter vmm puts on itself once the guest is built (README,
 * "Confinement"): what the run loop, the syscall handlers and the report
 * need, nothing else; a forbidden call ends vmm with a message and 125. */
#ifndef VMM_SECCOMP_H
#define VMM_SECCOMP_H

struct vm;

/* The descriptors KVM's ioctls are allowed on: the VM and its vCPUs
 * (-1 for an unused slot). */
struct confine_fds {
	int kvm_fds[2];
};

/* Installs the filter on every thread of vmm, for good. 0, or -1 with err
 * set (the kernel refused it). */
int confine_install(const struct confine_fds *fds);

/* The run loop's hook, called once before the first KVM_RUN: installs the
 * filter for this VM unless --no-seccomp. 0, or -1 with err set. */
int confine_vm(const struct vm *vm);

#endif
