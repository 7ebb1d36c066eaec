/* pool.c - "ipclab task pool": a worker pool (the course's Pool: apply_async, map, close,
 * join) against creating one worker per task. The pool is a fixed number of workers
 * (default: online CPUs) taking task descriptors from a small ring (a robust mutex and
 * counting semaphores): in MAP_SHARED memory with process-shared primitives for a
 * process pool, in ordinary memory for a thread pool. spawn-per-task forks one process per
 * task, at most --workers alive at a time (the same parallelism). Task i spins for --task-us
 * and returns f(i) (a 64-bit mix of i): every result is checked against f(i), each task must
 * have run exactly once, and the sum must match; any mismatch exits 1.
 * --sweep runs the three kinds at 0, 10, 100, 1000 us per task and computes the crossover:
 * the task length from which spawn-per-task reaches 90 % of the process pool's tasks/s. */
#include "task.h"
#include "../core/cleanup.h"
#include "../core/clock.h"
#include "../core/experiment.h"
#include "../core/log.h"
#include "../core/result.h"
#include "../core/spawn.h"
#include "../core/tp.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define RING 256u
#define CROSS_FRACTION 0.9 /* "a pool stops mattering": spawn-per-task within 10 % */

enum kind { K_PROCESS, K_THREAD, K_SPAWN, K_N };
static const char *const kind_names[] = { "process", "thread", "spawn-per-task", NULL };
static const uint64_t sweep_us[] = { 0, 10, 100, 1000 };
#define N_SWEEP (sizeof(sweep_us) / sizeof(sweep_us[0]))

typedef uint64_t (*task_fn)(uint64_t arg, uint64_t us);

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

/* ---------------------------------------------------------------- the pool */

struct desc {
	task_fn fn;
	uint64_t arg, us, id;
};

struct result {
	volatile uint64_t value;
	uint32_t done;          /* incremented (atomically) by each run of the task: must end at 1 */
	volatile int32_t worker;
};

/* The queue: a ring guarded by a robust mutex, with counting semaphores for the free
 * slots, the queued descriptors and the completions. MAP_SHARED and process-shared for a
 * process pool. Semaphores, not condition variables: a process killed while waiting on a
 * glibc condvar leaves it unusable for everyone else, a semaphore is not affected. */
struct queue {
	pthread_mutex_t mu;
	sem_t slots, items, done;
	uint64_t head, tail; /* taken / put; tail - head descriptors are waiting */
	bool closed, broken; /* broken: a worker died holding the lock */
	struct desc ring[RING];
	struct wstate {
		volatile int32_t pid, tid;
		uint64_t executed, seq;
	} w[]; /* one per worker */
};

struct pool {
	int kind;                /* K_PROCESS or K_THREAD */
	unsigned nworkers;
	struct queue *q;
	size_t qsize;
	bool sems_init;
	struct result *res;      /* one per task id, same memory kind as q */
	size_t rsize;
	uint64_t cap, submitted;
	pid_t *pids;
	pthread_t *threads;
	unsigned started;
	uint64_t t_spawn, t_checked;
	char why[256];
};

/* Locks the ring; a lock whose owner died is made consistent and the pool marked broken. */
static void q_lock(struct queue *q)
{
	if (pthread_mutex_lock(&q->mu) == EOWNERDEAD) {
		q->broken = true;
		(void)pthread_mutex_consistent(&q->mu);
	}
}

static void sem_wait_intr(sem_t *s)
{
	while (sem_wait(s) < 0 && errno == EINTR)
		;
}

/* A worker: take a descriptor, run it, store the result; a token on an empty ring
 * (posted by close) means leave. */
static void worker_loop(struct queue *q, struct result *res, unsigned w)
{
	for (;;) {
		sem_wait_intr(&q->items);
		q_lock(q);
		if (q->head == q->tail || q->broken) {
			(void)pthread_mutex_unlock(&q->mu);
			return;
		}
		struct desc d = q->ring[q->head % RING];
		q->head++;
		(void)pthread_mutex_unlock(&q->mu);
		(void)sem_post(&q->slots);
		uint64_t v = d.fn(d.arg, d.us);
		res[d.id].value = v;
		res[d.id].worker = (int32_t)w;
		__atomic_add_fetch(&res[d.id].done, 1, __ATOMIC_RELEASE);
		q->w[w].executed++;
		(void)sem_post(&q->done);
	}
}

/* Start of a worker (either kind): stamp, trace, loop, trace. */
static void worker_body(struct queue *q, struct result *res, unsigned w)
{
	uint64_t t = il_now_ns();
	q->w[w].pid = getpid();
	q->w[w].tid = gettid();
	tk_tp_start(q->w[w].seq, q->w[w].pid, q->w[w].tid, t, false);
	worker_loop(q, res, w);
	tk_tp_exit(q->w[w].seq, q->w[w].pid, q->w[w].tid, 0, false);
}

struct thread_arg {
	struct pool *p;
	unsigned w;
};

static void *thread_worker(void *arg)
{
	struct thread_arg *a = arg;
	worker_body(a->p->q, a->p->res, a->w);
	free(a);
	return NULL;
}

/* Initialises the lock (robust, process-shared if pshared) and the semaphores. */
static int queue_init(struct queue *q, bool pshared)
{
	pthread_mutexattr_t ma;
	int e = pthread_mutexattr_init(&ma);
	if (!e && pshared)
		e = pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
	if (!e && pshared)
		e = pthread_mutexattr_setrobust(&ma, PTHREAD_MUTEX_ROBUST);
	if (!e)
		e = pthread_mutex_init(&q->mu, &ma);
	(void)pthread_mutexattr_destroy(&ma);
	if (e)
		return e;
	if (sem_init(&q->slots, pshared, RING) < 0 || sem_init(&q->items, pshared, 0) < 0 ||
	    sem_init(&q->done, pshared, 0) < 0)
		return errno;
	return 0;
}

static void *mem_alloc(bool shared, size_t size)
{
	return shared ? il_shared_alloc(size) : calloc(1, size);
}

static void mem_free(bool shared, void *p, size_t size)
{
	if (shared)
		il_shared_free(p, size);
	else
		free(p);
}

/* Pool(processes=n): the queue, the result slots for cap tasks, n workers started. */
static int pool_open(struct pool *p, int kind, unsigned n, uint64_t cap)
{
	memset(p, 0, sizeof(*p));
	p->kind = kind;
	p->nworkers = n;
	p->cap = cap;
	bool sh = kind == K_PROCESS;
	p->qsize = sizeof(struct queue) + n * sizeof(struct wstate);
	p->rsize = cap * sizeof(struct result);
	p->q = mem_alloc(sh, p->qsize);
	p->res = mem_alloc(sh, p->rsize);
	p->pids = calloc(n, sizeof(pid_t));
	p->threads = calloc(n, sizeof(pthread_t));
	if (!p->q || !p->res || !p->pids || !p->threads) {
		(void)snprintf(p->why, sizeof(p->why), "out of memory for a pool of %u workers and %" PRIu64 " results", n, cap);
		return IL_NORES;
	}
	int e = queue_init(p->q, sh);
	if (e) {
		(void)snprintf(p->why, sizeof(p->why), "pool queue primitives: %s", strerror(e));
		return IL_NORES;
	}
	p->sems_init = true;
	(void)fflush(NULL);
	pid_t parent = getpid();
	for (unsigned w = 0; w < n; w++) {
		p->q->w[w].seq = tk_next_seq();
		tk_tp_spawn(sh ? "pool-process" : "pool-thread", p->q->w[w].seq);
		if (sh) {
			pid_t pid = fork();
			if (pid < 0) {
				(void)snprintf(p->why, sizeof(p->why), "fork of pool worker %u: %s", w + 1, strerror(errno));
				return il_exit_for_errno(errno);
			}
			if (pid == 0) {
				il_guard_child();
				if (getppid() != parent)
					_exit(IL_FAIL);
				il_set_task_name("ipclab-pool");
				worker_body(p->q, p->res, w);
				_exit(0);
			}
			il_peer_track(pid);
			p->pids[w] = pid;
		} else {
			struct thread_arg *a = malloc(sizeof(*a));
			if (!a) {
				(void)snprintf(p->why, sizeof(p->why), "out of memory");
				return IL_NORES;
			}
			*a = (struct thread_arg){ p, w };
			e = pthread_create(&p->threads[w], NULL, thread_worker, a);
			if (e) {
				free(a);
				(void)snprintf(p->why, sizeof(p->why), "pthread_create of pool worker %u: %s", w + 1, strerror(e));
				return il_exit_for_errno(e);
			}
		}
		p->started++;
	}
	return IL_OK;
}

/* True (with a reason) if a process worker has died or the queue is broken: results would
 * never come. Looks at most every 100 ms. */
static bool worker_died(struct pool *p, bool now)
{
	uint64_t t = il_now_ns();
	if (!now && t - p->t_checked < 100000000ull)
		return false;
	p->t_checked = t;
	if (p->kind != K_PROCESS)
		return false;
	for (unsigned w = 0; w < p->started; w++) {
		int st;
		if (p->pids[w] > 0 && waitpid(p->pids[w], &st, WNOHANG) == p->pids[w]) {
			char ws[64];
			il_peer_untrack(p->pids[w]);
			tk_tp_reaped(p->q->w[w].seq, p->pids[w], p->pids[w], st, il_now_ns() - p->t_spawn);
			(void)snprintf(p->why, sizeof(p->why), "pool worker %u (pid %d) %s before the results were in", w + 1,
				       (int)p->pids[w], tk_wait_str(st, ws, sizeof(ws)));
			p->pids[w] = -p->pids[w]; /* reaped */
			return true;
		}
	}
	if (p->q->broken) {
		(void)snprintf(p->why, sizeof(p->why), "a pool worker died holding the queue lock");
		return true;
	}
	return false;
}

/* Waits on s, checking for dead workers every 100 ms; -1 if one died. */
static int sem_wait_watch(struct pool *p, sem_t *s)
{
	for (;;) {
		struct timespec dl;
		(void)clock_gettime(CLOCK_REALTIME, &dl); /* sem_timedwait's clock */
		dl.tv_nsec += 100000000;
		if (dl.tv_nsec >= 1000000000) {
			dl.tv_sec++;
			dl.tv_nsec -= 1000000000;
		}
		int r = sem_timedwait(s, &dl);
		if (r == 0)
			return worker_died(p, false) ? -1 : 0;
		if (errno != EINTR && errno != ETIMEDOUT)
			return -1;
		if (worker_died(p, errno == ETIMEDOUT))
			return -1;
	}
}

/* apply_async(fn, arg): queues one task (waits while the ring is full); returns its id,
 * or UINT64_MAX if the pool broke. */
static uint64_t pool_apply_async(struct pool *p, task_fn fn, uint64_t arg, uint64_t us)
{
	struct queue *q = p->q;
	if (sem_wait_watch(p, &q->slots) < 0)
		return UINT64_MAX;
	uint64_t id = p->submitted++;
	q_lock(q);
	q->ring[q->tail % RING] = (struct desc){ fn, arg, us, id };
	q->tail++;
	(void)pthread_mutex_unlock(&q->mu);
	(void)sem_post(&q->items);
	return id;
}

/* AsyncResult.get(): waits for task id's result. Returns 0 or -1 (a worker died). */
static int pool_get(struct pool *p, uint64_t id, uint64_t *value)
{
	while (!__atomic_load_n(&p->res[id].done, __ATOMIC_ACQUIRE))
		if (sem_wait_watch(p, &p->q->done) < 0)
			return -1;
	*value = p->res[id].value;
	return 0;
}

/* map(fn, range(n)): apply_async for every argument, then get every result in order
 * (the ring holds RING descriptors: submission waits for room, like a bounded queue). */
static int pool_map(struct pool *p, task_fn (*fn_for)(uint64_t i, void *ctx), void *ctx, uint64_t n,
		    uint64_t us, uint64_t *out)
{
	uint64_t first = p->submitted;
	for (uint64_t i = 0; i < n; i++)
		if (pool_apply_async(p, fn_for(i, ctx), i, us) == UINT64_MAX)
			return -1;
	for (uint64_t i = 0; i < n; i++)
		if (pool_get(p, first + i, &out[i]) < 0)
			return -1;
	return 0;
}

/* close(): no more tasks; one leave token per worker, after the queued tasks. */
static void pool_close(struct pool *p)
{
	q_lock(p->q);
	p->q->closed = true;
	(void)pthread_mutex_unlock(&p->q->mu);
	for (unsigned w = 0; w < p->started; w++)
		(void)sem_post(&p->q->items);
}

/* join(): waits for every worker; returns how many did not exit cleanly. */
static unsigned pool_join(struct pool *p)
{
	unsigned bad = 0;
	for (unsigned w = 0; w < p->started; w++) {
		int st = 0;
		if (p->kind == K_PROCESS) {
			if (p->pids[w] <= 0) { /* already reaped by worker_died */
				bad++;
				continue;
			}
			pid_t r;
			while ((r = waitpid(p->pids[w], &st, 0)) < 0 && errno == EINTR)
				;
			il_peer_untrack(p->pids[w]);
			if (r != p->pids[w] || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
				bad++;
		} else {
			(void)pthread_join(p->threads[w], NULL);
		}
		tk_tp_reaped(p->q->w[w].seq, p->q->w[w].pid, p->q->w[w].tid, st, il_now_ns() - p->t_spawn);
	}
	p->started = 0;
	return bad;
}

/* terminate(): on an error path, kills process workers at once; threads are closed and
 * joined (they finish what is queued: nothing of ours can stop a thread safely). */
static void pool_terminate(struct pool *p)
{
	if (p->kind == K_PROCESS)
		for (unsigned w = 0; w < p->started; w++)
			if (p->pids[w] > 0)
				(void)kill(p->pids[w], SIGKILL);
	if (p->q && p->sems_init)
		pool_close(p);
	(void)pool_join(p);
}

static void pool_free(struct pool *p)
{
	bool sh = p->kind == K_PROCESS;
	if (p->q && p->sems_init) {
		(void)pthread_mutex_destroy(&p->q->mu);
		(void)sem_destroy(&p->q->slots);
		(void)sem_destroy(&p->q->items);
		(void)sem_destroy(&p->q->done);
	}
	mem_free(sh, p->q, p->qsize);
	mem_free(sh, p->res, p->rsize);
	free(p->pids);
	free(p->threads);
	memset(p, 0, sizeof(*p));
}

/* ---------------------------------------------------------------- one run */

struct run_cfg {
	int kind;
	unsigned workers;
	uint64_t tasks, us;
	int64_t corrupt; /* task index that returns a wrong value, -1: none */
};

struct run_res {
	uint64_t wall_ns, startup_ns;
	uint64_t executed, exactly_once, matched, spawned, reaped;
	uint64_t sum, expected_sum;
	int64_t first_mismatch;
	unsigned bad_workers;
	uint64_t *per_worker; /* pools: tasks each worker ran */
	char why[256];
};

static task_fn fn_for_task(uint64_t i, void *ctx)
{
	const struct run_cfg *c = ctx;
	return c->corrupt >= 0 && (uint64_t)c->corrupt == i ? task_work_wrong : task_work;
}

/* One process per task, at most c->workers at a time; results in shared memory. */
static int run_spawn_per_task(const struct run_cfg *c, struct result *res, struct run_res *r)
{
	pid_t *live = calloc(c->workers, sizeof(pid_t));
	uint64_t *live_seq = calloc(c->workers, sizeof(uint64_t)), *live_t0 = calloc(c->workers, sizeof(uint64_t));
	if (!live || !live_seq || !live_t0) {
		free(live);
		free(live_seq);
		free(live_t0);
		(void)snprintf(r->why, sizeof(r->why), "out of memory");
		return IL_NORES;
	}
	int rc = IL_OK;
	unsigned nlive = 0;
	uint64_t next = 0;
	pid_t parent = getpid();
	(void)fflush(NULL);
	while (next < c->tasks || nlive) {
		while (rc == IL_OK && nlive < c->workers && next < c->tasks) {
			unsigned slot = 0;
			while (live[slot])
				slot++;
			uint64_t i = next++, seq = tk_next_seq();
			task_fn fn = fn_for_task(i, (void *)c);
			tk_tp_spawn("spawn-per-task", seq);
			uint64_t t0 = il_now_ns();
			pid_t pid = fork();
			if (pid == 0) {
				/* die with us (PR_SET_PDEATHSIG): a worker never outlives the run */
				(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
				if (getppid() != parent)
					_exit(IL_FAIL);
				uint64_t t = il_now_ns();
				pid_t me = getpid();
				tk_tp_start(seq, me, me, t, false);
				res[i].value = fn(i, c->us);
				res[i].worker = -1;
				__atomic_add_fetch(&res[i].done, 1, __ATOMIC_RELEASE);
				tk_tp_exit(seq, me, me, 0, false);
				_exit(0);
			}
			if (pid < 0) {
				(void)snprintf(r->why, sizeof(r->why), "fork for task %" PRIu64 ": %s", i, strerror(errno));
				rc = il_exit_for_errno(errno);
				break;
			}
			r->spawned++;
			live[slot] = pid;
			live_seq[slot] = seq;
			live_t0[slot] = t0;
			nlive++;
		}
		if (!nlive)
			break;
		int st;
		pid_t pid = waitpid(-1, &st, 0);
		if (pid < 0) {
			if (errno == EINTR)
				continue;
			(void)snprintf(r->why, sizeof(r->why), "waitpid: %s with %u children alive", strerror(errno), nlive);
			rc = IL_FAIL;
			break;
		}
		for (unsigned s = 0; s < c->workers; s++)
			if (live[s] == pid) {
				tk_tp_reaped(live_seq[s], pid, pid, st, il_now_ns() - live_t0[s]);
				live[s] = 0;
				nlive--;
				r->reaped++;
				if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
					char ws[64];
					r->bad_workers++;
					if (rc == IL_OK)
						(void)snprintf(r->why, sizeof(r->why), "task process %d %s", (int)pid,
							       tk_wait_str(st, ws, sizeof(ws)));
				}
				break;
			}
	}
	free(live);
	free(live_seq);
	free(live_t0);
	return rc;
}

/* Runs c->tasks tasks on one kind and verifies every result. */
static int pool_run_one(const struct run_cfg *c, struct run_res *r)
{
	memset(r, 0, sizeof(*r));
	r->first_mismatch = -1;
	uint64_t *out = calloc(c->tasks, sizeof(uint64_t));
	if (!out) {
		(void)snprintf(r->why, sizeof(r->why), "out of memory for %" PRIu64 " results", c->tasks);
		return IL_NORES;
	}
	int rc = IL_OK;
	struct pool p;
	memset(&p, 0, sizeof(p));
	struct result *res = NULL;
	size_t rsize = c->tasks * sizeof(struct result);
	uint64_t t0 = il_now_ns();
	if (c->kind == K_SPAWN) {
		res = il_shared_alloc(rsize);
		if (!res) {
			(void)snprintf(r->why, sizeof(r->why), "out of memory for %" PRIu64 " results", c->tasks);
			free(out);
			return IL_NORES;
		}
		rc = run_spawn_per_task(c, res, r);
		r->wall_ns = il_now_ns() - t0;
		for (uint64_t i = 0; i < c->tasks; i++)
			out[i] = res[i].value;
	} else {
		p.t_spawn = t0;
		rc = pool_open(&p, c->kind, c->workers, c->tasks);
		r->spawned = p.started;
		r->startup_ns = il_now_ns() - t0;
		if (rc == IL_OK && pool_map(&p, fn_for_task, (void *)c, c->tasks, c->us, out) < 0)
			rc = IL_FAIL;
		if (rc == IL_OK) {
			pool_close(&p);
			unsigned n = p.started;
			r->bad_workers = pool_join(&p);
			r->reaped = n;
			r->wall_ns = il_now_ns() - t0;
		} else {
			(void)snprintf(r->why, sizeof(r->why), "%s", p.why);
			unsigned n = p.started;
			pool_terminate(&p);
			r->reaped = n;
		}
		res = p.res;
		r->per_worker = calloc(c->workers, sizeof(uint64_t));
		if (r->per_worker && p.q)
			for (unsigned w = 0; w < c->workers; w++)
				r->per_worker[w] = p.q->w[w].executed;
	}
	/* verify: every task ran exactly once and returned f(i); the sums agree */
	if (res) {
		for (uint64_t i = 0; i < c->tasks; i++) {
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
	if (c->kind == K_SPAWN)
		il_shared_free(res, rsize);
	else
		pool_free(&p);
	free(out);
	if (rc == IL_OK && r->bad_workers)
		(void)snprintf(r->why, sizeof(r->why), "%u workers did not exit cleanly", r->bad_workers);
	return rc;
}

/* JSON of one run, with its checks appended to checks; *ok cleared on a failed check. */
static json_t *run_json(const struct run_cfg *c, const struct run_res *r, json_t *checks, const char *prefix, bool *ok)
{
	json_t *o = json_object();
	double wall_s = (double)r->wall_ns / 1e9;
	double tps = wall_s > 0 ? (double)c->tasks / wall_s : 0;
	il_jset(o, "kind", json_string(kind_names[c->kind]));
	il_jset(o, "workers", json_integer(c->workers));
	il_jset(o, "tasks", json_integer((json_int_t)c->tasks));
	il_jset(o, "task_us", json_integer((json_int_t)c->us));
	il_jset(o, "wall_ns", json_integer((json_int_t)r->wall_ns));
	il_jset(o, "startup_ns", c->kind == K_SPAWN ? json_null() : json_integer((json_int_t)r->startup_ns));
	il_jset(o, "tasks_per_s", json_real(tps));
	il_jset(o, "ideal_tasks_per_s", c->us ? json_real(1e6 * c->workers / (double)c->us) : json_null());
	il_jset(o, "efficiency", c->us && tps > 0 ? json_real(tps / (1e6 * c->workers / (double)c->us)) : json_null());
	/* the cost each task adds beyond its own work, in worker-microseconds */
	il_jset(o, "overhead_us_per_task", json_real(wall_s * 1e6 * c->workers / (double)c->tasks - (double)c->us));
	il_jset(o, "tasks_spawned", json_integer((json_int_t)r->spawned));
	il_jset(o, "tasks_reaped", json_integer((json_int_t)r->reaped));
	il_jset(o, "executed", json_integer((json_int_t)r->executed));
	il_jset(o, "exactly_once", json_integer((json_int_t)r->exactly_once));
	il_jset(o, "verified", json_integer((json_int_t)r->matched));
	il_jset(o, "mismatches", json_integer((json_int_t)(c->tasks - r->matched)));
	il_jset(o, "first_mismatch", r->first_mismatch < 0 ? json_null() : json_integer(r->first_mismatch));
	char buf[32];
	(void)snprintf(buf, sizeof(buf), "%016" PRIx64, r->sum);
	il_jset(o, "sum", json_string(buf));
	(void)snprintf(buf, sizeof(buf), "%016" PRIx64, r->expected_sum);
	il_jset(o, "expected_sum", json_string(buf));
	if (r->per_worker) {
		json_t *pw = json_array();
		for (unsigned w = 0; w < c->workers; w++)
			(void)json_array_append_new(pw, json_integer((json_int_t)r->per_worker[w]));
		il_jset(o, "per_worker", pw);
	} else {
		il_jset(o, "per_worker", json_null());
	}
	char name[96];
	(void)snprintf(name, sizeof(name), "%severy_task_ran_once", prefix);
	*ok &= tk_check(checks, name, json_integer((json_int_t)c->tasks), json_integer((json_int_t)r->exactly_once),
			r->exactly_once == c->tasks && r->executed == c->tasks);
	(void)snprintf(name, sizeof(name), "%severy_result_is_f_of_i", prefix);
	*ok &= tk_check(checks, name, json_integer((json_int_t)c->tasks), json_integer((json_int_t)r->matched),
			r->matched == c->tasks);
	(void)snprintf(name, sizeof(name), "%ssum", prefix);
	char s1[32], s2[32];
	(void)snprintf(s1, sizeof(s1), "%016" PRIx64, r->expected_sum);
	(void)snprintf(s2, sizeof(s2), "%016" PRIx64, r->sum);
	*ok &= tk_check(checks, name, json_string(s1), json_string(s2), r->sum == r->expected_sum);
	(void)snprintf(name, sizeof(name), "%sworkers_reaped", prefix);
	*ok &= tk_check(checks, name, json_integer((json_int_t)r->spawned), json_integer((json_int_t)r->reaped),
			r->spawned == r->reaped && !r->bad_workers);
	return o;
}

static double jreal(json_t *o, const char *k)
{
	return json_number_value(json_object_get(o, k));
}

static int pool_exp_run(int argc, char **argv)
{
	int kind = K_PROCESS;
	uint64_t tasks = 1000, us = 100, workers = 0, corrupt = 0;
	bool sweep = false;
	long nproc = sysconf(_SC_NPROCESSORS_ONLN);
	if (nproc < 1)
		nproc = 1;
	const struct il_opt opts[] = {
		{ "kind", IL_OPT_CHOICE, "K", "a pool of worker processes or threads, or one new process per task "
		  "(default process)", 0, 0, kind_names, &kind },
		{ "tasks", IL_OPT_U64, "N", "tasks to run (default 1000)", 1, 1000000, NULL, &tasks },
		{ "task-us", IL_OPT_U64, "U", "CPU time each task spins, in microseconds (default 100)", 0, 1000000, NULL, &us },
		{ "workers", IL_OPT_U64, "W", "pool size, and the live limit of spawn-per-task (default: online CPUs)",
		  1, 1024, NULL, &workers },
		{ "sweep", IL_OPT_FLAG, NULL, "every kind at 0,10,100,1000 us per task, and the crossover", 0, 0, NULL, &sweep },
		{ "corrupt-task", IL_OPT_U64, "I", "testing aid: task I-1 returns a wrong value (the check must fail)",
		  1, 1000000, NULL, &corrupt },
		{ 0 },
	};
	struct il_ctx x;
	il_ctx_begin(&x, argv[0], argc, argv);
	int prc = il_ctx_parse(&x, "A worker pool (apply_async/map/close/join over a queue in shared memory for\n"
			       "processes, in process memory for threads) against one new process per task:\n"
			       "tasks/s by task length, every result verified, and (--sweep) the crossover where\n"
			       "the pool stops mattering.", 0, opts);
	if (prc != IL_RUN)
		return prc;
	const struct il_common *c = &x.c;
	if (sweep && (il_ctx_given(&x, "kind") || il_ctx_given(&x, "task-us")))
		return il_ctx_usage(&x, "--sweep runs every kind and task length; it excludes --kind and --task-us");
	if (corrupt > tasks)
		return il_ctx_usage(&x, "invalid value '%" PRIu64 "' for --corrupt-task (expected 1..%" PRIu64
				    ", the task count)", corrupt, tasks);
	if (!workers)
		workers = (uint64_t)nproc;
	il_jset(x.params, "kind", sweep ? json_null() : json_string(kind_names[kind]));
	il_jset(x.params, "tasks", json_integer((json_int_t)tasks));
	il_jset(x.params, "task_us", sweep ? json_null() : json_integer((json_int_t)us));
	il_jset(x.params, "workers", json_integer((json_int_t)workers));
	il_jset(x.params, "sweep", json_boolean(sweep));
	il_jset(x.params, "corrupt_task", corrupt ? json_integer((json_int_t)corrupt) : json_null());
	il_jset(x.results, "api", json_pack("[ssss]", "apply_async", "map", "close", "join"));
	il_jset(x.results, "traced", json_boolean(il_trace_loaded()));
	il_guard_install((unsigned)c->timeout_s);

	bool human = !c->json || c->json_file, ok = true;
	json_t *checks = json_array(), *points = json_array();
	int rc = IL_OK;
	if (human) {
		printf("task pool: %" PRIu64 " tasks, %" PRIu64 " workers%s%s\n", tasks, workers,
		       corrupt ? ", one corrupted result" : "", il_trace_loaded() ? ", traced" : "");
		printf("%8s %-15s %12s %12s %10s %12s %9s\n", "task_us", "kind", "tasks/s", "ideal/s", "effic_%",
		       "ovh_us/task", "verified");
	}
	size_t nu = sweep ? N_SWEEP : 1;
	for (size_t ui = 0; ui < nu && rc == IL_OK; ui++) {
		uint64_t u = sweep ? sweep_us[ui] : us;
		json_t *pt = json_pack("{sI}", "task_us", (json_int_t)u), *kinds = json_object();
		for (int k = 0; k < K_N && rc == IL_OK; k++) {
			if (!sweep && k != kind)
				continue;
			struct run_cfg rcfg = { .kind = k, .workers = (unsigned)workers, .tasks = tasks, .us = u,
						.corrupt = corrupt ? (int64_t)corrupt - 1 : -1 };
			struct run_res rr;
			il_info("%s, %" PRIu64 " us per task", kind_names[k], u);
			rc = pool_run_one(&rcfg, &rr);
			if (rc != IL_OK) {
				if (rc == IL_FAIL)
					il_fail("%s: %s", kind_names[k], rr.why);
				else
					il_err("%s: %s", kind_names[k], rr.why);
			}
			char prefix[64];
			(void)snprintf(prefix, sizeof(prefix), sweep ? "%s_%" PRIu64 "us_" : "", kind_names[k], u);
			json_t *o = run_json(&rcfg, &rr, checks, prefix, &ok);
			free(rr.per_worker);
			if (human && rc == IL_OK) {
				char ideal[24] = "-", eff[24] = "-";
				if (u) {
					(void)snprintf(ideal, sizeof(ideal), "%.0f", jreal(o, "ideal_tasks_per_s"));
					(void)snprintf(eff, sizeof(eff), "%.1f", 100 * jreal(o, "efficiency"));
				}
				printf("%8" PRIu64 " %-15s %12.0f %12s %10s %12.1f %9" JSON_INTEGER_FORMAT "\n", u, kind_names[k],
				       jreal(o, "tasks_per_s"), ideal, eff, jreal(o, "overhead_us_per_task"),
				       json_integer_value(json_object_get(o, "verified")));
			}
			if (!sweep)
				(void)json_object_update(x.results, o);
			il_jset(kinds, kind_names[k], o);
		}
		il_jset(pt, "kinds", kinds);
		(void)json_array_append_new(points, pt);
	}
	if (sweep && rc == IL_OK && json_array_size(points) == N_SWEEP) {
		/* measured: the first swept length where spawn-per-task reaches 90 % of a pool */
		json_t *cross = json_object();
		for (int k = K_PROCESS; k <= K_THREAD; k++) {
			json_t *meas = json_null();
			for (size_t i = 0; i < N_SWEEP; i++) {
				json_t *ks = json_object_get(json_array_get(points, i), "kinds");
				double tp = jreal(json_object_get(ks, kind_names[k]), "tasks_per_s");
				double ts = jreal(json_object_get(ks, "spawn-per-task"), "tasks_per_s");
				if (tp > 0 && ts >= CROSS_FRACTION * tp) {
					json_decref(meas);
					meas = json_integer((json_int_t)sweep_us[i]);
					break;
				}
			}
			/* model: throughput ~ W / (U + o); from the per-task overheads o at U = 0,
			 * spawn-per-task is within 10 % once U >= 9 o_spawn - 10 o_pool */
			json_t *k0 = json_object_get(json_array_get(points, 0), "kinds");
			double op = jreal(json_object_get(k0, kind_names[k]), "overhead_us_per_task");
			double os = jreal(json_object_get(k0, "spawn-per-task"), "overhead_us_per_task");
			double model = (1.0 / (1.0 - CROSS_FRACTION) - 1.0) * os - op / (1.0 - CROSS_FRACTION);
			if (model < 0)
				model = 0;
			char key[48];
			(void)snprintf(key, sizeof(key), "vs_%s_pool", kind_names[k]);
			il_jset(cross, key, json_pack("{so sf sf sf}", "measured_task_us", meas, "model_task_us", model,
						      "overhead_us_pool", op, "overhead_us_spawn", os));
			if (human) {
				char m[32];
				if (json_is_null(meas))
					(void)snprintf(m, sizeof(m), "beyond %" PRIu64, sweep_us[N_SWEEP - 1]);
				else
					(void)snprintf(m, sizeof(m), "%" JSON_INTEGER_FORMAT, json_integer_value(meas));
				printf("crossover vs the %s pool (spawn-per-task >= %.0f %% of its tasks/s): measured %s us, "
				       "model %.0f us (per-task overhead %.1f us pooled, %.1f us spawned)\n", kind_names[k],
				       100 * CROSS_FRACTION, m, model, op, os);
			}
		}
		il_jset(cross, "fraction", json_real(CROSS_FRACTION));
		il_jset(x.results, "crossover", cross);
	}
	il_guard_disarm();
	if (sweep)
		il_jset(x.results, "points", points);
	else
		json_decref(points);
	il_jset(x.results, "checks", checks);
	if (rc == IL_OK && !ok)
		rc = IL_FAIL;
	return il_ctx_finish(&x, rc);
}

const struct il_experiment il_exp_task_pool = {
	.group = "task",
	.name = "pool",
	.summary = "worker pool (process/thread, apply_async/map/close/join) vs a process per task: tasks/s",
	.run = pool_exp_run,
};
