/* The guest's vDSO image (built from src/guest/vdso/ by the Makefile,
 * which passes its path as VDSO_SO), embedded in vmm as it is. */
#include "guest/vvar.h"

	.section .rodata
	.globl vdso_image_start, vdso_image_end
	.balign 4096
vdso_image_start:
	.incbin VDSO_SO
vdso_image_end:
	.if vdso_image_end - vdso_image_start > VDSO_MAX_SIZE
	.error "the vDSO image is larger than VDSO_MAX_SIZE (guest/vvar.h)"
	.endif

	.section .note.GNU-stack, "", @progbits
