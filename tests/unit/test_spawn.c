/* test_spawn.c - unit tests for src/core/spawn.c: one worker run as a process or a
 * thread, exit codes, shared vs private memory, a killed peer, the cross-process start
 * barrier, CPU pinning and dying with the parent. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/opts.h"
#include "core/spawn.h"

struct shared {
	struct il_barrier b;
	volatile int arrived;
	volatile int seen_by_child;
	volatile int cpu;
};

static int private_value;

/* Worker: writes to shared and private memory, returns a recognisable code. */
static int worker_write(void *arg)
{
	struct shared *s = arg;
	s->arrived = 1;
	private_value = 42;
	return 7;
}

/* spawn_exit_code_both_modes: the worker's return value is il_join's result in both modes,
 * and "how" stays empty for a normal exit. */
static void spawn_exit_code_both_modes(void **state)
{
	(void)state;
	for (int mode = IL_MODE_PROCESS; mode <= IL_MODE_THREAD; mode++) {
		struct shared *s = il_shared_alloc(sizeof(*s));
		assert_non_null(s);
		private_value = 0;
		struct il_peer p;
		assert_int_equal(il_spawn(&p, mode, -1, worker_write, s), 0);
		char how[64] = "junk";
		assert_int_equal(il_join(&p, how, sizeof(how)), 7);
		assert_string_equal(how, "");
		assert_int_equal(s->arrived, 1);
		/* a forked peer writes its own copy of ordinary memory; a thread writes ours */
		assert_int_equal(private_value, mode == IL_MODE_THREAD ? 42 : 0);
		/* joining twice is harmless */
		assert_int_equal(il_join(&p, how, sizeof(how)), 0);
		il_shared_free(s, sizeof(*s));
	}
}

static int worker_pause(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return 0;
}

/* spawn_killed_peer_reported: a process peer killed by a signal makes il_join return
 * IL_FAIL and name the signal in "how". */
static void spawn_killed_peer_reported(void **state)
{
	(void)state;
	struct il_peer p;
	assert_int_equal(il_spawn(&p, IL_MODE_PROCESS, -1, worker_pause, NULL), 0);
	assert_true(p.pid > 0);
	assert_int_equal(kill(p.pid, SIGKILL), 0);
	char how[128];
	assert_int_equal(il_join(&p, how, sizeof(how)), IL_FAIL);
	if (!strstr(how, "signal 9"))
		fail_msg("how = '%s', want it to name signal 9", how);
}

/* spawn_abort_kills_process_peer: il_peer_abort kills and reaps a blocked process peer. */
static void spawn_abort_kills_process_peer(void **state)
{
	(void)state;
	struct il_peer p;
	assert_int_equal(il_spawn(&p, IL_MODE_PROCESS, -1, worker_pause, NULL), 0);
	pid_t pid = p.pid;
	il_peer_abort(&p);
	assert_false(p.running);
	errno = 0;
	assert_int_equal(waitpid(pid, NULL, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
}

/* Worker: arrives at the barrier after recording it was there. */
static int worker_barrier(void *arg)
{
	struct shared *s = arg;
	s->arrived = 1;
	il_barrier_wait(&s->b);
	s->seen_by_child = 1;
	return 0;
}

/* spawn_barrier_across_processes: the process-shared barrier releases the parent only
 * after the forked peer arrived (and works the same between threads). */
static void spawn_barrier_across_processes(void **state)
{
	(void)state;
	for (int mode = IL_MODE_PROCESS; mode <= IL_MODE_THREAD; mode++) {
		struct shared *s = il_shared_alloc(sizeof(*s));
		assert_non_null(s);
		assert_int_equal(il_barrier_init(&s->b, 2), 0);
		struct il_peer p;
		assert_int_equal(il_spawn(&p, mode, -1, worker_barrier, s), 0);
		il_barrier_wait(&s->b);
		assert_int_equal(s->arrived, 1);
		assert_int_equal(il_join(&p, NULL, 0), 0);
		assert_int_equal(s->seen_by_child, 1);
		il_barrier_destroy(&s->b);
		il_shared_free(s, sizeof(*s));
	}
}

static int worker_cpu(void *arg)
{
	struct shared *s = arg;
	s->cpu = il_cpu_now();
	return 0;
}

/* spawn_pins_to_cpu: a peer spawned with a CPU runs on it, in both modes; pinning the
 * caller to a CPU that does not exist fails with a negative errno. */
static void spawn_pins_to_cpu(void **state)
{
	(void)state;
	/* a CPU we are allowed to run on (the last one, so it differs from 0 if it can) */
	cpu_set_t allowed;
	assert_int_equal(sched_getaffinity(0, sizeof(allowed), &allowed), 0);
	int target = -1;
	for (int c = 0; c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, &allowed))
			target = c;
	assert_true(target >= 0);
	for (int mode = IL_MODE_PROCESS; mode <= IL_MODE_THREAD; mode++) {
		struct shared *s = il_shared_alloc(sizeof(*s));
		assert_non_null(s);
		s->cpu = -2;
		struct il_peer p;
		assert_int_equal(il_spawn(&p, mode, target, worker_cpu, s), 0);
		assert_int_equal(il_join(&p, NULL, 0), 0);
		assert_int_equal(s->cpu, target);
		il_shared_free(s, sizeof(*s));
	}
	assert_int_equal(il_pin_self(-1), 0);
	assert_true(il_pin_self(CPU_SETSIZE - 1) < 0);
	assert_true(il_cpu_now() >= 0);
}

/* True once pid is gone or a zombie (it died). */
static int dead(pid_t pid)
{
	char path[64], buf[512];
	(void)snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return 1;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	(void)fclose(f);
	buf[n] = 0;
	char *p = strrchr(buf, ')');
	return p && p[1] == ' ' && p[2] == 'Z';
}

/* spawn_peer_dies_with_parent: a process peer whose parent dies is killed too
 * (PR_SET_PDEATHSIG), so an ipclab killed with SIGKILL leaves no orphan behind. */
static void spawn_peer_dies_with_parent(void **state)
{
	(void)state;
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	(void)fflush(NULL);
	pid_t mid = fork();
	assert_true(mid >= 0);
	if (mid == 0) {
		struct il_peer p;
		if (il_spawn(&p, IL_MODE_PROCESS, -1, worker_pause, NULL) != 0)
			_exit(1);
		(void)!write(fds[1], &p.pid, sizeof(p.pid));
		_exit(0); /* the parent dies without killing its peer */
	}
	(void)close(fds[1]);
	pid_t peer = 0;
	assert_int_equal(read(fds[0], &peer, sizeof(peer)), sizeof(peer));
	(void)close(fds[0]);
	int st;
	assert_int_equal(waitpid(mid, &st, 0), mid);
	assert_true(peer > 0);
	/* bounded wait for an observable condition: the orphaned peer's death */
	struct timespec tick = { 0, 1000000 };
	int ms = 0;
	while (!dead(peer) && ms < 5000) {
		(void)nanosleep(&tick, NULL);
		ms++;
	}
	if (!dead(peer)) {
		(void)kill(peer, SIGKILL);
		fail_msg("peer %d outlived its parent by 5 s", (int)peer);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(spawn_exit_code_both_modes),
		cmocka_unit_test(spawn_killed_peer_reported),
		cmocka_unit_test(spawn_abort_kills_process_peer),
		cmocka_unit_test(spawn_barrier_across_processes),
		cmocka_unit_test(spawn_pins_to_cpu),
		cmocka_unit_test(spawn_peer_dies_with_parent),
	};
	return cmocka_run_group_tests_name("spawn", tests, NULL, NULL);
}
