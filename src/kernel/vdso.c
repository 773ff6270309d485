/* Maps the vDSO into the payload's address space: the data page vmm keeps
 * filled (kernel/vclock.c) and the image built from src/guest/vdso/. Both
 * are VMA_SYSTEM regions, which mm.c seals against the payload's changes. */
#include "kernel/vdso.h"

#include <string.h>
#include <sys/mman.h>

#include "guest/uaccess.h"
#include "util/err.h"

_Static_assert(VDSO_VVAR_VA % SZ_4K == 0 && VVAR_SIZE == SZ_4K, "vvar is one page");
_Static_assert(sizeof(struct vvar_data) <= VVAR_SIZE, "vvar_data fits its page");

struct copy_ctx {
	const uint8_t *src;
	void *first; /* host address of the first piece */
};

static long copy_piece(void *ctx, void *host, size_t n)
{
	struct copy_ctx *c = ctx;

	if (!c->first)
		c->first = host;
	if (c->src) {
		memcpy(host, c->src, n);
		c->src += n;
	} else {
		memset(host, 0, n);
	}
	return 0;
}

int vdso_map(struct mm *mm, struct vvar_data **data)
{
	uint64_t size = (uint64_t)(vdso_image_end - vdso_image_start);
	struct copy_ctx image = {.src = vdso_image_start}, vvar = {0};

	/* The build refuses a larger image (vdso_image.S). */
	if (mm_map_fixed(mm, VDSO_VVAR_VA, VVAR_SIZE, PROT_READ, VMA_SYSTEM) < 0 ||
	    mm_map_fixed(mm, VDSO_VA, align_up(size, SZ_4K), PROT_READ | PROT_EXEC, VMA_SYSTEM) < 0)
		return err_wrap("vdso: mapping at 0x%llx", (unsigned long long)VDSO_VVAR_VA);
	/* Read access: the payload may not write either page, vmm may. */
	if (uaccess_each(mm->pt, VDSO_VA, size, PT_READ, copy_piece, &image) < 0 ||
	    uaccess_each(mm->pt, VDSO_VVAR_VA, VVAR_SIZE, PT_READ, copy_piece, &vvar) < 0)
		return err_set("vdso: cannot reach the pages just mapped at 0x%llx",
			       (unsigned long long)VDSO_VVAR_VA);
	*data = vvar.first; /* one page: one piece */
	return 0;
}
