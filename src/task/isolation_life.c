/* isolation_life.c - the lifetime scenarios of "task isolation" (isolation.h):
 *   pdeathsig        a grandchild with PR_SET_PDEATHSIG(SIGKILL) dies when its parent (an
 *                    intermediate child) exits;
 *   detached_thread  a detached thread blocked for ever ends when its process calls exit():
 *                    threads never outlive their process (Python's daemon threads);
 *   orphan           a grandchild without PDEATHSIG survives its parent's exit and is
 *                    reparented - to us, the child subreaper (isolation.c).
 * Deaths we wait for are bounded with a "life" pipe only the watched task holds (end of
 * file = it died), never with a sleep. */
#include "isolation.h"
#include "../core/log.h"
#include "../core/result.h"
#include "../core/spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* What the detached thread gets (in the sacrificial child's own memory). */
struct daemon_arg {
	struct iso_shared *sh;
	int ready_fd;
};

static void *blocked_detached(void *arg)
{
	struct daemon_arg *da = arg;
	struct iso_shared *s = da->sh;
	s->dtid = gettid();
	s->d_started = 1;
	iso_write_byte(da->ready_fd);
	for (;;)
		(void)pause(); /* blocked for ever: only the end of its process ends it */
	return NULL;
}

/* The grandchild: dies with its parent if asked (PR_SET_PDEATHSIG), says it is ready,
 * then blocks until the experiment closes the hold pipe (end of file) and exits 0. */
static __attribute__((noreturn)) void grandchild_main(const struct iso_gc *gc, pid_t parent, int hold[2], int ready[2],
						      int life[2])
{
	if (gc->pdeathsig) {
		(void)prctl(PR_SET_PDEATHSIG, gc->pdeathsig);
		if (getppid() != parent) /* the parent is already gone: the signal would never come */
			_exit(IL_FAIL);
	}
	il_set_task_name(gc->name);
	tk_close(&hold[1]);
	tk_close(&ready[0]);
	tk_close(&life[0]); /* its write end stays open: only this task holds it */
	iso_write_byte(ready[1]);
	tk_close(&ready[1]);
	char ch;
	while (il_read_full(hold[0], &ch, 1) == 0)
		; /* until the experiment closes its end */
	_exit(0);
}

/* The sacrificial parent: forks the grandchild (PDEATHSIG is not inherited across fork:
 * the grandchild sets it itself) and exits 0 once it is ready. */
static __attribute__((noreturn)) void parent_main(const struct iso_gc *gc, struct iso_shared *sh, int hold[2],
						  int ready[2], int life[2])
{
	pid_t me = getpid(), g = fork();
	if (g == 0)
		grandchild_main(gc, me, hold, ready, life);
	if (g < 0)
		_exit(IL_NORES);
	sh->grandchild = g;
	tk_close(&ready[1]);
	tk_close(&life[1]);
	tk_close(&hold[1]);
	_exit(iso_read_byte(ready[0]) ? 0 : IL_FAIL); /* our exit fires its PDEATHSIG, if set */
}

/* After the parent: a daemon grandchild must die unreleased; then the hold pipe is closed
 * and the grandchild's death awaited (bounded; killed if it outlives the bound), and it
 * is reaped by us, the subreaper. */
static void grandchild_after(struct iso_gc *gc, int hold[2], int life[2])
{
	pid_t g = gc->g;
	/* its parent is reaped, so reparenting is done (exit_notify precedes the zombie) */
	struct il_proc_stat ps;
	gc->alive_after = il_proc_stat(g, &ps) == 0 && ps.state != 'Z' && ps.state != 'X';
	gc->ppid_after = gc->alive_after ? ps.ppid : 0;
	gc->died_unreleased = gc->pdeathsig && tk_wait_eof(life[0], DEATH_WAIT_MS);
	tk_close(&hold[1]); /* release it */
	bool died = gc->died_unreleased || tk_wait_eof(life[0], DEATH_WAIT_MS);
	if (!died)
		(void)kill(g, SIGKILL);
	gc->reaped = iso_wait(g, &gc->st) == g;
}

int iso_grandchild(struct iso_shared *sh, struct iso_gc *gc)
{
	int hold[2] = { -1, -1 }, ready[2] = { -1, -1 }, life[2] = { -1, -1 };
	sh->grandchild = 0;
	gc->g = 0;
	gc->reaped = gc->parent_reaped = gc->alive_after = gc->died_unreleased = false;
	gc->ppid_after = 0;
	int rc = IL_OK;
	if (pipe2(hold, O_CLOEXEC) < 0 || pipe2(ready, O_CLOEXEC) < 0 || pipe2(life, O_CLOEXEC) < 0) {
		rc = iso_sys_error("pipe");
		goto out;
	}
	pid_t a = iso_fork_sacrificial("ipclab-parent");
	if (a == 0)
		parent_main(gc, sh, hold, ready, life);
	if (a < 0) {
		rc = iso_sys_error("fork");
		goto out;
	}
	tk_close_pair(ready);
	tk_close(&life[1]);
	tk_close(&hold[0]);
	gc->parent_reaped = iso_wait(a, &gc->parent_st) == a;
	gc->g = sh->grandchild;
	if (gc->g > 0)
		grandchild_after(gc, hold, life);
	iso_done_sacrificial(a);
out:
	tk_close_pair(hold);
	tk_close_pair(ready);
	tk_close_pair(life);
	return rc;
}

json_t *iso_gc_status(const struct iso_gc *gc)
{
	return gc->reaped ? iso_status(gc->st) : json_string("not reaped");
}

/* A grandchild with PR_SET_PDEATHSIG(SIGKILL) dies when its parent exits. */
int iso_pdeathsig(struct iso *c)
{
	struct iso_gc gc = { .pdeathsig = SIGKILL, .name = "ipclab-pdeath" };
	int rc = iso_grandchild(c->sh, &gc);
	if (rc != IL_OK)
		return rc;
	iso_check(c, "pdeathsig_parent_exited_0", iso_status(W_EXITCODE(0, 0)), iso_status(gc.parent_st),
		  gc.parent_reaped && iso_exited_0(gc.parent_st));
	iso_check(c, "pdeathsig_child_killed_with_parent", iso_status(W_EXITCODE(0, SIGKILL)), iso_gc_status(&gc),
		  gc.died_unreleased && gc.reaped && iso_killed_by(gc.st, SIGKILL));
	iso_check(c, "pdeathsig_child_reaped_by_subreaper", json_true(), json_boolean(gc.reaped), gc.reaped);
	il_jset(c->outcomes, "pdeathsig", json_pack("{so so sb}", "parent", iso_status(gc.parent_st), "child",
						    iso_gc_status(&gc), "died_with_parent", gc.died_unreleased));
	return IL_OK;
}

int iso_daemon_thread(struct iso_shared *sh, struct iso_dt *dt)
{
	sh->dtid = 0;
	sh->d_started = sh->d_finished = 0;
	int dp[2];
	if (pipe2(dp, O_CLOEXEC) < 0)
		return iso_sys_error("pipe");
	pid_t pid = iso_fork_sacrificial("ipclab-daemon");
	if (pid == 0) {
		static struct daemon_arg da;
		da = (struct daemon_arg){ sh, dp[1] };
		pthread_attr_t at;
		pthread_t t;
		if (pthread_attr_init(&at) || pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED) ||
		    pthread_create(&t, &at, blocked_detached, &da))
			_exit(IL_NORES);
		/* like a program whose main() returns while a daemon thread still runs */
		exit(iso_read_byte(dp[0]) ? 0 : IL_FAIL);
	}
	tk_close_pair(dp);
	if (pid < 0)
		return iso_sys_error("fork");
	dt->reaped = iso_wait(pid, &dt->st) == pid;
	iso_done_sacrificial(pid);
	/* the process is reaped: every thread of it was released before (the leader last) */
	pid_t tid = sh->dtid;
	dt->started = sh->d_started == 1;
	dt->finished = sh->d_finished == 1;
	dt->gone = tid > 0 && syscall(SYS_tgkill, pid, tid, 0) < 0 && errno == ESRCH;
	return IL_OK;
}

/* A detached thread blocked for ever ends with its process's exit(). */
int iso_detached_thread(struct iso *c)
{
	struct iso_dt dt;
	int rc = iso_daemon_thread(c->sh, &dt);
	if (rc != IL_OK)
		return rc;
	iso_check(c, "detached_thread_process_exited_0", iso_status(W_EXITCODE(0, 0)), iso_status(dt.st),
		  dt.reaped && iso_exited_0(dt.st));
	iso_check(c, "detached_thread_was_running", json_true(), json_boolean(dt.started), dt.started);
	iso_check(c, "detached_thread_never_finished", json_false(), json_boolean(dt.finished), !dt.finished);
	iso_check(c, "detached_thread_gone_with_process", json_true(), json_boolean(dt.gone), dt.gone);
	il_jset(c->outcomes, "detached_thread", json_pack("{so sb sb}", "process", iso_status(dt.st), "thread_gone",
							  dt.gone, "thread_finished", dt.finished));
	return IL_OK;
}

/* A grandchild without PDEATHSIG survives its parent and is reparented to us. */
int iso_orphan(struct iso *c)
{
	struct iso_gc gc = { .pdeathsig = 0, .name = "ipclab-orphan" };
	int rc = iso_grandchild(c->sh, &gc);
	if (rc != IL_OK)
		return rc;
	iso_check(c, "orphan_parent_exited_0", iso_status(W_EXITCODE(0, 0)), iso_status(gc.parent_st),
		  gc.parent_reaped && iso_exited_0(gc.parent_st));
	iso_check(c, "orphan_alive_after_parent_exit", json_true(), json_boolean(gc.alive_after), gc.alive_after);
	iso_check(c, "orphan_reparented_to_subreaper", json_integer(getpid()), json_integer(gc.ppid_after),
		  gc.ppid_after == getpid());
	iso_check(c, "orphan_reaped_exit_0", iso_status(W_EXITCODE(0, 0)), iso_gc_status(&gc), gc.reaped && iso_exited_0(gc.st));
	il_jset(c->outcomes, "orphan", json_pack("{sb sI so}", "survived_parent", gc.alive_after, "reparented_to",
						 (json_int_t)gc.ppid_after, "reaped", iso_gc_status(&gc)));
	return IL_OK;
}
