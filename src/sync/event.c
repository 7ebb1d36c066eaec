/* event.c - "ipclab sync event": the Event (event.h) implemented four ways, checked and
 * timed between two peers (threads or processes).
 * Checks, in the main process: a new event is clear; after set, is_set is true and a
 * wait returns at once (well before its 1 s timeout); after clear, is_set is false and
 * every timed wait times out, never before its deadline. Lateness (return - deadline) of
 * those timed waits is the "timer slack" a program pays.
 * Set -> wake latency: the waiter peer blocks in wait() (the setter first makes sure it is
 * asleep: its task state in /proc/<tid>/stat is S), the setter stamps CLOCK_MONOTONIC just
 * before set(), the waiter just after wait() returned; the waiter then checks is_set,
 * clears, and sets a second event of the same kind (the ack) so the next round starts
 * clean. --cpu A[,B] pins the setter to A and the waiter to B; --repeat N runs the rounds
 * with N successive waiters (per-repeat p50s and their spread). Events: run_begin/run_end
 * only (one pair per run). */
#include "event.h"
#include "sync.h"
#include "../core/cleanup.h"
#include "../core/clock.h"
#include "../core/experiment.h"
#include "../core/hist.h"
#include "../core/log.h"
#include "../core/sys.h"
#include "../core/result.h"
#include "../core/tp.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define COMMON (IL_C_ITER | IL_C_WARMUP | IL_C_REPEAT | IL_C_MODE | IL_C_CPU | IL_C_HIST)
#define HIST_MAX_NS (10ull * 1000 * 1000 * 1000)
#define IMMEDIATE_TIMEOUT_NS (1000ull * 1000 * 1000) /* "returns at once": well before 1 s */
#define ASLEEP_MAX_NS (20ull * 1000 * 1000)           /* give up waiting for S after 20 ms */

static const char *const impl_names[] = { "condvar", "eventfd", "futex", "pipe", NULL };
static const struct ev_ops *const impls[] = { &ev_condvar, &ev_eventfd, &ev_futex, &ev_pipe };

struct shared {
	struct ev ev, ack;
	struct il_hist wake;        /* filled by the waiter */
	uint64_t t_set;             /* setter's stamp before set() */
	uint64_t waiting_seq;       /* round the waiter is about to wait for, +1 */
	int tid;                    /* the waiter's tid */
	volatile int stop;          /* setter -> waiter: leave */
	volatile int done;          /* waiter finished */
	uint64_t is_set_seen;       /* rounds where the waiter saw is_set true after waking */
	int status;
	int cpu_start, cpu_end;      /* the waiter's CPU at its start and end */
	char why[160];
};

struct run {
	struct shared *sh;
	const struct ev_ops *ops;
	uint64_t total, warmup;
};

static int waiter(void *arg)
{
	const struct run *r = arg;
	struct shared *sh = r->sh;
	const struct ev_ops *o = r->ops;
	il_set_task_name("ipclab-evwait");
	sh->cpu_start = il_cpu_now();
	__atomic_store_n(&sh->tid, gettid(), __ATOMIC_RELEASE);
	int rc = IL_OK;
	for (uint64_t i = 0; i < r->total; i++) {
		__atomic_store_n(&sh->waiting_seq, i + 1, __ATOMIC_RELEASE);
		int w = o->wait(&sh->ev, -1);
		uint64_t t = il_now_ns();
		if (sh->stop)
			break;
		if (w != 1) {
			(void)snprintf(sh->why, sizeof(sh->why), "waiter: wait %" PRIu64 " returned %d: %s", i, w,
				       strerror(errno));
			rc = IL_FAIL;
			break;
		}
		if (i >= r->warmup)
			il_hist_add(&sh->wake, t - sh->t_set);
		if (o->is_set(&sh->ev) == 1)
			sh->is_set_seen++;
		if (o->clear(&sh->ev) < 0 || o->set(&sh->ack) < 0) {
			(void)snprintf(sh->why, sizeof(sh->why), "waiter: clear/set failed: %s", strerror(errno));
			rc = IL_FAIL;
			break;
		}
	}
	sh->status = rc;
	sh->cpu_end = il_cpu_now();
	__atomic_store_n(&sh->done, 1, __ATOMIC_RELEASE);
	return rc;
}

/* True while the peer lives (process: not exited; thread: not done). */
static bool peer_alive(const struct il_peer *p, const struct shared *sh)
{
	if (p->mode == IL_MODE_PROCESS) {
		return il_child_ended(p->pid, false) <= 0;
	}
	return !__atomic_load_n(&sh->done, __ATOMIC_ACQUIRE);
}

/* One repeat's counts, and the setter's CPU at its start and end. */
struct wake_out {
	uint64_t asleep, not_asleep, rounds;
	int cpu_start, cpu_end;
};

/* One repeat of the set -> wake rounds: a fresh waiter peer (it fills sh->wake),
 * each round started only once it sleeps in wait(), ended by its ack; joined at the end.
 * The event and the ack are clear again after a full repeat. */
static int wake_repeat(struct il_ctx *x, struct run *r, struct wake_out *wo)
{
	const struct il_common *c = &x->c;
	struct shared *sh = r->sh;
	const struct ev_ops *o = r->ops;
	struct il_peer peer;
	char how[128] = "";
	int rc, procfd = -1, w;
	memset(wo, 0, sizeof(*wo));
	wo->cpu_start = wo->cpu_end = -1;
	il_hist_init(&sh->wake, HIST_MAX_NS);
	sh->waiting_seq = 0;
	sh->tid = 0;
	sh->stop = 0;
	sh->done = 0;
	sh->is_set_seen = 0;
	sh->status = IL_OK;
	sh->why[0] = 0;
	sh->cpu_start = sh->cpu_end = -1;
	wo->cpu_start = il_cpu_now();
	if ((rc = il_spawn(&peer, c->mode, c->cpu[1], waiter, r)) != 0)
		return rc;
	for (uint64_t i = 0; i < r->total && rc == IL_OK; i++) {
		/* wait for the waiter to be in wait() and asleep (state S) */
		uint64_t ts = il_now_ns();
		bool s = false;
		while (il_now_ns() - ts < ASLEEP_MAX_NS) {
			if (__atomic_load_n(&sh->waiting_seq, __ATOMIC_ACQUIRE) == i + 1) {
				if (procfd < 0) {
					char path[64];
					(void)snprintf(path, sizeof(path), "/proc/%d/stat", __atomic_load_n(&sh->tid, __ATOMIC_ACQUIRE));
					procfd = open(path, O_RDONLY | O_CLOEXEC);
				}
				struct il_proc_stat ps;
				if (procfd >= 0 && il_proc_stat_fd(procfd, &ps) == 0 && ps.state == 'S') {
					s = true;
					break;
				}
			}
			if (!peer_alive(&peer, sh))
				break;
			(void)sched_yield();
		}
		wo->asleep += s;
		wo->not_asleep += !s;
		sh->t_set = il_now_ns();
		if (o->set(&sh->ev) < 0) {
			il_errno("set %" PRIu64 " failed", i);
			rc = IL_FAIL;
			break;
		}
		for (;;) {
			w = o->wait(&sh->ack, (int64_t)SL_SLICE_NS);
			if (w == 1)
				break;
			if (w < 0) {
				il_errno("waiting for the ack %" PRIu64 " failed", i);
				rc = IL_FAIL;
				break;
			}
			if (!peer_alive(&peer, sh)) {
				il_fail("the waiter went away in round %" PRIu64, i);
				rc = IL_FAIL;
				break;
			}
		}
		if (rc == IL_OK && o->clear(&sh->ack) < 0) {
			il_errno("clear of the ack failed");
			rc = IL_FAIL;
		}
		if (rc == IL_OK)
			wo->rounds++;
	}
	if (rc != IL_OK) { /* let a waiter still blocked in wait() go */
		sh->stop = 1;
		(void)o->set(&sh->ev);
	}
	wo->cpu_end = il_cpu_now();
	int jrc = il_join(&peer, how, sizeof(how));
	if (*how)
		il_fail("the waiter was %s", how);
	else if (jrc && sh->why[0])
		il_err("%s", sh->why);
	if (rc == IL_OK)
		rc = jrc;
	return rc;
}

/* Adds one named check; returns ok. */
static bool check(json_t *checks, bool *all, const char *name, bool ok)
{
	il_jset(checks, name, json_boolean(ok));
	if (!ok)
		il_fail("check %s failed", name);
	*all &= ok;
	return ok;
}

static int event_run(int argc, char **argv)
{
	int impl = 0;
	uint64_t wait_us = 1000, nwaits = 20;
	const struct il_opt opts[] = {
		{ "impl", IL_OPT_CHOICE, "I", "how the Event is built: condvar, eventfd, futex or pipe", 0, 0, impl_names, &impl },
		{ "wait-us", IL_OPT_U64, "T", "timeout of the timed waits on a cleared event, us (default 1000)",
		  1, 1000000, NULL, &wait_us },
		{ "timed-waits", IL_OPT_U64, "M", "timed waits whose lateness is measured (default 20)", 1, 10000, NULL, &nwaits },
		{ 0 },
	};
	struct il_ctx x;
	il_ctx_begin(&x, argv[0], argc, argv);
	x.c.iterations = 1000;
	x.c.warmup = 100;
	int prc = il_ctx_parse(&x, "The course's Event (wait [timeout], set, clear, is_set) built on a condition\n"
			       "variable, an eventfd, a futex or a pipe: semantic checks, set->wake latency\n"
			       "between two threads or processes, and how late a timed wait returns.",
			       COMMON, opts);
	if (prc != IL_RUN)
		return prc;
	const struct il_common *c = &x.c;
	const struct ev_ops *o = impls[impl];
	const int64_t tmo = (int64_t)wait_us * 1000;
	il_jset(x.params, "impl", json_string(o->name));
	il_jset(x.params, "wait_us", json_integer((json_int_t)wait_us));
	il_jset(x.params, "timed_waits", json_integer((json_int_t)nwaits));

	struct shared *sh = il_shared_alloc(sizeof(*sh));
	struct il_hist *late = malloc(sizeof(*late)), *wake = malloc(sizeof(*wake));
	struct il_repeats spread = { 0 };
	int rc = IL_OK, inited = 0;
	if (!sh || !late || !wake || il_repeats_init(&spread, c->repeat) < 0) {
		il_err("out of memory");
		rc = IL_NORES;
		goto out;
	}
	il_hist_init(wake, HIST_MAX_NS);
	il_hist_init(late, HIST_MAX_NS);
	sh->ev.mode = sh->ack.mode = c->mode;
	int e = o->init(&sh->ev, c->mode);
	if (!e) {
		inited = 1;
		e = o->init(&sh->ack, c->mode);
	}
	if (e) {
		errno = -e;
		il_errno("cannot create the %s event", o->name);
		rc = il_exit_for_errno(-e);
		goto out;
	}
	inited = 2;
	il_guard_install((unsigned)c->timeout_s);
	lttng_ust_tracepoint(ipclab_run, run_begin, x.experiment, o->name, c->mode, 0, c->iterations, c->warmup);

	/* Semantic checks, one context. */
	json_t *checks = json_object();
	bool ok = true;
	(void)check(checks, &ok, "initially_clear", o->is_set(&sh->ev) == 0);
	(void)o->set(&sh->ev);
	(void)check(checks, &ok, "is_set_after_set", o->is_set(&sh->ev) == 1);
	uint64_t t0 = il_now_ns();
	int w = o->wait(&sh->ev, (int64_t)IMMEDIATE_TIMEOUT_NS);
	uint64_t immediate = il_now_ns() - t0;
	(void)check(checks, &ok, "wait_on_set_returns_at_once", w == 1 && immediate < IMMEDIATE_TIMEOUT_NS / 2);
	(void)check(checks, &ok, "still_set_after_wait", o->is_set(&sh->ev) == 1);
	(void)o->clear(&sh->ev);
	(void)check(checks, &ok, "is_clear_after_clear", o->is_set(&sh->ev) == 0);
	uint64_t timed_out = 0, early = 0;
	for (uint64_t i = 0; i < nwaits; i++) {
		t0 = il_now_ns();
		w = o->wait(&sh->ev, tmo);
		uint64_t el = il_now_ns() - t0;
		timed_out += w == 0;
		if (el < (uint64_t)tmo)
			early++;
		else
			il_hist_add(late, el - (uint64_t)tmo);
	}
	(void)check(checks, &ok, "cleared_wait_times_out", timed_out == nwaits);
	(void)check(checks, &ok, "timed_wait_never_early", early == 0);

	/* Set -> wake latency with a waiter peer, --repeat times (a new waiter each time). */
	struct run r = { .sh = sh, .ops = o, .total = c->warmup + c->iterations, .warmup = c->warmup };
	struct wake_out wo = { 0 };
	uint64_t asleep = 0, not_asleep = 0, rounds = 0, seen = 0;
	json_t *reps = json_array();
	if ((rc = il_pin_main(c->cpu[0], "the setter")) != IL_OK)
		goto out_run;
	for (uint32_t rep = 0; rep < c->repeat && rc == IL_OK; rep++) {
		il_info("%s %s: repeat %u/%" PRIu64, o->name, c->mode == IL_MODE_THREAD ? "thread" : "process", rep + 1,
			c->repeat);
		rc = wake_repeat(&x, &r, &wo);
		asleep += wo.asleep;
		not_asleep += wo.not_asleep;
		rounds += wo.rounds;
		seen += sh->is_set_seen;
		if (rc != IL_OK)
			break;
		il_hist_merge(wake, &sh->wake);
		il_repeats_add(&spread, &sh->wake);
		(void)json_array_append_new(reps, json_pack("{sI sI sf s{s[ii] s[ii]}}", "repeat", (json_int_t)rep,
			"wake_p50", (json_int_t)il_hist_percentile(&sh->wake, 50), "wake_mean", il_hist_mean(&sh->wake),
			"cpu", "setter", wo.cpu_start,
			wo.cpu_end, "waiter", sh->cpu_start, sh->cpu_end));
	}
	if (rc == IL_OK)
		(void)check(checks, &ok, "waiter_saw_is_set", seen == r.total * c->repeat);
out_run:
	lttng_ust_tracepoint(ipclab_run, run_end, x.experiment, o->name, 0, rc);
	il_guard_disarm();
	if (rc == IL_OK && !ok)
		rc = IL_FAIL;

	il_jset(x.results, "impl", json_pack("{ss ss}", "name", o->name, "how", o->how));
	il_jset(x.results, "checks", checks);
	il_jset(x.results, "immediate_wait_ns", json_integer((json_int_t)immediate));
	il_jset(x.results, "wake_latency", il_json_summary(wake));
	il_jset(x.results, "rounds", json_integer((json_int_t)rounds));
	il_jset(x.results, "repeats", reps);
	double rsd_p50;
	il_repeats_results(&x, &spread, &rsd_p50, NULL);
	il_jset(x.results, "waiter_asleep", json_pack("{sI sI ss}", "asleep_before_set", (json_int_t)asleep,
		"not_asleep", (json_int_t)not_asleep, "basis", "task state S in /proc/<tid>/stat before set()"));
	il_jset(x.results, "timed_wait", json_pack("{sI sI sI sI so}", "timeout_ns", (json_int_t)tmo,
		"count", (json_int_t)nwaits, "timed_out", (json_int_t)timed_out, "early", (json_int_t)early,
		"lateness", il_json_summary(late)));
	il_jset(x.results, "traced", json_boolean(il_trace_loaded()));

	if (!c->json || c->json_file) {
		struct il_summary s, l;
		il_hist_summary(wake, &s);
		il_hist_summary(late, &l);
		printf("sync event: %s (%s), %s mode, %s", o->name, o->how, c->mode == IL_MODE_THREAD ? "thread" : "process",
		       il_placement_text(c));
		if (c->cpu[0] >= 0)
			printf(" (%d,%d)", c->cpu[0], c->cpu[1]);
		printf(", %" PRIu64 " rounds x %" PRIu64 " repeats (+%" PRIu64 " warm-up)%s\n", c->iterations, c->repeat,
		       c->warmup, il_trace_loaded() ? ", traced" : "");
		printf("  checks: %s; wait on a set event returned in %" PRIu64 " ns\n", ok ? "all passed" : "FAILED",
		       immediate);
		printf("  set->wake ns: count %" PRIu64 " min %" PRIu64 " p50 %" PRIu64 " p99 %" PRIu64 " max %" PRIu64
		       " (waiter asleep before set: %" PRIu64 "/%" PRIu64 ")\n", s.count, s.min, s.p50, s.p99, s.max,
		       asleep, asleep + not_asleep);
		if (spread.n > 1)
			printf("  repeat-to-repeat rel. stddev of the set->wake p50: %.1f %%\n",
			       100 * rsd_p50);
		printf("  timed wait %" PRIu64 " us on a clear event: %" PRIu64 "/%" PRIu64 " timed out, lateness ns p50 %"
		       PRIu64 " max %" PRIu64 "\n", wait_us, timed_out, nwaits, l.p50, l.max);
	}
	if (c->hist) {
		const struct il_hist *hs[] = { wake, late };
		static const char *const names[] = { "wake_latency", "timed_wait_lateness" };
		if (il_write_hists(c->hist_file, 2, hs, names) != IL_OK)
			rc = IL_FAIL;
	}
out:
	if (inited >= 1)
		o->destroy(&sh->ev);
	if (inited >= 2)
		o->destroy(&sh->ack);
	il_shared_free(sh, sizeof(*sh));
	free(late);
	free(wake);
	il_repeats_free(&spread);
	return il_ctx_finish(&x, rc);
}

const struct il_experiment il_exp_sync_event = {
	.group = "sync",
	.name = "event",
	.summary = "the Event (wait/set/clear/is_set) on condvar, eventfd, futex, pipe: checks, set->wake latency",
	.run = event_run,
};
