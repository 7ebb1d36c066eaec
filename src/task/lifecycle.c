/* lifecycle.c - "ipclab task lifecycle": the life of a process object and of a thread
 * object (the course's Process and Thread: name, pid, start, is_alive, join([timeout]),
 * exitcode, daemon) as a numbered transcript of checked steps:
 *   created, not started -> start() (a new pid / tid, under the name it was given in
 *   /proc/PID/comm or /proc/self/task/TID/comm, and in the trace's procname context) ->
 *   alive while it runs (from /proc: the task blocks on a pipe until released, so no
 *   sleep decides anything) -> join(timeout) expires while it still runs -> released,
 *   join() collects its exit status -> not alive after;
 * then the daemon rule:
 *   process  a daemon child dies when its parent exits: it asks PR_SET_PDEATHSIG(SIGTERM)
 *            itself (Python's multiprocessing sends the same SIGTERM, terminate(), from
 *            the parent's exit handler); a non-daemon child outlives its parent and is
 *            reparented (to us: we are the child subreaper, see isolation.c);
 *   thread   a daemon (detached) thread ends with its process's exit(); a non-daemon
 *            thread keeps the process alive after main's work is done: main joins it
 *            before exit(), as Python's interpreter does at exit.
 * Each step has an expected and an actual outcome; any mismatch exits 1. The object
 * (lifecycle_obj.c) emits task_spawn/start/exit/reaped; the daemon scenarios emit none. */
#include "isolation.h"
#include "lifecycle.h"
#include "task.h"
#include "../core/clock.h"
#include "../core/experiment.h"
#include "../core/log.h"
#include "../core/result.h"
#include "../core/spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#define GONE_MAX_NS 5000000000ull

enum { KIND_PROCESS, KIND_THREAD, KIND_BOTH };
static const char *const kind_names[] = { "process", "thread", "both", NULL };
static const char *const obj_names[] = { "ipclab-life-p", "ipclab-life-t" };

struct lc_cfg {
	int kind;
	uint64_t join_ms;
};

/* The transcript: one step per operation. */
struct lc {
	json_t *steps;
	unsigned n, passed, failed;
	const char *kind;
	struct iso_shared *sh;
};

static void step(struct lc *l, const char *op, const char *expected, const char *actual, bool pass, const char *note)
{
	l->n++;
	if (pass)
		l->passed++;
	else
		l->failed++;
	(void)json_array_append_new(l->steps, json_pack("{sI ss ss ss ss sb so}", "n", (json_int_t)l->n, "kind", l->kind,
							"op", op, "expected", expected, "actual", actual, "pass", pass,
							"note", note ? json_string(note) : json_null()));
	if (!pass)
		il_fail("step %u (%s %s): expected %s, got %s", l->n, l->kind, op, expected, actual);
}

/* ---------------------------------------------------------------- the object's life */

/* created, start(), the name, alive while running. IL_OK or an exit code (start failed). */
static int life_start(struct lc *l, struct tk_obj *o)
{
	bool proc = o->kind == TK_OBJ_PROCESS;
	char act[128], exp[128], st;
	bool alive = tk_obj_alive(o, &st);
	step(l, proc ? "Process(name) created, not started" : "Thread(name) created, not started",
	     "no pid, is_alive() false", o->pid || alive ? "started?" : "no pid, is_alive() false",
	     !o->pid && !alive, NULL);
	int e = tk_obj_start(o);
	if (e) {
		errno = -e;
		il_errno("%s start()", l->kind);
		return il_exit_for_errno(-e);
	}
	if (proc)
		(void)snprintf(act, sizeof(act), "pid %d (ours %d)", (int)o->pid, (int)getpid());
	else
		(void)snprintf(act, sizeof(act), "tid %d in pid %d (main tid %d)", (int)o->tid, (int)o->pid, (int)gettid());
	step(l, "start()", proc ? "a new process: a pid not ours" : "a new thread: a tid in our process", act,
	     proc ? o->pid > 0 && o->pid != getpid() && o->tid == o->pid : o->tid > 0 && o->tid != gettid(),
	     "it says it runs through a pipe once named: no sleep");
	tk_obj_comm(o, act, sizeof(act));
	(void)snprintf(exp, sizeof(exp), "%s", o->name);
	step(l, proc ? "name in /proc/PID/comm" : "name in /proc/self/task/TID/comm", exp, act, !strcmp(exp, act),
	     "prctl(PR_SET_NAME) by the task itself; also the procname context of its trace events");
	alive = tk_obj_alive(o, &st);
	(void)snprintf(act, sizeof(act), alive ? "alive (state %c)" : "not alive (state %c)", st ? st : '-');
	step(l, "is_alive() while it runs", "alive", act, alive,
	     proc ? "/proc/PID/stat: it blocks on a pipe until released" : "/proc/TID/stat, the thread's own: it blocks "
	     "on a pipe until released");
	return IL_OK;
}

/* join(timeout) while it runs, release and join(), not alive after. */
static int life_join(struct lc *l, struct tk_obj *o, uint64_t join_ms)
{
	bool proc = o->kind == TK_OBJ_PROCESS;
	char op[64], act[128], exp[64], note[128], st;
	(void)snprintf(op, sizeof(op), "join(timeout=%" PRIu64 " ms) while it runs", join_ms);
	int r = tk_obj_join(o, (int)join_ms);
	bool alive = tk_obj_alive(o, &st);
	(void)snprintf(act, sizeof(act), "%s, %s (state %c)", r == 0 ? "timed out" : r > 0 ? "joined" : "error",
		       alive ? "still alive" : "not alive", st ? st : '-');
	step(l, op, "timed out, still alive", act, r == 0 && alive,
	     proc ? "poll(2) on its pidfd" : "pthread_timedjoin_np: ETIMEDOUT");
	if (tk_obj_release(o) < 0 || (r = tk_obj_join(o, -1)) < 0) {
		il_errno("%s: release and join", l->kind);
		return IL_FAIL;
	}
	if (proc)
		(void)il_wait_status_text(W_EXITCODE(TK_OBJ_EXITCODE, 0), exp, sizeof(exp));
	else
		(void)snprintf(exp, sizeof(exp), "returned %d", TK_OBJ_EXITCODE);
	if (proc)
		(void)il_wait_status_text(o->wstatus, act, sizeof(act));
	else
		(void)snprintf(act, sizeof(act), "returned %d", o->exitcode);
	step(l, "released; join(): its exit status", exp, act, !strcmp(exp, act) && o->exitcode == TK_OBJ_EXITCODE,
	     proc ? "waitpid after its pidfd became readable: exitcode" : "pthread_join: the thread's return value");
	uint64_t waited;
	bool gone = tk_obj_gone(o, GONE_MAX_NS, &waited);
	if (proc)
		(void)snprintf(note, sizeof(note), "pidfd_send_signal(pidfd, 0): ESRCH, the pid is released");
	else
		(void)snprintf(note, sizeof(note), "/proc/self/task/%d removed %.1f us after pthread_join returned",
			       (int)o->tid, (double)waited / 1e3);
	step(l, "is_alive() after join", "not alive", gone ? "not alive" : "still there", gone, note);
	return IL_OK;
}

/* ---------------------------------------------------------------- the daemon rule */

/* A daemon child dies with its parent; a non-daemon child outlives it, reparented. */
static int daemon_process(struct lc *l)
{
	struct iso_gc d = { .pdeathsig = SIGTERM, .name = "ipclab-life-d" };
	int rc = iso_grandchild(l->sh, &d);
	if (rc != IL_OK)
		return rc;
	char act[128], exp[128];
	json_t *ds = iso_gc_status(&d);
	step(l, "daemon child: its parent exits", il_wait_status_text(W_EXITCODE(0, SIGTERM), exp, sizeof(exp)),
	     json_string_value(ds),
	     d.died_unreleased && d.reaped && iso_killed_by(d.st, SIGTERM),
	     "PR_SET_PDEATHSIG(SIGTERM), asked by the child: sent when the thread that forked it exits");
	json_decref(ds);
	struct iso_gc n = { .pdeathsig = 0, .name = "ipclab-life-n" };
	if ((rc = iso_grandchild(l->sh, &n)) != IL_OK)
		return rc;
	(void)snprintf(exp, sizeof(exp), "alive, reparented to pid %d", (int)getpid());
	(void)snprintf(act, sizeof(act), "%s, reparented to pid %d", n.alive_after ? "alive" : "not alive",
		       (int)n.ppid_after);
	step(l, "non-daemon child: its parent exits", exp, act, n.alive_after && n.ppid_after == getpid(),
	     "reparented to the nearest child subreaper (this run: PR_SET_CHILD_SUBREAPER), else PID 1");
	json_t *ns = iso_gc_status(&n);
	step(l, "the orphan, released, is reaped by its new parent", il_wait_status_text(0, exp, sizeof(exp)),
	     json_string_value(ns),
	     n.reaped && iso_exited_0(n.st), NULL);
	json_decref(ns);
	return IL_OK;
}

/* The state letter of a task (a thread id works too: /proc/TID), 0 if gone. */
static char thread_state(pid_t tid)
{
	struct il_proc_stat ps;
	return il_proc_stat(tid, &ps) == 0 ? ps.state : 0;
}

struct nd_arg {
	struct iso_shared *sh;
	int ready, hold;
};

/* The non-daemon worker: says it runs, waits for the hold pipe's end, finishes. */
static void *nondaemon_worker(void *arg)
{
	struct nd_arg *a = arg;
	a->sh->dtid = gettid();
	a->sh->d_started = 1;
	iso_write_byte(a->ready);
	char ch;
	while (il_read_full(a->hold, &ch, 1) == 0)
		;
	a->sh->d_finished = 1;
	return NULL;
}

/* In the sacrificial child: the worker; main's work is done, so it says so and joins the
 * non-daemon thread before exit(), as Python's interpreter does at exit (threading's
 * shutdown joins every non-daemon thread). pthread_exit() in main would also keep the
 * process alive, but only until its LAST thread ends: with the tracer loaded, its
 * listener threads never do. */
static __attribute__((noreturn)) void nondaemon_child(struct iso_shared *sh, int ready[2], int hold[2], int done[2])
{
	static struct nd_arg a;
	a = (struct nd_arg){ sh, ready[1], hold[0] };
	tk_close(&ready[0]);
	tk_close(&done[0]);
	tk_close(&hold[1]); /* only the experiment holds it: its close is the release */
	pthread_t t;
	if (pthread_create(&t, NULL, nondaemon_worker, &a))
		_exit(IL_NORES);
	iso_write_byte(done[1]);
	(void)pthread_join(t, NULL);
	exit(0);
}

/* A non-daemon thread keeps its process alive after main's own work is done. */
static int nondaemon_thread(struct lc *l)
{
	struct iso_shared *sh = l->sh;
	int ready[2] = { -1, -1 }, hold[2] = { -1, -1 }, done[2] = { -1, -1 }, rc = IL_OK;
	sh->dtid = 0;
	sh->d_started = sh->d_finished = 0;
	if (pipe2(ready, O_CLOEXEC) < 0 || pipe2(hold, O_CLOEXEC) < 0 || pipe2(done, O_CLOEXEC) < 0) {
		rc = iso_sys_error("pipe");
		goto out;
	}
	pid_t pid = iso_fork_sacrificial("ipclab-life-m");
	if (pid == 0)
		nondaemon_child(sh, ready, hold, done);
	if (pid < 0) {
		rc = iso_sys_error("fork");
		goto out;
	}
	tk_close(&ready[1]);
	tk_close(&hold[0]);
	tk_close(&done[1]);
	bool started = iso_read_byte(ready[0]) && iso_read_byte(done[0]);
	char pst = started ? thread_state(pid) : 0, wst = started ? thread_state(sh->dtid) : 0;
	char act[128];
	(void)snprintf(act, sizeof(act), "process %s, worker %c", pst && pst != 'Z' ? "alive" : "gone", wst ? wst : '-');
	step(l, "non-daemon thread: main() is done, it joins the thread", "process alive, worker S", act,
	     pst && pst != 'Z' && (wst == 'S' || wst == 'R'), "the process lives on until the thread finishes");
	tk_close(&hold[1]); /* release the worker */
	int st;
	bool reaped = iso_wait(pid, &st) == pid;
	iso_done_sacrificial(pid);
	char ws[64];
	(void)snprintf(act, sizeof(act), "%s, the thread %s", reaped ? il_wait_status_text(st, ws, sizeof(ws)) : "not reaped",
		       sh->d_finished ? "finished" : "did not finish");
	char exp[96];
	(void)snprintf(exp, sizeof(exp), "%s, the thread finished", il_wait_status_text(0, ws, sizeof(ws)));
	step(l, "released: the thread finishes, then the process exits", exp, act,
	     reaped && iso_exited_0(st) && sh->d_finished, NULL);
out:
	tk_close_pair(ready);
	tk_close_pair(hold);
	tk_close_pair(done);
	return rc;
}

/* A daemon thread ends with its process; a non-daemon one keeps it alive. */
static int daemon_thread(struct lc *l)
{
	struct iso_dt dt;
	int rc = iso_daemon_thread(l->sh, &dt);
	if (rc != IL_OK)
		return rc;
	char act[128], ws[64];
	(void)snprintf(act, sizeof(act), "process %s; thread %s, %s", dt.reaped ? il_wait_status_text(dt.st, ws, sizeof(ws)) : "not reaped",
		       dt.gone ? "gone" : "still there", dt.finished ? "finished" : "never finished");
	char exp[128];
	(void)snprintf(exp, sizeof(exp), "process %s; thread gone, never finished", il_wait_status_text(0, ws, sizeof(ws)));
	step(l, "daemon thread: its process exits while it runs", exp, act,
	     dt.reaped && iso_exited_0(dt.st) && dt.started && dt.gone && !dt.finished,
	     "a detached thread blocked for ever; main() calls exit(): every thread ends");
	return nondaemon_thread(l);
}

/* ---------------------------------------------------------------- the experiment */

/* One object's whole transcript, then its daemon rule. */
static int run_kind(struct il_ctx *x, struct lc *l, int kind, uint64_t join_ms)
{
	struct tk_obj o;
	l->kind = kind_names[kind];
	tk_obj_init(&o, kind == KIND_PROCESS ? TK_OBJ_PROCESS : TK_OBJ_THREAD, obj_names[kind]);
	int rc = life_start(l, &o);
	if (rc == IL_OK)
		rc = life_join(l, &o, join_ms);
	json_t *obj = json_pack("{ss si si si}", "name", o.name, "pid", (int)o.pid, "tid", (int)o.tid, "exitcode",
				o.exitcode);
	il_jset(json_object_get(x->results, "objects"), l->kind, obj);
	tk_obj_free(&o);
	if (rc == IL_OK)
		rc = kind == KIND_PROCESS ? daemon_process(l) : daemon_thread(l);
	return rc;
}

static int lifecycle_measure(struct il_ctx *x, void *cfgv)
{
	const struct lc_cfg *cfg = cfgv;
	struct lc l = { .steps = json_array() };
	il_jset(x->results, "steps", l.steps);
	il_jset(x->results, "objects", json_object());
	il_jset(x->results, "daemon", json_pack("{ss ss}", "process", "PR_SET_PDEATHSIG(SIGTERM), asked by the child "
						"after fork", "thread", "a detached thread: exit() of its process ends it"));
	int was = 0;
	(void)prctl(PR_GET_CHILD_SUBREAPER, &was);
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		return iso_sys_error("prctl(PR_SET_CHILD_SUBREAPER)");
	l.sh = il_shared_alloc(sizeof(*l.sh));
	int rc = l.sh ? IL_OK : IL_NORES;
	if (!l.sh)
		il_err("out of memory");
	for (int k = KIND_PROCESS; k <= KIND_THREAD && rc == IL_OK; k++)
		if (cfg->kind == KIND_BOTH || cfg->kind == k)
			rc = run_kind(x, &l, k, cfg->join_ms);
	(void)prctl(PR_SET_CHILD_SUBREAPER, was);
	il_shared_free(l.sh, sizeof(*l.sh));
	il_jset(x->results, "passed", json_integer(l.passed));
	il_jset(x->results, "failed", json_integer(l.failed));
	return rc != IL_OK ? rc : l.failed ? IL_FAIL : IL_OK;
}

static void lifecycle_print(const struct il_ctx *x, const void *cfgv)
{
	(void)cfgv;
	const json_t *r = x->results, *s;
	printf("task lifecycle: %" JSON_INTEGER_FORMAT " of %zu steps as expected\n", il_jint(r, "passed"),
	       json_array_size(json_object_get(r, "steps")));
	size_t i;
	json_array_foreach(json_object_get(r, "steps"), i, s) {
		const char *note = il_jstr(s, "note", NULL);
		printf("%3" JSON_INTEGER_FORMAT " %-7s %-58s %-44s %-44s %s", il_jint(s, "n"), il_jstr(s, "kind", "?"),
		       il_jstr(s, "op", "?"), il_jstr(s, "expected", "?"), il_jstr(s, "actual", "?"),
		       il_jtrue(s, "pass") ? "ok" : "FAIL");
		if (note)
			printf("  (%s)", note);
		putchar('\n');
	}
}

static const struct lc_cfg lifecycle_defaults = { .kind = KIND_BOTH, .join_ms = 50 };

static const struct il_opt lifecycle_opts[] = {
	{ .name = "kind", .type = IL_OPT_CHOICE, .metavar = "K", .help = "the process object, the thread object, or "
	  "both (default both)", .choices = kind_names, .off = IL_CFG(struct lc_cfg, kind, int), .param = "kind" },
	{ .name = "join-timeout-ms", .type = IL_OPT_U64, .metavar = "MS", .help = "the timeout of the join that must "
	  "expire while the task runs (default 50)", .min = 1, .max = 10000,
	  .off = IL_CFG(struct lc_cfg, join_ms, uint64_t), .param = "join_timeout_ms" },
	{ 0 },
};

const struct il_experiment il_exp_task_lifecycle = {
	.group = "task",
	.name = "lifecycle",
	.summary = "the life of a process and a thread object: start, name, is_alive, join(timeout), daemon",
	.help = "The course's Process and Thread objects as a transcript of checked steps: created,\n"
		"started (pid/tid, its name in /proc), alive while running (from /proc), a join\n"
		"whose timeout expires while it runs, its exit status, not alive after; then the\n"
		"daemon rule (a daemon child dies with its parent by PR_SET_PDEATHSIG(SIGTERM), a\n"
		"non-daemon child is reparented; a daemon thread ends with its process, a\n"
		"non-daemon thread is joined before it exits). Exit 1 if a step differs.",
	.opts = lifecycle_opts,
	.cfg_size = sizeof(struct lc_cfg),
	.cfg_defaults = &lifecycle_defaults,
	.measure = lifecycle_measure,
	.print = lifecycle_print,
	.flags = IL_EXP_GUARD | IL_EXP_TRACED | IL_EXP_PRINT_ON_FAIL,
};
