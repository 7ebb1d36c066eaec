/* event.c - "ipclab sync event": the Event (event.h) implemented four ways, checked and
 * timed between two peers (threads or processes).
 * Checks, in the main process: a new event is clear; after set, is_set is true and a
 * wait returns it set (not timed out: its timeout is 1 s); after clear, is_set is false and
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
#include "lock.h"
#include "../core/clock.h"
#include "../core/experiment.h"
#include "../core/hist.h"
#include "../core/log.h"
#include "../core/result.h"
#include "../core/spawn.h"
#include "../core/sys.h"
#include "../core/tp.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define HIST_MAX_NS (10ull * 1000 * 1000 * 1000)
#define IMMEDIATE_TIMEOUT_NS (1000ull * 1000 * 1000) /* a wait on a set event: returns, not times out */
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
	int cpu_start, cpu_end;      /* the waiter's CPU at its start and end */
};

struct event_cfg {
	int impl;                   /* index in impls */
	uint64_t wait_us, timed_waits;
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
			il_errno("waiter: wait %" PRIu64 " returned %d", i, w);
			rc = IL_FAIL;
			break;
		}
		if (i >= r->warmup)
			il_hist_add(&sh->wake, t - sh->t_set);
		if (o->is_set(&sh->ev) == 1)
			sh->is_set_seen++;
		if (o->clear(&sh->ev) < 0 || o->set(&sh->ack) < 0) {
			il_errno("waiter: clear/set failed");
			rc = IL_FAIL;
			break;
		}
	}
	sh->cpu_end = il_cpu_now();
	__atomic_store_n(&sh->done, 1, __ATOMIC_RELEASE);
	return rc;
}

/* True while the peer lives (process: not exited; thread: not done). */
static bool peer_alive(const struct il_peer *p, const struct shared *sh)
{
	if (p->mode == IL_MODE_PROCESS)
		return il_child_ended(p->pid, false) <= 0;
	return !__atomic_load_n(&sh->done, __ATOMIC_ACQUIRE);
}

/* One repeat's counts, and the setter's CPU at its start and end. */
struct wake_out {
	uint64_t asleep, not_asleep, rounds;
	int cpu_start, cpu_end;
	int procfd;                 /* the waiter's /proc/<tid>/stat, -1 */
};

/* Waits (at most ASLEEP_MAX_NS) until the waiter is in its wait for round i and asleep
 * (task state S). True if it was. */
static bool waiter_asleep(const struct il_peer *peer, struct shared *sh, uint64_t i, struct wake_out *wo)
{
	const uint64_t ts = il_now_ns();
	while (il_now_ns() - ts < ASLEEP_MAX_NS && peer_alive(peer, sh)) {
		if (__atomic_load_n(&sh->waiting_seq, __ATOMIC_ACQUIRE) == i + 1) {
			if (wo->procfd < 0) {
				char path[64];
				(void)snprintf(path, sizeof(path), "/proc/%d/stat", __atomic_load_n(&sh->tid, __ATOMIC_ACQUIRE));
				wo->procfd = open(path, O_RDONLY | O_CLOEXEC);
			}
			struct il_proc_stat ps;
			if (wo->procfd >= 0 && il_proc_stat_fd(wo->procfd, &ps) == 0 && ps.state == 'S')
				return true;
		}
		(void)sched_yield();
	}
	return false;
}

/* Round i: set, then wait for the waiter's ack and clear it. The exit code. */
static int wake_round(const struct ev_ops *o, struct shared *sh, const struct il_peer *peer, uint64_t i)
{
	sh->t_set = il_now_ns();
	if (o->set(&sh->ev) < 0) {
		il_errno("set %" PRIu64 " failed", i);
		return IL_FAIL;
	}
	int w;
	while ((w = o->wait(&sh->ack, (int64_t)SL_SLICE_NS)) != 1) {
		if (w < 0) {
			il_errno("waiting for the ack %" PRIu64 " failed", i);
			return IL_FAIL;
		}
		if (!peer_alive(peer, sh)) {
			il_fail("the waiter went away in round %" PRIu64, i);
			return IL_FAIL;
		}
	}
	if (o->clear(&sh->ack) < 0) {
		il_errno("clear of the ack failed");
		return IL_FAIL;
	}
	return IL_OK;
}

/* One repeat of the set -> wake rounds: a fresh waiter peer (it fills sh->wake),
 * each round started only once it sleeps in wait(), ended by its ack; joined at the end.
 * The event and the ack are clear again after a full repeat. */
static int wake_repeat(struct il_ctx *x, struct run *r, struct wake_out *wo)
{
	const struct il_common *c = &x->c;
	struct shared *sh = r->sh;
	struct il_peer peer;
	char how[128] = "";
	*wo = (struct wake_out){ .cpu_start = il_cpu_now(), .cpu_end = -1, .procfd = -1 };
	il_hist_init(&sh->wake, HIST_MAX_NS);
	sh->waiting_seq = 0;
	sh->tid = 0;
	sh->stop = 0;
	sh->done = 0;
	sh->is_set_seen = 0;
	sh->cpu_start = sh->cpu_end = -1;
	int rc = il_spawn(&peer, c->mode, c->cpu[1], waiter, r);
	if (rc != IL_OK)
		return rc;
	for (uint64_t i = 0; i < r->total && rc == IL_OK; i++) {
		bool s = waiter_asleep(&peer, sh, i, wo);
		wo->asleep += s;
		wo->not_asleep += !s;
		rc = wake_round(r->ops, sh, &peer, i);
		wo->rounds += rc == IL_OK;
	}
	if (rc != IL_OK) { /* let a waiter still blocked in wait() go */
		sh->stop = 1;
		(void)r->ops->set(&sh->ev);
	}
	wo->cpu_end = il_cpu_now();
	if (wo->procfd >= 0)
		(void)close(wo->procfd);
	int jrc = il_join(&peer, how, sizeof(how));
	if (*how)
		il_fail("the waiter was %s", how);
	return rc == IL_OK ? jrc : rc;
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

/* The Event's semantics, in one context, into checks; the timed waits' lateness into
 * late. Records immediate_wait_ns and timed_wait in x->results. */
static void semantics(struct il_ctx *x, const struct event_cfg *ec, struct ev *ev, json_t *checks, bool *ok,
		      struct il_hist *late)
{
	const struct ev_ops *o = impls[ec->impl];
	const uint64_t tmo = ec->wait_us * 1000;
	(void)check(checks, ok, "initially_clear", o->is_set(ev) == 0);
	(void)o->set(ev);
	(void)check(checks, ok, "is_set_after_set", o->is_set(ev) == 1);
	uint64_t t0 = il_now_ns();
	int w = o->wait(ev, (int64_t)IMMEDIATE_TIMEOUT_NS);
	uint64_t immediate = il_now_ns() - t0;
	(void)check(checks, ok, "wait_on_set_returns_at_once", w == 1);
	(void)check(checks, ok, "still_set_after_wait", o->is_set(ev) == 1);
	(void)o->clear(ev);
	(void)check(checks, ok, "is_clear_after_clear", o->is_set(ev) == 0);
	uint64_t timed_out = 0, early = 0;
	for (uint64_t i = 0; i < ec->timed_waits; i++) {
		t0 = il_now_ns();
		w = o->wait(ev, (int64_t)tmo);
		uint64_t el = il_now_ns() - t0;
		timed_out += w == 0;
		if (el < tmo)
			early++;
		else
			il_hist_add(late, el - tmo);
	}
	(void)check(checks, ok, "cleared_wait_times_out", timed_out == ec->timed_waits);
	(void)check(checks, ok, "timed_wait_never_early", early == 0);
	il_jset(x->results, "immediate_wait_ns", json_integer((json_int_t)immediate));
	il_jset(x->results, "timed_wait", json_pack("{sI sI sI sI so}", "timeout_ns", (json_int_t)tmo,
		"count", (json_int_t)ec->timed_waits, "timed_out", (json_int_t)timed_out, "early", (json_int_t)early,
		"lateness", il_json_summary(late)));
}

/* Set -> wake latency with a waiter peer, --repeat times (a new waiter each time), into
 * wake and x->results. */
static int wake_latency(struct il_ctx *x, struct run *r, struct il_hist *wake, json_t *checks, bool *ok)
{
	const struct il_common *c = &x->c;
	struct il_repeats spread = { 0 };
	struct wake_out wo = { 0 };
	uint64_t asleep = 0, not_asleep = 0, rounds = 0, seen = 0;
	json_t *reps = json_array();
	il_jset(x->results, "repeats", reps);
	if (il_repeats_init(&spread, c->repeat) < 0) {
		il_err("out of memory");
		return IL_NORES;
	}
	int rc = il_pin_main(c->cpu[0], "the setter");
	for (uint32_t rep = 0; rep < c->repeat && rc == IL_OK; rep++) {
		il_info("%s %s: repeat %u/%" PRIu64, r->ops->name, c->mode == IL_MODE_THREAD ? "thread" : "process",
			rep + 1, c->repeat);
		rc = wake_repeat(x, r, &wo);
		asleep += wo.asleep;
		not_asleep += wo.not_asleep;
		rounds += wo.rounds;
		seen += r->sh->is_set_seen;
		if (rc != IL_OK)
			break;
		il_hist_merge(wake, &r->sh->wake);
		il_repeats_add(&spread, &r->sh->wake);
		(void)json_array_append_new(reps, json_pack("{sI sI sf s{s[ii] s[ii]}}", "repeat", (json_int_t)rep,
			"wake_p50", (json_int_t)il_hist_percentile(&r->sh->wake, 50), "wake_mean", il_hist_mean(&r->sh->wake),
			"cpu", "setter", wo.cpu_start, wo.cpu_end, "waiter", r->sh->cpu_start, r->sh->cpu_end));
	}
	if (rc == IL_OK)
		(void)check(checks, ok, "waiter_saw_is_set", seen == r->total * c->repeat);
	double rsd_p50;
	il_repeats_results(x, &spread, &rsd_p50, NULL);
	il_repeats_free(&spread);
	il_jset(x->results, "wake_latency", il_json_summary(wake));
	il_jset(x->results, "rounds", json_integer((json_int_t)rounds));
	il_jset(x->results, "waiter_asleep", json_pack("{sI sI ss}", "asleep_before_set", (json_int_t)asleep,
		"not_asleep", (json_int_t)not_asleep, "basis", "task state S in /proc/<tid>/stat before set()"));
	return rc;
}

static int event_measure(struct il_ctx *x, void *cfg)
{
	const struct event_cfg *ec = cfg;
	const struct il_common *c = &x->c;
	const struct ev_ops *o = impls[ec->impl];
	struct shared *sh = il_shared_alloc(sizeof(*sh));
	struct il_hist *late = malloc(sizeof(*late)), *wake = malloc(sizeof(*wake));
	int rc = IL_NORES, inited = 0;
	if (!sh || !late || !wake) {
		il_err("out of memory");
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
	lttng_ust_tracepoint(ipclab_run, run_begin, x->experiment, o->name, c->mode, 0, c->iterations, c->warmup);
	json_t *checks = json_object();
	bool ok = true;
	il_jset(x->results, "impl", json_pack("{ss ss}", "name", o->name, "how", o->how));
	il_jset(x->results, "checks", checks);
	semantics(x, ec, &sh->ev, checks, &ok, late);
	struct run r = { .sh = sh, .ops = o, .total = c->warmup + c->iterations, .warmup = c->warmup };
	rc = wake_latency(x, &r, wake, checks, &ok);
	lttng_ust_tracepoint(ipclab_run, run_end, x->experiment, o->name, 0, rc);
	if (rc == IL_OK && !ok)
		rc = IL_FAIL;
	il_ctx_hist(x, "wake_latency", wake);
	il_ctx_hist(x, "timed_wait_lateness", late);
out:
	if (inited >= 1)
		o->destroy(&sh->ev);
	if (inited >= 2)
		o->destroy(&sh->ack);
	il_shared_free(sh, sizeof(*sh));
	free(late);
	free(wake);
	return rc;
}

static void event_print(const struct il_ctx *x, const void *cfg)
{
	const struct event_cfg *ec = cfg;
	const struct il_common *c = &x->c;
	const json_t *r = x->results, *wl = json_object_get(r, "wake_latency"), *tw = json_object_get(r, "timed_wait");
	const json_t *late = json_object_get(tw, "lateness"), *as = json_object_get(r, "waiter_asleep");
	const struct ev_ops *o = impls[ec->impl];
	bool ok = true;
	const char *k;
	json_t *v;
	json_object_foreach(json_object_get(r, "checks"), k, v)
		ok &= json_is_true(v);
	printf("sync event: %s (%s), %s mode, %s", o->name, o->how, c->mode == IL_MODE_THREAD ? "thread" : "process",
	       il_placement_text(c));
	if (c->cpu[0] >= 0)
		printf(" (%d,%d)", c->cpu[0], c->cpu[1]);
	printf(", %" PRIu64 " rounds x %" PRIu64 " repeats (+%" PRIu64 " warm-up)%s\n", c->iterations, c->repeat,
	       c->warmup, json_is_true(json_object_get(r, "traced")) ? ", traced" : "");
	printf("  checks: %s; wait on a set event returned in %.0f ns\n", ok ? "all passed" : "FAILED",
	       il_jnum(r, "immediate_wait_ns"));
	printf("  set->wake ns: count %.0f min %.0f p50 %.0f p99 %.0f max %.0f (waiter asleep before set: %.0f/%.0f)\n",
	       il_jnum(wl, "count"), il_jnum(wl, "min"), il_jnum(wl, "p50"), il_jnum(wl, "p99"), il_jnum(wl, "max"),
	       il_jnum(as, "asleep_before_set"), il_jnum(as, "asleep_before_set") + il_jnum(as, "not_asleep"));
	if (c->repeat > 1)
		printf("  repeat-to-repeat rel. stddev of the set->wake p50: %.1f %%\n",
		       100 * il_jnum(r, "repeat_rel_stddev_p50"));
	printf("  timed wait %" PRIu64 " us on a clear event: %.0f/%.0f timed out, lateness ns p50 %.0f max %.0f\n",
	       ec->wait_us, il_jnum(tw, "timed_out"), il_jnum(tw, "count"), il_jnum(late, "p50"), il_jnum(late, "max"));
}

static const struct event_cfg event_defaults = { .impl = 0, .wait_us = 1000, .timed_waits = 20 };

static const struct il_opt event_opts[] = {
	{ .name = "impl", .type = IL_OPT_CHOICE, .metavar = "I", .choices = impl_names, .param = "impl",
	  .help = "how the Event is built: condvar, eventfd, futex or pipe", .off = IL_CFG(struct event_cfg, impl, int) },
	{ .name = "wait-us", .type = IL_OPT_U64, .metavar = "T", .min = 1, .max = 1000000, .param = "wait_us",
	  .help = "timeout of the timed waits on a cleared event, us (default 1000)",
	  .off = IL_CFG(struct event_cfg, wait_us, uint64_t) },
	{ .name = "timed-waits", .type = IL_OPT_U64, .metavar = "M", .min = 1, .max = 10000, .param = "timed_waits",
	  .help = "timed waits whose lateness is measured (default 20)",
	  .off = IL_CFG(struct event_cfg, timed_waits, uint64_t) },
	{ 0 },
};

const struct il_experiment il_exp_sync_event = {
	.group = "sync",
	.name = "event",
	.summary = "the Event (wait/set/clear/is_set) on condvar, eventfd, futex, pipe: checks, set->wake latency",
	.help = "The course's Event (wait [timeout], set, clear, is_set) built on a condition\n"
		"variable, an eventfd, a futex or a pipe: semantic checks, set->wake latency\n"
		"between two threads or processes, and how late a timed wait returns.",
	.common = IL_C_ITER | IL_C_WARMUP | IL_C_REPEAT | IL_C_MODE | IL_C_CPU | IL_C_HIST,
	.defaults = { .iterations = 1000, .warmup = 100 },
	.opts = event_opts,
	.cfg_size = sizeof(struct event_cfg),
	.cfg_defaults = &event_defaults,
	.measure = event_measure,
	.print = event_print,
	.flags = IL_EXP_GUARD | IL_EXP_TRACED | IL_EXP_PRINT_ON_FAIL,
};
