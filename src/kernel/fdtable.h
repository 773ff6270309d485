/* The payload's file descriptors: guest fd -> host fd. Each guest fd owns
 * one host fd (a dup for dup(2), so offsets and status flags are shared as
 * Linux shares an open file description); vmm's own fds are never guest
 * numbers. Callers hold the process lock around every call. */
#ifndef VMM_FDTABLE_H
#define VMM_FDTABLE_H

#include <stdbool.h>
#include <stdint.h>

#define FD_LIMIT 1024 /* RLIMIT_NOFILE as Linux sets it by default (soft) */

struct fd_file {
	bool used;
	bool cloexec;  /* FD_CLOEXEC: kept for F_GETFD; there is no exec */
	int host;      /* the host fd; -1 for a directory vmm synthesizes */
	char *path;    /* guest path it was opened by, or NULL (pipes, stdio) */
	uint64_t vpos; /* synthesized directory: next entry for getdents64 */
};

struct fdtable {
	struct fd_file f[FD_LIMIT];
};

/* Guest fds 0-2 become dups of vmm's own 0-2 (those vmm has open). */
void fdtable_init(struct fdtable *t);
void fdtable_destroy(struct fdtable *t);

/* The open guest fd, or NULL. */
struct fd_file *fd_get(struct fdtable *t, uint64_t fd);
/* Installs host (owned from now on: closed on failure too) at the lowest
 * free guest fd >= min: the fd, or -EMFILE / -EINVAL. path is copied. */
int fd_install(struct fdtable *t, int host, uint64_t min, bool cloexec, const char *path);
int fd_close(struct fdtable *t, uint64_t fd);
/* F_DUPFD / dup: a new guest fd >= min for the same host object. */
int fd_dup(struct fdtable *t, uint64_t old, uint64_t min, bool cloexec);
/* dup2 / dup3: newfd (closed first if open) for the same object. */
int fd_dup_to(struct fdtable *t, uint64_t old, uint64_t newfd, bool cloexec);

#endif
