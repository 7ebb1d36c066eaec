/* lock.c - the lock kinds of the sync experiments, one small ops struct each, all in
 * shared memory so threads and forked processes run the same code. Two ways to wait:
 * sl_lock cuts the wait into SL_SLICE_NS slices (pthread_mutex_clocklock, sem_clockwait,
 * semtimedop) so a locker gives up when the abort flag is raised (a peer died holding
 * the lock), after a fast non-blocking attempt; sl_wait is the one plain blocking call
 * (pthread_mutex_lock, sem_wait, semop), for a hand-off timed through the lock, where a
 * timer armed and cancelled on every wait would be part of what is measured. */
#include "lock.h"
#include "../core/cleanup.h"
#include "../core/clock.h"
#include "../core/log.h"
#include "../core/opts.h"
#include "../core/sys.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ipc.h>
#include <sys/sem.h>
#include <time.h>
#include <unistd.h>

const char *const sl_kind_names[SL_NKINDS + 1] = {
	"none", "atomic", "mutex", "spin", "sem", "flock", "sysvsem", NULL,
};

struct sl_ops {
	int (*init)(struct sl_lock *l);
	void (*destroy)(struct sl_lock *l);
	int (*lock)(struct sl_handle *h);   /* sliced: gives up when the abort flag is raised */
	int (*wait)(struct sl_handle *h);   /* one blocking call: woken only by a release */
	int (*unlock)(struct sl_handle *h);
};

int sl_kill_holder_check(bool kill_holder, int mode)
{
	if (!kill_holder || mode == IL_MODE_PROCESS)
		return IL_OK;
	il_err("--kill-holder needs --mode process (a thread cannot be killed alone)");
	return IL_USAGE;
}

bool sl_is_lock(int kind)
{
	return kind >= SL_MUTEX && kind < SL_NKINDS;
}

/* An absolute CLOCK_MONOTONIC deadline one slice from now. */
static struct timespec slice_deadline(void)
{
	uint64_t t = il_now_ns() + SL_SLICE_NS;
	return (struct timespec){ .tv_sec = (time_t)(t / 1000000000u), .tv_nsec = (long)(t % 1000000000u) };
}

/* ---- mutex: process-shared in process mode; robust with SL_F_ROBUST (pthread_mutexattr_setrobust(3):
 * the next locker gets EOWNERDEAD when the owner dies holding it). Without it the type is
 * PTHREAD_MUTEX_NORMAL, whose unlock glibc does not check against the owner: handoff uses
 * that, as rt-tests ptsematest does, to unlock the peer's mutex. */
static int mutex_init(struct sl_lock *l)
{
	pthread_mutexattr_t a;
	int e = pthread_mutexattr_init(&a);
	if (!e && l->mode == IL_MODE_PROCESS)
		e = pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
	if (!e && (l->flags & SL_F_ROBUST))
		e = pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
	if (!e)
		e = pthread_mutex_init(&l->u.mutex, &a);
	(void)pthread_mutexattr_destroy(&a);
	if (!e && (l->flags & SL_F_HELD))
		e = pthread_mutex_lock(&l->u.mutex);
	(void)snprintf(l->desc, sizeof(l->desc), "%s%spthread mutex",
		       l->mode == IL_MODE_PROCESS ? "process-shared " : "",
		       (l->flags & SL_F_ROBUST) ? "robust " : "");
	return -e;
}

static void mutex_destroy(struct sl_lock *l)
{
	(void)pthread_mutex_destroy(&l->u.mutex);
}

/* A pthread_mutex_*lock result as an sl_lock() result. */
static int mutex_result(int e)
{
	if (e == 0)
		return SL_OK;
	if (e == EOWNERDEAD)
		return SL_OWNERDEAD;
	errno = e;
	return SL_ERROR;
}

static int mutex_lock(struct sl_handle *h)
{
	pthread_mutex_t *m = &h->l->u.mutex;
	int e = pthread_mutex_trylock(m);
	while (e == EBUSY || e == ETIMEDOUT || e == EINTR) {
		if (e == ETIMEDOUT && sl_aborted(h->l->abort))
			return SL_ABORTED;
		struct timespec ts = slice_deadline();
		e = pthread_mutex_clocklock(m, CLOCK_MONOTONIC, &ts);
	}
	return mutex_result(e);
}

static int mutex_wait(struct sl_handle *h)
{
	return mutex_result(pthread_mutex_lock(&h->l->u.mutex));
}

static int mutex_unlock(struct sl_handle *h)
{
	int e = pthread_mutex_unlock(&h->l->u.mutex);
	errno = e;
	return e ? -1 : 0;
}

/* ---- spin: pthread_spin (pshared in process mode). pthread_spin_lock cannot be
 * abandoned, so we poll: trylock, then read-only spinning on the lock word until it holds
 * its value-when-free again (no cache-line ping-pong while it is held; the value is read
 * after pthread_spin_init, as it is 1 on x86-64 glibc); every 1024 polls we look at the abort
 * flag and sched_yield(), so a preempted holder gets a CPU when workers outnumber CPUs. */
static int spin_init(struct sl_lock *l)
{
	int e = pthread_spin_init(&l->u.spin, l->mode == IL_MODE_PROCESS ? PTHREAD_PROCESS_SHARED
									 : PTHREAD_PROCESS_PRIVATE);
	l->spin_free = (int)l->u.spin; /* glibc's x86-64 spinlock is 1 when free, not 0 */
	if (!e && (l->flags & SL_F_HELD))
		e = pthread_spin_lock(&l->u.spin);
	(void)snprintf(l->desc, sizeof(l->desc), "%spthread spinlock (yields every 1024 polls)",
		       l->mode == IL_MODE_PROCESS ? "process-shared " : "");
	return -e;
}

static void spin_destroy(struct sl_lock *l)
{
	(void)pthread_spin_destroy(&l->u.spin);
}

static int spin_lock(struct sl_handle *h)
{
	pthread_spinlock_t *s = &h->l->u.spin;
	unsigned polls = 0;
	while (pthread_spin_trylock(s) != 0) {
		do {
			il_cpu_relax();
			if ((++polls & 1023u) == 0) {
				if (sl_aborted(h->l->abort))
					return SL_ABORTED;
				(void)sched_yield();
			}
		} while (__atomic_load_n(s, __ATOMIC_RELAXED) != h->l->spin_free);
	}
	return SL_OK;
}

static int spin_unlock(struct sl_handle *h)
{
	return pthread_spin_unlock(&h->l->u.spin) ? -1 : 0;
}

/* ---- sem: an unnamed POSIX semaphore (sem_init(3), pshared in process mode), 1 or 0. */
static int sem_init_(struct sl_lock *l)
{
	if (sem_init(&l->u.sem, l->mode == IL_MODE_PROCESS, (l->flags & SL_F_HELD) ? 0 : 1) < 0)
		return -errno;
	(void)snprintf(l->desc, sizeof(l->desc), "%sunnamed POSIX semaphore",
		       l->mode == IL_MODE_PROCESS ? "process-shared " : "");
	return 0;
}

static void sem_destroy_(struct sl_lock *l)
{
	(void)sem_destroy(&l->u.sem);
}

int sl_sem_wait(sem_t *s, volatile int *abort)
{
	if (sem_trywait(s) == 0)
		return SL_OK;
	for (;;) {
		if (errno != EAGAIN && errno != ETIMEDOUT && errno != EINTR)
			return SL_ERROR;
		if (errno == ETIMEDOUT && sl_aborted(abort))
			return SL_ABORTED;
		struct timespec ts = slice_deadline();
		if (sem_clockwait(s, CLOCK_MONOTONIC, &ts) == 0)
			return SL_OK;
	}
}

static int sem_lock(struct sl_handle *h)
{
	return sl_sem_wait(&h->l->u.sem, h->l->abort);
}

static int sem_wait_(struct sl_handle *h)
{
	while (sem_wait(&h->l->u.sem) < 0)
		if (errno != EINTR)
			return SL_ERROR;
	return SL_OK;
}

static int sem_unlock(struct sl_handle *h)
{
	return sem_post(&h->l->u.sem);
}

/* ---- flock: flock(2) LOCK_EX on a private temporary file that has no name: O_TMPFILE
 * (open(2)), or where the file system lacks it a name unlinked right after its O_EXCL
 * creation, so nothing is left behind whatever kills the run. Each worker reopens it
 * through /proc/self/fd/<fd> (inherited by forked workers), which makes its own open
 * file description: locks taken through one description are not exclusive (flock(2)).
 * The kernel drops the lock when the last descriptor of its description closes, so a
 * holder that dies releases it: flock is "robust" by construction (the update it was
 * making is simply lost). */
/* il_object_create's create(): the file /tmp<name>, O_EXCL, unlinked at once. */
static int create_unlinked(const char *name, void *arg)
{
	(void)arg;
	char path[96];
	(void)snprintf(path, sizeof(path), "/tmp%s", name);
	int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	(void)unlink(path);
	return fd;
}

static int flock_init(struct sl_lock *l)
{
	int fd = open("/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)) {
		char name[64];
		fd = il_object_create(name, sizeof(name), "flock", create_unlinked, NULL);
		if (fd < 0)
			return fd;
	} else if (fd < 0) {
		return -errno;
	}
	l->fd = fd;
	(void)snprintf(l->path, sizeof(l->path), "/proc/self/fd/%d", fd);
	(void)snprintf(l->desc, sizeof(l->desc), "flock(2) on an unnamed temporary file in /tmp, one open file "
		       "per worker");
	return 0;
}

static void flock_destroy(struct sl_lock *l)
{
	if (l->fd >= 0)
		(void)close(l->fd);
	l->fd = -1;
}

static int flock_lock(struct sl_handle *h)
{
	while (flock(h->fd, LOCK_EX) < 0)
		if (errno != EINTR)
			return SL_ERROR;
	return SL_OK;
}

static int flock_unlock(struct sl_handle *h)
{
	return flock(h->fd, LOCK_UN);
}

/* ---- sysvsem: one System V semaphore (semget IPC_PRIVATE 0600), registered for cleanup;
 * SEM_UNDO with SL_F_ROBUST (the kernel undoes a dead holder's decrement). */
static int sysv_init(struct sl_lock *l)
{
	l->semid = semget(IPC_PRIVATE, 1, IPC_CREAT | 0600);
	if (l->semid < 0)
		return -errno;
	l->cleanup = il_cleanup_add(IL_OBJ_SYSV_SEM, NULL, l->semid);
	if (semctl(l->semid, 0, SETVAL, (l->flags & SL_F_HELD) ? 0 : 1) < 0) {
		int e = errno;
		il_cleanup_remove(l->cleanup);
		l->cleanup = -1;
		return -e;
	}
	(void)snprintf(l->desc, sizeof(l->desc), "System V semaphore (id %d%s)", l->semid,
		       (l->flags & SL_F_ROBUST) ? ", SEM_UNDO" : "");
	return 0;
}

static void sysv_destroy(struct sl_lock *l)
{
	if (l->cleanup >= 0)
		il_cleanup_remove(l->cleanup);
	l->cleanup = -1;
}

static int sysv_op(struct sl_lock *l, short delta, short flags, const struct timespec *ts)
{
	struct sembuf op = { .sem_num = 0, .sem_op = delta,
			     .sem_flg = (short)(flags | ((l->flags & SL_F_ROBUST) ? SEM_UNDO : 0)) };
	return ts ? semtimedop(l->semid, &op, 1, ts) : semop(l->semid, &op, 1);
}

static int sysv_lock(struct sl_handle *h)
{
	if (sysv_op(h->l, -1, IPC_NOWAIT, NULL) == 0)
		return SL_OK;
	const struct timespec slice = { .tv_sec = 0, .tv_nsec = (long)SL_SLICE_NS };
	for (;;) {
		if (errno != EAGAIN && errno != EINTR)
			return SL_ERROR;
		if (errno == EAGAIN && sl_aborted(h->l->abort))
			return SL_ABORTED;
		if (sysv_op(h->l, -1, 0, &slice) == 0) /* relative timeout; EAGAIN when it expires */
			return SL_OK;
	}
}

static int sysv_wait(struct sl_handle *h)
{
	while (sysv_op(h->l, -1, 0, NULL) < 0)
		if (errno != EINTR)
			return SL_ERROR;
	return SL_OK;
}

static int sysv_unlock(struct sl_handle *h)
{
	return sysv_op(h->l, 1, 0, NULL);
}

static const struct sl_ops ops[SL_NKINDS] = {
	/* spin polls the abort flag in both; flock(2) is released by the kernel for a dead holder */
	[SL_MUTEX] = { mutex_init, mutex_destroy, mutex_lock, mutex_wait, mutex_unlock },
	[SL_SPIN] = { spin_init, spin_destroy, spin_lock, spin_lock, spin_unlock },
	[SL_SEM] = { sem_init_, sem_destroy_, sem_lock, sem_wait_, sem_unlock },
	[SL_FLOCK] = { flock_init, flock_destroy, flock_lock, flock_lock, flock_unlock },
	[SL_SYSVSEM] = { sysv_init, sysv_destroy, sysv_lock, sysv_wait, sysv_unlock },
};

int sl_init(struct sl_lock *l, int kind, int mode, unsigned flags, volatile int *abort)
{
	memset(l, 0, sizeof(*l));
	l->kind = kind;
	l->mode = mode;
	l->flags = flags;
	l->abort = abort;
	l->cleanup = -1;
	l->fd = -1;
	l->semid = -1;
	if (!sl_is_lock(kind)) {
		(void)snprintf(l->desc, sizeof(l->desc), "%s", kind == SL_ATOMIC ? "atomic fetch-and-add" : "no lock");
		return 0;
	}
	int e = ops[kind].init(l);
	if (e) {
		errno = -e;
		il_errno("cannot create the %s", sl_kind_names[kind]);
		return il_exit_for_errno(-e);
	}
	return 0;
}

void sl_destroy(struct sl_lock *l)
{
	if (sl_is_lock(l->kind))
		ops[l->kind].destroy(l);
}

int sl_attach(struct sl_handle *h, struct sl_lock *l)
{
	h->l = l;
	h->fd = -1;
	if (l->kind == SL_FLOCK) {
		h->fd = open(l->path, O_RDWR | O_CLOEXEC);
		if (h->fd < 0)
			return -1;
	}
	return 0;
}

void sl_detach(struct sl_handle *h)
{
	if (h->fd >= 0)
		(void)close(h->fd);
	h->fd = -1;
}

int sl_lock(struct sl_handle *h)
{
	return ops[h->l->kind].lock(h);
}

int sl_wait(struct sl_handle *h)
{
	return ops[h->l->kind].wait(h);
}

int sl_unlock(struct sl_handle *h)
{
	return ops[h->l->kind].unlock(h);
}
