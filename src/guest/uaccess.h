/* Copies between the VMM and payload memory. Every pointer a syscall gets
 * goes through here: translated with the guest's own page tables and the
 * permissions a CPL3 access would need, so a bad pointer is -EFAULT, never
 * a VMM crash. */
#ifndef VMM_UACCESS_H
#define VMM_UACCESS_H

#include "guest/paging.h"

/* 0, or -EFAULT when any byte of the range is not accessible to the
 * payload (for writing, in uaccess_write). len may be 0. */
int uaccess_read(const struct page_tables *pt, void *dst, gva_t src, uint64_t len);
int uaccess_write(const struct page_tables *pt, gva_t dst, const void *src, uint64_t len);
/* Copies a NUL-terminated string of at most cap-1 bytes: its length, or
 * -EFAULT, or -ENAMETOOLONG when no NUL is found within cap bytes. */
long uaccess_strncpy(const struct page_tables *pt, char *dst, gva_t src, size_t cap);

/* Calls fn on each host piece of [gva, gva + len): the pieces are page
 * bounded. Stops at the first nonzero fn return and returns it; -EFAULT
 * when a page is not accessible with `acc`. For zero-copy read/write. */
long uaccess_each(const struct page_tables *pt, gva_t gva, uint64_t len, enum pt_access acc,
		  long (*fn)(void *ctx, void *host, size_t n), void *ctx);

#endif
