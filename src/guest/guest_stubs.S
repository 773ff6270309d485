/* Guest code that the VMM copies into guest memory: the only code that ever
 * runs at CPL0, kept to a few instructions because PVM emulates CPL0 code
 * one instruction at a time (docs/design.md, section 6). Each stub's first job is a port
 * write that exits to the VMM, which then handles the event in C. */
#include "guest/sysarea.h"

	.section .rodata
	.code64

	.globl ktext_start, ktext_batch, ktext_end
	.balign 16
ktext_start:
	/* Exception stubs, KTEXT_STUB_SIZE bytes each: vector i at offset
	 * i * KTEXT_STUB_SIZE; stub KTEXT_NSTUBS-1 serves every other vector. */
	.rept KTEXT_NSTUBS
	.balign KTEXT_STUB_SIZE
	outb %al, $PORT_EXCEPTION
	hlt
	jmp .
	.endr

	/* Applies a batch of page-table stores prepared by the VMM, then the
	 * TLB invalidation it asks for. Stores made by the guest itself are
	 * what KVM's shadow paging traps and follows (docs/design.md, section 4).
	 *   rdi: array of {entry va, value}, rsi: count
	 *   rdx: array of page va to invlpg, rcx: count
	 *   r8: nonzero to reload CR3 instead (full flush)
 *   r10: zero to end with an exit (PORT_BATCH_DONE); nonzero to return to
 *        the payload instead: the VMM put its rax, rcx, rdx, rsi, rdi, r8,
 *        r9, r10 and then an iretq frame on the stack (one exit per
 *        page-table-changing syscall) */
	.balign 64
ktext_batch:
1:	test %rsi, %rsi
	jz 2f
	mov (%rdi), %rax
	mov 8(%rdi), %r9
	mov %r9, (%rax)
	add $16, %rdi
	dec %rsi
	jmp 1b
2:	test %r8, %r8
	jz 3f
	mov %cr3, %rax
	mov %rax, %cr3
	jmp 5f
3:	test %rcx, %rcx
	jz 5f
4:	mov (%rdx), %rax
	invlpg (%rax)
	add $8, %rdx
	dec %rcx
	jnz 4b
5:	test %r10, %r10
	jnz 6f
	outb %al, $PORT_BATCH_DONE
	hlt
	jmp .
6:	pop %rax
	pop %rcx
	pop %rdx
	pop %rsi
	pop %rdi
	pop %r8
	pop %r9
	pop %r10
	iretq
ktext_end:

	/* The syscall entry (IA32_LSTAR). It lives on a user-accessible page
	 * because under PVM `syscall` reaches it still at CPL3. */
	.globl utext_start, utext_end
	.balign 16
utext_start:
	outb %al, $PORT_SYSCALL
	hlt
	jmp .
utext_end:

	.section .note.GNU-stack, "", @progbits
