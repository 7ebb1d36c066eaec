/* test_sync_lock.c - unit tests for src/sync/lock.c and src/sync/event_impl.c: every lock
 * kind excludes and releases; a held lock gives up with SL_ABORTED once the abort flag is
 * raised (the dead-holder path); a robust mutex whose owner process died returns
 * SL_OWNERDEAD; flock excludes two descriptors of one process, on a file without a name;
 * the SysV set is gone after sl_destroy; every Event implementation keeps the Event's
 * promises (clear at first, set/is_set/clear, wait on a set event returns 1 at once, a
 * timed wait on a clear one returns 0 and never early). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/file.h>
#include <sys/sem.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/opts.h"
#include "core/spawn.h"
#include "sync/event.h"
#include "sync/lock.h"

static const int kinds[] = { SL_MUTEX, SL_SPIN, SL_SEM, SL_FLOCK, SL_SYSVSEM };

/* Lock, unlock, lock again, for each kind in both modes' configuration. */
static void lock_unlock_each_kind(void **state)
{
	(void)state;
	for (int mode = 0; mode < 2; mode++)
		for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
			struct sl_lock *l = il_shared_alloc(sizeof(*l));
			volatile int *abort_flag = il_shared_alloc(sizeof(int));
			assert_non_null(l);
			assert_int_equal(sl_init(l, kinds[k], mode, mode == IL_MODE_PROCESS ? SL_F_ROBUST : 0, abort_flag), 0);
			struct sl_handle h;
			assert_int_equal(sl_attach(&h, l), 0);
			for (int i = 0; i < 3; i++) {
				assert_int_equal(sl_lock(&h), SL_OK);
				assert_int_equal(sl_unlock(&h), 0);
			}
			sl_detach(&h);
			sl_destroy(l);
			il_shared_free(l, sizeof(*l));
			il_shared_free((void *)abort_flag, sizeof(int));
		}
}

/* A lock that starts held (SL_F_HELD) is not free: a locker waits, then gives up with
 * SL_ABORTED once the abort flag is up (one slice later). flock has no held start. */
static void held_lock_aborts(void **state)
{
	(void)state;
	const int held[] = { SL_MUTEX, SL_SPIN, SL_SEM, SL_SYSVSEM };
	for (size_t k = 0; k < 4; k++) {
		struct sl_lock *l = il_shared_alloc(sizeof(*l));
		volatile int *abort_flag = il_shared_alloc(sizeof(int));
		assert_int_equal(sl_init(l, held[k], IL_MODE_PROCESS, SL_F_HELD, abort_flag), 0);
		struct sl_handle h;
		assert_int_equal(sl_attach(&h, l), 0);
		*abort_flag = 1;
		/* returns instead of waiting forever (a hang is bounded by the suite's timeout) */
		assert_int_equal(sl_lock(&h), SL_ABORTED);
		/* released by "the other side", it can be taken */
		*abort_flag = 0;
		assert_int_equal(sl_unlock(&h), 0);
		assert_int_equal(sl_lock(&h), SL_OK);
		assert_int_equal(sl_unlock(&h), 0);
		sl_detach(&h);
		sl_destroy(l);
		il_shared_free(l, sizeof(*l));
		il_shared_free((void *)abort_flag, sizeof(int));
	}
}

/* A child takes the robust process-shared mutex and dies: our lock says SL_OWNERDEAD. */
static void robust_mutex_owner_dead(void **state)
{
	(void)state;
	struct sl_lock *l = il_shared_alloc(sizeof(*l));
	volatile int *abort_flag = il_shared_alloc(sizeof(int));
	assert_int_equal(sl_init(l, SL_MUTEX, IL_MODE_PROCESS, SL_F_ROBUST, abort_flag), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct sl_handle c;
		(void)sl_attach(&c, l);
		(void)sl_lock(&c);
		raise(SIGKILL);
		_exit(0);
	}
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFSIGNALED(st));
	struct sl_handle h;
	assert_int_equal(sl_attach(&h, l), 0);
	assert_int_equal(sl_lock(&h), SL_OWNERDEAD);
	assert_int_equal(pthread_mutex_consistent(&l->u.mutex), 0);
	assert_int_equal(sl_unlock(&h), 0);
	assert_int_equal(sl_lock(&h), SL_OK);
	assert_int_equal(sl_unlock(&h), 0);
	sl_destroy(l);
	il_shared_free(l, sizeof(*l));
	il_shared_free((void *)abort_flag, sizeof(int));
}

/* Two sl_attach handles are two open file descriptions: flock excludes between them. */
static void flock_excludes_between_handles(void **state)
{
	(void)state;
	struct sl_lock *l = il_shared_alloc(sizeof(*l));
	assert_int_equal(sl_init(l, SL_FLOCK, IL_MODE_THREAD, 0, NULL), 0);
	struct sl_handle a, b;
	assert_int_equal(sl_attach(&a, l), 0);
	assert_int_equal(sl_attach(&b, l), 0);
	assert_int_equal(sl_lock(&a), SL_OK);
	assert_int_equal(flock(b.fd, LOCK_EX | LOCK_NB), -1);
	assert_int_equal(errno, EWOULDBLOCK);
	assert_int_equal(sl_unlock(&a), 0);
	assert_int_equal(flock(b.fd, LOCK_EX | LOCK_NB), 0);
	sl_detach(&a);
	sl_detach(&b);
	sl_destroy(l);
	il_shared_free(l, sizeof(*l));
}

/* The flock file never has a name (nothing to leave behind, whatever kills the run):
 * no link to it while the lock exists; sl_destroy closes the last descriptor. */
static void flock_file_has_no_name(void **state)
{
	(void)state;
	struct sl_lock *l = il_shared_alloc(sizeof(*l));
	assert_int_equal(sl_init(l, SL_FLOCK, IL_MODE_PROCESS, 0, NULL), 0);
	struct stat st;
	assert_int_equal(fstat(l->fd, &st), 0);
	assert_int_equal(st.st_nlink, 0);
	assert_true(S_ISREG(st.st_mode) && (st.st_mode & 0777) == 0600);
	const int fd = l->fd;
	sl_destroy(l);
	assert_int_equal(fcntl(fd, F_GETFD), -1);
	assert_int_equal(errno, EBADF);
	il_shared_free(l, sizeof(*l));
}

/* sl_destroy removes the System V set. */
static void sysvsem_removed(void **state)
{
	(void)state;
	struct sl_lock *l = il_shared_alloc(sizeof(*l));
	assert_int_equal(sl_init(l, SL_SYSVSEM, IL_MODE_PROCESS, 0, NULL), 0);
	int id = l->semid;
	assert_true(semctl(id, 0, GETVAL) == 1);
	sl_destroy(l);
	assert_int_equal(semctl(id, 0, GETVAL), -1);
	il_shared_free(l, sizeof(*l));
}

/* The Event's promises, for each implementation, in one context. */
static void event_semantics_each_impl(void **state)
{
	(void)state;
	const struct ev_ops *impl[] = { &ev_condvar, &ev_eventfd, &ev_futex, &ev_pipe };
	for (int mode = 0; mode < 2; mode++)
		for (int i = 0; i < 4; i++) {
			const struct ev_ops *o = impl[i];
			struct ev *e = il_shared_alloc(sizeof(*e));
			e->mode = mode;
			assert_int_equal(o->init(e, mode), 0);
			assert_int_equal(o->is_set(e), 0);
			assert_int_equal(o->set(e), 0);
			assert_int_equal(o->set(e), 0); /* idempotent */
			assert_int_equal(o->is_set(e), 1);
			assert_int_equal(o->wait(e, 1000000000), 1); /* 1 = set, not 0 = timed out */
			assert_int_equal(o->wait(e, -1), 1); /* not consumed */
			assert_int_equal(o->clear(e), 0);
			assert_int_equal(o->is_set(e), 0);
			assert_int_equal(o->clear(e), 0); /* clearing a clear event is fine */
			uint64_t t0 = il_now_ns();
			assert_int_equal(o->wait(e, 2000000), 0);
			assert_true(il_now_ns() - t0 >= 2000000);
			assert_int_equal(o->wait(e, 0), 0);
			o->destroy(e);
			il_shared_free(e, sizeof(*e));
		}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(lock_unlock_each_kind),
		cmocka_unit_test(held_lock_aborts),
		cmocka_unit_test(robust_mutex_owner_dead),
		cmocka_unit_test(flock_excludes_between_handles),
		cmocka_unit_test(flock_file_has_no_name),
		cmocka_unit_test(sysvsem_removed),
		cmocka_unit_test(event_semantics_each_impl),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
