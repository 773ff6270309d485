/* Guest path resolution as pure functions: normalization (".", "..",
 * slashes, length), the longest grant wins, synthesized directories above
 * grants and devices, and what they list. The host side (openat2 beneath a
 * grant) is covered by the e2e escape test. */
#include <errno.h>
#include <string.h>

#include "kernel/vfs.h"
#include "unit.h"

static const char *norm(const char *base, const char *path)
{
	static char out[VFS_PATH_MAX];
	int r = vfs_normalize(base, path, out, sizeof(out));

	return r == 0 ? out : r == -ENOENT ? "ENOENT" : "ENAMETOOLONG";
}

START_TEST(normalize)
{
	char small[8];

	ck_assert_str_eq(norm("/", "/"), "/");
	ck_assert_str_eq(norm("/", "a"), "/a");
	ck_assert_str_eq(norm("/data", "x/./y//z/"), "/data/x/y/z");
	ck_assert_str_eq(norm("/data", "../etc/passwd"), "/etc/passwd");
	ck_assert_str_eq(norm("/data/sub", "../../../../.."), "/");
	ck_assert_str_eq(norm("/a/b", "/x/../y"), "/y"); /* absolute ignores base */
	ck_assert_str_eq(norm("/a", ".."), "/");
	ck_assert_str_eq(norm("/a", "..."), "/a/..."); /* a name, not a parent */
	ck_assert_str_eq(norm("/a", ".hidden"), "/a/.hidden");
	ck_assert_str_eq(norm("/a", ""), "ENOENT");
	ck_assert_int_eq(vfs_normalize("/", "/abcdefgh", small, sizeof(small)), -ENAMETOOLONG);
	ck_assert_int_eq(vfs_normalize("/", "/abcdef", small, sizeof(small)), 0);
	ck_assert_str_eq(small, "/abcdef");
}
END_TEST

static struct vfs v;

static void grant(const char *guest, bool rw)
{
	strcpy(v.g[v.n].guest, guest);
	v.g[v.n].root = -1;
	v.g[v.n++].rw = rw;
}

START_TEST(lookup)
{
	struct vfs_lookup l;

	vfs_init(&v);
	grant("/data", false);
	grant("/data/out", true);
	grant("/tmp", true);
	vfs_lookup(&v, "/data/x/y", &l);
	ck_assert_int_eq(l.kind, VFS_GRANT);
	ck_assert_int_eq(l.grant, 0);
	ck_assert_str_eq(l.rel, "x/y");
	vfs_lookup(&v, "/data/out/f", &l); /* the longer grant wins */
	ck_assert_int_eq(l.grant, 1);
	ck_assert_str_eq(l.rel, "f");
	vfs_lookup(&v, "/data", &l);
	ck_assert_int_eq(l.kind, VFS_GRANT);
	ck_assert_str_eq(l.rel, ".");
	vfs_lookup(&v, "/database", &l); /* whole components only */
	ck_assert_int_eq(l.kind, VFS_NONE);
	vfs_lookup(&v, "/", &l);
	ck_assert_int_eq(l.kind, VFS_VDIR);
	vfs_lookup(&v, "/dev", &l);
	ck_assert_int_eq(l.kind, VFS_VDIR);
	vfs_lookup(&v, "/dev/null", &l);
	ck_assert_int_eq(l.kind, VFS_DEV);
	ck_assert_str_eq(vfs_dev_path(l.dev), "/dev/null");
	vfs_lookup(&v, "/dev/sda", &l);
	ck_assert_int_eq(l.kind, VFS_NONE);
	vfs_lookup(&v, "/etc/passwd", &l);
	ck_assert_int_eq(l.kind, VFS_NONE);
}
END_TEST

START_TEST(synthesized_directories)
{
	char name[64];
	bool dev;
	const char *want[] = {"data", "tmp", "home", "dev"};
	unsigned i;

	vfs_init(&v);
	grant("/data", false);
	grant("/tmp", true);
	grant("/home/u/work", true);
	grant("/data2", true);
	for (i = 0; i < 4; i++) {
		ck_assert_int_eq(vfs_vdir_entry(&v, "/", i, name, sizeof(name), &dev), 0);
		ck_assert_str_eq(name, i < 2 ? want[i] : i == 2 ? "home" : "data2");
	}
	ck_assert_int_eq(vfs_vdir_entry(&v, "/", 4, name, sizeof(name), &dev), 0);
	ck_assert_str_eq(name, "dev"); /* the four devices share one name */
	ck_assert(!dev);
	ck_assert_int_eq(vfs_vdir_entry(&v, "/", 5, name, sizeof(name), &dev), -1);
	ck_assert_int_eq(vfs_vdir_entry(&v, "/home", 0, name, sizeof(name), &dev), 0);
	ck_assert_str_eq(name, "u");
	ck_assert_int_eq(vfs_vdir_entry(&v, "/dev", 1, name, sizeof(name), &dev), 0);
	ck_assert_str_eq(name, "zero");
	ck_assert(dev);
	ck_assert_int_eq(vfs_vdir_entry(&v, "/home/u/work", 0, name, sizeof(name), &dev), -1);
}
END_TEST

UNIT_SUITE_MAIN("vfs", NULL, NULL, 0, normalize, lookup, synthesized_directories)
