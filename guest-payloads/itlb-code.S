/* The code that itlb calls: ITLB_PAGES functions, each alone in its page,
 * made at build time by assembler repetition (no code is written at run
 * time: the text stays read-only and executable, never writable). Each
 * function is uint64_t f(uint64_t x) { return x + 1; }. */
#include "itlb-code.h"

	.section .text.itlb, "ax", @progbits
	.p2align ITLB_ALIGN_LOG2
	.globl itlb_code_start
itlb_code_start:
	.set fn, 0
	.rept ITLB_PAGES
	.p2align 12, 0xcc
	.if fn % ITLB_SPREAD
	.skip (fn % ITLB_SPREAD) * ITLB_LINE, 0xcc
	.endif
	lea 1(%rdi), %rax
	ret
	.set fn, fn + 1
	.endr
	.p2align 12, 0xcc
	.globl itlb_code_end
itlb_code_end:

	.section .note.GNU-stack, "", @progbits
