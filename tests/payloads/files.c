/* Files: write, read back, stat, rename, list, truncate, mmap and remove,
 * in /tmp and in the directory argv[1] (granted rw in the guest; it holds
 * input.txt and link -> input.txt). Prints what it saw; the e2e test
 * compares with the native run. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static void show(const char *what, long r)
{
	if (r < 0)
		printf("%s: -1 %s\n", what, strerror(errno));
	else
		printf("%s: %ld\n", what, r);
}

static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

/* The same steps in any writable directory. */
static void scratch(const char *base, const char *tag)
{
	char dir[512], a[600], b[600], buf[64] = {0};
	struct stat st;
	FILE *f;
	int fd;

	printf("-- %s\n", tag);
	snprintf(dir, sizeof(dir), "%s/vmm-files-%d", base, (int)getpid());
	snprintf(a, sizeof(a), "%s/a.txt", dir);
	snprintf(b, sizeof(b), "%s/b.txt", dir);
	show("mkdir", mkdir(dir, 0755));
	show("mkdir again", mkdir(dir, 0755));
	f = fopen(a, "w");
	printf("fopen w: %s\n", f ? "ok" : strerror(errno));
	if (!f)
		return;
	for (int i = 0; i < 1000; i++)
		fprintf(f, "line %d\n", i);
	fclose(f);
	show("stat size", stat(a, &st) < 0 ? -1 : st.st_size);
	printf("is reg %d\n", S_ISREG(st.st_mode));
	printf("dir is dir %d\n", stat(dir, &st) == 0 && S_ISDIR(st.st_mode));
	show("access W", access(a, W_OK));
	{
		char s[600], t[64] = {0};
		struct timespec times[2] = {{1000000000, 0}, {1234567890, 500}};

		snprintf(s, sizeof(s), "%s/s", dir);
		show("symlink", symlink("a.txt", s));
		show("readlink", readlink(s, t, sizeof(t) - 1));
		printf("  -> %s\n", t);
		show("chmod 0640", chmod(a, 0640));
		show("utimensat", utimensat(AT_FDCWD, a, times, 0));
		stat(a, &st);
		printf("mode %o mtime %ld.%ld\n", st.st_mode & 0777, (long)st.st_mtim.tv_sec,
		       st.st_mtim.tv_nsec);
		show("unlink symlink", unlink(s));
	}
	show("rename", rename(a, b));
	show("stat old name", stat(a, &st));
	fd = open(b, O_RDWR);
	show("open rw", fd >= 0 ? 0 : -1);
	show("pread", pread(fd, buf, 9, 8));
	printf("  '%.9s'\n", buf);
	show("lseek end", lseek(fd, 0, SEEK_END));
	show("pwrite", pwrite(fd, "XYZ", 3, 0));
	show("ftruncate", ftruncate(fd, 100));
	show("fsync", fsync(fd));
	show("fstat size", fstat(fd, &st) < 0 ? -1 : st.st_size);
	show("read", read(fd, buf, 4)); /* offset is at the old end: EOF now */
	close(fd);
	show("entries", count_entries(dir));
	show("rmdir non-empty", rmdir(dir));
	show("unlink", unlink(b));
	show("unlink again", unlink(b));
	show("rmdir", rmdir(dir));
	fd = open(a, O_WRONLY | O_CREAT | O_EXCL, 0600);
	show("O_EXCL create in removed dir", fd);
}

static void in_grant(const char *g)
{
	char in[512], ln[512], target[64] = {0}, cwd[512];
	struct stat st;
	char *m;
	int fd;

	printf("-- grant\n");
	snprintf(in, sizeof(in), "%s/input.txt", g);
	snprintf(ln, sizeof(ln), "%s/link", g);
	show("readlink", readlink(ln, target, sizeof(target) - 1));
	printf("  -> %s\n", target);
	show("lstat is link", lstat(ln, &st) == 0 && S_ISLNK(st.st_mode));
	show("stat through link size", stat(ln, &st) < 0 ? -1 : st.st_size);
	fd = open(ln, O_RDONLY);
	/* One page: past the end of the file's last page Linux raises SIGBUS,
	 * which vmm does not emulate (it gives zeros). */
	m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	printf("mmap private: %s\n", m == MAP_FAILED ? strerror(errno) : "ok");
	if (m != MAP_FAILED) {
		printf("  first line '%.*s', past end zero %d\n", (int)strcspn(m, "\n"), m,
		       m[st.st_size] == 0 && m[4095] == 0);
		m[0] = '#'; /* private: the file keeps its first byte */
		char c = 0;
		pread(fd, &c, 1, 0);
		printf("  file after private write starts with '%c'\n", c);
		munmap(m, 4096);
	}
	close(fd);
	show("chdir", chdir(g));
	printf("getcwd matches %d\n", getcwd(cwd, sizeof(cwd)) && strcmp(cwd, g) == 0);
	show("open relative", (fd = open("input.txt", O_RDONLY)) < 0 ? -1 : 0);
	close(fd);
	show("stat missing", stat("nope", &st));
	show("entries", count_entries("."));
	int d = open(".", O_RDONLY | O_DIRECTORY);
	show("openat via dirfd", (fd = openat(d, "input.txt", O_RDONLY)) < 0 ? -1 : 0);
	close(fd);
	close(d);
	show("umask", umask(077));
	fd = open("new.txt", O_CREAT | O_WRONLY, 0666);
	fstat(fd, &st);
	printf("created mode %o\n", st.st_mode & 0777);
	close(fd);
	show("unlink", unlink("new.txt"));
	scratch(g, "scratch in grant");
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	scratch("/tmp", "scratch in /tmp");
	if (argc > 1)
		in_grant(argv[1]);
	return 0;
}
