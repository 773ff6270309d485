/* The version strings the Makefile passes with -D; a build without them
 * (another build system, no git) still says something true. */
#include "util/version.h"

#ifndef VMM_VERSION
#define VMM_VERSION "unknown"
#endif
#ifndef VMM_COMMIT
#define VMM_COMMIT "unknown"
#endif

const char *vmm_version(void)
{
	return VMM_VERSION[0] ? VMM_VERSION : "unknown";
}

const char *vmm_commit(void)
{
	return VMM_COMMIT[0] ? VMM_COMMIT : "unknown";
}
