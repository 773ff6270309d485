/* What vmm is: its version (the VERSION file) and the git commit it was
 * built from, both baked in at build time (Makefile), "unknown" where the
 * build could not tell. */
#ifndef VMM_VERSION_H
#define VMM_VERSION_H

const char *vmm_version(void);
/* `git describe --always --dirty` of the tree built, or "unknown". */
const char *vmm_commit(void);

#endif
