/* Guest paths to host objects. The lexical part is pure and unit tested;
 * the host part never resolves a guest-controlled path except beneath a
 * grant's root with openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS). */
#include "kernel/vfs.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util/err.h"

static const char *const vfs_devs[] = {"/dev/null", "/dev/zero", "/dev/urandom", "/dev/random"};
#define VFS_NDEVS (int)(sizeof(vfs_devs) / sizeof(vfs_devs[0]))

const char *vfs_dev_path(int dev)
{
	return dev >= 0 && dev < VFS_NDEVS ? vfs_devs[dev] : NULL;
}

int vfs_normalize(const char *base, const char *path, char *out, size_t cap)
{
	size_t n = 0;
	const char *parts[2] = {path[0] == '/' ? "" : base, path};

	if (!*path)
		return -ENOENT;
	if (cap < 2)
		return -ENAMETOOLONG;
	out[n++] = '/';
	for (int k = 0; k < 2; k++) {
		const char *s = parts[k];

		while (*s) {
			size_t len;

			while (*s == '/')
				s++;
			len = strcspn(s, "/");
			if (len == 0 || (len == 1 && s[0] == '.')) {
				/* nothing */
			} else if (len == 2 && s[0] == '.' && s[1] == '.') {
				while (n > 1 && out[n - 1] != '/')
					n--;
				if (n > 1)
					n--; /* the slash before the dropped name */
			} else {
				if (n > 1)
					out[n++] = '/';
				if (n + len + 1 > cap)
					return -ENAMETOOLONG;
				memcpy(out + n, s, len);
				n += len;
			}
			s += len;
		}
	}
	out[n] = '\0';
	return 0;
}

/* prefix is a whole-component prefix of abs (or equal): abs + its length,
 * pointing at "" or "/rest"; NULL when it is not. */
static const char *vfs_under(const char *abs, const char *prefix)
{
	size_t n = strlen(prefix);

	if (strncmp(abs, prefix, n) != 0)
		return NULL;
	return abs[n] == '\0' || abs[n] == '/' ? abs + n : NULL;
}

/* abs is "/" or a strict ancestor of p. */
static bool vfs_above(const char *abs, const char *p)
{
	const char *r;

	if (strcmp(abs, "/") == 0)
		return true;
	r = vfs_under(p, abs);
	return r && *r == '/';
}

void vfs_lookup(const struct vfs *v, const char *abs, struct vfs_lookup *l)
{
	size_t best = 0;

	*l = (struct vfs_lookup){.kind = VFS_NONE, .grant = -1, .dev = -1, .rel = "."};
	for (int i = 0; i < v->n; i++) {
		const char *r = vfs_under(abs, v->g[i].guest);
		size_t len = strlen(v->g[i].guest);

		if (r && len > best) {
			best = len;
			l->kind = VFS_GRANT;
			l->grant = i;
			l->rel = *r ? r + 1 : ".";
		}
	}
	if (l->kind == VFS_GRANT)
		return;
	for (int d = 0; d < VFS_NDEVS; d++)
		if (strcmp(abs, vfs_devs[d]) == 0) {
			l->kind = VFS_DEV;
			l->dev = d;
			return;
		}
	for (int i = 0; i < v->n + VFS_NDEVS; i++)
		if (vfs_above(abs, i < v->n ? v->g[i].guest : vfs_devs[i - v->n])) {
			l->kind = VFS_VDIR;
			return;
		}
}

int vfs_vdir_entry(const struct vfs *v, const char *abs, unsigned i, char *out, size_t cap,
		   bool *is_dev)
{
	unsigned seen = 0;
	size_t alen = strcmp(abs, "/") == 0 ? 0 : strlen(abs);

	for (int k = 0; k < v->n + VFS_NDEVS; k++) {
		const char *p = k < v->n ? v->g[k].guest : vfs_devs[k - v->n];
		const char *name;
		size_t len;
		bool dup = false;

		if (!vfs_above(abs, p))
			continue;
		name = p + alen + 1;
		len = strcspn(name, "/");
		/* Several grants under one name show it once: the first. */
		for (int j = 0; j < k && !dup; j++) {
			const char *q = j < v->n ? v->g[j].guest : vfs_devs[j - v->n];

			dup = vfs_above(abs, q) && strncmp(q + alen + 1, name, len) == 0 &&
			      (q[alen + 1 + len] == '/' || q[alen + 1 + len] == '\0');
		}
		if (dup || seen++ != i)
			continue;
		if (len + 1 > cap)
			return -1;
		memcpy(out, name, len);
		out[len] = '\0';
		*is_dev = k >= v->n && name[len] == '\0';
		return 0;
	}
	return -1;
}

void vfs_vdir_stat(const char *abs, struct stat *st)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a: a stable inode per path */

	for (const char *s = abs; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	memset(st, 0, sizeof(*st));
	st->st_mode = S_IFDIR | 0555;
	st->st_nlink = 2;
	st->st_ino = h | 1;
	st->st_blksize = 4096;
}

void vfs_init(struct vfs *v)
{
	memset(v, 0, sizeof(*v));
}

/* openat2 exists (Linux 5.6): without it nothing can be confined. */
static bool vfs_have_openat2(void)
{
	struct open_how how = {.flags = O_PATH | O_CLOEXEC, .resolve = RESOLVE_BENEATH};
	long fd = syscall(SYS_openat2, AT_FDCWD, ".", &how, sizeof(how));

	if (fd >= 0)
		close((int)fd);
	return fd >= 0 || errno != ENOSYS;
}

/* Whether one more grant can be added and confined; what names it in the
 * messages ("--dir HOST", "private /tmp"). 0, or -1 with err set. */
static int vfs_room_for_grant(const struct vfs *v, const char *what, const char *name)
{
	if (v->n == VFS_MAX_GRANTS)
		return err_set("vfs: %s%s: at most %d directories", what, name, VFS_MAX_GRANTS);
	if (!vfs_have_openat2())
		return err_set("vfs: %s%s: this host has no openat2 (Linux 5.6+), so a grant "
			       "cannot be confined; refused",
			       what, name);
	return 0;
}

int vfs_grant_add(struct vfs *v, const char *host, const char *guest, bool rw)
{
	struct vfs_grant *g;
	char abs[VFS_PATH_MAX];
	int fd;

	if (vfs_room_for_grant(v, "--dir ", host) < 0)
		return -1;
	fd = open(host, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return err_set("vfs: --dir %s: %s", host, strerror(errno));
	if (!guest) {
		if (!realpath(host, abs)) {
			close(fd);
			return err_set("vfs: --dir %s: %s", host, strerror(errno));
		}
		guest = abs;
	}
	g = &v->g[v->n];
	if (guest[0] != '/' || vfs_normalize("/", guest, g->guest, sizeof(g->guest)) < 0 ||
	    strcmp(g->guest, "/") == 0) {
		close(fd);
		return err_set("vfs: --dir %s: guest path '%s' must be absolute and not /", host,
			       guest);
	}
	for (int i = 0; i < v->n; i++)
		if (strcmp(v->g[i].guest, g->guest) == 0) {
			close(fd);
			return err_set("vfs: --dir %s: %s is granted twice", host, g->guest);
		}
	snprintf(g->host, sizeof(g->host), "%s", host);
	g->root = fd;
	g->rw = rw;
	v->n++;
	return 0;
}

int vfs_add_tmp(struct vfs *v)
{
	const char *base = getenv("TMPDIR");
	struct vfs_grant *g;
	struct vfs_lookup l;

	vfs_lookup(v, "/tmp", &l);
	if (l.kind == VFS_GRANT)
		return 0; /* the user's own /tmp grant wins */
	if (vfs_room_for_grant(v, "private /tmp", "") < 0)
		return -1;
	g = &v->g[v->n++];
	snprintf(g->guest, sizeof(g->guest), "/tmp");
	snprintf(g->host, sizeof(g->host), "%s/vmm-tmp-XXXXXX",
		 base && *base == '/' ? base : "/tmp");
	g->root = -1;
	g->rw = true;
	g->tmp_pending = true;
	return 0;
}

/* The private /tmp is made when the guest first looks into it: most
 * payloads never do, and a directory made and removed costs each run
 * about 0.2 ms here. mkdirat, not mkdtemp: the seccomp filter allows
 * mkdirat only. The grant's host name is the template until then. */
static int vfs_make_tmp(struct vfs *v, struct vfs_grant *g)
{
	static const char az[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	char *x = g->host + strlen(g->host) - 6;
	int e = EEXIST, fd;

	for (int tries = 0; tries < 16 && e == EEXIST; tries++) {
		unsigned char r[6];

		if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
			return -EIO;
		for (int i = 0; i < 6; i++)
			x[i] = az[r[i] % (sizeof(az) - 1)];
		e = mkdirat(AT_FDCWD, g->host, 0700) == 0 ? 0 : errno;
	}
	g->tmp_pending = false; /* one try: a failure is reported once */
	if (e == 0) {
		snprintf(v->tmpdir, sizeof(v->tmpdir), "%s", g->host);
		fd = open(g->host, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (fd >= 0) {
			g->root = fd;
			return 0;
		}
		e = errno;
	}
	vmm_warn("vfs: the private /tmp (%s): %s; the guest's /tmp fails with it", g->host,
		 strerror(e));
	return -e;
}

static int vfs_rm_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st, (void)type, (void)ftw;
	remove(path);
	return 0;
}

void vfs_destroy(struct vfs *v)
{
	for (int i = 0; i < v->n; i++)
		if (v->g[i].root >= 0)
			close(v->g[i].root);
	v->n = 0;
	if (v->tmpdir[0])
		nftw(v->tmpdir, vfs_rm_one, 16, FTW_DEPTH | FTW_PHYS);
	v->tmpdir[0] = '\0';
}

int vfs_open_beneath(struct vfs *v, int grant, const char *rel, int flags, unsigned mode)
{
	struct open_how how = {
	    .flags = (uint64_t)(flags | O_CLOEXEC),
	    .mode = (flags & O_CREAT) || (flags & __O_TMPFILE) == __O_TMPFILE ? mode : 0,
	    .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
	};
	long fd;

	if (grant >= 0 && grant < v->n && v->g[grant].tmp_pending) {
		int r = vfs_make_tmp(v, &v->g[grant]);

		if (r < 0)
			return r;
	}
	if (grant < 0 || grant >= v->n || v->g[grant].root < 0)
		return -ENOENT;
	fd = syscall(SYS_openat2, v->g[grant].root, rel, &how, sizeof(how));
	if (fd >= 0)
		return (int)fd;
	if (errno != EXDEV)
		return -errno;
	if (!v->warned_escape) {
		v->warned_escape = true;
		vmm_warn("vfs: %s/%s leads outside the grant %s (a .. or an absolute symlink): "
			 "-EACCES",
			 v->g[grant].guest, rel, v->g[grant].host);
	}
	return -EACCES;
}

int vfs_open_parent(struct vfs *v, int grant, const char *rel, const char **name)
{
	const char *slash = strrchr(rel, '/');
	char dir[VFS_PATH_MAX];

	if (strcmp(rel, ".") == 0)
		return -EBUSY;
	if (!slash) {
		*name = rel;
		return vfs_open_beneath(v, grant, ".", O_PATH | O_DIRECTORY, 0);
	}
	if ((size_t)(slash - rel) >= sizeof(dir))
		return -ENAMETOOLONG;
	memcpy(dir, rel, (size_t)(slash - rel));
	dir[slash - rel] = '\0';
	*name = slash + 1;
	return vfs_open_beneath(v, grant, dir, O_PATH | O_DIRECTORY, 0);
}
