/* pool_run.c - one run of "task pool" on one kind: a pool of worker processes or threads
 * (workpool.c: apply_async/map/close/join), or spawn-per-task, one forked process per
 * task with at most --workers alive at a time (the same parallelism). Task i spins for
 * --task-us and returns f(i) (a 64-bit mix of i): every result is checked against f(i),
 * each task must have run exactly once, and the sums must match. */
#include "pool_run.h"
#include "task.h"
#include "workpool.h"
#include "../core/clock.h"
#include "../core/log.h"
#include "../core/spawn.h"
#include "../core/tp.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

const char *const tk_kind_names[] = { "process", "thread", "spawn-per-task", NULL };

/* ---------------------------------------------------------------- the tasks */

/* f(i): splitmix64's finaliser, so a wrong or swapped result shows. */
static uint64_t f_of(uint64_t i)
{
	uint64_t z = i + 0x9e3779b97f4a7c15ull;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Spins for us microseconds (CPU work, no sleep), then returns f(arg). */
static uint64_t task_work(uint64_t arg, uint64_t us)
{
	if (us) {
		uint64_t end = il_now_ns() + us * 1000;
		while (il_now_ns() < end)
			;
	}
	return f_of(arg);
}

/* --corrupt-task: the same, returning a wrong value (to exercise the check). */
static uint64_t task_work_wrong(uint64_t arg, uint64_t us)
{
	return task_work(arg, us) + 1;
}

static tk_task_fn fn_for_task(uint64_t i, void *ctx)
{
	const struct tk_run_cfg *c = ctx;
	return c->corrupt >= 0 && (uint64_t)c->corrupt == i ? task_work_wrong : task_work;
}

/* ---------------------------------------------------------------- spawn-per-task */

/* The live task processes, at most c->workers. */
struct live {
	pid_t *pid;
	uint64_t *seq, *t0, *task;
	unsigned n;
};

/* A task process: dies with us (PR_SET_PDEATHSIG), stamps its start, runs task i, stores
 * its result. It does not trace: forked without the tracer's fork hooks (a child that
 * traces re-registers with the session daemon first, milliseconds per task), it leaves
 * its start stamp beside its result and we emit its task_start/task_exit (proxy). */
static __attribute__((noreturn)) void task_process(const struct tk_run_cfg *c, struct tk_result *res, uint64_t i,
						   pid_t parent)
{
	res[i].t_start = il_now_ns();
	(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(IL_FAIL);
	res[i].value = fn_for_task(i, (void *)c)(i, c->us);
	res[i].worker = -1;
	__atomic_add_fetch(&res[i].done, 1, __ATOMIC_RELEASE);
	_exit(0);
}

/* Forks task i into a free slot. IL_OK or an exit code after one message. */
static int spawn_task(const struct tk_run_cfg *c, struct tk_result *res, struct live *l, uint64_t i, pid_t parent)
{
	unsigned slot = 0;
	while (l->pid[slot])
		slot++;
	uint64_t seq = tk_next_seq();
	tk_tp_spawn("spawn-per-task", seq);
	uint64_t t0 = il_now_ns();
	pid_t pid = il_fork_untraced();
	if (pid == 0)
		task_process(c, res, i, parent);
	if (pid < 0) {
		int rc = il_exit_for_errno(errno);
		il_errno("fork for task %" PRIu64, i);
		return rc;
	}
	l->pid[slot] = pid;
	l->seq[slot] = seq;
	l->t0[slot] = t0;
	l->task[slot] = i;
	l->n++;
	return IL_OK;
}

/* Reaps one task process and traces its life for it. IL_OK or IL_FAIL after one message. */
static int reap_task(const struct tk_run_cfg *c, const struct tk_result *res, struct live *l, struct tk_run_res *r)
{
	int st;
	pid_t pid = il_waitpid(-1, &st, 0);
	if (pid < 0) {
		errno = -pid;
		il_errno("waitpid with %u children alive", l->n);
		return IL_FAIL;
	}
	for (unsigned s = 0; s < c->workers; s++)
		if (l->pid[s] == pid) {
			uint64_t t = il_now_ns();
			tk_tp_start(l->seq[s], pid, pid, res[l->task[s]].t_start, true);
			tk_tp_exit(l->seq[s], pid, pid, WIFEXITED(st) ? WEXITSTATUS(st) : -1, true);
			tk_tp_reaped(l->seq[s], pid, pid, st, t - l->t0[s]);
			l->pid[s] = 0;
			l->n--;
			r->reaped++;
			r->bad_workers += !WIFEXITED(st) || WEXITSTATUS(st) != 0;
			break;
		}
	return IL_OK;
}

/* One process per task, at most c->workers at a time; results in shared memory. */
static int run_spawn_per_task(const struct tk_run_cfg *c, struct tk_result *res, struct tk_run_res *r)
{
	struct live l = { calloc(c->workers, sizeof(pid_t)), calloc(c->workers, sizeof(uint64_t)),
			  calloc(c->workers, sizeof(uint64_t)), calloc(c->workers, sizeof(uint64_t)), 0 };
	int rc = IL_OK;
	if (!l.pid || !l.seq || !l.t0 || !l.task) {
		il_err("out of memory");
		rc = IL_NORES;
	}
	uint64_t next = 0;
	pid_t parent = getpid();
	(void)fflush(NULL);
	while (rc == IL_OK && (next < c->tasks || l.n)) {
		while (rc == IL_OK && l.n < c->workers && next < c->tasks)
			if ((rc = spawn_task(c, res, &l, next++, parent)) == IL_OK)
				r->spawned++;
		if (l.n && reap_task(c, res, &l, r) != IL_OK && rc == IL_OK)
			rc = IL_FAIL;
	}
	while (l.n && reap_task(c, res, &l, r) == IL_OK) /* after a failed fork: the others */
		;
	free(l.pid);
	free(l.seq);
	free(l.t0);
	free(l.task);
	return rc;
}

/* ---------------------------------------------------------------- one run */

/* Pool(workers), map over the tasks, close, join; terminate on a failure. */
static int run_pool(const struct tk_run_cfg *c, struct tk_pool *p, uint64_t *out, struct tk_run_res *r, uint64_t t0)
{
	int rc = tk_pool_open(p, c->kind == K_PROCESS ? TK_POOL_PROCESS : TK_POOL_THREAD, c->workers, c->tasks);
	r->spawned = p->started;
	r->startup_ns = il_now_ns() - t0;
	if (rc == IL_OK && tk_pool_map(p, fn_for_task, (void *)c, c->tasks, c->us, out) < 0)
		rc = IL_FAIL;
	r->reaped = p->started;
	if (rc == IL_OK) {
		tk_pool_close(p);
		r->bad_workers = tk_pool_join(p);
		r->wall_ns = il_now_ns() - t0;
	} else {
		tk_pool_terminate(p);
	}
	r->per_worker = calloc(c->workers, sizeof(uint64_t));
	if (r->per_worker && p->q)
		for (unsigned w = 0; w < c->workers; w++)
			r->per_worker[w] = p->q->w[w].executed;
	return rc;
}

/* Every task ran exactly once and returned f(i); the sums. */
static void verify(const struct tk_run_cfg *c, const struct tk_result *res, const uint64_t *out, struct tk_run_res *r)
{
	for (uint64_t i = 0; res && i < c->tasks; i++) {
		uint32_t d = __atomic_load_n(&res[i].done, __ATOMIC_ACQUIRE);
		uint64_t want = f_of(i);
		r->executed += d;
		r->exactly_once += d == 1;
		r->expected_sum += want;
		r->sum += out[i];
		if (d == 1 && out[i] == want)
			r->matched++;
		else if (r->first_mismatch < 0)
			r->first_mismatch = (int64_t)i;
	}
}

int tk_pool_run_one(const struct tk_run_cfg *c, struct tk_run_res *r)
{
	memset(r, 0, sizeof(*r));
	r->first_mismatch = -1;
	uint64_t *out = calloc(c->tasks, sizeof(uint64_t));
	size_t rsize = c->tasks * sizeof(struct tk_result);
	struct tk_result *res = c->kind == K_SPAWN ? il_shared_alloc(rsize) : NULL;
	if (!out || (c->kind == K_SPAWN && !res)) {
		il_err("out of memory for %" PRIu64 " results", c->tasks);
		free(out);
		il_shared_free(res, rsize);
		return IL_NORES;
	}
	int rc;
	struct tk_pool p;
	memset(&p, 0, sizeof(p));
	uint64_t t0 = il_now_ns();
	if (c->kind == K_SPAWN) {
		rc = run_spawn_per_task(c, res, r);
		r->wall_ns = il_now_ns() - t0;
		for (uint64_t i = 0; i < c->tasks; i++)
			out[i] = res[i].value;
	} else {
		rc = run_pool(c, &p, out, r, t0);
		res = p.res;
	}
	verify(c, res, out, r);
	if (c->kind == K_SPAWN)
		il_shared_free(res, rsize);
	else
		tk_pool_free(&p);
	free(out);
	return rc;
}
