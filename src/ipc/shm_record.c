/* shm_record.c - the writer and the reader of "ipc shm" (see shm_record.h). */
#include "shm_record.h"
#include "transport/ring.h"
#include "../core/clock.h"
#include "../core/log.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static uint64_t array_expect(unsigned i)
{
	return (uint64_t)i * i + 1;
}

int il_shm_area_init(struct il_shm_area *sh)
{
	pthread_mutexattr_t at;
	int e = pthread_mutexattr_init(&at);
	if (!e)
		e = pthread_mutexattr_setpshared(&at, PTHREAD_PROCESS_SHARED);
	if (!e)
		e = pthread_mutexattr_setrobust(&at, PTHREAD_MUTEX_ROBUST);
	if (!e)
		e = pthread_mutex_init(&sh->mtx, &at);
	(void)pthread_mutexattr_destroy(&at);
	sh->cpu_writer = sh->cpu_reader = -1;
	return e;
}

/* Maps the area: the inherited anonymous one, or the named object opened by name. */
static struct il_shm_area *area_map(const struct il_shm_side *a)
{
	if (!a->name)
		return a->sh;
	int fd = shm_open(a->name, O_RDWR | O_CLOEXEC, 0);
	if (fd < 0) {
		il_errno("shm_open %s failed", a->name);
		return NULL;
	}
	void *p = mmap(NULL, sizeof(struct il_shm_area), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	(void)close(fd);
	if (p == MAP_FAILED) {
		il_errno("mmap of %s failed", a->name);
		return NULL;
	}
	return p;
}

static void area_unmap(const struct il_shm_side *a, struct il_shm_area *sh)
{
	if (a->name && sh)
		(void)munmap(sh, sizeof(*sh));
}

static bool aborted(struct il_shm_area *sh)
{
	return __atomic_load_n(&sh->abort, __ATOMIC_ACQUIRE);
}

/* Waits until *flag is set (busy-wait policy of transport/ring.h: spin on distinct CPUs,
 * yield on one); false if the run was aborted. */
static bool wait_flag(struct il_shm_area *sh, int *flag)
{
	for (uint64_t n = 1; !__atomic_load_n(flag, __ATOMIC_ACQUIRE); n++) {
		if (aborted(sh))
			return false;
		il_spin_once(n, sh->same_cpu);
	}
	return true;
}

static int lock(struct il_shm_area *sh)
{
	int e = pthread_mutex_lock(&sh->mtx);
	if (e == EOWNERDEAD) { /* the other side died holding it: the record may be half written */
		(void)pthread_mutex_consistent(&sh->mtx);
		(void)pthread_mutex_unlock(&sh->mtx);
	}
	return e;
}

/* One write of the record, generation gen, under the lock. 0, or -1 if the lock failed. */
static inline int write_record(struct il_shm_area *sh, const struct il_shm_side *a, uint64_t gen, uint64_t *seq)
{
	if (a->lock == IL_SHM_MUTEX && lock(sh) != 0)
		return -1;
	if (a->lock == IL_SHM_SEQLOCK) {
		__atomic_store_n(&sh->seq, ++*seq, __ATOMIC_RELAXED); /* odd: writing */
		__atomic_thread_fence(__ATOMIC_RELEASE);
	}
	for (unsigned i = 0; i < a->words; i++)
		__atomic_store_n(&sh->rec[i], gen, __ATOMIC_RELAXED);
	if (a->lock == IL_SHM_SEQLOCK)
		__atomic_store_n(&sh->seq, ++*seq, __ATOMIC_RELEASE); /* even: done */
	if (a->lock == IL_SHM_MUTEX)
		(void)pthread_mutex_unlock(&sh->mtx);
	return 0;
}

int il_shm_writer(void *arg)
{
	const struct il_shm_side *a = arg;
	struct il_shm_area *sh = area_map(a);
	int rc = IL_OK;
	if (!sh)
		return IL_NORES;
	il_set_task_name("ipclab-shm-w");
	sh->cpu_writer = il_cpu_now();
	if (il_barrier_wait(&sh->start) < 0 || aborted(sh))
		goto out;
	/* (a) the Value and the Array */
	__atomic_store_n(&sh->value, IL_SHM_VALUE_MAGIC, __ATOMIC_RELAXED);
	for (unsigned i = 0; i < a->words; i++)
		__atomic_store_n(&sh->array[i], array_expect(i), __ATOMIC_RELAXED);
	__atomic_store_n(&sh->a_ready, 1, __ATOMIC_RELEASE);
	if (!wait_flag(sh, &sh->a_ack))
		goto out;
	/* (b) the record, over and over; the Value counts on from the magic, one per write */
	uint64_t gen = 0, seq = 0;
	sh->w_start = il_now_ns();
	do {
		gen++;
		if (write_record(sh, a, gen, &seq) < 0) {
			sh->lock_errors++;
			rc = IL_FAIL;
			break;
		}
		__atomic_store_n(&sh->value, IL_SHM_VALUE_MAGIC + gen, __ATOMIC_RELAXED);
		if (gen == 1)
			__atomic_store_n(&sh->writing, 1, __ATOMIC_RELEASE);
	} while (!__atomic_load_n(&sh->stop, __ATOMIC_ACQUIRE) && !aborted(sh));
	sh->w_end = il_now_ns();
	sh->writes = gen;
out:
	area_unmap(a, sh);
	return rc;
}

/* One read of the record into copy, under the lock. 0, or -1 if the lock failed or the
 * run was aborted while a seqlock read waited for a writer (killed mid-write: the
 * sequence number stays odd). */
static inline int read_record(struct il_shm_area *sh, const struct il_shm_side *a, uint64_t *copy,
			      uint64_t *retries)
{
	const unsigned W = a->words;
	if (a->lock == IL_SHM_MUTEX) {
		if (lock(sh) != 0)
			return -1;
		for (unsigned i = 0; i < W; i++)
			copy[i] = __atomic_load_n(&sh->rec[i], __ATOMIC_RELAXED);
		(void)pthread_mutex_unlock(&sh->mtx);
		return 0;
	}
	for (;;) {
		uint64_t s1 = a->lock == IL_SHM_SEQLOCK ? __atomic_load_n(&sh->seq, __ATOMIC_ACQUIRE) : 0;
		if (s1 & 1) {
			if (aborted(sh))
				return -1;
			++*retries;
			il_cpu_relax();
			continue;
		}
		for (unsigned i = 0; i < W; i++)
			copy[i] = __atomic_load_n(&sh->rec[i], __ATOMIC_RELAXED);
		if (a->lock != IL_SHM_SEQLOCK)
			return 0;
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (__atomic_load_n(&sh->seq, __ATOMIC_RELAXED) == s1)
			return 0;
		if (aborted(sh))
			return -1;
		++*retries;
	}
}

/* Phase (a) on the reader's side: the Value and the Array read back. */
static bool read_back(struct il_shm_area *sh, unsigned W)
{
	if (!wait_flag(sh, &sh->a_ready))
		return false;
	sh->value_ok = __atomic_load_n(&sh->value, __ATOMIC_RELAXED) == IL_SHM_VALUE_MAGIC;
	sh->array_ok = 1;
	for (unsigned i = 0; i < W; i++)
		if (__atomic_load_n(&sh->array[i], __ATOMIC_RELAXED) != array_expect(i))
			sh->array_ok = 0;
	/* the writer may now overwrite the Value; we read while it writes */
	__atomic_store_n(&sh->a_ack, 1, __ATOMIC_RELEASE);
	return wait_flag(sh, &sh->writing);
}

/* Waits until the writer's counter moves: it is running now. false if aborted. */
static bool writer_running(struct il_shm_area *sh)
{
	uint64_t v0 = __atomic_load_n(&sh->value, __ATOMIC_RELAXED);
	for (uint64_t n = 1; __atomic_load_n(&sh->value, __ATOMIC_RELAXED) == v0; n++) {
		if (aborted(sh) || __atomic_load_n(&sh->stop, __ATOMIC_ACQUIRE))
			return false;
		il_spin_once(n, sh->same_cpu);
	}
	return true;
}

int il_shm_reader(void *arg)
{
	const struct il_shm_side *a = arg;
	struct il_shm_area *sh = area_map(a);
	uint64_t copy[IL_SHM_MAX_WORDS];
	const unsigned W = a->words;
	int rc = IL_OK;
	if (!sh)
		return IL_NORES;
	il_set_task_name("ipclab-shm-r");
	sh->cpu_reader = il_cpu_now();
	if (il_barrier_wait(&sh->start) < 0 || !read_back(sh, W) || !writer_running(sh))
		goto out;
	uint64_t torn = 0, retries = 0, back = 0, overlap = 0;
	uint64_t v_first = __atomic_load_n(&sh->value, __ATOMIC_RELAXED), last_value = v_first, v_chunk = v_first;
	uint64_t t_chunk = sh->r_start = il_now_ns();
	for (uint64_t r = 0; r < a->reads; r++) {
		if (read_record(sh, a, copy, &retries) < 0) {
			sh->lock_errors += !aborted(sh);
			rc = IL_FAIL;
			break;
		}
		for (unsigned i = 1; i < W; i++)
			if (copy[i] != copy[0]) {
				if (!torn++)
					memcpy(sh->first_torn, copy, W * sizeof(copy[0]));
				break;
			}
		uint64_t v = __atomic_load_n(&sh->value, __ATOMIC_RELAXED);
		if (v < last_value)
			back++;
		last_value = v;
		if ((r + 1) % IL_SHM_CHUNK == 0 || r + 1 == a->reads) {
			uint64_t t = il_now_ns();
			if (v != v_chunk) /* the writer wrote during this chunk of reads */
				overlap += t - t_chunk;
			t_chunk = t;
			v_chunk = v;
			if (aborted(sh)) { /* the writer is gone: the parent says so */
				rc = IL_FAIL;
				break;
			}
		}
	}
	sh->r_end = il_now_ns();
	sh->reads = a->reads;
	sh->torn = torn;
	sh->retries = retries;
	sh->value_back = back;
	sh->overlap_ns = overlap;
	sh->writes_during_reads = last_value - v_first;
out:
	__atomic_store_n(&sh->stop, 1, __ATOMIC_RELEASE);
	area_unmap(a, sh);
	return rc;
}
