/* Error reporting: modules record one message and return -1; only main
 * prints it and decides the exit status. Messages are "subject: what: values"
 * and are interface: tests match them. */
#ifndef VMM_ERR_H
#define VMM_ERR_H

/* The longest message kept, with its terminating NUL; longer ones are cut. */
#define ERR_MSG_MAX 1024

/* Records the message and returns -1, so callers can `return err_set(...)`. */
int err_set(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Like err_set, but prefixes the message already recorded: "outer: inner". */
int err_wrap(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The calling thread's message: each thread records its own. */
const char *err_msg(void);
void err_clear(void);

/* A warning goes to stderr at once as "vmm: warning: ...". */
void vmm_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
