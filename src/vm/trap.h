/* Guest exceptions as Linux would turn them into signals: which signal for
 * which vector, whether a #PF was spurious, and what the report shows.
 * Decisions only, free of KVM and of guest memory, so that the unit tests
 * check each one; the run loop gathers the facts and acts on the verdict. */
#ifndef VMM_TRAP_H
#define VMM_TRAP_H

#include "guest/paging.h"
#include "kernel/signal.h"
#include "util/types.h"

/* Not an exception: the payload did port I/O, which Linux answers with
 * #GP (SIGSEGV). It has no frame on the CPL0 stack. */
#define TRAP_PORT_IO (-1)

/* The frame the CPU pushed on the CPL0 stack, SDM Vol. 3A 6.14.2. */
struct trap_frame {
	uint64_t error, rip, cs, rflags, rsp, ss;
};

/* Whether the CPU pushes an error code for this vector. */
bool trap_has_error(int vector);
/* Where the stub of `vector` finds its frame, given its rsp: false when rsp
 * does not point into the CPL0 stacks with room for the whole frame. */
bool trap_frame_gpa(uint64_t rsp, int vector, gpa_t *gpa, size_t *len);
/* The frame from the words read at trap_frame_gpa. */
void trap_frame_parse(const uint64_t *words, int vector, struct trap_frame *f);
/* The access a #PF error code describes (SDM 3A 4.7). */
enum pt_access trap_pf_access(uint64_t error);

/* What the run loop knows about one exception. */
struct trap_event {
	int vector;		 /* the stub's vector, or TRAP_PORT_IO */
	bool frame_ok;		 /* frame was read (TRAP_PORT_IO: built from the exit) */
	struct trap_frame frame; /* cs 3: taken in user mode */
	gva_t cr2;		 /* #PF: the faulting address */
	bool pf_allowed;	 /* #PF: the tables now allow the faulting access */
	uint64_t pt_updates;	 /* #PF: page-table updates committed so far */
};

/* Spurious #PFs in a row at one address with no page-table update in
 * between: more than a few means the tables and the CPU disagree for real.
 * (Another thread that keeps replacing the page makes each fault a new one.) */
struct trap_spurious {
	gva_t addr;
	uint64_t pt_updates;
	unsigned repeats;
};
#define TRAP_SPURIOUS_REPEAT_MAX 3

enum trap_verdict {
	TRAP_KILL,	/* Linux's default action for signo ends the payload */
	TRAP_SPURIOUS,	/* a stale TLB entry: resume the payload at the frame */
	TRAP_VMM_ERROR, /* vmm cannot explain it: register dump, exit 125 */
};

struct trap_decision {
	enum trap_verdict verdict;
	int signo;	       /* TRAP_KILL: the signal */
	const char *name;      /* what happened: "page fault (#PF)", "port I/O at CPL3" */
	bool has_error;	       /* the report shows the error code */
	bool pf_walk;	       /* the report decodes the #PF and walks cr2 */
	bool mode_line;	       /* TRAP_VMM_ERROR: "NAME in user|kernel (vmm stub) mode" */
	bool user_mode;	       /* the frame's CS is at CPL3 */
	const char *dump_what; /* TRAP_VMM_ERROR: the dump's headline, NULL: "unexpected exit" */
};

/* Decides what one exception means; counts a spurious #PF in *streak. */
struct trap_decision trap_decide(const struct trap_event *ev, struct trap_spurious *streak);

/* A TRAP_KILL as the signal a handler of the payload's would get: si_code
 * and si_addr as Linux's traps.c and fault.c set them, and the trap number
 * and error code sigcontext carries. */
struct signal_fault trap_signal_fault(const struct trap_event *ev, const struct trap_decision *d);

#endif
