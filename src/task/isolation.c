/* isolation.c - "ipclab task isolation": what a process boundary buys, as checks.
 *   process_crash    a worker process writes through a NULL pointer: it dies of SIGSEGV
 *                    (WTERMSIG), we survive and report it;
 *   thread_crash     a worker thread does the same inside a sacrificial child: the signal
 *                    kills the whole process (every thread), so the child dies of SIGSEGV
 *                    and its main thread never gets past pthread_join;
 *   pdeathsig        a grandchild with PR_SET_PDEATHSIG(SIGKILL) dies when its parent (an
 *                    intermediate child) exits;
 *   detached_thread  a detached thread blocked for ever ends when its process calls exit():
 *                    threads never outlive their process (Python's daemon threads);
 *   orphan           a grandchild without PDEATHSIG survives its parent's exit and is
 *                    reparented - to us: we set PR_SET_CHILD_SUBREAPER, because on a
 *                    machine whose PID 1 does not reap, an orphan would stay a zombie.
 * Each crashing task disables its core dump (RLIMIT_CORE 0, not dumpable) and resets
 * SIGSEGV to the default action. Every sacrificial child runs in a process group of its
 * own that the guard kills on timeout or Ctrl-C; deaths we wait for are bounded with a
 * "life" pipe only the watched task holds (end of file = it died), never with a sleep.
 * This experiment emits no ipclab_task events: a crashing task cannot report its exit. */
#include "task.h"
#include "../core/cleanup.h"
#include "../core/clock.h"
#include "../core/experiment.h"
#include "../core/log.h"
#include "../core/result.h"
#include "../core/spawn.h"
#include "../core/tp.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define DEATH_WAIT_MS 10000

/* Shared with the sacrificial children (MAP_SHARED). */
struct iso_shared {
	volatile int thread_started, main_after_join;
	volatile pid_t grandchild;
	volatile pid_t dtid;
	volatile int d_started, d_finished;
};

/* What the detached thread gets (in the sacrificial child's own memory). */
struct daemon_arg {
	struct iso_shared *sh;
	int ready_fd;
};

static int *volatile null_ptr; /* NULL, but the compiler cannot know it: a real store */

/* In a task about to crash: no core file, the default SIGSEGV action (also under ASan). */
static void prepare_crash(void)
{
	struct rlimit rl = { 0, 0 };
	(void)setrlimit(RLIMIT_CORE, &rl);
	(void)prctl(PR_SET_DUMPABLE, 0);
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	(void)sigaction(SIGSEGV, &sa, NULL);
}

/* The NULL store is the point: keep UBSan from reporting it first. */
__attribute__((no_sanitize_undefined)) static void crash(void)
{
	*null_ptr = 1;
	(void)raise(SIGSEGV); /* not reached: the store faults */
}

static pid_t wait_for(pid_t pid, int *st)
{
	pid_t r;
	*st = 0;
	while ((r = waitpid(pid, st, 0)) < 0 && errno == EINTR)
		;
	return r;
}

/* Waits (bounded) for end of file on fd: the only task holding the write end died. */
static bool wait_eof(int fd, int ms)
{
	uint64_t deadline = il_now_ns() + (uint64_t)ms * 1000000;
	for (;;) {
		uint64_t now = il_now_ns();
		if (now >= deadline)
			return false;
		struct pollfd p = { fd, POLLIN, 0 };
		int r = poll(&p, 1, (int)((deadline - now) / 1000000 + 1));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return false;
		char ch;
		ssize_t n = read(fd, &ch, 1);
		if (n == 0)
			return true;
		if (n < 0 && errno != EINTR && errno != EAGAIN)
			return false;
	}
}

/* Reads exactly one byte (a "ready"); false on end of file. */
static bool read_byte(int fd)
{
	char ch;
	ssize_t n;
	while ((n = read(fd, &ch, 1)) < 0 && errno == EINTR)
		;
	return n == 1;
}

static void write_byte(int fd)
{
	char ch = 'r';
	while (write(fd, &ch, 1) < 0 && errno == EINTR)
		;
}

static void close_fd(int *fd)
{
	if (*fd >= 0) {
		(void)close(*fd);
		*fd = -1;
	}
}

static void close_pair(int p[2])
{
	close_fd(&p[0]);
	close_fd(&p[1]);
}

/* Forks a sacrificial child in a new process group that the guard kills on Ctrl-C or
 * timeout; the child dies with us (PDEATHSIG). Returns the pid (0 in the child). */
static pid_t fork_sacrificial(const char *name)
{
	pid_t parent = getpid();
	(void)fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		il_guard_child();
		(void)setpgid(0, 0);
		if (getppid() != parent)
			_exit(IL_FAIL);
		il_set_task_name(name);
		return 0;
	}
	if (pid > 0) {
		(void)setpgid(pid, pid); /* also here: whichever runs first, the group exists */
		il_guard_set_pgid(pid);
		il_peer_track(pid);
	}
	return pid;
}

/* The scenario is over: its group is gone, the guard forgets it. */
static void done_sacrificial(pid_t pid)
{
	il_peer_untrack(pid);
	il_guard_set_pgid(0);
}

static json_t *jstatus(int st)
{
	char buf[64];
	return json_string(tk_wait_str(st, buf, sizeof(buf)));
}

static bool killed_by(int st, int sig)
{
	return WIFSIGNALED(st) && WTERMSIG(st) == sig;
}

static bool exited_0(int st)
{
	return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

static void *crashing_thread(void *arg)
{
	struct iso_shared *s = arg;
	s->thread_started = 1;
	crash();
	return NULL;
}

static void *blocked_detached(void *arg)
{
	struct daemon_arg *da = arg;
	struct iso_shared *s = da->sh;
	s->dtid = gettid();
	s->d_started = 1;
	write_byte(da->ready_fd);
	for (;;)
		(void)pause(); /* blocked for ever: only the end of its process ends it */
	return NULL;
}

/* Counts the children of every thread of ours (/proc/self/task/<tid>/children). */
static int count_children(void)
{
	DIR *d = opendir("/proc/self/task");
	if (!d)
		return -1;
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char path[300], buf[4096];
		(void)snprintf(path, sizeof(path), "/proc/self/task/%s/children", e->d_name);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		ssize_t r = read(fd, buf, sizeof(buf) - 1);
		(void)close(fd);
		buf[r > 0 ? r : 0] = 0;
		for (char *p = buf; *p;) {
			while (*p == ' ' || *p == '\n')
				p++;
			if (*p) {
				n++;
				while (*p && *p != ' ' && *p != '\n')
					p++;
			}
		}
	}
	(void)closedir(d);
	return n;
}

/* State letter and parent of pid from /proc/<pid>/stat; 0 if gone. */
static char proc_state(pid_t pid, pid_t *ppid)
{
	char path[64], buf[512];
	(void)snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	(void)close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	char *rp = strrchr(buf, ')'), st = 0;
	int pp = 0;
	if (!rp || sscanf(rp + 1, " %c %d", &st, &pp) != 2)
		return 0;
	*ppid = pp;
	return st;
}

struct iso {
	json_t *checks, *outcomes;
	struct iso_shared *sh;
	int failed;
	char why[256];
};

static void check(struct iso *c, const char *name, json_t *expected, json_t *actual, bool pass)
{
	if (!tk_check(c->checks, name, expected, actual, pass))
		c->failed++;
}

/* A worker process crashes: it dies of SIGSEGV, we survive. */
static int sc_process_crash(struct iso *c)
{
	pid_t pid = fork_sacrificial("ipclab-crash");
	if (pid == 0) {
		prepare_crash();
		crash();
		_exit(0);
	}
	if (pid < 0) {
		(void)snprintf(c->why, sizeof(c->why), "fork: %s", strerror(errno));
		return il_exit_for_errno(errno);
	}
	int st;
	pid_t r = wait_for(pid, &st);
	done_sacrificial(pid);
	bool seg = r == pid && killed_by(st, SIGSEGV);
	check(c, "process_crash_child_killed_by_sigsegv", json_string("killed by SIGSEGV"), jstatus(st), seg);
	check(c, "process_crash_parent_survives", json_true(), json_true(), true);
	il_jset(c->outcomes, "process_crash", json_pack("{so sb ss}", "worker", jstatus(st), "parent_survived", 1,
							"signal", seg ? "SIGSEGV" : "?"));
	return IL_OK;
}

/* A worker thread crashes inside a sacrificial child: the whole child dies. */
static int sc_thread_crash(struct iso *c)
{
	struct iso_shared *sh = c->sh;
	sh->thread_started = sh->main_after_join = 0;
	pid_t pid = fork_sacrificial("ipclab-thrcrash");
	if (pid == 0) {
		prepare_crash();
		pthread_t t;
		if (pthread_create(&t, NULL, crashing_thread, sh) != 0)
			_exit(IL_NORES);
		(void)pthread_join(t, NULL);
		sh->main_after_join = 1; /* reached only if the process survived its thread */
		_exit(0);
	}
	if (pid < 0) {
		(void)snprintf(c->why, sizeof(c->why), "fork: %s", strerror(errno));
		return il_exit_for_errno(errno);
	}
	int st;
	pid_t r = wait_for(pid, &st);
	done_sacrificial(pid);
	bool seg = r == pid && killed_by(st, SIGSEGV);
	check(c, "thread_crash_process_killed_by_sigsegv", json_string("killed by SIGSEGV"), jstatus(st), seg);
	check(c, "thread_crash_thread_ran", json_true(), json_boolean(sh->thread_started), sh->thread_started == 1);
	check(c, "thread_crash_main_thread_continued", json_false(), json_boolean(sh->main_after_join),
	      sh->main_after_join == 0);
	il_jset(c->outcomes, "thread_crash", json_pack("{so sb sb}", "process", jstatus(st), "thread_started",
						       sh->thread_started == 1, "main_thread_continued", sh->main_after_join == 1));
	return IL_OK;
}

/* A grandchild with PR_SET_PDEATHSIG(SIGKILL) dies when its parent exits. */
static int sc_pdeathsig(struct iso *c)
{
	struct iso_shared *sh = c->sh;
	int life[2] = { -1, -1 }, ready[2] = { -1, -1 };
	sh->grandchild = 0;
	if (pipe2(life, O_CLOEXEC) < 0 || pipe2(ready, O_CLOEXEC) < 0) {
		(void)snprintf(c->why, sizeof(c->why), "pipe: %s", strerror(errno));
		close_pair(life);
		return il_exit_for_errno(errno);
	}
	pid_t a = fork_sacrificial("ipclab-parent");
	if (a == 0) {
		pid_t me = getpid();
		pid_t g = fork();
		if (g == 0) {
			(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
			if (getppid() != me) /* the parent is already gone: the signal would never come */
				_exit(IL_FAIL);
			il_set_task_name("ipclab-pdeath");
			close_fd(&life[0]);
			close_fd(&ready[0]);
			write_byte(ready[1]);
			for (;;)
				(void)pause();
		}
		if (g < 0)
			_exit(IL_NORES);
		sh->grandchild = g;
		close_fd(&life[1]); /* from now on only the grandchild holds it */
		close_fd(&ready[1]);
		_exit(read_byte(ready[0]) ? 0 : IL_FAIL); /* our exit fires its PDEATHSIG */
	}
	int rc = IL_OK;
	if (a < 0) {
		(void)snprintf(c->why, sizeof(c->why), "fork: %s", strerror(errno));
		rc = il_exit_for_errno(errno);
		goto out;
	}
	close_fd(&life[1]);
	close_fd(&ready[1]);
	int ast, gst = 0;
	pid_t r = wait_for(a, &ast);
	pid_t g = sh->grandchild;
	bool died = g > 0 && wait_eof(life[0], DEATH_WAIT_MS);
	pid_t rg = -1;
	if (g > 0) {
		if (!died)
			(void)kill(g, SIGKILL);
		rg = wait_for(g, &gst); /* ours: PR_SET_CHILD_SUBREAPER */
	}
	done_sacrificial(a);
	check(c, "pdeathsig_parent_exited_0", json_string("exited 0"), jstatus(ast), r == a && exited_0(ast));
	check(c, "pdeathsig_child_killed_with_parent", json_string("killed by SIGKILL"),
	      rg == g && g > 0 ? jstatus(gst) : json_string("not reaped"), died && rg == g && killed_by(gst, SIGKILL));
	check(c, "pdeathsig_child_reaped_by_subreaper", json_true(), json_boolean(g > 0 && rg == g), g > 0 && rg == g);
	il_jset(c->outcomes, "pdeathsig", json_pack("{so so sb}", "parent", jstatus(ast), "child",
						    rg == g && g > 0 ? jstatus(gst) : json_string("not reaped"),
						    "died_with_parent", died));
out:
	close_pair(life);
	close_pair(ready);
	return rc;
}

/* A detached thread blocked for ever ends with its process's exit(). */
static int sc_detached_thread(struct iso *c)
{
	struct iso_shared *sh = c->sh;
	sh->dtid = 0;
	sh->d_started = sh->d_finished = 0;
	int dp[2];
	if (pipe2(dp, O_CLOEXEC) < 0) {
		(void)snprintf(c->why, sizeof(c->why), "pipe: %s", strerror(errno));
		return il_exit_for_errno(errno);
	}
	pid_t pid = fork_sacrificial("ipclab-daemon");
	if (pid == 0) {
		static struct daemon_arg da;
		da = (struct daemon_arg){ sh, dp[1] };
		pthread_attr_t at;
		pthread_t t;
		if (pthread_attr_init(&at) || pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED) ||
		    pthread_create(&t, &at, blocked_detached, &da))
			_exit(IL_NORES);
		/* like a program whose main() returns while a daemon thread still runs */
		exit(read_byte(dp[0]) ? 0 : IL_FAIL);
	}
	int rc = IL_OK;
	if (pid < 0) {
		(void)snprintf(c->why, sizeof(c->why), "fork: %s", strerror(errno));
		rc = il_exit_for_errno(errno);
		close_pair(dp);
		return rc;
	}
	close_pair(dp);
	int st;
	pid_t r = wait_for(pid, &st);
	done_sacrificial(pid);
	pid_t tid = sh->dtid;
	bool gone = tid > 0 && syscall(SYS_tgkill, pid, tid, 0) < 0 && errno == ESRCH;
	check(c, "detached_thread_process_exited_0", json_string("exited 0"), jstatus(st), r == pid && exited_0(st));
	check(c, "detached_thread_was_running", json_true(), json_boolean(sh->d_started), sh->d_started == 1);
	check(c, "detached_thread_never_finished", json_false(), json_boolean(sh->d_finished), sh->d_finished == 0);
	check(c, "detached_thread_gone_with_process", json_true(), json_boolean(gone), gone);
	il_jset(c->outcomes, "detached_thread", json_pack("{so sb sb}", "process", jstatus(st), "thread_gone", gone,
							  "thread_finished", sh->d_finished == 1));
	return IL_OK;
}

/* A grandchild without PDEATHSIG survives its parent and is reparented to us. */
static int sc_orphan(struct iso *c)
{
	struct iso_shared *sh = c->sh;
	int hold[2] = { -1, -1 }, ready[2] = { -1, -1 }, life[2] = { -1, -1 };
	sh->grandchild = 0;
	if (pipe2(hold, O_CLOEXEC) < 0 || pipe2(ready, O_CLOEXEC) < 0 || pipe2(life, O_CLOEXEC) < 0) {
		(void)snprintf(c->why, sizeof(c->why), "pipe: %s", strerror(errno));
		close_pair(hold);
		close_pair(ready);
		return il_exit_for_errno(errno);
	}
	pid_t a = fork_sacrificial("ipclab-parent");
	if (a == 0) {
		pid_t g = fork(); /* the PDEATHSIG setting is not inherited across fork */
		if (g == 0) {
			il_set_task_name("ipclab-orphan");
			close_fd(&hold[1]);
			close_fd(&ready[0]);
			close_fd(&life[0]);
			write_byte(ready[1]);
			close_fd(&ready[1]);
			char ch;
			ssize_t n;
			while ((n = read(hold[0], &ch, 1)) != 0 && (n > 0 || errno == EINTR))
				; /* until the experiment closes its end */
			_exit(0);
		}
		if (g < 0)
			_exit(IL_NORES);
		sh->grandchild = g;
		close_fd(&ready[1]);
		close_fd(&life[1]);
		close_fd(&hold[1]);
		_exit(read_byte(ready[0]) ? 0 : IL_FAIL);
	}
	int rc = IL_OK;
	if (a < 0) {
		(void)snprintf(c->why, sizeof(c->why), "fork: %s", strerror(errno));
		rc = il_exit_for_errno(errno);
		goto out;
	}
	close_pair(ready);
	close_fd(&life[1]);
	close_fd(&hold[0]);
	int ast, gst = 0;
	pid_t r = wait_for(a, &ast);
	pid_t g = sh->grandchild, ppid = 0;
	/* its parent is reaped, so reparenting is done (exit_notify precedes the zombie) */
	char state = g > 0 ? proc_state(g, &ppid) : 0;
	bool alive = state && state != 'Z' && state != 'X';
	close_fd(&hold[1]); /* release it */
	bool died = g > 0 && wait_eof(life[0], DEATH_WAIT_MS);
	pid_t rg = -1;
	if (g > 0) {
		if (!died)
			(void)kill(g, SIGKILL);
		rg = wait_for(g, &gst);
	}
	done_sacrificial(a);
	check(c, "orphan_parent_exited_0", json_string("exited 0"), jstatus(ast), r == a && exited_0(ast));
	check(c, "orphan_alive_after_parent_exit", json_true(), json_boolean(alive), alive);
	check(c, "orphan_reparented_to_subreaper", json_integer(getpid()), json_integer(ppid), ppid == getpid());
	check(c, "orphan_reaped_exit_0", json_string("exited 0"), rg == g && g > 0 ? jstatus(gst) : json_string("not reaped"),
	      rg == g && g > 0 && exited_0(gst));
	il_jset(c->outcomes, "orphan", json_pack("{sb sI so}", "survived_parent", alive, "reparented_to", (json_int_t)ppid,
						 "reaped", rg == g && g > 0 ? jstatus(gst) : json_string("not reaped")));
out:
	close_pair(hold);
	close_pair(ready);
	close_pair(life);
	return rc;
}

int tk_isolation_run(json_t *checks, json_t *outcomes)
{
	struct iso c = { .checks = checks, .outcomes = outcomes };
	int was = 0;
	(void)prctl(PR_GET_CHILD_SUBREAPER, &was);
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) {
		il_errno("prctl(PR_SET_CHILD_SUBREAPER)");
		return -il_exit_for_errno(errno);
	}
	c.sh = il_shared_alloc(sizeof(*c.sh));
	if (!c.sh) {
		il_err("out of memory");
		(void)prctl(PR_SET_CHILD_SUBREAPER, was);
		return -IL_NORES;
	}
	int (*const sc[])(struct iso *) = { sc_process_crash, sc_thread_crash, sc_pdeathsig, sc_detached_thread, sc_orphan };
	int rc = IL_OK;
	for (size_t i = 0; i < sizeof(sc) / sizeof(sc[0]) && rc == IL_OK; i++)
		rc = sc[i](&c);
	if (rc != IL_OK)
		il_err("%s", c.why);
	int left = count_children();
	check(&c, "no_child_left", json_integer(0), json_integer(left), left == 0);
	(void)prctl(PR_SET_CHILD_SUBREAPER, was);
	il_shared_free(c.sh, sizeof(*c.sh));
	return rc != IL_OK ? -rc : c.failed;
}

static int isolation_run(int argc, char **argv)
{
	struct il_ctx x;
	il_ctx_begin(&x, argv[0], argc, argv);
	int prc = il_ctx_parse(&x, "Crash and lifetime isolation, as checks: a crashing worker process dies alone\n"
			       "(SIGSEGV) while a crashing thread kills its whole process; a PR_SET_PDEATHSIG child\n"
			       "dies with its parent; a detached thread dies with its process; an orphan survives\n"
			       "its parent and is reaped by us (PR_SET_CHILD_SUBREAPER). Exit 1 if a check fails.",
			       0, NULL);
	if (prc != IL_RUN)
		return prc;
	il_guard_install((unsigned)x.c.timeout_s);
	json_t *checks = json_array(), *outcomes = json_object();
	int r = tk_isolation_run(checks, outcomes);
	il_guard_disarm();
	int rc = r < 0 ? -r : r > 0 ? IL_FAIL : IL_OK;
	size_t n = json_array_size(checks), passed = 0;
	for (size_t i = 0; i < n; i++)
		passed += json_is_true(json_object_get(json_array_get(checks, i), "pass"));
	il_jset(x.results, "subreaper", json_true());
	il_jset(x.results, "checks_passed", json_integer((json_int_t)passed));
	il_jset(x.results, "checks_failed", json_integer((json_int_t)(n - passed)));
	if (!x.c.json || x.c.json_file) {
		printf("task isolation: %zu of %zu checks passed\n", passed, n);
		for (size_t i = 0; i < n; i++) {
			json_t *ck = json_array_get(checks, i);
			char *e = json_dumps(json_object_get(ck, "expected"), JSON_ENCODE_ANY | JSON_COMPACT);
			char *a = json_dumps(json_object_get(ck, "actual"), JSON_ENCODE_ANY | JSON_COMPACT);
			printf("  %-4s %-42s expected %-20s actual %s\n", json_is_true(json_object_get(ck, "pass")) ? "ok" : "FAIL",
			       json_string_value(json_object_get(ck, "name")), e ? e : "?", a ? a : "?");
			free(e);
			free(a);
		}
	}
	il_jset(x.results, "checks", checks);
	il_jset(x.results, "outcomes", outcomes);
	return il_ctx_finish(&x, rc);
}

const struct il_experiment il_exp_task_isolation = {
	.group = "task",
	.name = "isolation",
	.summary = "crash and lifetime isolation: process vs thread, PDEATHSIG, daemon threads, orphans",
	.run = isolation_run,
};
