/* Payload memory access through the guest page tables, one page at a time:
 * a range that starts valid can still end in a hole, and a length can wrap. */
#include "guest/uaccess.h"

#include <errno.h>
#include <string.h>

/* Host pointer for the accessible piece of [gva, gva + len) inside its page. */
static void *uaccess_piece(const struct page_tables *pt, gva_t gva, size_t n, enum pt_access acc)
{
	gpa_t gpa;

	if (pt_translate(pt, gva, acc, &gpa) < 0)
		return NULL;
	return mem_ptr(pt->mem, gpa, n);
}

long uaccess_each(const struct page_tables *pt, gva_t gva, uint64_t len, enum pt_access acc,
		  long (*fn)(void *ctx, void *host, size_t n), void *ctx)
{
	gva_t end;

	if (__builtin_add_overflow(gva, len, &end) || end > USER_TOP)
		return len ? -EFAULT : 0;
	while (gva < end) {
		size_t n = (size_t)(align_down(gva, SZ_4K) + SZ_4K - gva);
		void *host;
		long r;

		if (n > end - gva)
			n = (size_t)(end - gva);
		host = uaccess_piece(pt, gva, n, acc);
		if (!host)
			return -EFAULT;
		r = fn(ctx, host, n);
		if (r)
			return r;
		gva += n;
	}
	return 0;
}

struct copy_ctx {
	uint8_t *buf;
	bool to_guest;
};

static long copy_piece(void *ctx, void *host, size_t n)
{
	struct copy_ctx *c = ctx;

	if (c->to_guest)
		memcpy(host, c->buf, n);
	else
		memcpy(c->buf, host, n);
	c->buf += n;
	return 0;
}

int uaccess_read(const struct page_tables *pt, void *dst, gva_t src, uint64_t len)
{
	struct copy_ctx c = {.buf = dst, .to_guest = false};

	return (int)uaccess_each(pt, src, len, PT_READ, copy_piece, &c);
}

int uaccess_write(const struct page_tables *pt, gva_t dst, const void *src, uint64_t len)
{
	struct copy_ctx c = {.buf = (uint8_t *)(uintptr_t)src, .to_guest = true};

	return (int)uaccess_each(pt, dst, len, PT_WRITE, copy_piece, &c);
}

long uaccess_strncpy(const struct page_tables *pt, char *dst, gva_t src, size_t cap)
{
	size_t i = 0;

	while (i < cap) {
		size_t n = (size_t)(align_down(src + i, SZ_4K) + SZ_4K - (src + i));
		const char *host, *nul;

		if (src + i >= USER_TOP || src + i < src)
			return -EFAULT;
		if (n > cap - i)
			n = cap - i;
		host = uaccess_piece(pt, src + i, n, PT_READ);
		if (!host)
			return -EFAULT;
		nul = memchr(host, '\0', n);
		memcpy(dst + i, host, nul ? (size_t)(nul - host) + 1 : n);
		if (nul)
			return (long)(i + (size_t)(nul - host));
		i += n;
	}
	return -ENAMETOOLONG;
}
