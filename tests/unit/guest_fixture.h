/* A guest for the unit tests without /dev/kvm: anonymous guest RAM, its
 * frame allocator, its page tables and, where a test needs one, the
 * process's mm over them, set up and torn down the same way everywhere.
 * The objects stay the test file's own (static, one per forked test):
 *	guest_fixture_up(&mem, &fr, &pt, &mm, 64 * MB);   (mm may be NULL)
 *	guest_fixture_down(&mem, &fr, &pt, &mm);          (in the teardown) */
#ifndef VMM_TESTS_GUEST_FIXTURE_H
#define VMM_TESTS_GUEST_FIXTURE_H

#include "guest/paging.h"
#include "kernel/mm.h"
#include "kernel/task.h"
#include "unit.h"
#include "util/err.h"

/* size bytes of anonymous guest RAM (no prealloc), frames over all of it,
 * empty page tables and, when mm is not NULL, an mm with the 4K policy;
 * a step that fails fails the test with vmm's message. */
static inline void guest_fixture_up(struct guest_mem *mem, struct frames *fr,
				    struct page_tables *pt, struct mm *mm, uint64_t size)
{
	err_clear();
	ck_assert_msg(mem_create(mem, size, MEM_BACKING_ANON, false) == 0, "%s", err_msg());
	ck_assert_msg(frames_init(fr, mem->size) == 0, "%s", err_msg());
	ck_assert_msg(pt_init(pt, mem, fr) == 0, "%s", err_msg());
	if (mm)
		mm_init(mm, pt, GUEST_PAGES_4K);
}

/* Undoes guest_fixture_up(); also safe on the zeroed objects of a test
 * that never called it. */
static inline void guest_fixture_down(struct guest_mem *mem, struct frames *fr,
				      struct page_tables *pt, struct mm *mm)
{
	if (mm)
		mm_destroy(mm);
	pt_destroy(pt);
	frames_destroy(fr);
	mem_destroy(mem);
}

/* The syscall-level suites' guest: guest_fixture_up with an mm, then the
 * process over it and its first task. */
static inline void process_fixture_up(struct guest_mem *mem, struct frames *fr,
				      struct page_tables *pt, struct mm *mm, struct process *proc,
				      struct task *task, uint64_t size)
{
	guest_fixture_up(mem, fr, pt, mm, size);
	process_init(proc, mm, mem->size);
	task_init(task, proc);
}

static inline void process_fixture_down(struct guest_mem *mem, struct frames *fr,
					struct page_tables *pt, struct mm *mm, struct process *proc)
{
	process_destroy(proc);
	guest_fixture_down(mem, fr, pt, mm);
}

#endif
