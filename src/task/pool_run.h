/* pool_run.h - one run of "task pool": c->tasks verified tasks on one kind (a pool of
 * worker processes, a pool of threads, or one new process per task). */
#ifndef IPCLAB_TASK_POOL_RUN_H
#define IPCLAB_TASK_POOL_RUN_H

#include <stdint.h>

enum tk_kind { K_PROCESS, K_THREAD, K_SPAWN, K_N };
extern const char *const tk_kind_names[];

struct tk_run_cfg {
	int kind;        /* enum tk_kind */
	unsigned workers;
	uint64_t tasks, us;
	int64_t corrupt; /* task index that returns a wrong value, -1: none */
};

struct tk_run_res {
	uint64_t wall_ns, startup_ns;
	uint64_t executed, exactly_once, matched, spawned, reaped;
	uint64_t sum, expected_sum;
	int64_t first_mismatch;
	unsigned bad_workers;
	uint64_t *per_worker; /* pools: tasks each worker ran (free it) */
};

/* Runs c->tasks tasks on one kind and verifies every result against f(i) (r says what
 * held). IL_OK, or an exit code after one message. */
int tk_pool_run_one(const struct tk_run_cfg *c, struct tk_run_res *r);

#endif
