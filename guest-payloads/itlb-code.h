/* Shape of the code blob that itlb-code.S generates at build time and
 * itlb.c calls into: ITLB_PAGES tiny functions, one per 4 KiB page, the
 * function in page i at byte (i % ITLB_SPREAD) * 64 of it so that they do
 * not all compete for one instruction-cache set. */
#ifndef ITLB_CODE_H
#define ITLB_CODE_H

#define ITLB_PAGES 4096
#define ITLB_PAGE 4096
#define ITLB_SPREAD 64
#define ITLB_LINE 64

/* log2 of the blob's alignment: 12 normally, 21 in itlb-2m.elf so that the
 * whole blob can sit in 2 MiB pages. */
#ifndef ITLB_ALIGN_LOG2
#define ITLB_ALIGN_LOG2 12
#endif

#endif
