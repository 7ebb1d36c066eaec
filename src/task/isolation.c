/* isolation.c - "ipclab task isolation": what a process boundary buys, as checks.
 *   process_crash    a worker process writes through a NULL pointer: it dies of SIGSEGV
 *                    (WTERMSIG), we survive and report it;
 *   thread_crash     a worker thread does the same inside a sacrificial child: the signal
 *                    kills the whole process (every thread), so the child dies of SIGSEGV
 *                    and its main thread never gets past pthread_join;
 *   pdeathsig, detached_thread, orphan: the lifetime scenarios (isolation_life.c); the
 *                    orphan is reparented to us: we set PR_SET_CHILD_SUBREAPER, because
 *                    on a machine whose PID 1 does not reap, an orphan would stay a zombie.
 * Each crashing task disables its core dump (RLIMIT_CORE 0, not dumpable) and resets
 * SIGSEGV to the default action. Every sacrificial child runs in a process group of its
 * own that the guard kills on timeout or Ctrl-C; deaths we wait for are bounded with a
 * "life" pipe only the watched task holds (end of file = it died), never with a sleep.
 * This experiment emits no ipclab_task events: a crashing task cannot report its exit. */
#include "isolation.h"
#include "../core/cleanup.h"
#include "../core/experiment.h"
#include "../core/log.h"
#include "../core/result.h"
#include "../core/spawn.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

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

pid_t iso_wait(pid_t pid, int *st)
{
	*st = 0;
	return il_waitpid(pid, st, 0);
}

bool iso_read_byte(int fd)
{
	char ch;
	return il_read_full(fd, &ch, 1) == 0;
}

void iso_write_byte(int fd)
{
	char ch = 'r';
	(void)il_write_full(fd, &ch, 1);
}

int iso_sys_error(const char *call)
{
	int rc = il_exit_for_errno(errno);
	il_errno("%s", call);
	return rc;
}

void iso_check(struct iso *c, const char *name, json_t *expected, json_t *actual, bool pass)
{
	if (!tk_check(c->checks, name, expected, actual, pass))
		c->failed++;
}

/* Forks a sacrificial child in a new process group that the guard kills on Ctrl-C or
 * timeout; the child dies with us (PDEATHSIG). Returns the pid (0 in the child). */
pid_t iso_fork_sacrificial(const char *name)
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
void iso_done_sacrificial(pid_t pid)
{
	il_peer_untrack(pid);
	il_guard_set_pgid(0);
}

json_t *iso_status(int st)
{
	char buf[64];
	return json_string(il_wait_status_text(st, buf, sizeof(buf)));
}

bool iso_killed_by(int st, int sig)
{
	return WIFSIGNALED(st) && WTERMSIG(st) == sig;
}

bool iso_exited_0(int st)
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

/* Reaps a crash scenario's child and checks (as `name`) that SIGSEGV killed it; its wait
 * status in *st. True if it did. */
static bool check_crashed(struct iso *c, const char *name, pid_t pid, int *st)
{
	pid_t r = iso_wait(pid, st);
	iso_done_sacrificial(pid);
	bool seg = r == pid && iso_killed_by(*st, SIGSEGV);
	iso_check(c, name, iso_status(W_EXITCODE(0, SIGSEGV)), iso_status(*st), seg);
	return seg;
}

/* A worker process crashes: it dies of SIGSEGV, we survive. */
static int iso_process_crash(struct iso *c)
{
	pid_t pid = iso_fork_sacrificial("ipclab-crash");
	if (pid == 0) {
		prepare_crash();
		crash();
		_exit(0);
	}
	if (pid < 0) {
		return iso_sys_error("fork");
	}
	int st;
	bool seg = check_crashed(c, "process_crash_child_killed_by_sigsegv", pid, &st);
	iso_check(c, "process_crash_parent_survives", json_true(), json_true(), true);
	il_jset(c->outcomes, "process_crash", json_pack("{so sb ss}", "worker", iso_status(st), "parent_survived", 1,
							"signal", seg ? "SIGSEGV" : "?"));
	return IL_OK;
}

/* A worker thread crashes inside a sacrificial child: the whole child dies. */
static int iso_thread_crash(struct iso *c)
{
	struct iso_shared *sh = c->sh;
	sh->thread_started = sh->main_after_join = 0;
	pid_t pid = iso_fork_sacrificial("ipclab-thrcrash");
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
		return iso_sys_error("fork");
	}
	int st;
	(void)check_crashed(c, "thread_crash_process_killed_by_sigsegv", pid, &st);
	iso_check(c, "thread_crash_thread_ran", json_true(), json_boolean(sh->thread_started), sh->thread_started == 1);
	iso_check(c, "thread_crash_main_thread_continued", json_false(), json_boolean(sh->main_after_join),
	      sh->main_after_join == 0);
	il_jset(c->outcomes, "thread_crash", json_pack("{so sb sb}", "process", iso_status(st), "thread_started",
						       sh->thread_started == 1, "main_thread_continued", sh->main_after_join == 1));
	return IL_OK;
}


/* Every scenario, as the child subreaper (restored after), then no child may be left. */
static int isolation_measure(struct il_ctx *x, void *cfg)
{
	(void)cfg;
	struct iso c = { .checks = json_array(), .outcomes = json_object() };
	il_jset(x->results, "checks", c.checks);
	il_jset(x->results, "outcomes", c.outcomes);
	int was = 0;
	(void)prctl(PR_GET_CHILD_SUBREAPER, &was);
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		return iso_sys_error("prctl(PR_SET_CHILD_SUBREAPER)");
	il_jset(x->results, "subreaper", json_true());
	c.sh = il_shared_alloc(sizeof(*c.sh));
	int rc = c.sh ? IL_OK : IL_NORES;
	if (!c.sh)
		il_err("out of memory");
	int (*const sc[])(struct iso *) = { iso_process_crash, iso_thread_crash, iso_pdeathsig, iso_detached_thread,
					    iso_orphan };
	for (size_t i = 0; i < sizeof(sc) / sizeof(sc[0]) && rc == IL_OK; i++)
		rc = sc[i](&c);
	int left = tk_count_children();
	iso_check(&c, "no_child_left", json_integer(0), json_integer(left), left == 0);
	(void)prctl(PR_SET_CHILD_SUBREAPER, was);
	il_shared_free(c.sh, sizeof(*c.sh));
	size_t n = json_array_size(c.checks);
	il_jset(x->results, "checks_passed", json_integer((json_int_t)(n - (size_t)c.failed)));
	il_jset(x->results, "checks_failed", json_integer(c.failed));
	return rc != IL_OK ? rc : c.failed ? IL_FAIL : IL_OK;
}

static void isolation_print(const struct il_ctx *x, const void *cfg)
{
	(void)cfg;
	const json_t *checks = json_object_get(x->results, "checks"), *ck;
	printf("task isolation: %" JSON_INTEGER_FORMAT " of %zu checks passed\n", il_jint(x->results, "checks_passed"),
	       json_array_size(checks));
	size_t i;
	json_array_foreach(checks, i, ck) {
		char *e = json_dumps(json_object_get(ck, "expected"), JSON_ENCODE_ANY | JSON_COMPACT);
		char *a = json_dumps(json_object_get(ck, "actual"), JSON_ENCODE_ANY | JSON_COMPACT);
		printf("  %-4s %-42s expected %-20s actual %s\n", il_jtrue(ck, "pass") ? "ok" : "FAIL",
		       il_jstr(ck, "name", "?"), e ? e : "?", a ? a : "?");
		free(e);
		free(a);
	}
}

const struct il_experiment il_exp_task_isolation = {
	.group = "task",
	.name = "isolation",
	.summary = "crash and lifetime isolation: process vs thread, PDEATHSIG, daemon threads, orphans",
	.help = "Crash and lifetime isolation, as checks: a crashing worker process dies alone\n"
		"(SIGSEGV) while a crashing thread kills its whole process; a PR_SET_PDEATHSIG child\n"
		"dies with its parent; a detached thread dies with its process; an orphan survives\n"
		"its parent and is reaped by us (PR_SET_CHILD_SUBREAPER). Exit 1 if a check fails.",
	.measure = isolation_measure,
	.print = isolation_print,
	.flags = IL_EXP_GUARD | IL_EXP_PRINT_ON_FAIL,
};
