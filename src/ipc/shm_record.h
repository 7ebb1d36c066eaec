/* shm_record.h - the shared area of "ipc shm" and the two sides that work on it: a
 * Value (one uint64) and an Array (W uint64s) written once by the writer and read back
 * by the reader, then a W-word record (every word = the write's generation number)
 * rewritten over and over by the writer while the reader reads it and counts torn reads
 * (words that disagree). The Value is also the writer's generation counter: one aligned
 * word is never torn, so the reader must never see it go back, whatever the lock.
 *
 * Concurrency is measured, not assumed: the reader starts its loop only once it has
 * seen the writer's counter move (the writer is running right now), and it timestamps
 * its loop in chunks of IL_SHM_CHUNK reads; a chunk during which the counter moved is
 * time the two loops overlapped. overlap_ns is the sum of those chunks. */
#ifndef IPCLAB_IPC_SHM_RECORD_H
#define IPCLAB_IPC_SHM_RECORD_H

#include "../core/spawn.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#define IL_SHM_MAX_WORDS 64
#define IL_SHM_VALUE_MAGIC 0xa11ce5eedULL
#define IL_SHM_CHUNK 4096u

enum il_shm_lock { IL_SHM_NONE, IL_SHM_MUTEX, IL_SHM_SEQLOCK };

struct il_shm_area {
	struct il_barrier start;    /* parent, writer, reader: all have mapped the area */
	int abort;                  /* a side failed or the parent gave up: stop */
	int a_ready, a_ack;         /* phase (a) handoff */
	int writing;                /* the writer finished its first record write */
	int stop;                   /* the reader is done: the writer stops */
	int cpu_writer, cpu_reader;
	bool same_cpu;              /* both pinned to one CPU: waits yield instead of spinning */
	pthread_mutex_t mtx;        /* --lock mutex: process-shared, robust */
	/* results */
	uint64_t writes, reads, torn, retries, value_back, lock_errors;
	uint64_t w_start, w_end, r_start, r_end;
	uint64_t overlap_ns;        /* reader chunks during which the writer's counter moved */
	uint64_t writes_during_reads;
	int value_ok, array_ok;
	uint64_t first_torn[IL_SHM_MAX_WORDS]; /* a copy of the first torn record seen */
	uint64_t value __attribute__((aligned(64)));   /* the Value: a shared counter */
	uint64_t seq __attribute__((aligned(64)));     /* seqlock sequence number */
	uint64_t array[IL_SHM_MAX_WORDS] __attribute__((aligned(64)));
	uint64_t rec[IL_SHM_MAX_WORDS] __attribute__((aligned(64)));
};

/* What each side is given (copied into a forked side). */
struct il_shm_side {
	struct il_shm_area *sh;  /* the anonymous mapping (NULL when named) */
	const char *name;        /* the named object to open and map */
	unsigned words;
	uint64_t reads;
	int lock;                /* enum il_shm_lock */
};

/* The area's initial state (it reads as zeros before): the mutex. 0 or an errno. */
int il_shm_area_init(struct il_shm_area *sh);
/* The two sides (il_worker_fn): each maps the area (by name when named), meets the
 * others at sh->start, then works; an il_exit code. */
int il_shm_writer(void *arg);
int il_shm_reader(void *arg);

#endif
