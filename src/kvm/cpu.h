/* The guest CPU the payload starts on: 64-bit long mode at CPL3 from the
 * first instruction, with the GDT, TSS, IDT and stubs of sysarea.h. */
#ifndef VMM_CPU_H
#define VMM_CPU_H

#include "guest/paging.h"
#include "guest/x86.h"
#include "kvm/kvm.h"
#include "kvm/vcpu.h"

/* Sets the vCPU's registers, segments, control registers, MSRs, XCR0 and
 * CPUID so that it starts at CPL3 at entry with stack pointer sp. */
int cpu_vcpu_init(struct vcpu *v, const struct kvm *k, gpa_t cr3, gva_t entry, gva_t sp);

/* The user-mode code and stack segments, for resuming the payload. */
void cpu_user_segments(struct kvm_sregs *s);
/* The kernel segments, for running the batch routine at CPL0. */
void cpu_kernel_segments(struct kvm_sregs *s);

#endif
