/* Path syscalls over the file system the user granted (vfs.c): open,
 * stat, access, directories, links, rename, truncate and the cwd. Every
 * guest path is normalized against the cwd or a directory fd, matched to a
 * grant, and resolved on the host only beneath that grant's root. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "guest/uaccess.h"
#include "kernel/syscalls.h"
#include "kernel/vfs.h"
#include "util/err.h"

/* A guest path, resolved: the normalized absolute path and where it is. */
struct fs_path {
	char abs[VFS_PATH_MAX];
	struct vfs_lookup l;
};

static struct vfs *fs_vfs(struct task *t)
{
	static struct vfs none; /* no grants: every path is outside */

	return t->proc->vfs ? t->proc->vfs : &none;
}

/* The directory a relative path starts from: the cwd, or dirfd's path.
 * Read under the process lock: another thread may chdir meanwhile. */
static long fs_base(struct task *t, uint64_t dirfd, char *base)
{
	struct process *p = t->proc;
	struct fd_file *f;
	long r = 0;

	pthread_mutex_lock(&p->lock);
	if ((int)dirfd == AT_FDCWD)
		snprintf(base, VFS_PATH_MAX, "%s", p->cwd);
	else if (!(f = fd_get(&p->fds, dirfd)))
		r = -EBADF;
	else if (!f->path)
		r = -ENOTDIR;
	else
		snprintf(base, VFS_PATH_MAX, "%s", f->path);
	pthread_mutex_unlock(&p->lock);
	return r;
}

/* Says once per run that the payload looked outside every grant. */
static void fs_warn_outside(struct task *t, const char *abs)
{
	struct vfs *v = fs_vfs(t);

	if (v->warned_outside)
		return;
	v->warned_outside = true;
	vmm_warn("vfs: %s is outside every granted directory (--dir): -ENOENT; further such "
		 "paths are not reported",
		 abs);
}

static long fs_resolve(struct task *t, uint64_t dirfd, gva_t path_gva, struct fs_path *fp)
{
	char path[VFS_PATH_MAX], base[VFS_PATH_MAX];
	long r = uaccess_strncpy(t->proc->pt, path, path_gva, sizeof(path));

	if (r < 0)
		return r;
	if (path[0] != '/' && (r = fs_base(t, dirfd, base)) < 0)
		return r;
	r = vfs_normalize(path[0] == '/' ? "/" : base, path, fp->abs, sizeof(fp->abs));
	if (r < 0)
		return r;
	vfs_lookup(fs_vfs(t), fp->abs, &fp->l);
	return 0;
}

/* Flags a guest may pass to open; others are ignored as Linux ignores
 * unknown ones. */
#define FS_OPEN_FLAGS                                                                              \
	(O_ACCMODE | O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | O_APPEND | O_NONBLOCK | O_DSYNC |     \
	 O_SYNC | O_DIRECT | O_LARGEFILE | O_DIRECTORY | O_NOFOLLOW | O_NOATIME | O_CLOEXEC |      \
	 O_PATH | __O_TMPFILE)

static bool fs_writes(int flags)
{
	return (flags & O_ACCMODE) != O_RDONLY || (flags & O_TRUNC) ||
	       (flags & __O_TMPFILE) == __O_TMPFILE; /* __O_TMPFILE includes O_DIRECTORY */
}

static int fs_open_grant(struct task *t, const struct fs_path *fp, int flags, unsigned mode)
{
	struct vfs *v = fs_vfs(t);
	int h;

	mode &= ~t->proc->umask & 07777;
	if (v->g[fp->l.grant].rw)
		return vfs_open_beneath(v, fp->l.grant, fp->l.rel, flags, mode);
	if (fs_writes(flags))
		return -EROFS;
	h = vfs_open_beneath(v, fp->l.grant, fp->l.rel, flags & ~O_CREAT, 0);
	return h == -ENOENT && (flags & O_CREAT) ? -EROFS : h;
}

static long fs_open(struct task *t, uint64_t dirfd, gva_t path_gva, uint64_t gflags, unsigned mode)
{
	struct process *p = t->proc;
	struct fs_path fp;
	int flags = (int)(gflags & FS_OPEN_FLAGS), h = -1;
	long r = fs_resolve(t, dirfd, path_gva, &fp);

	if (r < 0)
		return r;
	switch (fp.l.kind) {
	case VFS_NONE:
		fs_warn_outside(t, fp.abs);
		return (flags & O_CREAT) ? -EROFS : -ENOENT;
	case VFS_VDIR:
		if (fs_writes(flags) || (flags & O_CREAT))
			return (flags & O_CREAT) && (flags & O_EXCL) ? -EEXIST : -EISDIR;
		h = -1;
		break;
	case VFS_DEV:
		if (flags & O_DIRECTORY)
			return -ENOTDIR;
		h = open(vfs_dev_path(fp.l.dev), (flags & (O_ACCMODE | O_NONBLOCK)) | O_CLOEXEC);
		if (h < 0)
			return -errno;
		break;
	case VFS_GRANT:
		h = fs_open_grant(t, &fp, flags, mode);
		if (h < 0)
			return h;
		break;
	}
	pthread_mutex_lock(&p->lock);
	r = fd_install(&p->fds, h, 0, flags & O_CLOEXEC, fp.abs);
	pthread_mutex_unlock(&p->lock);
	return r;
}

long sys_open(struct task *t, const uint64_t a[6])
{
	return fs_open(t, (uint64_t)(int64_t)AT_FDCWD, a[0], a[1], (unsigned)a[2]);
}
long sys_openat(struct task *t, const uint64_t a[6])
{
	return fs_open(t, a[0], a[1], a[2], (unsigned)a[3]);
}
long sys_creat(struct task *t, const uint64_t a[6])
{
	return fs_open(t, (uint64_t)(int64_t)AT_FDCWD, a[0], O_CREAT | O_WRONLY | O_TRUNC,
		       (unsigned)a[1]);
}

long sys_openat2(struct task *t, const uint64_t a[6])
{
	struct open_how how;

	if (a[3] < sizeof(how))
		return -EINVAL;
	if (uaccess_read(t->proc->pt, &how, a[2], sizeof(how)) < 0)
		return -EFAULT;
	/* The guest's own RESOLVE_* confinement is not emulated. */
	if (how.resolve || (how.flags & ~(uint64_t)FS_OPEN_FLAGS) || how.mode > 07777)
		return -EINVAL;
	return fs_open(t, a[0], a[1], how.flags, (unsigned)how.mode);
}

/* ---- stat, access, readlink: a host (dirfd, name) pair to act on ---- */

/* Where the object of fp is on the host: *dfd and *name for a call with
 * AT_EMPTY_PATH ("" on an O_PATH fd) or on (parent, last component) when
 * the last symlink must not be followed. *dfd is the caller's to close. */
static long fs_at(struct task *t, const struct fs_path *fp, bool follow, int *dfd,
		  const char **name)
{
	struct vfs *v = fs_vfs(t);
	int h;

	if (!follow && strcmp(fp->l.rel, ".") != 0) {
		h = vfs_open_parent(v, fp->l.grant, fp->l.rel, name);
	} else {
		h = vfs_open_beneath(v, fp->l.grant, fp->l.rel, O_PATH, 0);
		*name = "";
	}
	if (h < 0)
		return h;
	*dfd = h;
	return 0;
}

/* stat of fp into st; for a synthesized directory, vfs_vdir_stat. */
static long fs_stat_path(struct task *t, const struct fs_path *fp, bool follow, struct stat *st)
{
	const char *name;
	int dfd;
	long r;

	switch (fp->l.kind) {
	case VFS_NONE:
		fs_warn_outside(t, fp->abs);
		return -ENOENT;
	case VFS_VDIR:
		vfs_vdir_stat(fp->abs, st);
		return 0;
	case VFS_DEV:
		return stat(vfs_dev_path(fp->l.dev), st) < 0 ? -errno : 0;
	case VFS_GRANT:
		break;
	}
	r = fs_at(t, fp, follow, &dfd, &name);
	if (r < 0)
		return r;
	r = fstatat(dfd, name, st, AT_SYMLINK_NOFOLLOW | (*name ? 0 : AT_EMPTY_PATH)) < 0 ? -errno
											  : 0;
	close(dfd);
	return r;
}

static long fs_stat_fd(struct task *t, uint64_t fd, struct stat *st)
{
	struct process *p = t->proc;
	struct fd_file *f;
	char path[VFS_PATH_MAX] = "";
	int h;

	pthread_mutex_lock(&p->lock);
	f = fd_get(&p->fds, fd);
	h = f ? f->host : -EBADF;
	if (f && h < 0 && f->path)
		snprintf(path, sizeof(path), "%s", f->path);
	pthread_mutex_unlock(&p->lock);
	if (h >= 0)
		return fstat(h, st) < 0 ? -errno : 0;
	if (!f)
		return -EBADF;
	vfs_vdir_stat(path, st);
	return 0;
}

/* The object newfstatat/statx name: by path, or the fd with AT_EMPTY_PATH. */
static long fs_stat_at(struct task *t, uint64_t dirfd, gva_t path_gva, uint64_t flags,
		       struct stat *st)
{
	struct fs_path fp;
	char c;
	long r;

	if (flags &
	    ~(uint64_t)(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT | AT_STATX_SYNC_TYPE))
		return -EINVAL;
	r = uaccess_strncpy(t->proc->pt, &c, path_gva, 1);
	if (r == -EFAULT)
		return r;
	if (r == 0 && (flags & AT_EMPTY_PATH) && (int)dirfd != AT_FDCWD)
		return fs_stat_fd(t, dirfd, st);
	if (r == 0 && (flags & AT_EMPTY_PATH)) { /* the cwd itself */
		fs_base(t, dirfd, fp.abs);
		vfs_lookup(fs_vfs(t), fp.abs, &fp.l);
		return fs_stat_path(t, &fp, true, st);
	}
	r = fs_resolve(t, dirfd, path_gva, &fp);
	return r < 0 ? r : fs_stat_path(t, &fp, !(flags & AT_SYMLINK_NOFOLLOW), st);
}

static long fs_put_stat(struct task *t, gva_t buf, long r, const struct stat *st)
{
	/* On x86-64 glibc's struct stat is the kernel's. */
	return r < 0 ? r : uaccess_write(t->proc->pt, buf, st, sizeof(*st));
}

long sys_fstat(struct task *t, const uint64_t a[6])
{
	struct stat st;

	return fs_put_stat(t, a[1], fs_stat_fd(t, a[0], &st), &st);
}
long sys_stat(struct task *t, const uint64_t a[6])
{
	struct stat st;

	return fs_put_stat(t, a[1], fs_stat_at(t, (uint64_t)(int64_t)AT_FDCWD, a[0], 0, &st), &st);
}
long sys_lstat(struct task *t, const uint64_t a[6])
{
	struct stat st;

	return fs_put_stat(
	    t, a[1], fs_stat_at(t, (uint64_t)(int64_t)AT_FDCWD, a[0], AT_SYMLINK_NOFOLLOW, &st),
	    &st);
}
long sys_newfstatat(struct task *t, const uint64_t a[6])
{
	struct stat st;

	return fs_put_stat(t, a[2], fs_stat_at(t, a[0], a[1], a[3], &st), &st);
}

static struct statx_timestamp fs_stx_time(struct timespec ts)
{
	return (struct statx_timestamp){.tv_sec = ts.tv_sec, .tv_nsec = (uint32_t)ts.tv_nsec};
}

long sys_statx(struct task *t, const uint64_t a[6])
{
	struct stat st;
	struct statx sx = {0};
	long r = fs_stat_at(t, a[0], a[1], a[2], &st);

	if (r < 0)
		return r;
	sx.stx_mask = STATX_BASIC_STATS;
	sx.stx_blksize = (uint32_t)st.st_blksize;
	sx.stx_nlink = (uint32_t)st.st_nlink;
	sx.stx_uid = st.st_uid;
	sx.stx_gid = st.st_gid;
	sx.stx_mode = (uint16_t)st.st_mode;
	sx.stx_ino = st.st_ino;
	sx.stx_size = (uint64_t)st.st_size;
	sx.stx_blocks = (uint64_t)st.st_blocks;
	sx.stx_atime = fs_stx_time(st.st_atim);
	sx.stx_mtime = fs_stx_time(st.st_mtim);
	sx.stx_ctime = fs_stx_time(st.st_ctim);
	sx.stx_rdev_major = major(st.st_rdev);
	sx.stx_rdev_minor = minor(st.st_rdev);
	sx.stx_dev_major = major(st.st_dev);
	sx.stx_dev_minor = minor(st.st_dev);
	return uaccess_write(t->proc->pt, a[4], &sx, sizeof(sx));
}

static long fs_access(struct task *t, uint64_t dirfd, gva_t path_gva, uint64_t mode, uint64_t flags)
{
	struct fs_path fp;
	struct stat st;
	long r;

	if (mode & ~(uint64_t)(R_OK | W_OK | X_OK) ||
	    flags & ~(uint64_t)(AT_EACCESS | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
		return -EINVAL;
	r = fs_resolve(t, dirfd, path_gva, &fp);
	if (r < 0)
		return r;
	r = fs_stat_path(t, &fp, !(flags & AT_SYMLINK_NOFOLLOW), &st);
	if (r < 0)
		return r;
	if ((mode & W_OK) &&
	    (fp.l.kind == VFS_VDIR || (fp.l.kind == VFS_GRANT && !fs_vfs(t)->g[fp.l.grant].rw)))
		return -EROFS;
	if (fp.l.kind == VFS_GRANT) {
		const char *name;
		int dfd;

		r = fs_at(t, &fp, !(flags & AT_SYMLINK_NOFOLLOW), &dfd, &name);
		if (r < 0)
			return r;
		r = syscall(SYS_faccessat2, dfd, name, (int)mode,
			    (int)(flags & AT_EACCESS) |
				(*name ? AT_SYMLINK_NOFOLLOW : AT_EMPTY_PATH));
		r = r < 0 ? -errno : 0;
		close(dfd);
	}
	return r;
}

long sys_access(struct task *t, const uint64_t a[6])
{
	return fs_access(t, (uint64_t)(int64_t)AT_FDCWD, a[0], a[1], 0);
}
long sys_faccessat(struct task *t, const uint64_t a[6])
{
	return fs_access(t, a[0], a[1], a[2], 0);
}
long sys_faccessat2(struct task *t, const uint64_t a[6])
{
	return fs_access(t, a[0], a[1], a[2], a[3]);
}

static long fs_readlink(struct task *t, uint64_t dirfd, gva_t path_gva, gva_t buf, uint64_t size)
{
	char target[VFS_PATH_MAX];
	struct fs_path fp;
	const char *name;
	ssize_t n;
	int dfd;
	long r;

	if ((int64_t)size <= 0)
		return -EINVAL;
	r = fs_resolve(t, dirfd, path_gva, &fp);
	if (r < 0)
		return r;
	if (fp.l.kind == VFS_NONE)
		return -ENOENT; /* /proc/self/exe and friends: libcs cope quietly */
	if (fp.l.kind != VFS_GRANT)
		return -EINVAL; /* not a link */
	r = fs_at(t, &fp, false, &dfd, &name);
	if (r < 0)
		return r;
	n = readlinkat(dfd, name, target, sizeof(target));
	r = n < 0 ? -errno : 0;
	close(dfd);
	if (r < 0)
		return r;
	if ((uint64_t)n > size)
		n = (ssize_t)size;
	return uaccess_write(t->proc->pt, buf, target, (uint64_t)n) < 0 ? -EFAULT : n;
}

long sys_readlink(struct task *t, const uint64_t a[6])
{
	return fs_readlink(t, (uint64_t)(int64_t)AT_FDCWD, a[0], a[1], a[2]);
}
long sys_readlinkat(struct task *t, const uint64_t a[6])
{
	return fs_readlink(t, a[0], a[1], a[2], a[3]);
}

/* ---- changes: mkdir, unlink, rmdir, rename, truncate ---- */

/* The writable grant fp is in, or why not: what mkdir and friends return
 * for the parts of the tree vmm synthesizes or that do not exist. */
static long fs_writable(struct task *t, const struct fs_path *fp, long vdir_err)
{
	switch (fp->l.kind) {
	case VFS_NONE:
		fs_warn_outside(t, fp->abs);
		return -ENOENT;
	case VFS_VDIR:
	case VFS_DEV:
		return vdir_err;
	case VFS_GRANT:
		break;
	}
	return fs_vfs(t)->g[fp->l.grant].rw ? 0 : -EROFS;
}

/* The parent directory (an O_PATH host fd, the caller's to close) and
 * last component in *name where mkdir and symlink create a new name; what
 * already exists (a grant's root, the synthesized tree) is -EEXIST. *name
 * points into fp. */
static long fs_open_new_parent(struct task *t, uint64_t dirfd, gva_t path_gva, struct fs_path *fp,
			       const char **name)
{
	long r = fs_resolve(t, dirfd, path_gva, fp);

	if (r < 0 || (r = fs_writable(t, fp, -EEXIST)) < 0)
		return r;
	r = vfs_open_parent(fs_vfs(t), fp->l.grant, fp->l.rel, name);
	return r == -EBUSY ? -EEXIST : r;
}

static long fs_mkdir(struct task *t, uint64_t dirfd, gva_t path_gva, uint64_t mode)
{
	struct fs_path fp;
	const char *name;
	long r = fs_open_new_parent(t, dirfd, path_gva, &fp, &name);
	int dfd = (int)r;

	if (r < 0)
		return r;
	r = mkdirat(dfd, name, (mode_t)(mode & ~t->proc->umask & 07777)) < 0 ? -errno : 0;
	close(dfd);
	return r;
}

long sys_mkdir(struct task *t, const uint64_t a[6])
{
	return fs_mkdir(t, (uint64_t)(int64_t)AT_FDCWD, a[0], a[1]);
}
long sys_mkdirat(struct task *t, const uint64_t a[6])
{
	return fs_mkdir(t, a[0], a[1], a[2]);
}

static long fs_unlink(struct task *t, uint64_t dirfd, gva_t path_gva, uint64_t flags)
{
	struct fs_path fp;
	const char *name;
	long r;
	int dfd;

	if (flags & ~(uint64_t)AT_REMOVEDIR)
		return -EINVAL;
	r = fs_resolve(t, dirfd, path_gva, &fp);
	if (r < 0 || (r = fs_writable(t, &fp, (flags & AT_REMOVEDIR) ? -EBUSY : -EISDIR)) < 0)
		return r;
	dfd = vfs_open_parent(fs_vfs(t), fp.l.grant, fp.l.rel, &name);
	if (dfd < 0)
		return dfd;
	r = unlinkat(dfd, name, (int)flags) < 0 ? -errno : 0;
	close(dfd);
	return r;
}

long sys_unlink(struct task *t, const uint64_t a[6])
{
	return fs_unlink(t, (uint64_t)(int64_t)AT_FDCWD, a[0], 0);
}
long sys_unlinkat(struct task *t, const uint64_t a[6])
{
	return fs_unlink(t, a[0], a[1], a[2]);
}
long sys_rmdir(struct task *t, const uint64_t a[6])
{
	return fs_unlink(t, (uint64_t)(int64_t)AT_FDCWD, a[0], AT_REMOVEDIR);
}

static long fs_rename(struct task *t, uint64_t odir, gva_t old_gva, uint64_t ndir, gva_t new_gva,
		      uint64_t flags)
{
	struct fs_path from, to;
	const char *oname, *nname;
	int ofd, nfd;
	long r;

	if (flags & ~(uint64_t)(RENAME_NOREPLACE | RENAME_EXCHANGE))
		return -EINVAL;
	if ((r = fs_resolve(t, odir, old_gva, &from)) < 0 ||
	    (r = fs_resolve(t, ndir, new_gva, &to)) < 0 ||
	    (r = fs_writable(t, &from, -EBUSY)) < 0 || (r = fs_writable(t, &to, -EBUSY)) < 0)
		return r;
	if (from.l.grant != to.l.grant)
		return -EXDEV;
	ofd = vfs_open_parent(fs_vfs(t), from.l.grant, from.l.rel, &oname);
	if (ofd < 0)
		return ofd;
	nfd = vfs_open_parent(fs_vfs(t), to.l.grant, to.l.rel, &nname);
	if (nfd < 0) {
		close(ofd);
		return nfd;
	}
	r = renameat2(ofd, oname, nfd, nname, (unsigned)flags) < 0 ? -errno : 0;
	close(ofd);
	close(nfd);
	return r;
}

long sys_rename(struct task *t, const uint64_t a[6])
{
	return fs_rename(t, (uint64_t)(int64_t)AT_FDCWD, a[0], (uint64_t)(int64_t)AT_FDCWD, a[1],
			 0);
}
long sys_renameat(struct task *t, const uint64_t a[6])
{
	return fs_rename(t, a[0], a[1], a[2], a[3], 0);
}
long sys_renameat2(struct task *t, const uint64_t a[6])
{
	return fs_rename(t, a[0], a[1], a[2], a[3], a[4]);
}

long sys_truncate(struct task *t, const uint64_t a[6])
{
	struct fs_path fp;
	long r = fs_resolve(t, (uint64_t)(int64_t)AT_FDCWD, a[0], &fp);
	int h;

	if (r < 0)
		return r;
	if ((int64_t)a[1] < 0)
		return -EINVAL;
	if ((r = fs_writable(t, &fp, -EISDIR)) < 0)
		return r;
	h = vfs_open_beneath(fs_vfs(t), fp.l.grant, fp.l.rel, O_WRONLY, 0);
	if (h < 0)
		return h;
	r = ftruncate(h, (off_t)a[1]) < 0 ? -errno : 0;
	close(h);
	return r;
}

long sys_ftruncate(struct task *t, const uint64_t a[6])
{
	int h = io_host_fd(t, a[0]);

	if (h < 0)
		return h == -EISDIR ? -EINVAL : h;
	if ((int64_t)a[1] < 0)
		return -EINVAL;
	return ftruncate(h, (off_t)a[1]) < 0 ? -errno : 0;
}

static long fs_sync(struct task *t, uint64_t fd, bool data)
{
	int h = io_host_fd(t, fd);

	if (h == -EISDIR)
		return 0;
	if (h < 0)
		return h;
	return (data ? fdatasync(h) : fsync(h)) < 0 ? -errno : 0;
}

long sys_fsync(struct task *t, const uint64_t a[6])
{
	return fs_sync(t, a[0], false);
}
long sys_fdatasync(struct task *t, const uint64_t a[6])
{
	return fs_sync(t, a[0], true);
}

/* ---- directories: getdents64, the cwd, umask ---- */

struct fs_dirent64 {
	uint64_t d_ino;
	int64_t d_off;
	uint16_t d_reclen;
	uint8_t d_type;
	char d_name[];
};

/* Entries of a synthesized directory: ".", "..", then its children. */
static long fs_vdir_read(struct task *t, struct fd_file *f, char *buf, size_t cap)
{
	size_t n = 0;

	for (;;) {
		char name[256];
		bool is_dev = false;
		struct fs_dirent64 *d = (struct fs_dirent64 *)(buf + n);
		size_t len, rec;

		if (f->vpos < 2)
			snprintf(name, sizeof(name), "%s", f->vpos ? ".." : ".");
		else if (vfs_vdir_entry(fs_vfs(t), f->path, (unsigned)(f->vpos - 2), name,
					sizeof(name), &is_dev) < 0)
			break;
		len = strlen(name);
		rec = (offsetof(struct fs_dirent64, d_name) + len + 1 + 7) & ~(size_t)7;
		if (n + rec > cap)
			return n ? (long)n : -EINVAL;
		memset(d, 0, rec);
		d->d_ino = f->vpos + 1;
		d->d_off = (int64_t)f->vpos + 1;
		d->d_reclen = (uint16_t)rec;
		d->d_type = is_dev ? DT_CHR : DT_DIR;
		memcpy(d->d_name, name, len);
		n += rec;
		f->vpos++;
	}
	return (long)n;
}

long sys_getdents64(struct task *t, const uint64_t a[6])
{
	struct process *p = t->proc;
	size_t cap = a[2] < 65536 ? (size_t)a[2] : 65536;
	char *buf = malloc(cap + 1);
	struct fd_file *f;
	long r;
	int h;

	if (!buf)
		return -ENOMEM;
	pthread_mutex_lock(&p->lock);
	f = fd_get(&p->fds, a[0]);
	h = f ? f->host : -EBADF;
	if (f && h < 0)
		r = f->path ? fs_vdir_read(t, f, buf, cap) : -ENOTDIR;
	pthread_mutex_unlock(&p->lock);
	if (h >= 0) {
		r = syscall(SYS_getdents64, h, buf, cap);
		if (r < 0)
			r = -errno;
	} else if (!f)
		r = -EBADF;
	if (r > 0 && uaccess_write(p->pt, a[1], buf, (uint64_t)r) < 0)
		r = -EFAULT;
	free(buf);
	return r;
}

static long fs_set_cwd(struct task *t, const char *abs)
{
	struct process *p = t->proc;

	pthread_mutex_lock(&p->lock);
	snprintf(p->cwd, sizeof(p->cwd), "%s", abs);
	pthread_mutex_unlock(&p->lock);
	return 0;
}

long sys_chdir(struct task *t, const uint64_t a[6])
{
	struct fs_path fp;
	struct stat st;
	long r = fs_resolve(t, (uint64_t)(int64_t)AT_FDCWD, a[0], &fp);

	if (r < 0 || (r = fs_stat_path(t, &fp, true, &st)) < 0)
		return r;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	return fs_set_cwd(t, fp.abs);
}

long sys_fchdir(struct task *t, const uint64_t a[6])
{
	char path[VFS_PATH_MAX];
	struct stat st;
	long r = fs_base(t, a[0], path);

	if (r < 0 || (r = fs_stat_fd(t, a[0], &st)) < 0)
		return r;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	return fs_set_cwd(t, path);
}

long sys_getcwd(struct task *t, const uint64_t a[6])
{
	char cwd[VFS_PATH_MAX];
	size_t n;

	fs_base(t, (uint64_t)(int64_t)AT_FDCWD, cwd);
	n = strlen(cwd) + 1;
	if (a[1] < n)
		return -ERANGE;
	return uaccess_write(t->proc->pt, a[0], cwd, n) < 0 ? -EFAULT : (long)n;
}

long sys_umask(struct task *t, const uint64_t a[6])
{
	unsigned old = t->proc->umask;

	t->proc->umask = (unsigned)a[0] & 0777;
	return old;
}

/* Advice changes nothing observable: Linux's answers for the fd kinds. */
long sys_fadvise64(struct task *t, const uint64_t a[6])
{
	int h = io_host_fd(t, a[0]);
	struct stat st;

	if (h == -EISDIR)
		return 0;
	if (h < 0)
		return h;
	if (fstat(h, &st) < 0)
		return -errno;
	if (S_ISFIFO(st.st_mode))
		return -ESPIPE;
	return a[3] > 5 /* POSIX_FADV_NOREUSE */ ? -EINVAL : 0;
}

long sys_fchmod(struct task *t, const uint64_t a[6])
{
	int h = io_host_fd(t, a[0]);

	if (h == -EISDIR)
		return -EROFS;
	if (h < 0)
		return h;
	return fchmod(h, (mode_t)(a[1] & 07777)) < 0 ? -errno : 0;
}

#define FS_PROC_FD_MAX 64 /* "/proc/self/fd/" and an fd number, with room */

/* An fd for changing a path's attributes (chmod, utimes): the object
 * itself, opened beneath its grant, following a final symlink only if
 * asked, and in proc vmm's own /proc path to that O_PATH fd, so that a
 * path call changes exactly that object. The fd is the caller's to close. */
static long fs_open_attr(struct task *t, uint64_t dirfd, gva_t path_gva, bool follow,
			 char proc[FS_PROC_FD_MAX])
{
	struct fs_path fp;
	long r = fs_resolve(t, dirfd, path_gva, &fp);

	if (r < 0 || (r = fs_writable(t, &fp, -EROFS)) < 0)
		return r;
	r = vfs_open_beneath(fs_vfs(t), fp.l.grant, fp.l.rel, O_PATH | (follow ? 0 : O_NOFOLLOW),
			     0);
	if (r >= 0)
		snprintf(proc, FS_PROC_FD_MAX, "/proc/self/fd/%d", (int)r);
	return r;
}

static long fs_chmod(struct task *t, uint64_t dirfd, gva_t path_gva, uint64_t mode)
{
	char proc[FS_PROC_FD_MAX];
	long r = fs_open_attr(t, dirfd, path_gva, true, proc);
	int h = (int)r;

	if (r < 0)
		return r;
	r = chmod(proc, (mode_t)(mode & 07777)) < 0 ? -errno : 0;
	close(h);
	return r;
}

long sys_chmod(struct task *t, const uint64_t a[6])
{
	return fs_chmod(t, (uint64_t)(int64_t)AT_FDCWD, a[0], a[1]);
}
long sys_fchmodat(struct task *t, const uint64_t a[6])
{
	return fs_chmod(t, a[0], a[1], a[2]);
}

/* Ownership does not change: vmm creates files as its own user. Asking
 * for the owner a file already has (or -1) succeeds, as it would. */
long sys_fchown(struct task *t, const uint64_t a[6])
{
	int h = io_host_fd(t, a[0]);
	struct stat st;

	if (h < 0)
		return h == -EISDIR ? -EROFS : h;
	if (fstat(h, &st) < 0)
		return -errno;
	if (((uint32_t)a[1] != UINT32_MAX && (uint32_t)a[1] != st.st_uid) ||
	    ((uint32_t)a[2] != UINT32_MAX && (uint32_t)a[2] != st.st_gid))
		return -EPERM;
	return 0;
}

long sys_utimensat(struct task *t, const uint64_t a[6])
{
	struct timespec ts[2];
	char proc[FS_PROC_FD_MAX];
	long r;
	int h;

	if (a[2] && uaccess_read(t->proc->pt, ts, a[2], sizeof(ts)) < 0)
		return -EFAULT;
	if (a[3] & ~(uint64_t)(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
		return -EINVAL;
	if (!a[1]) { /* futimens */
		h = io_host_fd(t, a[0]);
		if (h < 0)
			return h == -EISDIR ? -EROFS : h;
		return futimens(h, a[2] ? ts : NULL) < 0 ? -errno : 0;
	}
	r = fs_open_attr(t, a[0], a[1], !(a[3] & AT_SYMLINK_NOFOLLOW), proc);
	if (r < 0)
		return r;
	h = (int)r;
	r = utimensat(AT_FDCWD, proc, a[2] ? ts : NULL, 0) < 0 ? -errno : 0;
	close(h);
	return r;
}

static long fs_symlink(struct task *t, gva_t target_gva, uint64_t dirfd, gva_t path_gva)
{
	char target[VFS_PATH_MAX];
	struct fs_path fp;
	const char *name;
	long r = uaccess_strncpy(t->proc->pt, target, target_gva, sizeof(target));
	int dfd;

	if (r < 0)
		return r;
	if (!target[0])
		return -ENOENT;
	/* The target is only text: resolving it later stays beneath the grant. */
	r = fs_open_new_parent(t, dirfd, path_gva, &fp, &name);
	if (r < 0)
		return r;
	dfd = (int)r;
	r = symlinkat(target, dfd, name) < 0 ? -errno : 0;
	close(dfd);
	return r;
}

long sys_symlink(struct task *t, const uint64_t a[6])
{
	return fs_symlink(t, a[0], (uint64_t)(int64_t)AT_FDCWD, a[1]);
}
long sys_symlinkat(struct task *t, const uint64_t a[6])
{
	return fs_symlink(t, a[0], a[1], a[2]);
}

long sys_sync(struct task *t, const uint64_t a[6])
{
	(void)t, (void)a;
	return 0; /* the grants' data reaches the host's page cache at each write */
}
