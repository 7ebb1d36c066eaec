/* workpool.c - the worker pool of workpool.h: a worker takes a descriptor, runs it, stores
 * the result and posts a completion; a token on an empty ring (posted by close) means
 * leave. The creator notices a process worker that died (waitpid WNOHANG every 100 ms
 * while it waits) and a lock whose owner died (robust mutex): the results would never
 * come, so it gives up instead of waiting for the watchdog. */
#include "workpool.h"
#include "task.h"
#include "../core/cleanup.h"
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
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Locks the ring; a lock whose owner died is made consistent and the pool marked broken. */
static void q_lock(struct tk_pool_queue *q)
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
static void worker_loop(struct tk_pool_queue *q, struct tk_result *res, unsigned w)
{
	for (;;) {
		sem_wait_intr(&q->items);
		q_lock(q);
		if (q->head == q->tail || q->broken) {
			(void)pthread_mutex_unlock(&q->mu);
			return;
		}
		struct tk_pool_desc d = q->ring[q->head % TK_POOL_RING];
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

/* Start of a worker: stamp, loop. A thread traces its own start and exit; a process
 * worker, forked without the tracer's fork hooks (it would first re-register with the
 * session daemon), leaves its stamp and the pool traces for it when it reaps it. */
static void worker_body(struct tk_pool_queue *q, struct tk_result *res, unsigned w, bool self_trace)
{
	q->w[w].t_start = il_now_ns();
	q->w[w].pid = getpid();
	q->w[w].tid = gettid();
	if (self_trace)
		tk_tp_start(q->w[w].seq, q->w[w].pid, q->w[w].tid, q->w[w].t_start, false);
	worker_loop(q, res, w);
	if (self_trace)
		tk_tp_exit(q->w[w].seq, q->w[w].pid, q->w[w].tid, 0, false);
}

/* A reaped process worker's life, traced for it: start (its stamp), exit, reaped. */
static void trace_reaped_worker(const struct tk_pool *p, unsigned w, pid_t pid, int st)
{
	const struct tk_pool_worker *k = &p->q->w[w];
	tk_tp_start(k->seq, pid, pid, k->t_start, true);
	tk_tp_exit(k->seq, pid, pid, WIFEXITED(st) ? WEXITSTATUS(st) : -1, true);
	tk_tp_reaped(k->seq, pid, pid, st, il_now_ns() - p->t_spawn);
}

struct thread_arg {
	struct tk_pool *p;
	unsigned w;
};

static void *thread_worker(void *arg)
{
	struct thread_arg *a = arg;
	worker_body(a->p->q, a->p->res, a->w, true);
	free(a);
	return NULL;
}

/* Initialises the lock (robust, process-shared if pshared) and the semaphores. */
static int queue_init(struct tk_pool_queue *q, bool pshared)
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
	if (sem_init(&q->slots, pshared, TK_POOL_RING) < 0 || sem_init(&q->items, pshared, 0) < 0 ||
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

/* Starts worker w: a forked child (dies with us, named for ps and traces) or a thread. */
static int start_worker(struct tk_pool *p, unsigned w, pid_t parent)
{
	if (p->kind == TK_POOL_PROCESS) {
		pid_t pid = il_fork_untraced();
		if (pid < 0) {
			int rc = il_exit_for_errno(errno);
			il_errno("fork of pool worker %u", w + 1);
			return rc;
		}
		if (pid == 0) {
			il_guard_child();
			if (getppid() != parent)
				_exit(IL_FAIL);
			il_set_task_name("ipclab-pool");
			worker_body(p->q, p->res, w, false);
			_exit(0);
		}
		il_peer_track(pid);
		p->pids[w] = pid;
		return IL_OK;
	}
	struct thread_arg *a = malloc(sizeof(*a));
	if (!a) {
		il_err("out of memory");
		return IL_NORES;
	}
	*a = (struct thread_arg){ p, w };
	int e = pthread_create(&p->threads[w], NULL, thread_worker, a);
	if (e) {
		free(a);
		errno = e;
		il_errno("pthread_create of pool worker %u", w + 1);
		return il_exit_for_errno(e);
	}
	return IL_OK;
}

int tk_pool_open(struct tk_pool *p, int kind, unsigned n, uint64_t cap)
{
	memset(p, 0, sizeof(*p));
	p->kind = kind;
	p->nworkers = n;
	p->cap = cap;
	bool sh = kind == TK_POOL_PROCESS;
	p->qsize = sizeof(struct tk_pool_queue) + n * sizeof(struct tk_pool_worker);
	p->rsize = cap * sizeof(struct tk_result);
	p->q = mem_alloc(sh, p->qsize);
	p->res = mem_alloc(sh, p->rsize);
	p->pids = calloc(n, sizeof(pid_t));
	p->threads = calloc(n, sizeof(pthread_t));
	p->t_spawn = il_now_ns();
	if (!p->q || !p->res || !p->pids || !p->threads) {
		il_err("out of memory for a pool of %u workers and %" PRIu64 " results", n, cap);
		return IL_NORES;
	}
	int e = queue_init(p->q, sh);
	if (e) {
		il_err("pool queue primitives: %s", strerror(e));
		return IL_NORES;
	}
	p->sems_init = true;
	(void)fflush(NULL);
	pid_t parent = getpid();
	for (unsigned w = 0; w < n; w++, p->started++) {
		p->q->w[w].seq = tk_next_seq();
		tk_tp_spawn(sh ? "pool-process" : "pool-thread", p->q->w[w].seq);
		int rc = start_worker(p, w, parent);
		if (rc != IL_OK)
			return rc;
	}
	return IL_OK;
}

/* True (after one message) if a process worker has died or the queue is broken: results
 * would never come. Looks at most every 100 ms. */
static bool worker_died(struct tk_pool *p, bool now)
{
	uint64_t t = il_now_ns();
	if (!now && t - p->t_checked < 100000000ull)
		return false;
	p->t_checked = t;
	if (p->kind != TK_POOL_PROCESS)
		return false;
	for (unsigned w = 0; w < p->started; w++) {
		int st;
		if (p->pids[w] > 0 && il_waitpid(p->pids[w], &st, WNOHANG) == p->pids[w]) {
			char ws[64];
			il_peer_untrack(p->pids[w]);
			trace_reaped_worker(p, w, p->pids[w], st);
			il_fail("process pool worker %u (pid %d) %s before the results were in", w + 1, (int)p->pids[w],
				il_wait_status_text(st, ws, sizeof(ws)));
			p->pids[w] = -p->pids[w]; /* reaped */
			return true;
		}
	}
	if (p->q->broken) {
		il_fail("a process pool worker died holding the queue lock");
		return true;
	}
	return false;
}

/* Waits on s, checking for dead workers every 100 ms; -1 if one died. */
static int sem_wait_watch(struct tk_pool *p, sem_t *s)
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
		if (errno != EINTR && errno != ETIMEDOUT) {
			il_errno("sem_timedwait on the pool queue");
			return -1;
		}
		if (worker_died(p, errno == ETIMEDOUT))
			return -1;
	}
}

uint64_t tk_pool_apply_async(struct tk_pool *p, tk_task_fn fn, uint64_t arg, uint64_t us)
{
	struct tk_pool_queue *q = p->q;
	if (sem_wait_watch(p, &q->slots) < 0)
		return UINT64_MAX;
	uint64_t id = p->submitted++;
	q_lock(q);
	q->ring[q->tail % TK_POOL_RING] = (struct tk_pool_desc){ fn, arg, us, id };
	q->tail++;
	(void)pthread_mutex_unlock(&q->mu);
	(void)sem_post(&q->items);
	return id;
}

int tk_pool_get(struct tk_pool *p, uint64_t id, uint64_t *value)
{
	while (!__atomic_load_n(&p->res[id].done, __ATOMIC_ACQUIRE))
		if (sem_wait_watch(p, &p->q->done) < 0)
			return -1;
	*value = p->res[id].value;
	return 0;
}

/* map(fn, range(n)): apply_async for every argument, then get every result in order
 * (the ring holds TK_POOL_RING descriptors: submission waits for room, like a bounded queue). */
int tk_pool_map(struct tk_pool *p, tk_task_fn (*fn_for)(uint64_t i, void *ctx), void *ctx, uint64_t n,
		    uint64_t us, uint64_t *out)
{
	uint64_t first = p->submitted;
	for (uint64_t i = 0; i < n; i++)
		if (tk_pool_apply_async(p, fn_for(i, ctx), i, us) == UINT64_MAX)
			return -1;
	for (uint64_t i = 0; i < n; i++)
		if (tk_pool_get(p, first + i, &out[i]) < 0)
			return -1;
	return 0;
}

void tk_pool_close(struct tk_pool *p)
{
	q_lock(p->q);
	p->q->closed = true;
	(void)pthread_mutex_unlock(&p->q->mu);
	for (unsigned w = 0; w < p->started; w++)
		(void)sem_post(&p->q->items);
}

unsigned tk_pool_join(struct tk_pool *p)
{
	unsigned bad = 0;
	for (unsigned w = 0; w < p->started; w++) {
		int st = 0;
		if (p->kind == TK_POOL_PROCESS) {
			if (p->pids[w] <= 0) { /* already reaped by worker_died */
				bad++;
				continue;
			}
			pid_t r = il_waitpid(p->pids[w], &st, 0);
			il_peer_untrack(p->pids[w]);
			if (r != p->pids[w] || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
				bad++;
			trace_reaped_worker(p, w, p->pids[w], st);
		} else {
			(void)pthread_join(p->threads[w], NULL);
			tk_tp_reaped(p->q->w[w].seq, p->q->w[w].pid, p->q->w[w].tid, st, il_now_ns() - p->t_spawn);
		}
	}
	p->started = 0;
	return bad;
}

void tk_pool_terminate(struct tk_pool *p)
{
	if (p->kind == TK_POOL_PROCESS)
		for (unsigned w = 0; w < p->started; w++)
			if (p->pids[w] > 0)
				(void)kill(p->pids[w], SIGKILL);
	if (p->q && p->sems_init)
		tk_pool_close(p);
	(void)tk_pool_join(p);
}

void tk_pool_free(struct tk_pool *p)
{
	bool sh = p->kind == TK_POOL_PROCESS;
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

