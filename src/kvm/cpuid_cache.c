/* The cache file: a header (magic, format, key, entry count) followed by
 * the kvm_cpuid_entry2 array, read back only when all of it matches. */
#include "kvm/cpuid_cache.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/sysfs.h"

#define CACHE_MAGIC "vmmcpuid"
#define CACHE_FORMAT 1u
#define CACHE_FILE "kvm-cpuid"

struct cache_header {
	char magic[8];
	uint32_t format;
	uint32_t nent;
	char key[CPUID_CACHE_KEY_MAX];
};

/* The modules whose parameters decide what KVM offers a guest. */
static const char *const kvm_modules[] = {"kvm", "kvm_intel", "kvm_amd", "kvm_pvm"};

bool cpuid_cache_path(char *buf, size_t len)
{
	const char *off = getenv("VMM_CPUID_CACHE");
	const char *xdg = getenv("XDG_CACHE_HOME");
	const char *home = getenv("HOME");
	int n;

	if (off && strcmp(off, "0") == 0)
		return false;
	if (xdg && xdg[0] == '/')
		n = snprintf(buf, len, "%s/vmm/" CACHE_FILE, xdg);
	else if (home && home[0] == '/')
		n = snprintf(buf, len, "%s/.cache/vmm/" CACHE_FILE, home);
	else
		return false;
	return n > 0 && (size_t)n < len;
}

bool cpuid_cache_key(char *buf, size_t len)
{
	char boot[64], ucode[32];
	size_t used;
	size_t i;
	int n;

	if (!sysfs_read_line("/proc/sys/kernel/random/boot_id", boot, sizeof(boot)))
		return false;
	if (!sysfs_read_line("/sys/devices/system/cpu/cpu0/microcode/version", ucode,
			     sizeof(ucode)))
		strcpy(ucode, "-");
	n = snprintf(buf, len, "boot=%s ucode=%s entry=%zu", boot, ucode,
		     sizeof(struct kvm_cpuid_entry2));
	if (n < 0 || (size_t)n >= len)
		return false;
	used = (size_t)n;
	for (i = 0; i < sizeof(kvm_modules) / sizeof(kvm_modules[0]); i++) {
		char dir[64];
		struct stat st;

		snprintf(dir, sizeof(dir), "/sys/module/%s", kvm_modules[i]);
		if (stat(dir, &st) < 0)
			continue;
		n = snprintf(buf + used, len - used, " %s=%llu", kvm_modules[i],
			     (unsigned long long)st.st_ino);
		if (n < 0 || (size_t)n >= len - used)
			return false;
		used += (size_t)n;
	}
	return true;
}

static bool read_all(int fd, void *buf, size_t len)
{
	return read(fd, buf, len) == (ssize_t)len;
}

struct kvm_cpuid2 *cpuid_cache_load(const char *path, const char *key)
{
	struct cache_header h;
	struct kvm_cpuid2 *c = NULL;
	struct stat st;
	size_t body;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) < 0 || st.st_uid != geteuid() || !S_ISREG(st.st_mode) ||
	    !read_all(fd, &h, sizeof(h)))
		goto out;
	if (memcmp(h.magic, CACHE_MAGIC, sizeof(h.magic)) != 0 || h.format != CACHE_FORMAT ||
	    h.nent == 0 || h.nent > CPUID_CACHE_MAX_ENTRIES ||
	    strncmp(h.key, key, sizeof(h.key)) != 0 || h.key[sizeof(h.key) - 1] != '\0')
		goto out;
	body = h.nent * sizeof(c->entries[0]);
	if ((size_t)st.st_size != sizeof(h) + body)
		goto out;
	c = calloc(1, sizeof(*c) + body);
	if (!c)
		goto out;
	c->nent = h.nent;
	if (!read_all(fd, c->entries, body)) {
		free(c);
		c = NULL;
	}
out:
	close(fd);
	return c;
}

/* mkdir -p of path's directory, made private to this user: the cache
 * lives in its home, and a directory someone else owns is not used. */
static bool cache_dir(const char *path)
{
	char dir[4096];
	struct stat st;
	char *slash;

	if (strlen(path) >= sizeof(dir))
		return false;
	strcpy(dir, path);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return false;
	*slash = '\0';
	for (char *p = strchr(dir + 1, '/');; p = strchr(p + 1, '/')) {
		if (p)
			*p = '\0';
		mkdir(dir, 0700);
		if (!p)
			break;
		*p = '/';
	}
	return stat(dir, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == geteuid();
}

void cpuid_cache_store(const char *path, const char *key, const struct kvm_cpuid2 *c)
{
	struct cache_header h = {.format = CACHE_FORMAT, .nent = c->nent};
	size_t body = c->nent * sizeof(c->entries[0]);
	char tmp[4096 + 16];
	bool ok;
	int fd;

	if (c->nent == 0 || c->nent > CPUID_CACHE_MAX_ENTRIES || strlen(key) >= sizeof(h.key) ||
	    !cache_dir(path))
		return;
	memcpy(h.magic, CACHE_MAGIC, sizeof(h.magic));
	strcpy(h.key, key);
	snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return;
	ok = write(fd, &h, sizeof(h)) == (ssize_t)sizeof(h) &&
	     write(fd, c->entries, body) == (ssize_t)body;
	close(fd);
	if (!ok || rename(tmp, path) < 0)
		unlink(tmp);
}
