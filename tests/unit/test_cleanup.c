/* test_cleanup.c - unit tests for src/core/cleanup.c: the registry of named objects,
 * ownership across fork, unique names, peer tracking and the signal/watchdog guard. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/cleanup.h"
#include "core/log.h"

/* True if the POSIX shm object exists (checked by opening it, and in /dev/shm). */
static int shm_exists(const char *name)
{
	int fd = shm_open(name, O_RDONLY, 0);
	if (fd >= 0) {
		(void)close(fd);
		return 1;
	}
	assert_int_equal(errno, ENOENT);
	char path[256];
	(void)snprintf(path, sizeof(path), "/dev/shm%s", name);
	return access(path, F_OK) == 0;
}

/* True if the POSIX message queue exists (by mq_open, and in /dev/mqueue if mounted). */
static int mq_exists(const char *name)
{
	mqd_t q = mq_open(name, O_RDONLY);
	if (q != (mqd_t)-1) {
		(void)mq_close(q);
		return 1;
	}
	assert_int_equal(errno, ENOENT);
	char path[256];
	(void)snprintf(path, sizeof(path), "/dev/mqueue%s", name);
	return access(path, F_OK) == 0;
}

static void make_shm(const char *name)
{
	int fd = shm_open(name, O_CREAT | O_EXCL | O_RDWR, 0600);
	if (fd < 0)
		fail_msg("shm_open(%s): %s", name, strerror(errno));
	assert_int_equal(ftruncate(fd, 4096), 0);
	(void)close(fd);
}

static void make_mq(const char *name)
{
	struct mq_attr a = { .mq_maxmsg = 1, .mq_msgsize = 16 };
	mqd_t q = mq_open(name, O_CREAT | O_EXCL | O_RDWR, 0600, &a);
	if (q == (mqd_t)-1)
		fail_msg("mq_open(%s): %s", name, strerror(errno));
	(void)mq_close(q);
}

/* cleanup_run_removes_all: a shm object, a message queue, a file inside a directory and
 * the directory itself, all registered, are all gone after il_cleanup_run (files before
 * directories, whatever the registration order). */
static void cleanup_run_removes_all(void **state)
{
	(void)state;
	char shm[96], mq[96], dir[64], file[128];
	il_object_name(shm, sizeof(shm), "utshm");
	il_object_name(mq, sizeof(mq), "utmq");
	(void)snprintf(dir, sizeof(dir), "/tmp/ipclab-test-cleanup.XXXXXX");
	assert_non_null(mkdtemp(dir));
	(void)snprintf(file, sizeof(file), "%s/fifo", dir);
	make_shm(shm);
	make_mq(mq);
	assert_int_equal(mkfifo(file, 0600), 0);

	/* the directory first: il_cleanup_run must still remove the file before it */
	assert_true(il_cleanup_add(IL_OBJ_DIR, dir, -1) >= 0);
	assert_true(il_cleanup_add(IL_OBJ_SHM, shm, -1) >= 0);
	assert_true(il_cleanup_add(IL_OBJ_MQ, mq, -1) >= 0);
	assert_true(il_cleanup_add(IL_OBJ_FILE, file, -1) >= 0);
	assert_true(shm_exists(shm));
	assert_true(mq_exists(mq));

	il_cleanup_run();
	assert_false(shm_exists(shm));
	assert_false(mq_exists(mq));
	assert_int_equal(access(file, F_OK), -1);
	assert_int_equal(access(dir, F_OK), -1);
	/* running it again is harmless */
	il_cleanup_run();
}

/* cleanup_remove_and_forget: il_cleanup_remove removes one object now; il_cleanup_forget
 * drops it from the registry so a later il_cleanup_run leaves it alone. */
static void cleanup_remove_and_forget(void **state)
{
	(void)state;
	char a[96], b[96];
	il_object_name(a, sizeof(a), "utrm");
	il_object_name(b, sizeof(b), "utfg");
	make_shm(a);
	make_shm(b);
	int ha = il_cleanup_add(IL_OBJ_SHM, a, -1), hb = il_cleanup_add(IL_OBJ_SHM, b, -1);
	assert_true(ha >= 0 && hb >= 0 && ha != hb);
	il_cleanup_remove(ha);
	assert_false(shm_exists(a));
	il_cleanup_forget(hb);
	il_cleanup_run();
	assert_true(shm_exists(b));
	assert_int_equal(shm_unlink(b), 0);
	/* out-of-range handles are ignored */
	il_cleanup_remove(-1);
	il_cleanup_forget(1 << 20);
}

/* cleanup_child_does_not_remove_parent_objects: a forked child that calls il_cleanup_run
 * and then exits through exit() (atexit handlers) leaves the parent's objects in place;
 * the parent still removes them. */
static void cleanup_child_does_not_remove_parent_objects(void **state)
{
	(void)state;
	char shm[96], mq[96];
	il_object_name(shm, sizeof(shm), "utfork");
	il_object_name(mq, sizeof(mq), "utforkmq");
	make_shm(shm);
	make_mq(mq);
	assert_true(il_cleanup_add(IL_OBJ_SHM, shm, -1) >= 0);
	assert_true(il_cleanup_add(IL_OBJ_MQ, mq, -1) >= 0);
	(void)fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		il_cleanup_run();
		exit(0);
	}
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	assert_true(shm_exists(shm));
	assert_true(mq_exists(mq));
	il_cleanup_run();
	assert_false(shm_exists(shm));
	assert_false(mq_exists(mq));
}

/* cleanup_object_name_unique: names start with "/ipclab-<tag>-", have no other '/', fit
 * NAME_MAX, never repeat within a process, and differ between parent and child. */
static void cleanup_object_name_unique(void **state)
{
	(void)state;
	enum { N = 2000 };
	static char names[N][64];
	for (int i = 0; i < N; i++) {
		il_object_name(names[i], sizeof(names[i]), "tag");
		assert_int_equal(strncmp(names[i], "/ipclab-tag-", 12), 0);
		assert_null(strchr(names[i] + 1, '/'));
		assert_true(strlen(names[i]) < 255);
	}
	for (int i = 0; i < N; i++)
		for (int j = i + 1; j < N; j++)
			if (!strcmp(names[i], names[j]))
				fail_msg("name %d == name %d: %s", i, j, names[i]);
	int p[2];
	assert_int_equal(pipe(p), 0);
	(void)fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char n[64];
		il_object_name(n, sizeof(n), "tag");
		_exit(write(p[1], n, sizeof(n)) == (ssize_t)sizeof(n) ? 0 : 1);
	}
	(void)close(p[1]);
	char child[64], mine[64];
	il_object_name(mine, sizeof(mine), "tag");
	assert_int_equal(read(p[0], child, sizeof(child)), sizeof(child));
	(void)close(p[0]);
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(strncmp(child, "/ipclab-tag-", 12) == 0);
	assert_string_not_equal(child, mine);
	for (int i = 0; i < N; i++)
		assert_string_not_equal(child, names[i]);
	/* a short buffer is truncated, never overrun */
	char small[8];
	memset(small, 'x', sizeof(small));
	il_object_name(small, sizeof(small), "tag");
	assert_int_equal(strlen(small), sizeof(small) - 1);
}

/* cleanup_peers_kill_all: every child is SIGKILLed and reaped, tracked or not (nothing
 * is left as a zombie or an orphan), and the tracked list is emptied. */
static void cleanup_peers_kill_all(void **state)
{
	(void)state;
	pid_t a = fork();
	assert_true(a >= 0);
	if (a == 0) {
		for (;;)
			pause();
	}
	pid_t b = fork();
	assert_true(b >= 0);
	if (b == 0) {
		for (;;)
			pause();
	}
	il_peer_track(a);
	il_peers_kill_all();
	/* both were reaped by il_peers_kill_all: nothing left to wait for */
	errno = 0;
	assert_int_equal(waitpid(a, NULL, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
	errno = 0;
	assert_int_equal(waitpid(b, NULL, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
	/* with no child at all it returns at once */
	il_peers_kill_all();
}

/* Forks a child that registers a shm object and a peer, installs the guard with timeout
 * timeout_s, then raises sig (0: waits for the watchdog). Returns the wait status; the
 * object's and the peer's names/pids are returned for checks. */
static int guarded_child(int sig, unsigned timeout_s, char *shm, size_t shmlen, pid_t *peer)
{
	int p[2];
	assert_int_equal(pipe(p), 0);
	il_object_name(shm, (unsigned)shmlen, "utguard");
	(void)fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		(void)close(p[0]);
		int null = open("/dev/null", O_WRONLY);
		(void)dup2(null, STDERR_FILENO); /* the watchdog's message */
		int fd = shm_open(shm, O_CREAT | O_EXCL | O_RDWR, 0600);
		if (fd < 0 || il_cleanup_add(IL_OBJ_SHM, shm, -1) < 0)
			_exit(100);
		(void)close(fd);
		pid_t gc = fork();
		if (gc == 0) {
			for (;;)
				pause();
		}
		il_peer_track(gc);
		il_guard_install(timeout_s);
		(void)!write(p[1], &gc, sizeof(gc));
		(void)close(p[1]);
		if (sig)
			(void)raise(sig);
		for (;;)
			pause();
	}
	(void)close(p[1]);
	assert_int_equal(read(p[0], peer, sizeof(*peer)), sizeof(*peer));
	(void)close(p[0]);
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	return st;
}

/* cleanup_guard_signal_cleans_up: SIGTERM/SIGINT to a guarded process kill its peers,
 * remove its objects, and it still dies by that signal (so the shell sees 128+N). */
static void cleanup_guard_signal_cleans_up(void **state)
{
	(void)state;
	const int sigs[] = { SIGTERM, SIGINT, SIGHUP };
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		char shm[96];
		pid_t peer = 0;
		int st = guarded_child(sigs[i], 0, shm, sizeof(shm), &peer);
		if (!WIFSIGNALED(st) || WTERMSIG(st) != sigs[i])
			fail_msg("signal %d: child status 0x%x, want killed by the signal", sigs[i], st);
		assert_false(shm_exists(shm));
		/* the peer was killed (and reaped by its parent): it no longer exists */
		assert_int_equal(kill(peer, 0), -1);
		assert_int_equal(errno, ESRCH);
	}
}

/* cleanup_guard_watchdog_exits_1: when the watchdog expires the process kills its peers,
 * removes its objects and exits with IL_FAIL. */
static void cleanup_guard_watchdog_exits_1(void **state)
{
	(void)state;
	char shm[96];
	pid_t peer = 0;
	int st = guarded_child(0, 1, shm, sizeof(shm), &peer);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != IL_FAIL)
		fail_msg("child status 0x%x, want exit %d", st, IL_FAIL);
	assert_false(shm_exists(shm));
	assert_int_equal(kill(peer, 0), -1);
	assert_int_equal(errno, ESRCH);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(cleanup_run_removes_all),
		cmocka_unit_test(cleanup_remove_and_forget),
		cmocka_unit_test(cleanup_child_does_not_remove_parent_objects),
		cmocka_unit_test(cleanup_object_name_unique),
		cmocka_unit_test(cleanup_peers_kill_all),
		cmocka_unit_test(cleanup_guard_signal_cleans_up),
		cmocka_unit_test(cleanup_guard_watchdog_exits_1),
	};
	return cmocka_run_group_tests_name("cleanup", tests, NULL, NULL);
}
