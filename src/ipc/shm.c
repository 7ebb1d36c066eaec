/* shm.c - "ipclab ipc shm": the course's shared Value and Array, written by one process
 * (or thread) and read by another, then a multi-word record written over and over while
 * the other side reads it and counts torn reads (shm_record.h). --lock none: torn reads
 * are the point, and a run must show them: a run without one is "inconclusive" (exit 4,
 * with how long the two loops overlapped), never "0 torn reads"; --lock mutex
 * (process-shared, robust) or seqlock (the writer makes the sequence number odd around
 * the write, the reader retries on a change): torn reads must be 0 (exit 1 otherwise).
 * Memory: anonymous MAP_SHARED (il_shared_alloc), or with --named a POSIX shm object
 * (shm_open O_CREAT|O_EXCL 0600, its pages reserved with posix_fallocate so a full
 * /dev/shm is exit 3, not SIGBUS) that each side opens and maps by name, as a course's
 * named Value/Array would; the name is removed as soon as both sides have it mapped.
 * Writer and reader are pinned to two different CPUs when there are two (--cpu
 * overrides) and released together by the start barrier. */
#include "shm_record.h"
#include "../core/cleanup.h"
#include "../core/experiment.h"
#include "../core/log.h"
#include "../core/result.h"
#include "../core/spawn.h"
#include "../core/sys.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static const char *const lock_names[] = { "none", "mutex", "seqlock", NULL };

struct shm_cfg {
	uint64_t words;
	int lock;   /* enum il_shm_lock */
	bool named;
};

static const struct shm_cfg shm_defaults = { .words = 8, .lock = IL_SHM_NONE };

static const struct il_opt shm_opts[] = {
	{ .name = "record-words", .type = IL_OPT_U64, .metavar = "W",
	  .help = "words (uint64) in the Array and in the record [default 8]", .min = 2, .max = IL_SHM_MAX_WORDS,
	  .off = IL_CFG(struct shm_cfg, words, uint64_t), .param = "record_words" },
	{ .name = "lock", .type = IL_OPT_CHOICE, .metavar = "L",
	  .help = "record protection: none (torn reads counted), mutex (process-shared), seqlock [default none]",
	  .choices = lock_names, .off = IL_CFG(struct shm_cfg, lock, int), .param = "lock" },
	{ .name = "named", .type = IL_OPT_FLAG,
	  .help = "a named POSIX shm object (shm_open, removed once both sides have mapped it) that each side "
		  "maps by name, instead of anonymous MAP_SHARED memory",
	  .off = IL_CFG(struct shm_cfg, named, bool), .param = "named" },
	{ 0 },
};

/* The memory both sides share (a mapping, and the name while it exists). */
struct area_mem {
	struct il_shm_area *sh;
	char name[64];     /* "" when anonymous */
	int handle;        /* cleanup registration of the name, -1 once removed */
};

/* Creates the named object, reserves its pages, maps it. IL_OK or an exit code after
 * one line; on failure nothing is left. */
static int area_create_named(struct area_mem *m)
{
	il_object_name(m->name, sizeof(m->name), "shm");
	int fd = shm_open(m->name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		il_errno("shm_open %s failed", m->name);
		return il_exit_for_errno(errno);
	}
	if ((m->handle = il_cleanup_add(IL_OBJ_SHM, m->name, 0)) < 0) {
		il_errno("cannot register %s for cleanup", m->name);
		(void)shm_unlink(m->name);
		(void)close(fd);
		return IL_NORES;
	}
	/* ftruncate alone reserves nothing: on a full /dev/shm the first store would be a
	 * SIGBUS. posix_fallocate allocates every page now, or says ENOSPC. */
	int e = posix_fallocate(fd, 0, sizeof(struct il_shm_area));
	void *p = e ? MAP_FAILED : mmap(NULL, sizeof(struct il_shm_area), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED && !e)
		e = errno;
	(void)close(fd);
	if (e) {
		errno = e;
		if (e == ENOSPC)
			il_errno("cannot reserve %zu bytes for %s: /dev/shm is full", sizeof(struct il_shm_area),
				 m->name);
		else
			il_errno("cannot reserve and map %zu bytes for %s", sizeof(struct il_shm_area), m->name);
		il_cleanup_remove(m->handle);
		m->handle = -1;
		return e == ENOSPC ? IL_NORES : il_exit_for_errno(e);
	}
	m->sh = p; /* a new object reads as zeros */
	return IL_OK;
}

static void area_release(struct area_mem *m)
{
	if (m->sh) {
		if (m->name[0])
			(void)munmap(m->sh, sizeof(*m->sh));
		else
			il_shared_free(m->sh, sizeof(*m->sh));
	}
	if (m->handle >= 0)
		il_cleanup_remove(m->handle);
	m->sh = NULL;
	m->handle = -1;
}

/* Joins one side; a killed one is said in one line (any other failure, it said itself). */
static int join_side(struct il_peer *p, const char *role, const char *task)
{
	char how[64];
	int rc = il_join(p, how, sizeof(how));
	if (*how)
		il_fail("the %s (%s) was %s", role, task, how);
	return rc;
}

/* Starts both sides, meets them at the start barrier (then the name can go: both have
 * it mapped), joins the reader, stops and joins the writer. A writer process that ends
 * first (it runs until the reader is done: it was killed, or failed) aborts the reader
 * instead of leaving it to wait for writes. IL_OK or an exit code. */
static int run_sides(const struct il_common *c, struct area_mem *m, struct il_shm_side *arg, const int cpu[2])
{
	struct il_shm_area *sh = m->sh;
	struct il_peer pw, pr;
	int rc;
	if ((rc = il_spawn(&pw, c->mode, cpu[0], il_shm_writer, arg)) != IL_OK) {
		il_barrier_abort(&sh->start);
		return rc;
	}
	if ((rc = il_spawn(&pr, c->mode, cpu[1], il_shm_reader, arg)) != IL_OK) {
		__atomic_store_n(&sh->abort, 1, __ATOMIC_RELEASE);
		il_barrier_abort(&sh->start);
		(void)il_join(&pw, NULL, 0);
		return rc;
	}
	if (il_barrier_wait(&sh->start) < 0)
		__atomic_store_n(&sh->abort, 1, __ATOMIC_RELEASE);
	if (m->handle >= 0) { /* both sides have opened and mapped it */
		il_cleanup_remove(m->handle);
		m->handle = -1;
	}
	int wr = IL_OK;
	bool writer_joined = c->mode == IL_MODE_PROCESS && il_child_ended(-1, true) == pw.pid;
	if (writer_joined) {
		__atomic_store_n(&sh->abort, 1, __ATOMIC_RELEASE);
		wr = join_side(&pw, "writer", "ipclab-shm-w");
	}
	int rr = join_side(&pr, "reader", "ipclab-shm-r");
	if (rr != IL_OK)
		__atomic_store_n(&sh->abort, 1, __ATOMIC_RELEASE);
	__atomic_store_n(&sh->stop, 1, __ATOMIC_RELEASE);
	if (!writer_joined)
		wr = join_side(&pw, "writer", "ipclab-shm-w");
	return wr != IL_OK && writer_joined ? wr : rr != IL_OK ? rr : wr;
}

/* The checks; one line per failed one. IL_OK or IL_FAIL. */
static int judge(const struct shm_cfg *sc, const struct il_shm_area *sh)
{
	bool locked = sc->lock != IL_SHM_NONE;
	if (!sh->value_ok || !sh->array_ok)
		il_fail("the reader did not read back what the writer wrote: Value %s, Array %s",
			sh->value_ok ? "ok" : "wrong", sh->array_ok ? "ok" : "wrong");
	if (sh->value_back)
		il_fail("the Value (one word) went back %" PRIu64 " time(s)", sh->value_back);
	if (locked && sh->torn)
		il_fail("%" PRIu64 " torn read(s) of %" PRIu64 " with a %s (first: w[0]=%" PRIu64 " w[%" PRIu64
			"]=%" PRIu64 ")", sh->torn, sh->reads, lock_names[sc->lock], sh->first_torn[0], sc->words - 1,
			sh->first_torn[sc->words - 1]);
	return sh->value_ok && sh->array_ok && sh->value_back == 0 && (!locked || sh->torn == 0) ? IL_OK : IL_FAIL;
}

static void shm_results(struct il_ctx *x, const struct shm_cfg *sc, const struct area_mem *m)
{
	const struct il_shm_area *sh = m->sh;
	double r_secs = (double)(sh->r_end - sh->r_start) / 1e9, w_secs = (double)(sh->w_end - sh->w_start) / 1e9;
	json_t *checks = json_object(), *first = json_null();
	il_jset(checks, "value_read_back", json_boolean(sh->value_ok));
	il_jset(checks, "array_read_back", json_boolean(sh->array_ok));
	il_jset(checks, "counter_never_back", json_boolean(sh->value_back == 0));
	if (sc->lock != IL_SHM_NONE)
		il_jset(checks, "no_torn_reads", json_boolean(sh->torn == 0));
	if (sh->torn) {
		first = json_array();
		for (unsigned i = 0; i < sc->words; i++)
			(void)json_array_append_new(first, json_integer((json_int_t)sh->first_torn[i]));
	}
	json_t *r = x->results;
	il_jset(r, "value", json_pack("{sI sb}", "expected", (json_int_t)IL_SHM_VALUE_MAGIC, "ok", sh->value_ok));
	il_jset(r, "array", json_pack("{sI sb}", "words", (json_int_t)sc->words, "ok", sh->array_ok));
	il_jset(r, "reads", json_integer((json_int_t)sh->reads));
	il_jset(r, "writes", json_integer((json_int_t)sh->writes));
	il_jset(r, "torn_reads", json_integer((json_int_t)sh->torn));
	il_jset(r, "torn_fraction", json_real(sh->reads ? (double)sh->torn / (double)sh->reads : 0));
	il_jset(r, "first_torn", first);
	il_jset(r, "retries", sc->lock == IL_SHM_SEQLOCK ? json_integer((json_int_t)sh->retries) : json_null());
	il_jset(r, "counter_regressions", json_integer((json_int_t)sh->value_back));
	il_jset(r, "reads_per_s", json_real(r_secs > 0 ? (double)sh->reads / r_secs : 0));
	il_jset(r, "writes_per_s", json_real(w_secs > 0 ? (double)sh->writes / w_secs : 0));
	il_jset(r, "read_ns", json_integer((json_int_t)(sh->r_end - sh->r_start)));
	il_jset(r, "write_ns", json_integer((json_int_t)(sh->w_end - sh->w_start)));
	il_jset(r, "overlap_ns", json_integer((json_int_t)sh->overlap_ns));
	il_jset(r, "overlap_fraction", json_real(sh->r_end > sh->r_start ? (double)sh->overlap_ns /
							     (double)(sh->r_end - sh->r_start) : 0));
	il_jset(r, "writes_during_reads", json_integer((json_int_t)sh->writes_during_reads));
	il_jset(r, "cpu_writer", json_integer(sh->cpu_writer));
	il_jset(r, "cpu_reader", json_integer(sh->cpu_reader));
	il_jset(r, "memory", json_pack("{ss ss? ss?}", "kind", m->name[0] ? "posix-shm" : "anonymous", "name",
				       m->name[0] ? m->name : NULL, "unlinked", m->name[0] ? "once both sides mapped it" : NULL));
	il_jset(r, "checks", checks);
	if (sc->lock == IL_SHM_NONE && sh->torn)
		il_jset(r, "effect", json_pack("{sb so}", "shown", 1, "why",
					       json_sprintf("%" PRIu64 " torn reads of %" PRIu64, sh->torn, sh->reads)));
}

/* --lock none without a torn read shows nothing: say why (once, here), exit 4. */
static int inconclusive(struct il_ctx *x, const struct il_shm_area *sh)
{
	json_t *why = sh->overlap_ns == 0
		? json_sprintf("the writer never wrote while the reader read (%s)",
			       sh->cpu_writer == sh->cpu_reader ? "both ran on one CPU" : "one of them was never running")
		: json_sprintf("the loops overlapped only %" PRIu64 " ns of %" PRIu64 " ns", sh->overlap_ns,
			       sh->r_end - sh->r_start);
	il_err("inconclusive: no torn read: %s", json_string_value(why));
	il_jset(x->results, "inconclusive", json_incref(why));
	il_jset(x->results, "effect", json_pack("{sb so}", "shown", 0, "why", why));
	return IL_UNSUP;
}

static int shm_measure(struct il_ctx *x, void *cfg)
{
	const struct shm_cfg *sc = cfg;
	const struct il_common *c = &x->c;
	int cpu[2] = { c->cpu[0], c->cpu[1] };
	if (cpu[0] < 0 && il_allowed_cpus(cpu, 2) < 2) /* writer and reader: the first two we may use */
		cpu[0] = cpu[1] = -1;
	struct area_mem m = { .handle = -1 };
	int rc = IL_OK;
	if (sc->named) {
		if ((rc = area_create_named(&m)) != IL_OK)
			return rc;
	} else if (!(m.sh = il_shared_alloc(sizeof(*m.sh)))) {
		il_errno("cannot map %zu bytes of shared memory", sizeof(*m.sh));
		return IL_NORES;
	}
	int e = il_shm_area_init(m.sh);
	if (e) {
		errno = e;
		il_errno("cannot initialise the process-shared mutex");
		rc = il_exit_for_errno(e);
		goto out;
	}
	m.sh->same_cpu = cpu[0] >= 0 && cpu[0] == cpu[1];
	if (il_barrier_init(&m.sh->start, 3) < 0) {
		il_err("cannot create the start barrier");
		rc = IL_NORES;
		goto out;
	}
	m.sh->start.poll_ns = 1000000; /* spin: both sides leave it within nanoseconds */
	struct il_shm_side arg = { .sh = sc->named ? NULL : m.sh, .name = sc->named ? m.name : NULL,
				   .words = (unsigned)sc->words, .reads = c->iterations, .lock = sc->lock };
	if ((rc = run_sides(c, &m, &arg, cpu)) != IL_OK)
		goto out; /* the side that failed said why */
	shm_results(x, sc, &m);
	if ((rc = judge(sc, m.sh)) == IL_OK && sc->lock == IL_SHM_NONE && m.sh->torn == 0)
		rc = inconclusive(x, m.sh);
out:
	il_barrier_destroy(&m.sh->start);
	area_release(&m);
	return rc;
}

static double num(const json_t *o, const char *key)
{
	return json_number_value(json_object_get(o, key));
}

static void shm_print(const struct il_ctx *x, const void *cfg)
{
	const struct shm_cfg *sc = cfg;
	const json_t *r = x->results;
	const char *name = json_string_value(json_object_get(json_object_get(r, "memory"), "name"));
	printf("ipc shm: %s mode, lock %s, %" PRIu64 "-word record, %" PRIu64 " reads, %s%s\n",
	       x->c.mode == IL_MODE_THREAD ? "thread" : "process", lock_names[sc->lock], sc->words, x->c.iterations,
	       sc->named ? "named POSIX shm object " : "anonymous MAP_SHARED memory", name ? name : "");
	if (!json_object_get(r, "reads"))
		return; /* a side failed before the record phase */
	printf("writer on CPU %.0f, reader on CPU %.0f\n", num(r, "cpu_writer"), num(r, "cpu_reader"));
	bool vok = json_is_true(json_object_get(json_object_get(r, "value"), "ok"));
	bool aok = json_is_true(json_object_get(json_object_get(r, "array"), "ok"));
	printf("(a) Value 0x%llx: %s; Array of %" PRIu64 " words: %s\n", (unsigned long long)IL_SHM_VALUE_MAGIC,
	       vok ? "read back ok" : "WRONG", sc->words, aok ? "read back ok" : "WRONG");
	double torn = num(r, "torn_reads"), back = num(r, "counter_regressions");
	printf("(b) record: %.0f reads (%.0f/s), %.0f writes (%.0f/s), torn reads %.0f (%.4f%%)", num(r, "reads"),
	       num(r, "reads_per_s"), num(r, "writes"), num(r, "writes_per_s"), torn, 100 * num(r, "torn_fraction"));
	if (sc->lock == IL_SHM_SEQLOCK)
		printf(", retries %.0f", num(r, "retries"));
	printf("%s\n", sc->lock == IL_SHM_NONE ? " (unprotected: expected)" : torn ? " FAIL" : " ok");
	printf("    loops overlapped %.0f us of %.0f us (%.0f writes during the reads)\n", num(r, "overlap_ns") / 1e3,
	       num(r, "read_ns") / 1e3, num(r, "writes_during_reads"));
	printf("    Value as a counter: went back %.0f times%s\n", back, back ? " FAIL" : " (one word is never torn)");
}

const struct il_experiment il_exp_ipc_shm = {
	.group = "ipc",
	.name = "shm",
	.summary = "shared Value/Array between two processes, torn reads of a multi-word record without a lock",
	.help = "A shared Value (one uint64) and Array (W uint64s) written by one side and read by\n"
		"the other, then a W-word record rewritten (every word = its generation) while the\n"
		"other side reads it --iterations times and counts torn reads. --lock none: torn reads\n"
		"are reported, not a failure (a run without one, e.g. on one CPU, is inconclusive:\n"
		"exit 4); mutex and seqlock: any torn read exits 1.",
	.common = IL_C_MODE | IL_C_ITER | IL_C_CPU,
	.defaults = { .iterations = 1000000 },
	.opts = shm_opts,
	.cfg_size = sizeof(struct shm_cfg),
	.cfg_defaults = &shm_defaults,
	.measure = shm_measure,
	.print = shm_print,
	.flags = IL_EXP_GUARD | IL_EXP_PRINT_ON_FAIL,
};
