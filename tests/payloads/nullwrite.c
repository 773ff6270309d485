/* A write through a null pointer: SIGSEGV (139) with a page-walk report. */
int main(void)
{
	*(volatile int *)0 = 1;
	return 0;
}
