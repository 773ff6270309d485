/* Exit status propagation: `return 42` must become the VMM's status 42. */
int main(void)
{
	return 42;
}
