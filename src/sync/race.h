/* race.h - what "sync race" (race.c, the experiment) and its workers (race_worker.c)
 * share: the memory every worker sees and the job they were given. */
#ifndef IPCLAB_SYNC_RACE_H
#define IPCLAB_SYNC_RACE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "lock.h"
#include "../core/spawn.h"

#define RACE_MAX_WORKERS 64
#define RACE_PARENT (-2) /* ownerdead_by: the parent's check after the run */

/* One worker's slot, alone on its cache line(s). */
struct slot {
	uint64_t done;       /* increments completed (stored after each one) */
	uint64_t snap;       /* done, as read by the first worker to finish */
	uint64_t t_start;    /* its loop began (0: it never did) */
	uint64_t t_stop;     /* its loop ended, for any reason */
	int status;          /* IL_OK, or why it stopped */
	int lock_result;     /* the sl_lock() result that stopped it (0 none) */
	int err;             /* errno of a failed lock call */
	int cpu_start, cpu_end;
	pid_t pid;
	uint64_t waits;      /* lockstep: chunk boundaries where it waited for the others */
} __attribute__((aligned(64)));

struct shared {
	struct il_barrier gate;
	volatile int abort;
	int first_done;           /* index of the first worker to finish, -1 */
	int ownerdead_by;         /* worker that got EOWNERDEAD, -1, RACE_PARENT */
	struct sl_lock lock;
	uint64_t counter __attribute__((aligned(64)));
	char pad[56];
	struct slot slot[];
};

/* What the workers read (set before they start). */
struct job {
	struct shared *sh;
	unsigned workers;
	uint64_t n, delay;
	uint64_t chunk;      /* lockstep chunk (increments), 0: no lockstep */
	int kind;
	bool trace, kill_holder;
};

struct warg {
	const struct job *p;
	unsigned idx;
};

/* The worker: releases, the N increments (race_loop), its stamps. Its exit code. */
int race_worker(void *arg);

#endif
