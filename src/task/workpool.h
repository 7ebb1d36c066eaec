/* workpool.h - a worker pool, the course's multiprocessing.Pool: Pool(processes=n),
 * apply_async, AsyncResult.get, map, close, join, terminate. A fixed number of workers
 * (processes or threads) take task descriptors from a small ring guarded by a robust
 * mutex, with counting semaphores for the free slots, the queued descriptors and the
 * completions: in MAP_SHARED memory with process-shared primitives for process workers,
 * in ordinary memory for threads. Used by "task pool" (pool.c). */
#ifndef IPCLAB_TASK_WORKPOOL_H
#define IPCLAB_TASK_WORKPOOL_H

#include <pthread.h>
#include <semaphore.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define TK_POOL_RING 256u

enum tk_pool_kind { TK_POOL_PROCESS, TK_POOL_THREAD };

/* A task: fn(arg, us) runs in a worker; its value goes to the task's result slot. */
typedef uint64_t (*tk_task_fn)(uint64_t arg, uint64_t us);

/* One result slot per task id (same memory kind as the queue). */
struct tk_result {
	volatile uint64_t value;
	volatile uint64_t t_start; /* spawn-per-task: the task process's first stamp */
	uint32_t done;          /* incremented (atomically) by each run of the task: must end at 1 */
	volatile int32_t worker;
};

struct tk_pool_desc {
	tk_task_fn fn;
	uint64_t arg, us, id;
};

/* The queue. Semaphores, not condition variables: a process killed while waiting on a
 * glibc condvar leaves it unusable for everyone else, a semaphore is not affected. */
struct tk_pool_queue {
	pthread_mutex_t mu;
	sem_t slots, items, done;
	uint64_t head, tail; /* taken / put; tail - head descriptors are waiting */
	bool closed, broken; /* broken: a worker died holding the lock */
	struct tk_pool_desc ring[TK_POOL_RING];
	struct tk_pool_worker {
		volatile int32_t pid, tid;
		uint64_t executed, seq;
		volatile uint64_t t_start; /* the worker's first stamp */
	} w[]; /* one per worker */
};

struct tk_pool {
	int kind;                /* enum tk_pool_kind */
	unsigned nworkers, started;
	struct tk_pool_queue *q;
	size_t qsize;
	bool sems_init;
	struct tk_result *res;   /* cap slots */
	size_t rsize;
	uint64_t cap, submitted;
	pid_t *pids;             /* process workers; negated once reaped early */
	pthread_t *threads;
	uint64_t t_spawn, t_checked;
};

/* Pool(processes=n) with room for cap results: the queue and n started workers. IL_OK,
 * or an exit code after one message (then terminate and free it). */
int tk_pool_open(struct tk_pool *p, int kind, unsigned n, uint64_t cap);
/* apply_async(fn, arg): queues one task (waits while the ring is full); its id, or
 * UINT64_MAX (after one message) if a worker died. */
uint64_t tk_pool_apply_async(struct tk_pool *p, tk_task_fn fn, uint64_t arg, uint64_t us);
/* AsyncResult.get(): waits for task id's result. 0, or -1 (after one message) if a
 * worker died. */
int tk_pool_get(struct tk_pool *p, uint64_t id, uint64_t *value);
/* map(fn, range(n)): apply_async for every argument, then get every result in order.
 * 0 or -1 as get. */
int tk_pool_map(struct tk_pool *p, tk_task_fn (*fn_for)(uint64_t i, void *ctx), void *ctx, uint64_t n, uint64_t us,
		uint64_t *out);
/* close(): no more tasks; the workers leave once the queue is empty. */
void tk_pool_close(struct tk_pool *p);
/* join(): waits for every worker; returns how many did not exit cleanly. */
unsigned tk_pool_join(struct tk_pool *p);
/* terminate(): kills process workers at once; threads are closed and joined (they finish
 * what is queued: nothing of ours can stop a thread safely). */
void tk_pool_terminate(struct tk_pool *p);
void tk_pool_free(struct tk_pool *p);

#endif
