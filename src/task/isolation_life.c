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

/* A grandchild with PR_SET_PDEATHSIG(SIGKILL) dies when its parent exits. */
int iso_pdeathsig(struct iso *c)
{
	struct iso_shared *sh = c->sh;
	int life[2] = { -1, -1 }, ready[2] = { -1, -1 };
	sh->grandchild = 0;
	if (pipe2(life, O_CLOEXEC) < 0 || pipe2(ready, O_CLOEXEC) < 0) {
		int rc = iso_sys_error("pipe");
		iso_close_pair(life);
		return rc;
	}
	pid_t a = iso_fork_sacrificial("ipclab-parent");
	if (a == 0) {
		pid_t me = getpid();
		pid_t g = fork();
		if (g == 0) {
			(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
			if (getppid() != me) /* the parent is already gone: the signal would never come */
				_exit(IL_FAIL);
			il_set_task_name("ipclab-pdeath");
			iso_close_fd(&life[0]);
			iso_close_fd(&ready[0]);
			iso_write_byte(ready[1]);
			for (;;)
				(void)pause();
		}
		if (g < 0)
			_exit(IL_NORES);
		sh->grandchild = g;
		iso_close_fd(&life[1]); /* from now on only the grandchild holds it */
		iso_close_fd(&ready[1]);
		_exit(iso_read_byte(ready[0]) ? 0 : IL_FAIL); /* our exit fires its PDEATHSIG */
	}
	int rc = IL_OK;
	if (a < 0) {
		rc = iso_sys_error("fork");
		goto out;
	}
	iso_close_fd(&life[1]);
	iso_close_fd(&ready[1]);
	int ast, gst = 0;
	pid_t r = iso_wait(a, &ast);
	pid_t g = sh->grandchild;
	bool died = g > 0 && tk_wait_eof(life[0], DEATH_WAIT_MS);
	pid_t rg = -1;
	if (g > 0) {
		if (!died)
			(void)kill(g, SIGKILL);
		rg = iso_wait(g, &gst); /* ours: PR_SET_CHILD_SUBREAPER */
	}
	iso_done_sacrificial(a);
	iso_check(c, "pdeathsig_parent_exited_0", json_string("exited 0"), iso_status(ast), r == a && iso_exited_0(ast));
	iso_check(c, "pdeathsig_child_killed_with_parent", json_string("killed by SIGKILL"),
	      rg == g && g > 0 ? iso_status(gst) : json_string("not reaped"), died && rg == g && iso_killed_by(gst, SIGKILL));
	iso_check(c, "pdeathsig_child_reaped_by_subreaper", json_true(), json_boolean(g > 0 && rg == g), g > 0 && rg == g);
	il_jset(c->outcomes, "pdeathsig", json_pack("{so so sb}", "parent", iso_status(ast), "child",
						    rg == g && g > 0 ? iso_status(gst) : json_string("not reaped"),
						    "died_with_parent", died));
out:
	iso_close_pair(life);
	iso_close_pair(ready);
	return rc;
}

/* A detached thread blocked for ever ends with its process's exit(). */
int iso_detached_thread(struct iso *c)
{
	struct iso_shared *sh = c->sh;
	sh->dtid = 0;
	sh->d_started = sh->d_finished = 0;
	int dp[2];
	if (pipe2(dp, O_CLOEXEC) < 0) {
		return iso_sys_error("pipe");
	}
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
	int rc = IL_OK;
	if (pid < 0) {
		rc = iso_sys_error("fork");
		iso_close_pair(dp);
		return rc;
	}
	iso_close_pair(dp);
	int st;
	pid_t r = iso_wait(pid, &st);
	iso_done_sacrificial(pid);
	pid_t tid = sh->dtid;
	bool gone = tid > 0 && syscall(SYS_tgkill, pid, tid, 0) < 0 && errno == ESRCH;
	iso_check(c, "detached_thread_process_exited_0", json_string("exited 0"), iso_status(st), r == pid && iso_exited_0(st));
	iso_check(c, "detached_thread_was_running", json_true(), json_boolean(sh->d_started), sh->d_started == 1);
	iso_check(c, "detached_thread_never_finished", json_false(), json_boolean(sh->d_finished), sh->d_finished == 0);
	iso_check(c, "detached_thread_gone_with_process", json_true(), json_boolean(gone), gone);
	il_jset(c->outcomes, "detached_thread", json_pack("{so sb sb}", "process", iso_status(st), "thread_gone", gone,
							  "thread_finished", sh->d_finished == 1));
	return IL_OK;
}

/* A grandchild without PDEATHSIG survives its parent and is reparented to us. */
int iso_orphan(struct iso *c)
{
	struct iso_shared *sh = c->sh;
	int hold[2] = { -1, -1 }, ready[2] = { -1, -1 }, life[2] = { -1, -1 };
	sh->grandchild = 0;
	if (pipe2(hold, O_CLOEXEC) < 0 || pipe2(ready, O_CLOEXEC) < 0 || pipe2(life, O_CLOEXEC) < 0) {
		int rc = iso_sys_error("pipe");
		iso_close_pair(hold);
		iso_close_pair(ready);
		return rc;
	}
	pid_t a = iso_fork_sacrificial("ipclab-parent");
	if (a == 0) {
		pid_t g = fork(); /* the PDEATHSIG setting is not inherited across fork */
		if (g == 0) {
			il_set_task_name("ipclab-orphan");
			iso_close_fd(&hold[1]);
			iso_close_fd(&ready[0]);
			iso_close_fd(&life[0]);
			iso_write_byte(ready[1]);
			iso_close_fd(&ready[1]);
			char ch;
			ssize_t n;
			while ((n = read(hold[0], &ch, 1)) != 0 && (n > 0 || errno == EINTR))
				; /* until the experiment closes its end */
			_exit(0);
		}
		if (g < 0)
			_exit(IL_NORES);
		sh->grandchild = g;
		iso_close_fd(&ready[1]);
		iso_close_fd(&life[1]);
		iso_close_fd(&hold[1]);
		_exit(iso_read_byte(ready[0]) ? 0 : IL_FAIL);
	}
	int rc = IL_OK;
	if (a < 0) {
		rc = iso_sys_error("fork");
		goto out;
	}
	iso_close_pair(ready);
	iso_close_fd(&life[1]);
	iso_close_fd(&hold[0]);
	int ast, gst = 0;
	pid_t r = iso_wait(a, &ast);
	pid_t g = sh->grandchild, ppid = 0;
	/* its parent is reaped, so reparenting is done (exit_notify precedes the zombie) */
	char state = g > 0 ? tk_proc_state(g, &ppid) : 0;
	bool alive = state && state != 'Z' && state != 'X';
	iso_close_fd(&hold[1]); /* release it */
	bool died = g > 0 && tk_wait_eof(life[0], DEATH_WAIT_MS);
	pid_t rg = -1;
	if (g > 0) {
		if (!died)
			(void)kill(g, SIGKILL);
		rg = iso_wait(g, &gst);
	}
	iso_done_sacrificial(a);
	iso_check(c, "orphan_parent_exited_0", json_string("exited 0"), iso_status(ast), r == a && iso_exited_0(ast));
	iso_check(c, "orphan_alive_after_parent_exit", json_true(), json_boolean(alive), alive);
	iso_check(c, "orphan_reparented_to_subreaper", json_integer(getpid()), json_integer(ppid), ppid == getpid());
	iso_check(c, "orphan_reaped_exit_0", json_string("exited 0"), rg == g && g > 0 ? iso_status(gst) : json_string("not reaped"),
	      rg == g && g > 0 && iso_exited_0(gst));
	il_jset(c->outcomes, "orphan", json_pack("{sb sI so}", "survived_parent", alive, "reparented_to", (json_int_t)ppid,
						 "reaped", rg == g && g > 0 ? iso_status(gst) : json_string("not reaped")));
out:
	iso_close_pair(hold);
	iso_close_pair(ready);
	iso_close_pair(life);
	return rc;
}

