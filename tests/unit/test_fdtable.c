/* The guest fd table: lowest-free allocation, the limit (EMFILE), dup
 * semantics, and that guest fds never close vmm's own. */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "kernel/fdtable.h"
#include "unit.h"

static struct fdtable t;

START_TEST(stdio_lowest_free_and_limit)
{
	int p[2], i, r;

	fdtable_init(&t);
	ck_assert_ptr_nonnull(fd_get(&t, 1));
	ck_assert_ptr_null(fd_get(&t, 3));
	ck_assert_ptr_null(fd_get(&t, UINT64_MAX));
	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(fd_install(&t, p[0], 0, false, NULL), 3);
	ck_assert_int_eq(fd_install(&t, p[1], 0, true, "/x"), 4);
	ck_assert(fd_get(&t, 4)->cloexec);
	ck_assert_str_eq(fd_get(&t, 4)->path, "/x");
	ck_assert_int_eq(fd_close(&t, 3), 0);
	ck_assert_int_eq(fd_close(&t, 3), -EBADF);
	ck_assert_int_eq(fd_dup(&t, 4, 0, false), 3); /* the lowest free */
	ck_assert_str_eq(fd_get(&t, 3)->path, "/x");
	ck_assert_int_eq(fd_dup_to(&t, 4, FD_LIMIT, false), -EBADF);
	ck_assert_int_eq(fd_dup(&t, 4, FD_LIMIT, false), -EINVAL);
	ck_assert_int_eq(fd_dup_to(&t, 4, FD_LIMIT - 1, false), FD_LIMIT - 1);
	/* dup3 onto itself (high register bits ignored) only sets FD_CLOEXEC. */
	ck_assert_int_eq(fd_dup_to(&t, 3, 3 | (1ull << 32), true), 3);
	ck_assert(fd_get(&t, 3)->cloexec);
	ck_assert_str_eq(fd_get(&t, 3)->path, "/x");
	for (i = 0; (r = fd_dup(&t, 4, 0, false)) >= 0; i++)
		;
	ck_assert_int_eq(r, -EMFILE);
	ck_assert_int_eq(i, FD_LIMIT - 6); /* 0-4 and FD_LIMIT-1 were in use */
	/* Closing the guest's stdout leaves vmm's own open. */
	ck_assert_int_eq(fd_close(&t, 1), 0);
	ck_assert_int_ge(fcntl(1, F_GETFD), 0);
	fdtable_destroy(&t);
	ck_assert_ptr_null(fd_get(&t, 0));
}
END_TEST

UNIT_SUITE_MAIN("fdtable", NULL, NULL, 0, stdio_lowest_free_and_limit)
