/* shm.c - "ipclab ipc shm": the course's shared Value and Array, written by one process
 * (or thread) and read by another, then a multi-word record (W words, all = the write's
 * generation number) written over and over while the other side reads it and counts torn
 * reads (words that disagree). --lock none: torn reads are the point, counted, never a
 * failure; --lock mutex (process-shared, robust) or seqlock (the writer makes the
 * sequence number odd around the write, the reader retries on a change): torn reads must
 * be 0 (exit 1 otherwise). The Value is also the writer's generation counter: one aligned
 * word is never torn, so the reader must never see it go back, whatever the lock.
 * Memory: anonymous MAP_SHARED (il_shared_alloc), or with --named a POSIX shm object
 * (shm_open O_CREAT|O_EXCL 0600, registered for cleanup) that each side opens and maps
 * by name, as a course's named Value/Array would. Writer and reader are pinned to two
 * different CPUs when there are two (--cpu overrides). */
#include "../core/cleanup.h"
#include "../core/clock.h"
#include "../core/experiment.h"
#include "../core/log.h"
#include "../core/result.h"
#include "../core/spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define COMMON (IL_C_MODE | IL_C_ITER | IL_C_CPU)
#define MAX_WORDS 64
#define VALUE_MAGIC 0xa11ce5eedULL

static const char *const lock_names[] = { "none", "mutex", "seqlock", NULL };
enum { L_NONE, L_MUTEX, L_SEQLOCK };

struct area {
	int go, abort;          /* start gate; a side failed: stop */
	int a_ready, a_ack;     /* phase (a) handoff */
	int writing;            /* the writer finished its first record write */
	int stop;               /* the reader is done: the writer stops */
	int wstatus, rstatus;   /* each side's result */
	int cpu_writer, cpu_reader;
	pthread_mutex_t mtx;
	/* results */
	uint64_t writes, reads, torn, retries, value_back, lock_errors;
	uint64_t w_start, w_end, r_start, r_end;
	int value_ok, array_ok;
	uint64_t first_torn[MAX_WORDS]; /* a copy of the first torn record seen */
	uint64_t value __attribute__((aligned(64)));   /* the Value: a shared counter */
	uint64_t seq __attribute__((aligned(64)));     /* seqlock sequence number */
	uint64_t array[MAX_WORDS] __attribute__((aligned(64)));
	uint64_t rec[MAX_WORDS] __attribute__((aligned(64)));
};

struct peer_arg {
	struct area *sh;   /* anonymous mapping (NULL when named) */
	const char *name;  /* named object to open and map */
	unsigned words;
	uint64_t reads;
	int lock;
};

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#else
	__asm__ __volatile__("" ::: "memory");
#endif
}

static uint64_t array_expect(unsigned i)
{
	return (uint64_t)i * i + 1;
}

/* Maps the area: the inherited anonymous one, or the named object opened by name. */
static struct area *area_map(const struct peer_arg *a)
{
	if (!a->name)
		return a->sh;
	int fd = shm_open(a->name, O_RDWR | O_CLOEXEC, 0);
	if (fd < 0) {
		il_errno("shm_open %s failed", a->name);
		return NULL;
	}
	void *p = mmap(NULL, sizeof(struct area), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	(void)close(fd);
	if (p == MAP_FAILED) {
		il_errno("mmap of %s failed", a->name);
		return NULL;
	}
	return p;
}

static void area_unmap(const struct peer_arg *a, struct area *sh)
{
	if (a->name && sh)
		(void)munmap(sh, sizeof(*sh));
}

static bool stopping(struct area *sh, int *flag)
{
	return __atomic_load_n(flag, __ATOMIC_ACQUIRE) || __atomic_load_n(&sh->abort, __ATOMIC_ACQUIRE);
}

/* Waits (yielding, no sleep) until *flag is set; false if the run was aborted. */
static bool wait_flag(struct area *sh, int *flag)
{
	while (!__atomic_load_n(flag, __ATOMIC_ACQUIRE)) {
		if (__atomic_load_n(&sh->abort, __ATOMIC_ACQUIRE))
			return false;
		sched_yield();
	}
	return true;
}

static int lock(struct area *sh)
{
	int e = pthread_mutex_lock(&sh->mtx);
	if (e == EOWNERDEAD) { /* the other side died holding it: the record may be half written */
		(void)pthread_mutex_consistent(&sh->mtx);
		(void)pthread_mutex_unlock(&sh->mtx);
	}
	return e;
}

static int writer(void *arg)
{
	const struct peer_arg *a = arg;
	struct area *sh = area_map(a);
	int rc = IL_OK;
	if (!sh)
		return IL_NORES;
	il_set_task_name("ipclab-shm-w");
	sh->cpu_writer = il_cpu_now();
	if (!wait_flag(sh, &sh->go))
		goto out;
	/* (a) the Value and the Array */
	__atomic_store_n(&sh->value, VALUE_MAGIC, __ATOMIC_RELAXED);
	for (unsigned i = 0; i < a->words; i++)
		__atomic_store_n(&sh->array[i], array_expect(i), __ATOMIC_RELAXED);
	__atomic_store_n(&sh->a_ready, 1, __ATOMIC_RELEASE);
	if (!wait_flag(sh, &sh->a_ack))
		goto out;
	/* (b) the record, over and over; the Value counts on from VALUE_MAGIC, one per write */
	uint64_t gen = 0, seq = 0;
	sh->w_start = il_now_ns();
	do {
		gen++;
		if (a->lock == L_MUTEX && lock(sh) != 0) {
			sh->lock_errors++;
			rc = IL_FAIL;
			break;
		}
		if (a->lock == L_SEQLOCK) {
			__atomic_store_n(&sh->seq, ++seq, __ATOMIC_RELAXED); /* odd: writing */
			__atomic_thread_fence(__ATOMIC_RELEASE);
		}
		for (unsigned i = 0; i < a->words; i++)
			__atomic_store_n(&sh->rec[i], gen, __ATOMIC_RELAXED);
		if (a->lock == L_SEQLOCK)
			__atomic_store_n(&sh->seq, ++seq, __ATOMIC_RELEASE); /* even: done */
		if (a->lock == L_MUTEX)
			(void)pthread_mutex_unlock(&sh->mtx);
		__atomic_store_n(&sh->value, VALUE_MAGIC + gen, __ATOMIC_RELAXED);
		if (gen == 1)
			__atomic_store_n(&sh->writing, 1, __ATOMIC_RELEASE);
	} while (!stopping(sh, &sh->stop));
	sh->w_end = il_now_ns();
	sh->writes = gen;
out:
	sh->wstatus = rc;
	area_unmap(a, sh);
	return rc;
}

static int reader(void *arg)
{
	const struct peer_arg *a = arg;
	struct area *sh = area_map(a);
	uint64_t copy[MAX_WORDS];
	unsigned W = a->words;
	int rc = IL_OK;
	if (!sh)
		return IL_NORES;
	il_set_task_name("ipclab-shm-r");
	sh->cpu_reader = il_cpu_now();
	if (!wait_flag(sh, &sh->go) || !wait_flag(sh, &sh->a_ready))
		goto out;
	sh->value_ok = __atomic_load_n(&sh->value, __ATOMIC_RELAXED) == VALUE_MAGIC;
	sh->array_ok = 1;
	for (unsigned i = 0; i < W; i++)
		if (__atomic_load_n(&sh->array[i], __ATOMIC_RELAXED) != array_expect(i))
			sh->array_ok = 0;
	/* the writer may now overwrite the Value; we read while it writes */
	__atomic_store_n(&sh->a_ack, 1, __ATOMIC_RELEASE);
	if (!wait_flag(sh, &sh->writing))
		goto out;
	uint64_t torn = 0, retries = 0, back = 0, last_value = 0;
	sh->r_start = il_now_ns();
	for (uint64_t r = 0; r < a->reads; r++) {
		if (a->lock == L_MUTEX) {
			if (lock(sh) != 0) {
				sh->lock_errors++;
				rc = IL_FAIL;
				break;
			}
			for (unsigned i = 0; i < W; i++)
				copy[i] = __atomic_load_n(&sh->rec[i], __ATOMIC_RELAXED);
			(void)pthread_mutex_unlock(&sh->mtx);
		} else if (a->lock == L_SEQLOCK) {
			for (;;) {
				uint64_t s1 = __atomic_load_n(&sh->seq, __ATOMIC_ACQUIRE);
				if (s1 & 1) {
					retries++;
					cpu_relax();
					continue;
				}
				for (unsigned i = 0; i < W; i++)
					copy[i] = __atomic_load_n(&sh->rec[i], __ATOMIC_RELAXED);
				__atomic_thread_fence(__ATOMIC_ACQUIRE);
				if (__atomic_load_n(&sh->seq, __ATOMIC_RELAXED) == s1)
					break;
				retries++;
			}
		} else {
			for (unsigned i = 0; i < W; i++)
				copy[i] = __atomic_load_n(&sh->rec[i], __ATOMIC_RELAXED);
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
	}
	sh->r_end = il_now_ns();
	sh->reads = a->reads;
	sh->torn = torn;
	sh->retries = retries;
	sh->value_back = back;
out:
	__atomic_store_n(&sh->stop, 1, __ATOMIC_RELEASE);
	sh->rstatus = rc;
	area_unmap(a, sh);
	return rc;
}

/* The first two CPUs we may run on, for writer and reader (-1 when only one). */
static void default_cpus(int cpu[2])
{
	cpu_set_t set;
	cpu[0] = cpu[1] = -1;
	if (sched_getaffinity(0, sizeof(set), &set) < 0)
		return;
	int found = 0, first = -1;
	for (int i = 0; i < CPU_SETSIZE && found < 2; i++)
		if (CPU_ISSET(i, &set)) {
			if (found++ == 0)
				first = i;
			else {
				cpu[0] = first;
				cpu[1] = i;
			}
		}
}

static int mutex_init(pthread_mutex_t *m)
{
	pthread_mutexattr_t at;
	int e = pthread_mutexattr_init(&at);
	if (!e)
		e = pthread_mutexattr_setpshared(&at, PTHREAD_PROCESS_SHARED);
	if (!e)
		e = pthread_mutexattr_setrobust(&at, PTHREAD_MUTEX_ROBUST);
	if (!e)
		e = pthread_mutex_init(m, &at);
	(void)pthread_mutexattr_destroy(&at);
	return e;
}

static int shm_run(int argc, char **argv)
{
	uint64_t words = 8;
	int lk = L_NONE;
	bool named = false;
	const struct il_opt opts[] = {
		{ "record-words", IL_OPT_U64, "W", "words (uint64) in the Array and in the record [default 8]", 2,
		  MAX_WORDS, NULL, &words },
		{ "lock", IL_OPT_CHOICE, "L", "record protection: none (torn reads counted), mutex (process-shared), "
		  "seqlock [default none]", 0, 0, lock_names, &lk },
		{ "named", IL_OPT_FLAG, NULL, "a named POSIX shm object (shm_open, removed at exit) that each side "
		  "maps by name, instead of anonymous MAP_SHARED memory", 0, 0, NULL, &named },
		{ 0 },
	};
	struct il_ctx x;
	il_ctx_begin(&x, argv[0], argc, argv);
	x.c.iterations = 1000000;
	int prc = il_ctx_parse(&x, "A shared Value (one uint64) and Array (W uint64s) written by one side and read by\n"
			       "the other, then a W-word record rewritten (every word = its generation) while the\n"
			       "other side reads it --iterations times and counts torn reads. --lock none: torn reads\n"
			       "are reported, not a failure; mutex and seqlock: any torn read exits 1.",
			       COMMON, opts);
	if (prc != IL_RUN)
		return prc;
	const struct il_common *c = &x.c;
	int cpu[2] = { c->cpu[0], c->cpu[1] };
	if (cpu[0] < 0)
		default_cpus(cpu);
	il_jset(x.params, "record_words", json_integer((json_int_t)words));
	il_jset(x.params, "lock", json_string(lock_names[lk]));
	il_jset(x.params, "named", json_boolean(named));

	char name[64] = "";
	int h = -1, rc = IL_OK;
	struct area *sh = NULL;
	struct il_peer pw, pr;
	bool w_started = false, r_started = false;
	il_guard_install((unsigned)c->timeout_s);
	if (named) {
		il_object_name(name, sizeof(name), "shm");
		int fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0) {
			il_errno("shm_open %s failed", name);
			rc = il_exit_for_errno(errno);
			goto out;
		}
		if ((h = il_cleanup_add(IL_OBJ_SHM, name, 0)) < 0) {
			il_errno("cannot register %s for cleanup", name);
			(void)shm_unlink(name);
			(void)close(fd);
			rc = IL_NORES;
			goto out;
		}
		if (ftruncate(fd, sizeof(struct area)) < 0) {
			il_errno("ftruncate %s failed", name);
			(void)close(fd);
			rc = il_exit_for_errno(errno);
			goto out;
		}
		void *p = mmap(NULL, sizeof(struct area), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		(void)close(fd);
		if (p == MAP_FAILED) {
			il_errno("mmap of %s failed", name);
			rc = il_exit_for_errno(errno);
			goto out;
		}
		sh = p; /* a new object reads as zeros */
	} else if (!(sh = il_shared_alloc(sizeof(*sh)))) {
		il_errno("cannot map %zu bytes of shared memory", sizeof(*sh));
		rc = IL_NORES;
		goto out;
	}
	int e = mutex_init(&sh->mtx);
	if (e) {
		errno = e;
		il_errno("cannot initialise the process-shared mutex");
		rc = il_exit_for_errno(e);
		goto out;
	}
	sh->cpu_writer = sh->cpu_reader = -1;
	struct peer_arg arg = { .sh = named ? NULL : sh, .name = named ? name : NULL, .words = (unsigned)words,
				.reads = c->iterations, .lock = lk };
	if (!c->json || c->json_file) {
		printf("ipc shm: %s mode, lock %s, %" PRIu64 "-word record, %" PRIu64 " reads, %s",
		       c->mode == IL_MODE_THREAD ? "thread" : "process", lock_names[lk], words, c->iterations,
		       named ? "named POSIX shm object " : "anonymous MAP_SHARED memory");
		if (named)
			printf("%s", name);
		printf("\n");
		(void)fflush(stdout);
	}
	if ((rc = il_spawn(&pw, c->mode, cpu[0], writer, &arg)) != 0)
		goto out;
	w_started = true;
	if ((rc = il_spawn(&pr, c->mode, cpu[1], reader, &arg)) != 0) {
		__atomic_store_n(&sh->abort, 1, __ATOMIC_RELEASE);
		goto out;
	}
	r_started = true;
	__atomic_store_n(&sh->go, 1, __ATOMIC_RELEASE);
	char how[64];
	int rr = il_join(&pr, how, sizeof(how));
	r_started = false;
	if (rr != IL_OK)
		__atomic_store_n(&sh->abort, 1, __ATOMIC_RELEASE);
	__atomic_store_n(&sh->stop, 1, __ATOMIC_RELEASE);
	int wr = il_join(&pw, how, sizeof(how));
	w_started = false;
	il_guard_disarm();
	rc = rr != IL_OK ? rr : wr;
	if (rc != IL_OK) {
		il_err("the %s failed (exit %d)", rr != IL_OK ? "reader" : "writer", rc);
		goto out;
	}

	double r_secs = (double)(sh->r_end - sh->r_start) / 1e9, w_secs = (double)(sh->w_end - sh->w_start) / 1e9;
	double rps = r_secs > 0 ? (double)sh->reads / r_secs : 0, wps = w_secs > 0 ? (double)sh->writes / w_secs : 0;
	bool locked = lk != L_NONE;
	json_t *checks = json_object();
	il_jset(checks, "value_read_back", json_boolean(sh->value_ok));
	il_jset(checks, "array_read_back", json_boolean(sh->array_ok));
	il_jset(checks, "counter_never_back", json_boolean(sh->value_back == 0));
	if (locked)
		il_jset(checks, "no_torn_reads", json_boolean(sh->torn == 0));
	bool ok = sh->value_ok && sh->array_ok && sh->value_back == 0 && (!locked || sh->torn == 0);
	if (!sh->value_ok || !sh->array_ok)
		il_fail("the reader did not read back what the writer wrote: Value %s, Array %s",
			sh->value_ok ? "ok" : "wrong", sh->array_ok ? "ok" : "wrong");
	if (sh->value_back)
		il_fail("the Value (one word) went back %" PRIu64 " time(s)", sh->value_back);
	if (locked && sh->torn)
		il_fail("%" PRIu64 " torn read(s) of %" PRIu64 " with a %s (first: w[0]=%" PRIu64 " w[%" PRIu64
			"]=%" PRIu64 ")", sh->torn, sh->reads, lock_names[lk], sh->first_torn[0], words - 1,
			sh->first_torn[words - 1]);
	json_t *first = json_null();
	if (sh->torn) {
		first = json_array();
		for (unsigned i = 0; i < words; i++)
			(void)json_array_append_new(first, json_integer((json_int_t)sh->first_torn[i]));
	}
	il_jset(x.results, "value", json_pack("{sI sb}", "expected", (json_int_t)VALUE_MAGIC, "ok", sh->value_ok));
	il_jset(x.results, "array", json_pack("{sI sb}", "words", (json_int_t)words, "ok", sh->array_ok));
	il_jset(x.results, "reads", json_integer((json_int_t)sh->reads));
	il_jset(x.results, "writes", json_integer((json_int_t)sh->writes));
	il_jset(x.results, "torn_reads", json_integer((json_int_t)sh->torn));
	il_jset(x.results, "torn_fraction", json_real(sh->reads ? (double)sh->torn / (double)sh->reads : 0));
	il_jset(x.results, "first_torn", first);
	il_jset(x.results, "retries", lk == L_SEQLOCK ? json_integer((json_int_t)sh->retries) : json_null());
	il_jset(x.results, "counter_regressions", json_integer((json_int_t)sh->value_back));
	il_jset(x.results, "reads_per_s", json_real(rps));
	il_jset(x.results, "writes_per_s", json_real(wps));
	il_jset(x.results, "read_ns", json_integer((json_int_t)(sh->r_end - sh->r_start)));
	il_jset(x.results, "write_ns", json_integer((json_int_t)(sh->w_end - sh->w_start)));
	il_jset(x.results, "cpu_writer", json_integer(sh->cpu_writer));
	il_jset(x.results, "cpu_reader", json_integer(sh->cpu_reader));
	il_jset(x.results, "memory", json_pack("{ss ss?}", "kind", named ? "posix-shm" : "anonymous",
					       "name", named ? name : NULL));
	il_jset(x.results, "checks", checks);
	if (!c->json || c->json_file) {
		printf("writer on CPU %d, reader on CPU %d\n", sh->cpu_writer, sh->cpu_reader);
		printf("(a) Value 0x%llx: %s; Array of %" PRIu64 " words: %s\n", (unsigned long long)VALUE_MAGIC,
		       sh->value_ok ? "read back ok" : "WRONG", words, sh->array_ok ? "read back ok" : "WRONG");
		printf("(b) record: %" PRIu64 " reads (%.0f/s), %" PRIu64 " writes (%.0f/s), torn reads %" PRIu64
		       " (%.4f%%)", sh->reads, rps, sh->writes, wps, sh->torn,
		       sh->reads ? 100.0 * (double)sh->torn / (double)sh->reads : 0.0);
		if (lk == L_SEQLOCK)
			printf(", retries %" PRIu64, sh->retries);
		printf("%s\n", lk == L_NONE ? " (unprotected: expected)" : sh->torn ? " FAIL" : " ok");
		printf("    Value as a counter: went back %" PRIu64 " times%s\n", sh->value_back,
		       sh->value_back ? " FAIL" : " (one word is never torn)");
	}
	rc = ok ? IL_OK : IL_FAIL;
out:
	if (r_started || w_started) {
		__atomic_store_n(&sh->abort, 1, __ATOMIC_RELEASE);
		if (r_started)
			il_peer_abort(&pr);
		if (w_started)
			il_peer_abort(&pw);
	}
	il_guard_disarm();
	if (sh) {
		if (named)
			(void)munmap(sh, sizeof(*sh));
		else
			il_shared_free(sh, sizeof(*sh));
	}
	if (h >= 0)
		il_cleanup_remove(h);
	return il_ctx_finish(&x, rc);
}

const struct il_experiment il_exp_ipc_shm = {
	.group = "ipc",
	.name = "shm",
	.summary = "shared Value/Array between two processes, torn reads of a multi-word record without a lock",
	.run = shm_run,
};
