// SPDX-License-Identifier: BSD-2-Clause
/*
 * Console commands on address spaces: `mm new|list|use|free`, `map`,
 * `unmap`, `protect`, `touch` and `walk`. Each calls the MMU layer's own
 * API (kernel/mm/mm.h) on the console's current mm, so what a student
 * sees is what the tests exercise.
 *
 * Invariants: the console's mms live in shell_mms[] and nowhere else;
 * one is current or none; an mm is destroyed only by `mm free`, after
 * every thread `touch` started on it has been joined (touch joins before
 * it returns). Every address is checked to lie in the user half before
 * anything touches it, and a touch runs with a fault fixture armed, so a
 * fault nothing resolves is reported, never a panic.
 */
#include "kernel/arch.h"
#include "kernel/entry.h"
#include "kernel/errno.h"
#include "kernel/mm/frame.h"
#include "kernel/mm/mm.h"
#include "kernel/percpu.h"
#include "kernel/printk.h"
#include "kernel/sched/thread.h"
#include "kernel/shell/shell.h"
#include "lib/string.h"
#include "tests/ktest.h"

#define SHELL_MM_MAX 8

static struct mm *shell_mms[SHELL_MM_MAX];
static int shell_mm_current = -1;

struct mm *shell_current_mm(void)
{
	return shell_mm_current < 0 ? NULL : shell_mms[shell_mm_current];
}

int shell_mm_index(const struct mm *mm)
{
	for (int i = 0; mm && i < SHELL_MM_MAX; i++)
		if (shell_mms[i] == mm)
			return i;
	return -1;
}

void shell_mms_unload(void)
{
	for (int i = 0; i < SHELL_MM_MAX; i++)
		if (shell_mms[i])
			mm_unload_everywhere(shell_mms[i]);
}

static struct mm *need_mm(const char *cmd)
{
	struct mm *mm = shell_current_mm();
	if (!mm)
		shell_error(cmd, "no current address space (`mm new` makes one)");
	return mm;
}

/* Parses a number argument, printing the parser's error line on failure. */
static bool arg_u64(const char *s, const char *what, uint64_t min, uint64_t max, uint64_t *v)
{
	char err[SHELL_ERR_MAX];
	if (shell_parse_u64(s, what, min, max, v, err, sizeof(err)))
		return true;
	console_write("%s\n", err);
	return false;
}

/* ADDR and LEN of a range command: page aligned, inside the user half. */
static bool arg_range(const char *cmd, char **argv, virt_addr_t *va, uint64_t *len)
{
	uint64_t a, n;
	if (!arg_u64(argv[1], "ADDR", 0, UINT64_MAX, &a) ||
	    !arg_u64(argv[2], "LEN", 1, UINT64_MAX, &n))
		return false;
	if (!IS_ALIGNED(a, PAGE_SIZE) || !IS_ALIGNED(n, PAGE_SIZE)) {
		shell_error(cmd, "ADDR and LEN must be multiples of the page size (%#lx)",
			    (unsigned long)PAGE_SIZE);
		return false;
	}
	if (!vm_user_range_ok((virt_addr_t)a, n)) {
		shell_error(cmd, "[%#llx, +%#llx) is not inside the user half [%#lx, %#lx)",
			    (unsigned long long)a, (unsigned long long)n,
			    (unsigned long)arch_mm_layout.user_base,
			    (unsigned long)arch_mm_layout.user_top);
		return false;
	}
	*va = (virt_addr_t)a;
	*len = n;
	return true;
}

static const char *errno_text(int err)
{
	switch (err) {
	case -EINVAL:
		return "invalid range (or the kernel's reserved window)";
	case -EEXIST:
		return "overlaps an existing mapping";
	case -ENOMEM:
		return "out of memory";
	case -EBUSY:
		return "busy";
	default:
		return "failed";
	}
}

/* The outcome of a range command: what it did, or why it did nothing. */
static int report(const char *cmd, int err, const char *done, virt_addr_t va, uint64_t len,
		  const char *how)
{
	if (err)
		shell_error(cmd, "%s (error %d)", errno_text(err), err);
	else
		console_write("mm %d: %s [%#lx, %#lx)%s%s\n", shell_mm_current, done,
			      (unsigned long)va, (unsigned long)(va + len), how ? " " : "",
			      how ? how : "");
	return err;
}

static void mm_list(void)
{
	for (unsigned i = 0; i < SHELL_MM_MAX; i++) {
		struct mm *mm = shell_mms[i];
		if (!mm)
			continue;
		unsigned vmas = 0;
		uint64_t bytes = 0;
		irqflags_t flags = spin_lock_irqsave(&mm->vma_lock);
		for (struct vma *v = mm->vmas; v; v = v->next, vmas++)
			bytes += v->end - v->start;
		spin_unlock_irqrestore(&mm->vma_lock, flags);
		console_write(
		    "%c mm %u: root %#lx, asid %#llx, %u mapping(s), %llu KiB, tlb gen %llu "
		    "(completed %llu), on %u CPU(s)\n",
		    (int)i == shell_mm_current ? '*' : ' ', i, (unsigned long)mm->pt.root,
		    (unsigned long long)mm->asid, vmas, (unsigned long long)(bytes >> 10),
		    (unsigned long long)READ_ONCE(mm->tlb_gen),
		    (unsigned long long)READ_ONCE(mm->tlb_gen_completed),
		    cpumask_weight(cpumask_read(&mm->cpus)));
	}
	if (shell_mm_current < 0)
		console_write("no current mm\n");
}

int shell_cmd_mm(unsigned argc, char **argv)
{
	const char *sub = argv[1];
	bool wants_n = strcmp(sub, "use") == 0 || strcmp(sub, "free") == 0;
	if ((argc == 3) != wants_n) {
		shell_error(
		    "mm", wants_n ? "mm %s needs N (see mm list)" : "mm %s takes no argument", sub);
		return 1;
	}
	if (strcmp(sub, "list") == 0) {
		mm_list();
		return 0;
	}
	if (strcmp(sub, "new") == 0) {
		unsigned i = 0;
		while (i < SHELL_MM_MAX && shell_mms[i])
			i++;
		if (i == SHELL_MM_MAX) {
			shell_error("mm", "all %u slots are in use (mm free N)", SHELL_MM_MAX);
			return 1;
		}
		shell_mms[i] = mm_create();
		if (!shell_mms[i]) {
			shell_error("mm", "out of memory");
			return 1;
		}
		shell_mm_current = (int)i;
		console_write("mm %u: new address space, root %#lx; now current\n", i,
			      (unsigned long)shell_mms[i]->pt.root);
		return 0;
	}
	uint64_t n;
	if (!arg_u64(argv[2], "N", 0, SHELL_MM_MAX - 1, &n))
		return 1;
	if (!shell_mms[n]) {
		shell_error("mm", "no mm %llu (see mm list)", (unsigned long long)n);
		return 1;
	}
	if (strcmp(sub, "use") == 0) {
		shell_mm_current = (int)n;
		console_write("mm %llu is current\n", (unsigned long long)n);
		return 0;
	}
	mm_destroy(shell_mms[n]);
	shell_mms[n] = NULL;
	if (shell_mm_current == (int)n)
		shell_mm_current = -1;
	console_write("mm %llu destroyed\n", (unsigned long long)n);
	return 0;
}

static unsigned attrs_of(const char *w)
{
	if (strcmp(w, "rw") == 0)
		return PT_READ | PT_WRITE;
	if (strcmp(w, "rx") == 0)
		return PT_READ | PT_EXEC;
	return PT_READ;
}

/* map, unmap and protect: the same checks, then one vm_* call on the current mm. */
static int range_cmd(char **argv)
{
	const char *cmd = argv[0];
	virt_addr_t va;
	uint64_t len;
	struct mm *mm = need_mm(cmd);
	if (!mm || !arg_range(cmd, argv, &va, &len))
		return 1;
	if (strcmp(cmd, "map") == 0)
		return report(cmd, vm_map_anon(mm, va, len, attrs_of(argv[3])), "mapped", va, len,
			      argv[3]);
	if (strcmp(cmd, "protect") == 0)
		return report(cmd, vm_protect(mm, va, len, attrs_of(argv[3])), "protected", va, len,
			      argv[3]);
	return report(cmd, vm_unmap(mm, va, len), "unmapped", va, len, NULL);
}

int shell_cmd_map(unsigned argc, char **argv)
{
	(void)argc;
	return range_cmd(argv);
}

int shell_cmd_unmap(unsigned argc, char **argv)
{
	(void)argc;
	return range_cmd(argv);
}

int shell_cmd_protect(unsigned argc, char **argv)
{
	(void)argc;
	return range_cmd(argv);
}

struct touch_job {
	virt_addr_t va;
	uint64_t len;
	volatile uint64_t done; /* pages written so far */
	bool faulted;
	struct fault_info info;
};

static void touch_pages(void *arg)
{
	struct touch_job *j = arg;
	for (virt_addr_t p = j->va; p < j->va + j->len; p += PAGE_SIZE) {
		*(volatile uint64_t *)p = p;
		j->done++;
	}
}

static void touch_thread(void *arg)
{
	struct touch_job *j = arg;
	j->faulted = ktest_expect_fault(touch_pages, j, &j->info);
}

int shell_cmd_touch(unsigned argc, char **argv)
{
	struct touch_job j = {0};
	uint64_t cpu = arch_cpu_id();
	struct mm *mm = need_mm("touch");
	if (!mm || !arg_range("touch", argv, &j.va, &j.len))
		return 1;
	if (argc == 4) {
		shell_error("touch", "`on` needs a CPU number");
		return 1;
	}
	if (argc == 5 && !arg_u64(argv[4], "CPU", 0, CPU_MAX - 1, &cpu))
		return 1;
	if (!cpumask_test(cpumask_read(&cpu_online_mask), (unsigned)cpu)) {
		shell_error("touch", "CPU %llu is not online", (unsigned long long)cpu);
		return 1;
	}
	struct thread *t = thread_create_mm("touch", (unsigned)cpu, mm, touch_thread, &j);
	if (!t) {
		shell_error("touch", "cannot start a thread on CPU %llu", (unsigned long long)cpu);
		return 1;
	}
	thread_join(t);
	if (j.faulted) {
		shell_error("touch", "%s fault at %#lx on cpu%llu after %llu page(s): %s",
			    j.info.write ? "write" : "read", (unsigned long)j.info.address,
			    (unsigned long long)cpu, (unsigned long long)j.done,
			    j.info.name ? j.info.name : "unresolved");
		return 1;
	}
	console_write("touched %llu page(s) from cpu%llu\n", (unsigned long long)j.done,
		      (unsigned long long)cpu);
	return 0;
}

int shell_cmd_walk(unsigned argc, char **argv)
{
	(void)argc;
	uint64_t a;
	if (!arg_u64(argv[1], "ADDR", 0, UINT64_MAX, &a))
		return 1;
	virt_addr_t va = (virt_addr_t)a;
	if (va >= arch_mm_layout.user_base && va < arch_mm_layout.user_top) {
		struct mm *mm = need_mm("walk");
		if (!mm)
			return 1;
		/* For write: a read hold lets an unmap free the tables the walk reads. */
		down_write(&mm->lock);
		pt_dump_walk(mm->pt.root, va);
		up_write(&mm->lock);
		return 0;
	}
	pt_dump_walk(arch_mm_root_for(va), va);
	return 0;
}
