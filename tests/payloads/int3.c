/* A breakpoint instruction: SIGTRAP (133). */
int main(void)
{
	__asm__ volatile("int3");
	return 0;
}
