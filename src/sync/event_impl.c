/* event_impl.c - four implementations of the Event (event.h), one small ops struct each.
 * One file, not four: each is 20-40 lines, and eventfd and pipe share the same
 * readiness-based wait (ppoll on a deadline); four files would copy those helpers or need
 * one more header, and reading them side by side is the point of the comparison.
 *   condvar  a mutex-protected flag and a condition variable (what CPython's Event is):
 *            wait = pthread_cond_clockwait loop, set = flag + broadcast;
 *   eventfd  the eventfd(2) counter is the flag: set = write 1, clear = read (resets it
 *            to 0), wait/is_set = ppoll for POLLIN (readiness, not consumed);
 *   futex    a 32-bit word: set = exchange to 1 then FUTEX_WAKE all if it was 0,
 *            wait = FUTEX_WAIT_BITSET (absolute CLOCK_MONOTONIC deadline) while 0 (futex(2));
 *   pipe     a byte in a pipe is the flag: set = write one if none is there, clear =
 *            drain, wait/is_set = ppoll for POLLIN (the self-pipe trick).
 * Process-shared futexes and pthread objects in process mode; private ones for threads. */
#include "event.h"
#include "../core/clock.h"
#include "../core/opts.h"
#include "../core/sys.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdbool.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

static struct timespec ts_of(uint64_t ns)
{
	return (struct timespec){ .tv_sec = (time_t)(ns / 1000000000u), .tv_nsec = (long)(ns % 1000000000u) };
}

/* ---- condvar */
static int cv_init(struct ev *e, int mode)
{
	const int ps = mode == IL_MODE_PROCESS ? PTHREAD_PROCESS_SHARED : PTHREAD_PROCESS_PRIVATE;
	pthread_mutexattr_t ma;
	pthread_condattr_t ca;
	int r = pthread_mutexattr_init(&ma);
	if (!r)
		r = pthread_mutexattr_setpshared(&ma, ps);
	if (!r)
		r = pthread_mutex_init(&e->m, &ma);
	(void)pthread_mutexattr_destroy(&ma);
	if (r)
		return -r;
	r = pthread_condattr_init(&ca);
	if (!r)
		r = pthread_condattr_setpshared(&ca, ps);
	if (!r)
		r = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	if (!r)
		r = pthread_cond_init(&e->cv, &ca);
	(void)pthread_condattr_destroy(&ca);
	if (r)
		(void)pthread_mutex_destroy(&e->m);
	e->flag = 0;
	return -r;
}

static void cv_destroy(struct ev *e)
{
	(void)pthread_cond_destroy(&e->cv);
	(void)pthread_mutex_destroy(&e->m);
}

static int cv_wait(struct ev *e, int64_t timeout_ns)
{
	struct timespec dl = ts_of(il_now_ns() + (uint64_t)(timeout_ns < 0 ? 0 : timeout_ns));
	int r = 0;
	(void)pthread_mutex_lock(&e->m);
	while (!e->flag && r != ETIMEDOUT) {
		r = timeout_ns < 0 ? pthread_cond_wait(&e->cv, &e->m) : pthread_cond_timedwait(&e->cv, &e->m, &dl);
		if (r && r != ETIMEDOUT) {
			(void)pthread_mutex_unlock(&e->m);
			errno = r;
			return -1;
		}
	}
	int f = e->flag;
	(void)pthread_mutex_unlock(&e->m);
	return f;
}

static int cv_set(struct ev *e)
{
	(void)pthread_mutex_lock(&e->m);
	e->flag = 1;
	int r = pthread_cond_broadcast(&e->cv);
	(void)pthread_mutex_unlock(&e->m);
	errno = r;
	return r ? -1 : 0;
}

static int cv_clear(struct ev *e)
{
	(void)pthread_mutex_lock(&e->m);
	e->flag = 0;
	(void)pthread_mutex_unlock(&e->m);
	return 0;
}

static int cv_is_set(struct ev *e)
{
	(void)pthread_mutex_lock(&e->m);
	int f = e->flag;
	(void)pthread_mutex_unlock(&e->m);
	return f;
}

const struct ev_ops ev_condvar = {
	"condvar", "flag + pthread mutex + condition variable (CLOCK_MONOTONIC), like CPython's Event",
	cv_init, cv_destroy, cv_wait, cv_set, cv_clear, cv_is_set,
};

/* ---- readiness of fd[0] (eventfd and pipe) */

/* Waits until fd is readable or the deadline passes: 1 readable, 0 not, -1 error. */
static int wait_readable(int fd, int64_t timeout_ns)
{
	const uint64_t deadline = il_now_ns() + (uint64_t)(timeout_ns < 0 ? 0 : timeout_ns);
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		struct timespec rel, *tp = NULL;
		if (timeout_ns >= 0) {
			uint64_t now = il_now_ns();
			rel = ts_of(now < deadline ? deadline - now : 0);
			tp = &rel;
		}
		int n = ppoll(&p, 1, tp, NULL);
		if (n > 0)
			return (p.revents & POLLIN) ? 1 : (errno = EIO, -1);
		if (n == 0)
			return 0;
		if (errno != EINTR)
			return -1;
	}
}

static int fd_is_set(struct ev *e)
{
	return wait_readable(e->fd[0], 0);
}

static void fd_close(struct ev *e)
{
	for (int i = 0; i < 2; i++)
		if (e->fd[i] >= 0)
			(void)close(e->fd[i]);
	e->fd[0] = e->fd[1] = -1;
}

static int fd_wait(struct ev *e, int64_t timeout_ns)
{
	return wait_readable(e->fd[0], timeout_ns);
}

/* ---- eventfd */
static int efd_init(struct ev *e, int mode)
{
	e->fd[1] = -1;
	e->fd[0] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	return e->fd[0] < 0 ? -errno : 0;
}

static int efd_set(struct ev *e)
{
	uint64_t one = 1;
	return write(e->fd[0], &one, sizeof(one)) == (ssize_t)sizeof(one) ? 0 : -1;
}

static int efd_clear(struct ev *e)
{
	uint64_t v;
	if (read(e->fd[0], &v, sizeof(v)) < 0 && errno != EAGAIN) /* EAGAIN: it was 0 already */
		return -1;
	return 0;
}

const struct ev_ops ev_eventfd = {
	"eventfd", "eventfd(2) counter as the flag: write 1 / read to reset / ppoll for readiness",
	efd_init, fd_close, fd_wait, efd_set, efd_clear, fd_is_set,
};

/* ---- futex */
static int fx_init(struct ev *e, int mode)
{
	e->mode = mode;
	e->word = 0;
	return 0;
}

static void fx_destroy(struct ev *e)
{
	(void)e;
}

static int fx_wait(struct ev *e, int64_t timeout_ns)
{
	struct timespec dl = ts_of(il_now_ns() + (uint64_t)(timeout_ns < 0 ? 0 : timeout_ns));
	while (__atomic_load_n(&e->word, __ATOMIC_ACQUIRE) == 0) {
		/* FUTEX_WAIT_BITSET takes an absolute CLOCK_MONOTONIC deadline; it returns at
		 * once (EAGAIN) if the word is no longer 0, so a set cannot be missed. */
		int r = il_futex_wait_until(&e->word, 0, timeout_ns < 0 ? NULL : &dl, e->mode != IL_MODE_THREAD);
		if (r == -ETIMEDOUT)
			return (int)__atomic_load_n(&e->word, __ATOMIC_ACQUIRE);
		if (r < 0 && r != -EAGAIN && r != -EINTR) {
			errno = -r;
			return -1;
		}
	}
	return 1;
}

static int fx_set(struct ev *e)
{
	if (__atomic_exchange_n(&e->word, 1, __ATOMIC_ACQ_REL) == 0) {
		int r = il_futex_wake(&e->word, INT_MAX, e->mode != IL_MODE_THREAD);
		if (r < 0) {
			errno = -r;
			return -1;
		}
	}
	return 0;
}

static int fx_clear(struct ev *e)
{
	__atomic_store_n(&e->word, 0, __ATOMIC_RELEASE);
	return 0;
}

static int fx_is_set(struct ev *e)
{
	return (int)__atomic_load_n(&e->word, __ATOMIC_ACQUIRE);
}

const struct ev_ops ev_futex = {
	"futex", "a 32-bit word: FUTEX_WAIT_BITSET while 0, exchange to 1 + FUTEX_WAKE all",
	fx_init, fx_destroy, fx_wait, fx_set, fx_clear, fx_is_set,
};

/* ---- pipe */
static int pipe_init_(struct ev *e, int mode)
{
	if (pipe2(e->fd, O_NONBLOCK | O_CLOEXEC) < 0) {
		e->fd[0] = e->fd[1] = -1;
		return -errno;
	}
	return 0;
}

static int pipe_set(struct ev *e)
{
	if (wait_readable(e->fd[0], 0) == 1) /* already set: keep one byte, never fill the pipe */
		return 0;
	char b = 1;
	if (write(e->fd[1], &b, 1) == 1 || errno == EAGAIN)
		return 0;
	return -1;
}

static int pipe_clear(struct ev *e)
{
	char buf[64];
	ssize_t n;
	while ((n = read(e->fd[0], buf, sizeof(buf))) > 0 || (n < 0 && errno == EINTR))
		;
	return n < 0 && errno != EAGAIN ? -1 : 0;
}

const struct ev_ops ev_pipe = {
	"pipe", "a byte in a pipe as the flag: write one / drain / ppoll for readiness (self-pipe trick)",
	pipe_init_, fd_close, fd_wait, pipe_set, pipe_clear, fd_is_set,
};
