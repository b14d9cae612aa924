/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The sleeping reader-writer lock (an address space's mm->lock): any number
 * of readers, or one writer. It sleeps on a wait queue (wait.h) when it
 * cannot be taken, so the same context rules as a mutex hold: thread
 * context, interrupts on, no spinlock held.
 *
 * Invariants:
 *  - `state` holds the read holds' count and two bits, "a writer holds it"
 *    and "a writer waits" (writers_waiting > 0); a read count > 0 and the
 *    writer bit never hold at once. The bits, `writers_waiting` and
 *    `writer` change only under the queue's lock. A reader comes in, and
 *    a reader that is not the last one out with a writer waiting leaves,
 *    by one compare-and-swap on `state` without that lock: a fault or an
 *    unmap takes and drops mm->lock for read each time (docs/mm.md).
 *  - Writer preference: once a writer waits (`writers_waiting` > 0), no new
 *    reader gets in, so a stream of overlapping readers cannot starve it;
 *    readers already inside finish, the last one wakes the writer.
 *  - downgrade_write() turns the caller's write hold into a read hold with
 *    no moment unlocked: nothing the writer saw can change before it reads
 *    again, and no other writer gets in between.
 *  - Not recursive: a thread that holds it (either way) and asks again
 *    deadlocks as soon as a writer waits. A writer asking twice panics.
 */
#ifndef PAGODA_KERNEL_SYNC_RWSEM_H
#define PAGODA_KERNEL_SYNC_RWSEM_H

#include "kernel/sync/wait.h"

struct rwsem {
	struct wait_queue wq;	  /* its lock protects the fields below */
	uint32_t state;		  /* read holds, and whether a writer holds or waits (rwsem.c) */
	uint32_t writers_waiting; /* writers asleep (or about to sleep) in down_write */
	struct thread *writer;	  /* the thread holding it for write, or NULL */
	uint64_t contended;	  /* acquisitions that had to sleep */
};
#define RWSEM_INIT {WAIT_QUEUE_INIT, 0, 0, NULL, 0}

/* Takes `s` for read, sleeping while a writer holds it or waits for it. */
void down_read(struct rwsem *s);
/* Takes `s` for read if that needs no sleep (no writer holds or awaits it); true when taken. */
bool down_read_trylock(struct rwsem *s);
/* Releases a read hold; the last reader out wakes the waiting writers. */
void up_read(struct rwsem *s);
/* Takes `s` for write, sleeping while anyone holds it. Readers that come later wait. */
void down_write(struct rwsem *s);
/* Takes `s` for write if nobody holds it; true when taken. */
bool down_write_trylock(struct rwsem *s);
/* Releases the caller's write hold and wakes every waiter. */
void up_write(struct rwsem *s);
/*
 * The caller's write hold becomes a read hold, atomically: readers waiting
 * may come in (unless a writer also waits: writer preference), writers stay
 * out until the caller's up_read().
 */
void downgrade_write(struct rwsem *s);
/* Does the calling thread hold `s` for write? */
bool rwsem_is_write_held_by_me(struct rwsem *s);

/*
 * `sync.break=readers_barge` (test-only): a reader comes in past a waiting
 * writer, so writers can starve; the rwsem suite must then fail.
 */
bool rwsem_readers_barge(void);

#endif
