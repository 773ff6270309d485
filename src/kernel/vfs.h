/* The guest's file system: only what the user granted. Host directories
 * appear at guest paths (--dir), a private writable /tmp, and /dev/null,
 * /dev/zero, /dev/urandom; the directories above them are synthesized and
 * read-only. A guest path is normalized and matched to a grant by pure
 * functions (vfs_normalize, vfs_lookup); the host then resolves the rest
 * with openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS) from the grant's
 * root, so no symlink or ".." reaches outside a grant. */
#ifndef VMM_VFS_H
#define VMM_VFS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

#define VFS_MAX_GRANTS 16
#define VFS_PATH_MAX 4096 /* Linux's PATH_MAX, NUL included */

struct vfs_grant {
	char guest[VFS_PATH_MAX]; /* normalized, absolute; never "/" */
	char host[VFS_PATH_MAX];  /* for messages */
	int root;		  /* O_PATH fd of the host directory; -1 in unit tests */
	bool rw;
	bool tmp_pending; /* the private /tmp, not made yet: host is its template */
};

struct vfs {
	struct vfs_grant g[VFS_MAX_GRANTS];
	int n;
	char tmpdir[VFS_PATH_MAX]; /* the private /tmp on the host, "" until made */
	bool warned_outside;	   /* a path outside every grant was reported */
	bool warned_escape;	   /* a path escaping a grant was reported */
};

enum vfs_kind {
	VFS_NONE,  /* in no grant: ENOENT */
	VFS_GRANT, /* inside grant `grant`, at `rel` ("." for its root) */
	VFS_VDIR,  /* "/" or a directory above a grant or device: synthesized */
	VFS_DEV,   /* one of the devices, `dev` indexes vfs_dev_path() */
};

struct vfs_lookup {
	enum vfs_kind kind;
	int grant;
	const char *rel; /* points into the normalized path, or "." */
	int dev;
};

/* Pure: base (absolute, normalized) joined with path, "." and ".." and
 * repeated slashes removed lexically ("/.." is "/"); out holds cap bytes.
 * 0, -ENOENT for an empty path, -ENAMETOOLONG. */
int vfs_normalize(const char *base, const char *path, char *out, size_t cap);
/* Pure: which grant, device or synthesized directory abs names. */
void vfs_lookup(const struct vfs *v, const char *abs, struct vfs_lookup *l);
/* Pure: the names directly under the synthesized directory abs, one per
 * call: index i -> name (copied into out) and whether it is a device;
 * -1 past the end. */
int vfs_vdir_entry(const struct vfs *v, const char *abs, unsigned i, char *out, size_t cap,
		   bool *is_dev);
const char *vfs_dev_path(int dev);

/* Host side. Empty file system: vfs_init; grants with vfs_grant_add (host
 * may be relative; guest NULL: the host's absolute path); the private /tmp
 * with vfs_add_tmp (unless a grant already covers /tmp; the directory is
 * made at the guest's first use of /tmp). -1, err set. */
void vfs_init(struct vfs *v);
int vfs_grant_add(struct vfs *v, const char *host, const char *guest, bool rw);
int vfs_add_tmp(struct vfs *v);
/* Closes the grants and removes the private /tmp with what is in it. */
void vfs_destroy(struct vfs *v);

/* openat2 beneath the grant's root: a host fd or -errno (an escape is
 * -EACCES, reported once). */
int vfs_open_beneath(struct vfs *v, int grant, const char *rel, int flags, unsigned mode);
/* The parent directory of rel (O_PATH) and rel's last component in
 * *name: for calls that act on a name (mkdirat, unlinkat, renameat,
 * readlinkat, fstatat NOFOLLOW). -EBUSY for the grant's root itself. */
int vfs_open_parent(struct vfs *v, int grant, const char *rel, const char **name);
/* What stat says of a synthesized directory. */
void vfs_vdir_stat(const char *abs, struct stat *st);

#endif
