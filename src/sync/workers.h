/* workers.h - the worker launcher of the sync experiments (race, semaphore, gil): W
 * workers as threads or forked processes (il_spawn), each pinned where the caller says,
 * released together by one start barrier that only the workers take part in, and a join
 * that notices a worker killed mid-run at once. */
#ifndef IPCLAB_SYNC_WORKERS_H
#define IPCLAB_SYNC_WORKERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../core/opts.h"
#include "../core/spawn.h"

/* W workers running fn(arg_base + i * arg_stride). */
struct sw_team {
	unsigned n, started;
	int mode;                /* enum il_mode */
	struct il_peer *peer;
	int *rc;                 /* each worker's exit code */
	volatile int *abort;     /* shared: raised when a worker is killed */
	struct il_barrier *gate; /* shared: the workers' start barrier */
	/* the first worker killed by a signal, if any */
	int victim;              /* index, -1 none */
	pid_t victim_pid;
	int victim_sig;
};

/* Starts n workers, worker i pinned to cpu[i] (-1 or cpu NULL: not pinned), with gate
 * (in shared memory) initialised as their start barrier: each worker calls
 * il_barrier_wait(gate) and goes on when it returns 0. The main process is not a
 * participant: the last worker to arrive releases the others, who poll meanwhile
 * (spinning when the workers fit on the online CPUs), so all of them are running when
 * they leave; gate->t_release is that moment. A second il_barrier_wait(gate) is a
 * handshake: it returns once every worker has left the first one, i.e. ran after the
 * release. Returns 0, or an exit code after one message (the started ones were
 * released with -1 and joined). */
int sw_start(struct sw_team *t, unsigned n, int mode, const int *cpu, il_worker_fn fn, void *arg_base,
	     size_t arg_stride, volatile int *abort, struct il_barrier *gate);
/* Blocks until the workers have been released gens times (2 after the handshake), for a
 * main process that samples while they run. 0, or -1 when the start was aborted (a
 * worker ended first). */
int sw_released(struct sw_team *t, uint32_t gens);
/* Joins every worker in the order they end. A worker killed by a signal raises the abort
 * flag at once (so the others stop waiting for a lock it held) and is recorded as the
 * victim; a worker that fails aborts the start barrier (so none waits there for it).
 * Returns the first non-zero worker exit code (IL_FAIL for a killed one) or 0. */
int sw_join(struct sw_team *t);
void sw_free(struct sw_team *t);

/* Where n workers go (sw_place): --cpu A[,B] puts worker i on cpu[i % 2]; without it,
 * worker i goes to the i-th CPU this process may run on when there are at least n of
 * them (distinct CPUs, so all can run at once), else nowhere in particular. */
enum sw_policy { SW_OPTION, SW_SPREAD, SW_UNPINNED };
extern const char *const sw_policy_names[];
/* Fills cpu[0..n-1]; *allowed receives how many CPUs the process may run on. */
enum sw_policy sw_place(const struct il_common *c, unsigned n, int *cpu, unsigned *allowed);

/* Sleeps ns nanoseconds (CLOCK_MONOTONIC, restarted after EINTR). */
void sw_sleep_ns(uint64_t ns);

#endif
