// SPDX-License-Identifier: BSD-2-Clause
/*
 * peerbench: Pagoda's TLB benchmark scenarios (kernel/bench/) run from user
 * space on Linux, so `make peer-bench` can boot Debian's kernel under the
 * same QEMU and compare (docs/benchmarks.md, "Against Linux"). A static
 * program: the initramfs's /init runs it and powers the machine off.
 *
 * Each scenario does what its Pagoda twin does, with the same counts:
 * munmap_N maps N anonymous pages populated (MAP_POPULATE, as vm_populate:
 * one call faults every page in, no trap per page) and unmaps them;
 * mprotect flips 64 populated pages RW -> RO -> RW; tlb_flush2 populates
 * (MADV_POPULATE_WRITE), writes and discards (MADV_DONTNEED) 1 MiB per
 * thread; concurrent runs two 256-page and one 1-page map/populate/unmap
 * loops. Ranges sit 64 KiB into 4 MiB slots from 4 GiB up, with a populated
 * guard page on each side; the guards are then made PROT_NONE so that Linux
 * never merges them with the range's VMA (Pagoda never merges VMAs), and a
 * guard VMA on each side keeps Linux from freeing the range's page tables.
 * Every other CPU runs a pinned resident thread of the process that spins
 * writing its own line of a resident page: on Linux only a running thread
 * keeps a CPU in the mm and not lazy (a sleeping one switches to idle, which
 * is lazy, and flushes skip it). Pagoda's residents halt inside the mm
 * unless given bench.spin, which make peer-bench gives them by default.
 *
 * Invariants: one fresh process (a fresh mm) per repetition, as Pagoda's
 * fresh mm per run; the measured interval holds only the operations (the
 * clock and /proc/interrupts are read while every thread waits at a start
 * line, and again after the last join); output lines have Pagoda's BENCH
 * format, mode=linux, with ipis= the function-call IPIs Linux received
 * (how its shootdowns arrive) and, where Linux counts them, tlb_ipis= (the
 * x86 "TLB" row) and resched_ipis=; counters Linux does not have are left
 * out rather than printed as 0.
 *
 * Arguments (each overrides the same word of /proc/cmdline, which the
 * kernel command line sets): bench.scale=P, bench.reps=N, bench.only=GLOB[,GLOB...].
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fnmatch.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23 /* Linux 5.14 */
#endif
#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

#define PAGE	      4096ul
#define KiB(n)	      ((n)*1024ul)
#define MiB(n)	      ((n)*1024ul * 1024ul)
#define CPU_MAX	      64
#define BASE_VA	      0x100000000ul /* 4 GiB, as Pagoda's BENCH_VA */
#define RESIDENT_VA   BASE_VA
#define WORK_VA(slot) (BASE_VA + MiB(4) * (slot) + KiB(64))

static unsigned scale = 100, reps = 5;
static char only[128] = "*";
static unsigned ncpus;

/* IPI interrupts received by all CPUs, by kind, from /proc/interrupts. */
struct peer_ipis {
	uint64_t call, tlb, resched;
	bool has_tlb;
};

/* Sums the per-CPU columns of one /proc/interrupts row (after its "NAME:"). */
static uint64_t peer_row_sum(const char *s, const char **rest)
{
	uint64_t sum = 0;
	for (unsigned c = 0; c < ncpus; c++) {
		char *end;
		unsigned long long v = strtoull(s, &end, 10);
		if (end == s)
			break;
		sum += v;
		s = end;
	}
	*rest = s;
	return sum;
}

static void peer_ipis_read(struct peer_ipis *ipi)
{
	*ipi = (struct peer_ipis){0};
	FILE *f = fopen("/proc/interrupts", "r");
	char line[1024];
	while (f && fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':');
		if (!colon)
			continue;
		const char *what;
		uint64_t n = peer_row_sum(colon + 1, &what);
		/* The description names the kind on both arches (x86 CAL/TLB/RES, arm64 IPIn). */
		if (strstr(what, "Function call"))
			ipi->call += n;
		else if (strstr(what, "TLB shootdowns")) {
			ipi->tlb += n;
			ipi->has_tlb = true;
		} else if (strstr(what, "Rescheduling"))
			ipi->resched += n;
	}
	if (f)
		fclose(f);
}

static uint64_t peer_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

struct peer_snap {
	uint64_t ns;
	struct peer_ipis ipi;
};

/*
 * Reading /proc/interrupts takes a while under TCG: it goes before the
 * clock at the start and after it at the end, outside the interval.
 */
static void peer_snap_take(struct peer_snap *s, bool start)
{
	if (start)
		peer_ipis_read(&s->ipi);
	s->ns = peer_now_ns();
	if (!start)
		peer_ipis_read(&s->ipi);
}

static unsigned rep_now;
static bool failed;

static void peer_report(const char *name, uint64_t ops, const struct peer_snap *a,
			const struct peer_snap *b)
{
	printf("BENCH scenario=%s mode=linux ops=%llu ns=%llu ipis=%llu cpus=%u rep=%u", name,
	       (unsigned long long)ops, (unsigned long long)(b->ns - a->ns),
	       (unsigned long long)(b->ipi.call - a->ipi.call), ncpus, rep_now);
	if (b->ipi.has_tlb)
		printf(" tlb_ipis=%llu", (unsigned long long)(b->ipi.tlb - a->ipi.tlb));
	printf(" resched_ipis=%llu\n", (unsigned long long)(b->ipi.resched - a->ipi.resched));
}

static void peer_fail(const char *name, const char *what, long value)
{
	printf("BENCH_ERROR scenario=%s rep=%u %s=%ld\n", name, rep_now, what, value);
	failed = true;
}

static uint64_t peer_scaled(uint64_t ops)
{
	uint64_t n = ops * scale / 100;
	return n ? n : 1;
}

/* Maps [va, va + size) read-write at exactly va; 0 or an errno. */
static int peer_map(uintptr_t va, size_t size, bool populate)
{
	int flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE;
	void *p = mmap((void *)va, size, PROT_READ | PROT_WRITE,
		       flags | (populate ? MAP_POPULATE : 0), -1, 0);
	if (p == MAP_FAILED)
		return errno;
	return p == (void *)va ? 0 : EEXIST;
}

/* A populated page just below va and one at va + size, then PROT_NONE (see the top). */
static int peer_map_guarded(uintptr_t va, size_t size)
{
	uintptr_t guard[2] = {va - PAGE, va + size};
	for (int i = 0; i < 2; i++) {
		int err = peer_map(guard[i], PAGE, true);
		if (err)
			return err;
		if (mprotect((void *)guard[i], PAGE, PROT_NONE))
			return errno;
	}
	return 0;
}

static int peer_pin(pthread_attr_t *attr, unsigned cpu)
{
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu % ncpus, &set);
	pthread_attr_init(attr);
	return pthread_attr_setaffinity_np(attr, sizeof(set), &set);
}

/* The residents: one pinned spinning thread on every CPU the scenario leaves free. */
struct peer_env {
	pthread_t resident[CPU_MAX];
	bool has[CPU_MAX];
	atomic_uint started;
	atomic_bool stop;
};

static struct peer_env env;

static void *peer_resident(void *arg)
{
	unsigned cpu = (unsigned)(uintptr_t)arg;
	volatile uint64_t *p = (volatile uint64_t *)(RESIDENT_VA + 64 * cpu);
	*p = 0;
	atomic_fetch_add(&env.started, 1);
	while (!atomic_load_explicit(&env.stop, memory_order_acquire))
		*p += 1;
	return NULL;
}

/* Starts residents on every CPU not among the first `busy` ones; false on failure. */
static bool peer_env_start(unsigned busy)
{
	if (peer_map(RESIDENT_VA, PAGE, true))
		return false;
	unsigned n = 0;
	for (unsigned c = busy; c < ncpus && c < CPU_MAX; c++) {
		pthread_attr_t attr;
		if (peer_pin(&attr, c) ||
		    pthread_create(&env.resident[c], &attr, peer_resident, (void *)(uintptr_t)c))
			return false;
		env.has[c] = true;
		n++;
	}
	while (atomic_load(&env.started) < n)
		sched_yield();
	return true;
}

/* Runs fn(args[i]) on CPU i % ncpus for i < n, timed from a common start line. */
struct peer_team {
	atomic_uint ready;
	atomic_bool go;
	struct peer_snap start, end;
};

static struct peer_team team;

static void peer_team_ready(void)
{
	atomic_fetch_add(&team.ready, 1);
	while (!atomic_load_explicit(&team.go, memory_order_acquire))
		sched_yield(); /* threads may share a CPU with each other or the coordinator */
}

static bool peer_team_run(unsigned n, void *(*fn)(void *), void **args)
{
	pthread_t t[CPU_MAX];
	for (unsigned i = 0; i < n; i++) {
		pthread_attr_t attr;
		if (peer_pin(&attr, i) || pthread_create(&t[i], &attr, fn, args[i]))
			return false;
	}
	while (atomic_load(&team.ready) < n)
		sched_yield();
	peer_snap_take(&team.start, true);
	atomic_store_explicit(&team.go, true, memory_order_release);
	for (unsigned i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	peer_snap_take(&team.end, false);
	return true;
}

/* One thread's work: `rounds` operations `op` on `pages` pages at va; err is the first errno. */
struct peer_loop {
	uintptr_t va;
	uint64_t pages, rounds;
	int (*op)(uintptr_t va, size_t size); /* 0 or an errno */
	int err;
};

static void *peer_loop_run(void *arg)
{
	struct peer_loop *l = arg;
	peer_team_ready();
	for (uint64_t i = 0; i < l->rounds && !l->err; i++)
		l->err = l->op(l->va, l->pages * PAGE);
	return NULL;
}

/* munmap_N, concurrent: map populated, unmap. */
static int peer_op_munmap(uintptr_t va, size_t size)
{
	int err = peer_map(va, size, true);
	return err ? err : munmap((void *)va, size) ? errno : 0;
}

/* mprotect: RW -> RO -> RW. */
static int peer_op_mprotect(uintptr_t va, size_t size)
{
	if (mprotect((void *)va, size, PROT_READ) ||
	    mprotect((void *)va, size, PROT_READ | PROT_WRITE))
		return errno;
	return 0;
}

/* tlb_flush2: populate, write every page (so this CPU caches them), discard. */
static int peer_op_flush2(uintptr_t va, size_t size)
{
	if (madvise((void *)va, size, MADV_POPULATE_WRITE))
		return errno;
	for (uintptr_t p = va; p < va + size; p += PAGE)
		*(volatile uint64_t *)p = p;
	return madvise((void *)va, size, MADV_DONTNEED) ? errno : 0;
}

/*
 * Runs n loops (loop i on CPU i % ncpus) with residents on the CPUs left
 * free, guards around each range, and the range mapped first if `premap`
 * (populated too if `populate`); reports ops = the loops' rounds.
 */
static void peer_scenario(const char *name, struct peer_loop *l, unsigned n, bool premap,
			  bool populate)
{
	if (!peer_env_start(n < ncpus ? n : ncpus)) {
		peer_fail(name, "setup", errno);
		return;
	}
	void *args[CPU_MAX];
	uint64_t ops = 0;
	int err = 0;
	for (unsigned i = 0; i < n; i++) {
		args[i] = &l[i];
		ops += l[i].rounds;
		if (!err)
			err = peer_map_guarded(l[i].va, l[i].pages * PAGE);
		if (!err && premap)
			err = peer_map(l[i].va, l[i].pages * PAGE, populate);
	}
	if (err) {
		peer_fail(name, "setup", err);
		return;
	}
	if (!peer_team_run(n, peer_loop_run, args)) {
		peer_fail(name, "threads", 0);
		return;
	}
	for (unsigned i = 0; i < n; i++)
		err = err ? err : l[i].err;
	if (err)
		peer_fail(name, "error", err);
	else
		peer_report(name, ops, &team.start, &team.end);
}

static void peer_munmap(const char *name, unsigned pages, uint64_t k)
{
	struct peer_loop l = {
	    .va = WORK_VA(1), .pages = pages, .rounds = peer_scaled(k), .op = peer_op_munmap};
	peer_scenario(name, &l, 1, false, false);
}

static void peer_munmap_1(void)
{
	peer_munmap("munmap_1", 1, 6000);
}

static void peer_munmap_32(void)
{
	peer_munmap("munmap_32", 32, 800);
}

static void peer_munmap_512(void)
{
	peer_munmap("munmap_512", 512, 80);
}

static void peer_mprotect(void)
{
	struct peer_loop l = {
	    .va = WORK_VA(1), .pages = 64, .rounds = peer_scaled(3000), .op = peer_op_mprotect};
	peer_scenario("mprotect", &l, 1, true, true);
}

static void peer_tlb_flush2(void)
{
	struct peer_loop l[4];
	unsigned n = ncpus < 4 ? ncpus : 4;
	for (unsigned i = 0; i < n; i++)
		l[i] = (struct peer_loop){.va = WORK_VA(1 + i),
					  .pages = MiB(1) / PAGE,
					  .rounds = peer_scaled(8),
					  .op = peer_op_flush2};
	peer_scenario("tlb_flush2", l, n, true, false);
}

static void peer_concurrent(void)
{
	struct peer_loop l[3] = {
	    {.va = WORK_VA(1), .pages = 256, .rounds = peer_scaled(15), .op = peer_op_munmap},
	    {.va = WORK_VA(2), .pages = 256, .rounds = peer_scaled(15), .op = peer_op_munmap},
	    {.va = WORK_VA(3), .pages = 1, .rounds = peer_scaled(200), .op = peer_op_munmap},
	};
	peer_scenario("concurrent", l, 3, false, false);
}

static const struct {
	const char *name;
	void (*run)(void);
} scenarios[] = {
    {"munmap_1", peer_munmap_1}, {"munmap_32", peer_munmap_32},	  {"munmap_512", peer_munmap_512},
    {"mprotect", peer_mprotect}, {"tlb_flush2", peer_tlb_flush2}, {"concurrent", peer_concurrent},
};

/* Takes bench.scale=, bench.reps= and bench.only= from one word. */
static void peer_option(const char *w)
{
	if (!strncmp(w, "bench.scale=", 12))
		scale = (unsigned)strtoul(w + 12, NULL, 10);
	else if (!strncmp(w, "bench.reps=", 11))
		reps = (unsigned)strtoul(w + 11, NULL, 10);
	else if (!strncmp(w, "bench.only=", 11))
		snprintf(only, sizeof(only), "%s", w + 11);
}

static void peer_options(int argc, char **argv)
{
	char line[4096];
	FILE *f = fopen("/proc/cmdline", "r");
	if (f && fgets(line, sizeof(line), f))
		for (char *w = strtok(line, " \n"); w; w = strtok(NULL, " \n"))
			peer_option(w);
	if (f)
		fclose(f);
	for (int i = 1; i < argc; i++)
		peer_option(argv[i]);
	if (scale < 1 || scale > 10000 || reps < 1 || reps > 1000) {
		printf("peerbench: bench.scale= must be 1-10000 and bench.reps= 1-1000\n");
		exit(2);
	}
}

/* `name` matches one of the comma-separated globs of bench.only= (as Pagoda's). */
static bool peer_selected(const char *name)
{
	char globs[sizeof(only)];
	snprintf(globs, sizeof(globs), "%s", only);
	for (char *save, *g = strtok_r(globs, ",", &save); g; g = strtok_r(NULL, ",", &save))
		if (!fnmatch(g, name, 0))
			return true;
	return false;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	ncpus = n < 1 ? 1 : n > CPU_MAX ? CPU_MAX : (unsigned)n;
	peer_options(argc, argv);
	printf("peerbench: %u CPUs, bench.scale=%u bench.reps=%u bench.only=%s\n", ncpus, scale,
	       reps, only);
	bool any_failed = false;
	for (size_t s = 0; s < sizeof(scenarios) / sizeof(scenarios[0]); s++) {
		if (!peer_selected(scenarios[s].name))
			continue;
		for (rep_now = 0; rep_now < reps; rep_now++) {
			/* A child per run: a fresh mm, as Pagoda's mm_create per run. */
			pid_t pid = fork();
			if (pid == 0) {
				scenarios[s].run();
				fflush(stdout);
				_exit(failed ? 1 : 0);
			}
			int status = 0;
			if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
			    WEXITSTATUS(status)) {
				if (pid < 0 || !WIFEXITED(status))
					peer_fail(scenarios[s].name, "child", status);
				any_failed = true;
			}
		}
	}
	printf("BENCH_END failed=%u\n", any_failed || failed ? 1u : 0u);
	return any_failed || failed;
}
