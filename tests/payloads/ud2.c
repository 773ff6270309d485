/* An invalid opcode: SIGILL (132). */
int main(void)
{
	__asm__ volatile("ud2");
	return 0;
}
