/* Writes lines until stdout fails: with `| head -1` Linux kills it with
 * SIGPIPE (141); with the argument "ignore" it ignores SIGPIPE, sees EPIPE
 * and exits 3. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	static const char line[] = "flood\n";

	if (argc > 1 && strcmp(argv[1], "ignore") == 0)
		signal(SIGPIPE, SIG_IGN);
	for (;;)
		if (write(1, line, sizeof(line) - 1) < 0)
			return errno == EPIPE ? 3 : 4;
}
