/* spawn_loop.c - the timed loop of "task spawn": create a task that does nothing, wait for
 * it, warmup + iterations times, by one creation method (spawn_methods.c). Three
 * latencies from the creator's stamp just before the creation call (CLOCK_MONOTONIC):
 *   to_return  the creation call returned in the creator;
 *   to_start   the task's own first stamp, written into shared memory first thing (an
 *              exec'd helper writes it to a pipe: it shares no memory with us);
 *   to_reaped  waitpid / pthread_join / the completion semaphore (detached) returned.
 * Every task is counted (spawned, started, exited 0, reaped) and traced: task_spawn,
 * task_start, task_exit, task_reaped, exactly one of each. */
#include "spawn.h"
#include "task.h"
#include "../core/clock.h"
#include "../core/log.h"
#include "../core/result.h"
#include "../core/spawn.h"

#include <errno.h>
#include <inttypes.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define HIST_MAX_NS (60ull * 1000 * 1000 * 1000)
#define DETACHED_GONE_NS 5000000000ull

/* ---------------------------------------------------------------- the loop */

static bool is_thread_method(int m)
{
	return m == TK_PTHREAD || m == TK_PTHREAD_DETACHED;
}

void tk_loop_res_free(struct tk_loop_res *res)
{
	free(res->to_return);
	free(res->to_start);
	free(res->to_reaped);
	res->to_return = res->to_start = res->to_reaped = NULL;
}

/* Counts task i's outcome, traces for it if needed, adds its latencies when measured.
 * IL_OK, or an exit code after one message. */
static int account(const struct tk_loop_cfg *cfg, struct tk_slot *sl, const struct tk_one *o, uint64_t i,
		   bool measured, struct tk_loop_res *res)
{
	const char *name = tk_method_names[cfg->method];
	if (o->err) {
		int rc = il_exit_for_errno(o->err);
		errno = o->err;
		tk_log_rc(rc, "%s of task %" PRIu64 " failed: %s (errno %d)", name, i + 1, strerror(o->err), o->err);
		return rc;
	}
	res->spawned++;
	if (!is_thread_method(cfg->method))
		sl->pid = sl->tid = o->pid;
	if (o->proxy) {
		tk_tp_start(sl->seq, o->pid, o->pid, sl->t_start, true);
		tk_tp_exit(sl->seq, o->pid, o->pid, WIFEXITED(o->st) ? WEXITSTATUS(o->st) : -1, true);
	}
	if (!o->reaped) {
		il_fail("%s: task %" PRIu64 " (pid %d) could not be waited for: %s", name, i + 1, (int)o->pid,
			strerror(o->werr));
		return IL_FAIL;
	}
	res->reaped++;
	tk_tp_reaped(sl->seq, sl->pid, sl->tid, o->st, o->t2 - o->t0);
	bool ok_exit = is_thread_method(cfg->method) || (WIFEXITED(o->st) && WEXITSTATUS(o->st) == 0);
	uint64_t ts = sl->t_start;
	res->exited_ok += ok_exit;
	res->started += ts != 0;
	if (!ok_exit || !ts) {
		char ws[64];
		il_fail("%s: task %" PRIu64 " (pid %d) %s%s", name, i + 1, (int)o->pid, il_wait_status_text(o->st, ws, sizeof(ws)),
			ts ? "" : " without stamping its start");
		return IL_FAIL;
	}
	if (measured) {
		res->measured++;
		il_hist_add(res->to_return, o->t1 - o->t0);
		il_hist_add(res->to_start, ts >= o->t0 ? ts - o->t0 : 0);
		il_hist_add(res->to_reaped, o->t2 - o->t0);
	}
	return IL_OK;
}

/* A detached thread still runs for a moment after its last sem_post: wait until the
 * thread count is back, so nothing of ours (the semaphore) is used after we return. */
static bool detached_gone(int threads_before)
{
	uint64_t deadline = il_now_ns() + DETACHED_GONE_NS;
	while (tk_thread_count() > threads_before && il_now_ns() < deadline)
		(void)sched_yield();
	return tk_thread_count() <= threads_before;
}

static void loop_free(struct tk_loop *l)
{
	if (l->sem_init)
		(void)sem_destroy(&l->sl->done);
	if (l->attr_init)
		(void)pthread_attr_destroy(&l->dattr);
	if (l->fa_init)
		(void)posix_spawn_file_actions_destroy(&l->fa);
	for (int i = 0; i < 2; i++)
		if (l->pfd[i] >= 0)
			(void)close(l->pfd[i]);
	if (l->stack)
		(void)munmap(l->stack, TK_CLONE_STACK);
	il_shared_free(l->sl, sizeof(*l->sl));
}

int tk_spawn_loop(const struct tk_loop_cfg *cfg, struct tk_loop_res *res)
{
	memset(res, 0, sizeof(*res));
	res->to_return = tk_hist_new(HIST_MAX_NS);
	res->to_start = tk_hist_new(HIST_MAX_NS);
	res->to_reaped = tk_hist_new(HIST_MAX_NS);
	struct tk_loop l = { .sl = il_shared_alloc(sizeof(struct tk_slot)), .exec = cfg->exec, .pfd = { -1, -1 },
			  .self_trace = cfg->child_trace == TK_CHILD_SELF };
	if (!res->to_return || !res->to_start || !res->to_reaped || !l.sl) {
		il_err("out of memory");
		loop_free(&l);
		return IL_NORES;
	}
	const int m = cfg->method;
	sigfillset(&l.all);
	int rc = tk_methods[m].setup ? tk_methods[m].setup(&l) : IL_OK;
	int threads_before = m == TK_PTHREAD_DETACHED ? tk_thread_count() : -1;
	(void)fflush(NULL); /* no stdio buffer is duplicated into a child */
	uint64_t t_measure = 0;
	for (uint64_t i = 0; i < cfg->warmup + cfg->iterations && rc == IL_OK; i++) {
		const bool measured = i >= cfg->warmup;
		if (measured) {
			uint64_t now = il_now_ns();
			if (!t_measure)
				t_measure = now;
			else if (cfg->budget_ns && res->measured >= 3 && now - t_measure > cfg->budget_ns)
				break;
		}
		l.sl->t_start = 0;
		l.sl->pid = l.sl->tid = 0;
		l.sl->seq = tk_next_seq();
		tk_tp_spawn(tk_method_names[m], l.sl->seq);
		struct tk_one o = { 0 };
		tk_methods[m].create(&l, &o);
		rc = account(cfg, l.sl, &o, i, measured, res);
	}
	if (threads_before > 0 && !detached_gone(threads_before) && rc == IL_OK) {
		il_fail("detached threads still running 5 s after their last post");
		rc = IL_FAIL;
	}
	loop_free(&l);
	return rc;
}

json_t *tk_loop_res_json(const struct tk_loop_res *r)
{
	json_t *o = json_object();
	il_jset(o, "spawned", json_integer((json_int_t)r->spawned));
	il_jset(o, "started", json_integer((json_int_t)r->started));
	il_jset(o, "exited_ok", json_integer((json_int_t)r->exited_ok));
	il_jset(o, "reaped", json_integer((json_int_t)r->reaped));
	il_jset(o, "measured", json_integer((json_int_t)r->measured));
	il_jset(o, "to_return", il_json_summary(r->to_return));
	il_jset(o, "to_start", il_json_summary(r->to_start));
	il_jset(o, "to_reaped", il_json_summary(r->to_reaped));
	return o;
}
