// SPDX-License-Identifier: BSD-2-Clause
/*
 * A QEMU TCG plugin for `make bench-icount` (tools/icount/icount.mk): counts
 * how many times each translation block runs, keyed by its guest virtual
 * start address and instruction count, and at exit writes one line per
 * block that ran: "<hex address> <instructions> <executions>". With QEMU's
 * -icount shift=0 and one vCPU the count is exact and repeatable; a block
 * never spans a call or a return, so tools/icount_profile.py can charge it
 * to the function its address falls in, and a block starting at a
 * function's first instruction counts that function's calls.
 *
 * Built for the host against the plugin API QEMU 10 offers (version 4);
 * the few declarations it needs are below, so no QEMU source is needed.
 * The counters are plain adds: exact with one vCPU (the make target's).
 */
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef uint64_t qemu_plugin_id_t;
struct qemu_info_t;
struct qemu_plugin_tb;
typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t id, struct qemu_plugin_tb *tb);
typedef void (*qemu_plugin_vcpu_udata_cb_t)(unsigned int vcpu_index, void *userdata);
typedef void (*qemu_plugin_udata_cb_t)(qemu_plugin_id_t id, void *userdata);
enum { QEMU_PLUGIN_CB_NO_REGS };
void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_tb_trans_cb_t cb);
void qemu_plugin_register_vcpu_tb_exec_cb(struct qemu_plugin_tb *tb, qemu_plugin_vcpu_udata_cb_t cb,
					  int flags, void *userdata);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
uint64_t qemu_plugin_tb_vaddr(const struct qemu_plugin_tb *tb);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, qemu_plugin_udata_cb_t cb, void *userdata);

#define EXPORT __attribute__((visibility("default")))
EXPORT int qemu_plugin_version = 4;

struct block {
	uint64_t vaddr, insns, execs;
	struct block *next;
};

#define BUCKETS (1u << 16)
static struct block *buckets[BUCKETS];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER; /* translation may run on any thread */
static const char *out_path = "tbcount.txt";

static void block_ran(unsigned int vcpu, void *userdata)
{
	(void)vcpu;
	((struct block *)userdata)->execs++;
}

/* A block retranslated (the code cache flushed) keeps counting into the same record. */
static void translated(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
	(void)id;
	uint64_t vaddr = qemu_plugin_tb_vaddr(tb), insns = qemu_plugin_tb_n_insns(tb);
	unsigned h = (unsigned)((vaddr >> 2) ^ (vaddr >> 18) ^ (insns << 7)) & (BUCKETS - 1);
	pthread_mutex_lock(&lock);
	struct block *b = buckets[h];
	while (b && (b->vaddr != vaddr || b->insns != insns))
		b = b->next;
	if (!b && (b = calloc(1, sizeof(*b))) != NULL) {
		*b = (struct block){.vaddr = vaddr, .insns = insns, .next = buckets[h]};
		buckets[h] = b;
	}
	pthread_mutex_unlock(&lock);
	if (b)
		qemu_plugin_register_vcpu_tb_exec_cb(tb, block_ran, QEMU_PLUGIN_CB_NO_REGS, b);
}

static void at_exit(qemu_plugin_id_t id, void *userdata)
{
	(void)id;
	(void)userdata;
	FILE *f = fopen(out_path, "w");
	if (!f) {
		perror(out_path);
		return;
	}
	for (unsigned i = 0; i < BUCKETS; i++)
		for (const struct block *b = buckets[i]; b; b = b->next)
			if (b->execs)
				fprintf(f, "%llx %llu %llu\n", (unsigned long long)b->vaddr,
					(unsigned long long)b->insns, (unsigned long long)b->execs);
	fclose(f);
}

/* Arguments: out=<file> (default tbcount.txt). */
EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const struct qemu_info_t *info, int argc,
			       char **argv)
{
	(void)info;
	for (int i = 0; i < argc; i++) {
		if (strncmp(argv[i], "out=", 4) != 0) {
			fprintf(stderr, "tbcount: unknown argument '%s' (takes out=<file>)\n", argv[i]);
			return -1;
		}
		out_path = argv[i] + 4;
	}
	qemu_plugin_register_vcpu_tb_trans_cb(id, translated);
	qemu_plugin_register_atexit_cb(id, at_exit, NULL);
	return 0;
}
