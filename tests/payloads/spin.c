/* Never ends: for --timeout (124). */
int main(void)
{
	for (volatile unsigned long i = 0;; i++)
		;
}
