/* An integer division by zero: SIGFPE (136). */
int main(int argc, char **argv)
{
	volatile int zero = argc - 1;
	(void)argv;
	return 10 / zero;
}
