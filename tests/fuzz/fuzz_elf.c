/* libFuzzer harness: the bytes of an executable file against elf_open's
 * checks and, when it accepts them, the loader on a KVM-free guest. The
 * file goes through a memfd so elf_open reads it exactly as it reads a
 * payload from disk. */
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz.h"
#include "kernel/loader.h"

static int memfd = -1;
static char path[64];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char arg0[] = "fuzz", env0[] = "A=b";
	static char *argv[] = {arg0, NULL}, *envp[] = {env0, NULL};
	struct loader_args a = {.argc = 1, .argv = argv, .envp = envp, .execfn = arg0};
	struct elf_image img;
	struct load_info li;
	struct fuzz_guest g;

	if (memfd < 0) {
		memfd = memfd_create("fuzz-elf", 0);
		if (memfd < 0)
			abort();
		snprintf(path, sizeof(path), "/proc/self/fd/%d", memfd);
	}
	if (ftruncate(memfd, 0) < 0 || pwrite(memfd, data, size, 0) != (ssize_t)size)
		abort();
	err_clear();
	if (elf_open(&img, path) != 0)
		return 0;
	fuzz_guest_up(&g);
	(void)loader_load(&g.mm, &img, &a, &li);
	fuzz_guest_down(&g);
	elf_close(&img);
	return 0;
}
