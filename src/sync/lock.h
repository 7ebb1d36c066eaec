/* lock.h - the lock kinds of the sync experiments behind one small ops table (so race
 * and handoff time every kind with the same code), and the abort flag every blocking
 * wait polls in short slices, so a dead lock holder is reported instead of hanging the
 * run. */
#ifndef IPCLAB_SYNC_LOCK_H
#define IPCLAB_SYNC_LOCK_H

#include <pthread.h>
#include <semaphore.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>


/* Lock kinds (race offers none..flock, handoff mutex, spin, sem, sysvsem). */
enum sl_kind { SL_NONE, SL_ATOMIC, SL_MUTEX, SL_SPIN, SL_SEM, SL_FLOCK, SL_SYSVSEM, SL_NKINDS };
extern const char *const sl_kind_names[SL_NKINDS + 1];

/* sl_lock() results. */
enum {
	SL_OK = 0,
	SL_OWNERDEAD = 1,  /* acquired, but its previous owner died holding it (robust mutex) */
	SL_ABORTED = -1,   /* the abort flag was raised while we waited: not acquired */
	SL_ERROR = -2,     /* failed, errno set */
};

/* sl_init() flags. */
enum {
	SL_F_ROBUST = 1u << 0, /* mutex: PTHREAD_MUTEX_ROBUST; sysvsem: SEM_UNDO */
	SL_F_HELD = 1u << 1,   /* starts taken (handoff): mutex/spin locked by the caller, sem at 0 */
};

/* How long one blocking wait sleeps before it looks at the abort flag again. */
#define SL_SLICE_NS (50ull * 1000 * 1000)

/* A lock in memory every worker sees (il_shared_alloc), threads or processes alike. */
struct sl_lock {
	int kind;                /* enum sl_kind */
	int mode;                /* enum il_mode */
	unsigned flags;
	volatile int *abort;     /* shared: non-zero makes blocked lockers give up */
	union {
		pthread_mutex_t mutex;
		pthread_spinlock_t spin;
		sem_t sem;
	} u;
	int spin_free;           /* spin: the lock word's value when free (1 on x86-64 glibc) */
	int semid;               /* sysvsem */
	int cleanup;             /* registry handle (SysV set), -1 */
	int fd;                  /* flock: the unnamed temporary file, -1 */
	char path[32];           /* flock: /proc/self/fd/<fd>, reopened by each worker */
	char desc[160];          /* what it is, for the output */
};

/* One worker's use of a lock: flock needs an open file description per worker (locks
 * taken through descriptors that share one are not exclusive, flock(2)). */
struct sl_handle {
	struct sl_lock *l;
	int fd;
};

/* Creates the lock (named objects registered for cleanup). Returns 0, or an exit code
 * after one message. */
int sl_init(struct sl_lock *l, int kind, int mode, unsigned flags, volatile int *abort);
void sl_destroy(struct sl_lock *l);
/* Per worker, in the worker (process mode: after the fork). 0 or -1 with errno. */
int sl_attach(struct sl_handle *h, struct sl_lock *l);
void sl_detach(struct sl_handle *h);
/* Takes the lock: SL_OK, SL_OWNERDEAD, SL_ABORTED or SL_ERROR. */
int sl_lock(struct sl_handle *h);
/* Takes the lock with one plain blocking call (no slices, no timer): SL_OK, SL_OWNERDEAD
 * or SL_ERROR. Only a release wakes it: whoever gives up on the run releases the lock
 * such a waiter waits for (a NORMAL mutex, a semaphore and a spinlock can be released by
 * anyone). Spin still polls the abort flag. */
int sl_wait(struct sl_handle *h);
/* 0 or -1 with errno. */
int sl_unlock(struct sl_handle *h);
/* sem_wait(3) in SL_SLICE_NS slices (sem_clockwait), giving up when *abort is raised:
 * SL_OK, SL_ABORTED or SL_ERROR (errno set). */
int sl_sem_wait(sem_t *s, volatile int *abort);
/* The --kill-holder fault injection (a worker SIGKILLs itself holding the lock) needs
 * process mode: IL_OK, or IL_USAGE after one message. For an experiment's params(). */
int sl_kill_holder_check(bool kill_holder, int mode);
/* True for kinds that are a real lock (not none/atomic). */
bool sl_is_lock(int kind);

/* Spends n iterations of busy work the compiler cannot remove (the --delay knob). */
static inline void sl_busy(uint64_t n)
{
	for (uint64_t i = 0; i < n; i++)
		__asm__ __volatile__("" ::: "memory");
}

static inline bool sl_aborted(volatile int *abort)
{
	return abort && __atomic_load_n(abort, __ATOMIC_ACQUIRE);
}

static inline void sl_raise_abort(volatile int *abort)
{
	__atomic_store_n(abort, 1, __ATOMIC_RELEASE);
}

#endif
