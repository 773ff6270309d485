/* The cache of KVM_GET_SUPPORTED_CPUID: where it lives, what its key
 * names, that only a file matching key and size byte for byte is used,
 * and, with /dev/kvm, that a cached table is the one KVM gives. Each test
 * points XDG_CACHE_HOME at a directory of its own. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kvm/cpuid_cache.h"
#include "kvm/kvm.h"
#include "unit.h"
#include "util/err.h"

#define DIR_TEMPLATE "/tmp/vmm-cpuid-test-XXXXXX"
static char dir[sizeof(DIR_TEMPLATE)];
static char path[sizeof(dir) + 32];

static void setup(void)
{
	strcpy(dir, DIR_TEMPLATE);
	ck_assert_ptr_nonnull(mkdtemp(dir));
	setenv("XDG_CACHE_HOME", dir, 1);
	unsetenv("VMM_CPUID_CACHE");
	ck_assert(cpuid_cache_path(path, sizeof(path)));
}

static void teardown(void)
{
	char cmd[sizeof(dir) + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

static struct kvm_cpuid2 *table(uint32_t nent)
{
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + nent * sizeof(c->entries[0]));

	c->nent = nent;
	for (uint32_t i = 0; i < nent; i++)
		c->entries[i] = (struct kvm_cpuid_entry2){.function = i, .eax = 0x1000 + i};
	return c;
}

START_TEST(path_follows_xdg_then_home_and_can_be_turned_off)
{
	char p[256];

	ck_assert_str_eq(path + strlen(dir), "/vmm/kvm-cpuid");
	setenv("XDG_CACHE_HOME", "relative/dir", 1); /* XDG: not absolute, ignored */
	setenv("HOME", "/home/u", 1);
	ck_assert(cpuid_cache_path(p, sizeof(p)));
	ck_assert_str_eq(p, "/home/u/.cache/vmm/kvm-cpuid");
	setenv("VMM_CPUID_CACHE", "0", 1);
	ck_assert(!cpuid_cache_path(p, sizeof(p)));
	unsetenv("VMM_CPUID_CACHE");
	unsetenv("XDG_CACHE_HOME");
	unsetenv("HOME");
	ck_assert(!cpuid_cache_path(p, sizeof(p)));
}
END_TEST

START_TEST(key_names_the_boot_and_the_modules)
{
	char key[CPUID_CACHE_KEY_MAX], boot[64];
	FILE *f = fopen("/proc/sys/kernel/random/boot_id", "r");

	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(fgets(boot, sizeof(boot), f));
	fclose(f);
	boot[strcspn(boot, "\n")] = '\0';
	ck_assert(cpuid_cache_key(key, sizeof(key)));
	ck_assert_msg(strstr(key, boot) != NULL, "key '%s' lacks boot_id %s", key, boot);
	if (access("/sys/module/kvm", F_OK) == 0)
		ck_assert_msg(strstr(key, " kvm=") != NULL, "%s", key);
	ck_assert(!cpuid_cache_key(key, 20)); /* too small: no truncated key */
}
END_TEST

START_TEST(stored_table_loads_back_under_its_key_only)
{
	struct kvm_cpuid2 *c = table(76), *back;

	cpuid_cache_store(path, "boot=a kvm=1", c);
	back = cpuid_cache_load(path, "boot=a kvm=1");
	ck_assert_ptr_nonnull(back);
	ck_assert_uint_eq(back->nent, 76);
	ck_assert_mem_eq(back->entries, c->entries, 76 * sizeof(c->entries[0]));
	free(back);
	ck_assert_ptr_null(cpuid_cache_load(path, "boot=a kvm=2")); /* a reloaded module */
	ck_assert_ptr_null(cpuid_cache_load(path, "boot=b kvm=1")); /* another boot */
	ck_assert_ptr_null(cpuid_cache_load(path, "boot=a kvm=1 x"));
	free(c);
}
END_TEST

START_TEST(damaged_file_is_ignored)
{
	struct kvm_cpuid2 *c = table(8);
	struct stat st;
	uint32_t huge = 1u << 30;
	int fd;

	cpuid_cache_store(path, "k", c);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0600);
	/* The entry count says more than the file holds. */
	fd = open(path, O_WRONLY);
	ck_assert_int_eq(pwrite(fd, &huge, sizeof(huge), 12), (ssize_t)sizeof(huge));
	close(fd);
	ck_assert_ptr_null(cpuid_cache_load(path, "k"));
	/* Cut short. */
	cpuid_cache_store(path, "k", c);
	ck_assert_int_eq(truncate(path, st.st_size - 1), 0);
	ck_assert_ptr_null(cpuid_cache_load(path, "k"));
	/* Not a cache file at all. */
	fd = open(path, O_WRONLY | O_TRUNC);
	ck_assert_int_eq(write(fd, "hello", 5), 5);
	close(fd);
	ck_assert_ptr_null(cpuid_cache_load(path, "k"));
	free(c);
}
END_TEST

START_TEST(real_kvm_cached_table_is_kvms)
{
	struct kvm cold, warm;

	if (kvm_open(&cold) < 0) {
		printf("SKIP real_kvm_cached_table_is_kvms: %s\n", err_msg());
		kvm_close(&cold);
		return;
	}
	ck_assert(!cold.cpuid_cached);
	ck_assert_msg(kvm_open(&warm) == 0, "%s", err_msg());
	ck_assert(warm.cpuid_cached);
	ck_assert_uint_eq(warm.cpuid->nent, cold.cpuid->nent);
	ck_assert_mem_eq(warm.cpuid->entries, cold.cpuid->entries,
			 cold.cpuid->nent * sizeof(cold.cpuid->entries[0]));
	kvm_close(&warm);
	setenv("VMM_CPUID_CACHE", "0", 1);
	ck_assert_int_eq(kvm_open(&warm), 0);
	ck_assert(!warm.cpuid_cached);
	kvm_close(&warm);
	kvm_close(&cold);
}
END_TEST

UNIT_SUITE_MAIN("cpuid_cache", setup, teardown, 0, path_follows_xdg_then_home_and_can_be_turned_off,
		key_names_the_boot_and_the_modules, stored_table_loads_back_under_its_key_only,
		damaged_file_is_ignored, real_kvm_cached_table_is_kvms)
