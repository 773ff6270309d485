/* A write to read-only data: SIGSEGV (139), protection violation. */
static const int constant = 1;

int main(void)
{
	*(volatile int *)&constant = 2;
	return 0;
}
