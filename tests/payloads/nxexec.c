/* Executing a data page (NX): SIGSEGV (139), instruction fetch. */
#include <string.h>

static unsigned char code[64] = {0xc3}; /* ret, in a writable, non-executable page */

int main(void)
{
	void (*fn)(void) = (void (*)(void))(void *)code;
	fn();
	return 0;
}
