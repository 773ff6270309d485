/* Tries to leave the directory argv[1], granted read-only in the guest and
 * holding abs -> /etc/passwd, sub/up -> ../../../etc/passwd and file.txt:
 * by "..", by an absolute symlink, by a relative one, from a directory fd;
 * then writes where the grant forbids and maps the file shared and
 * writable. Each attempt prints its errno; only the guest run is checked
 * (natively most of these succeed). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static void try_open(const char *what, int dirfd, const char *path, int flags)
{
	int fd = openat(dirfd, path, flags, 0644);

	printf("%s: %s\n", what, fd >= 0 ? "OPENED" : strerror(errno));
	if (fd >= 0)
		close(fd);
}

int main(int argc, char **argv)
{
	char p[512];
	struct stat st;
	int d, fd;
	void *m;

	if (argc < 2)
		return 2;
	snprintf(p, sizeof(p), "%s/../../../../etc/passwd", argv[1]);
	try_open("dotdot", AT_FDCWD, p, O_RDONLY);
	snprintf(p, sizeof(p), "%s/abs", argv[1]);
	try_open("absolute symlink", AT_FDCWD, p, O_RDONLY);
	printf("stat absolute symlink: %s\n", stat(p, &st) == 0 ? "STAT" : strerror(errno));
	snprintf(p, sizeof(p), "%s/sub/up", argv[1]);
	try_open("relative symlink up", AT_FDCWD, p, O_RDONLY);
	d = open(argv[1], O_RDONLY | O_DIRECTORY);
	try_open("dirfd ..", d, "../../../../etc/passwd", O_RDONLY);
	try_open("dirfd inside", d, "file.txt", O_RDONLY);
	try_open("write in ro grant", d, "file.txt", O_WRONLY);
	try_open("create in ro grant", d, "new.txt", O_WRONLY | O_CREAT);
	printf("mkdir in ro grant: %s\n", mkdirat(d, "x", 0755) == 0 ? "MADE" : strerror(errno));
	printf("unlink in ro grant: %s\n",
	       unlinkat(d, "file.txt", 0) == 0 ? "REMOVED" : strerror(errno));
	printf("chdir outside: %s\n", chdir("/etc") == 0 ? "CHANGED" : strerror(errno));
	try_open("root", AT_FDCWD, "/", O_RDONLY | O_DIRECTORY);
	try_open("create in /", AT_FDCWD, "/new", O_WRONLY | O_CREAT);
	fd = openat(d, "file.txt", O_RDONLY);
	m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	printf("mmap shared writable of a read-only fd: %s\n",
	       m == MAP_FAILED ? strerror(errno) : "MAPPED");
	m = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
	printf("mmap shared read-only: %s %.4s\n", m == MAP_FAILED ? strerror(errno) : "MAPPED",
	       m == MAP_FAILED ? "" : (char *)m);
	fd = open("/tmp/t", O_RDWR | O_CREAT, 0600);
	write(fd, "data", 4);
	m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	printf("mmap shared writable of /tmp/t: %s\n",
	       m == MAP_FAILED ? strerror(errno) : "MAPPED");
	return 0;
}
