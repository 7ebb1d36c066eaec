/* handoff.c - "ipclab sync handoff": lock ping-pong between two peers, in the style of
 * rt-tests ptsematest/svsematest. Two locks, both taken at the start; each round the
 * initiator releases lock 1 and blocks on lock 0, the responder blocks on lock 1 and
 * releases lock 0: each side unlocks the other's lock, so every round trip is two
 * wake-ups through the lock. Round trip timed by the initiator; one way (initiator's
 * release -> responder's acquire) by the responder from a stamp in shared memory.
 * Waits are one plain blocking call each (sl_wait: no timer armed and cancelled inside
 * the timed interval, as in the rt-tests tools).
 * mutex = PTHREAD_MUTEX_NORMAL used as a binary semaphore (unlocked by the peer, as
 * ptsematest does: undefined for POSIX, not checked by glibc for this type), spin =
 * pthread_spin, sem = unnamed POSIX semaphores, sysvsem = one System V set per lock
 * (semget IPC_PRIVATE 0600, registered for cleanup).
 * A dead responder is noticed (process mode: a watcher thread blocked in waitid raises
 * the abort flag and releases lock 0, so the initiator's wait ends); --kill-holder tests
 * that. --repeat N runs N rounds of spawn/barrier/round trips/join, the locks reused:
 * totals, per-repeat p50s and their spread, as ipc latency reports them.
 * Events (ipclab_lock.h): 6 per round trip, warm-up included (run_begin/run_end per
 * repeat). */
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
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define HIST_MAX_NS (10ull * 1000 * 1000 * 1000)

static const char *const handoff_kinds[] = { "mutex", "spin", "sem", "sysvsem", NULL };
static const int handoff_sl[] = { SL_MUTEX, SL_SPIN, SL_SEM, SL_SYSVSEM };

struct handoff_cfg {
	int kind;            /* index in handoff_kinds */
	bool kill_holder;
	uint64_t interval_us;
	bool interval;       /* --interval-us given (params) */
};

struct shared {
	struct il_barrier start;
	volatile int abort;
	struct sl_lock l[2];
	uint64_t t_release;          /* initiator: just before it releases lock 1 */
	struct il_hist oneway;       /* responder */
	uint64_t peer_rounds;
	volatile int peer_done;      /* responder finished all rounds (a normal exit) */
	int cpu_start, cpu_end;      /* the responder's */
};

struct run {
	struct shared *sh;
	const char *kname;
	uint64_t total, warmup;
	bool kill_holder;
	bool sleep;          /* rt-tests' -i: the responder sleeps before it releases */
	struct timespec interval;
};

/* Gives up the run from one side: raises the abort flag and releases the lock the other
 * side may be blocked on (sl_wait ends only with a release). */
static void give_up(struct shared *sh, struct sl_handle *other)
{
	sl_raise_abort(&sh->abort);
	(void)sl_unlock(other);
}

static int responder(void *arg)
{
	const struct run *r = arg;
	struct shared *sh = r->sh;
	struct sl_handle h[2];
	int rc = IL_OK;
	il_set_task_name("ipclab-handoff");
	if (sl_attach(&h[0], &sh->l[0]) < 0 || sl_attach(&h[1], &sh->l[1]) < 0) {
		il_errno("responder cannot attach to the locks");
		rc = IL_NORES;
		sl_raise_abort(&sh->abort);
	}
	sh->cpu_start = il_cpu_now();
	if (il_barrier_wait(&sh->start) < 0)
		rc = IL_FAIL;
	for (uint64_t i = 0; rc == IL_OK && i < r->total; i++) {
		lttng_ust_tracepoint(ipclab_lock, lock_request, 1, r->kname);
		int lr = sl_wait(&h[1]);
		uint64_t t = il_now_ns();
		if (lr != SL_OK || sl_aborted(&sh->abort)) {
			if (lr == SL_ERROR)
				il_errno("responder: lock 1 failed");
			rc = IL_FAIL;
			give_up(sh, &h[0]);
			break;
		}
		const bool timed = i >= r->warmup; /* the event carries what the histogram gets */
		lttng_ust_tracepoint(ipclab_lock, lock_acquire, 1, r->kname, timed ? sh->t_release : 0, timed ? t : 0);
		if (timed)
			il_hist_add(&sh->oneway, t - sh->t_release);
		sh->peer_rounds = i + 1;
		if (r->kill_holder && i == r->total / 2)
			(void)raise(SIGKILL); /* fault injection: die holding lock 1, lock 0 never released */
		lttng_ust_tracepoint(ipclab_lock, lock_release, 0, r->kname);
		if (r->sleep) /* as rt-tests -i N: nanosleep(2), called also for 0 */
			(void)nanosleep(&r->interval, NULL);
		if (i + 1 == r->total)
			sh->peer_done = 1; /* before the last release: the initiator may end at once */
		if (sl_unlock(&h[0]) < 0) {
			il_errno("responder: unlock 0 failed");
			rc = IL_FAIL;
			sl_raise_abort(&sh->abort);
		}
	}
	sh->cpu_end = il_cpu_now();
	sl_detach(&h[0]);
	sl_detach(&h[1]);
	return rc;
}

/* Process mode: blocks until the responder ends; if it did not finish its rounds, gives
 * up for it, so the initiator stops waiting for a lock it will never release. */
struct watch {
	struct shared *sh;
	struct sl_handle *h0;
	pid_t pid;
};

static void *watcher(void *arg)
{
	struct watch *w = arg;
	(void)il_child_ended(w->pid, true);
	if (!w->sh->peer_done)
		give_up(w->sh, w->h0);
	return NULL;
}

/* One repeat's outcome, for the totals and the "repeats" array. */
struct rep_out {
	uint64_t rounds;
	int cpu_start, cpu_end;
	char killed[512];
};

/* The initiator's rounds into rtt; the exit code. */
static int initiate(const struct run *r, struct sl_handle h[2], struct il_hist *rtt, struct rep_out *o)
{
	struct shared *sh = r->sh;
	for (uint64_t i = 0; i < r->total && !sl_aborted(&sh->abort); i++) {
		lttng_ust_tracepoint(ipclab_lock, lock_release, 1, r->kname);
		uint64_t t0 = il_now_ns();
		sh->t_release = t0;
		if (sl_unlock(&h[1]) < 0) {
			il_errno("unlock of lock 1 failed in round %" PRIu64, i);
			give_up(sh, &h[1]);
			return IL_FAIL;
		}
		lttng_ust_tracepoint(ipclab_lock, lock_request, 0, r->kname);
		int lr = sl_wait(&h[0]);
		uint64_t t1 = il_now_ns();
		if (lr != SL_OK) {
			il_errno("lock 0 failed in round %" PRIu64, i);
			give_up(sh, &h[1]);
			return IL_FAIL;
		}
		if (sl_aborted(&sh->abort)) /* released by the watcher, not by the responder */
			return IL_FAIL;
		lttng_ust_tracepoint(ipclab_lock, lock_acquire, 0, r->kname, 0, 0);
		if (i >= r->warmup)
			il_hist_add(rtt, t1 - t0);
		o->rounds = i + 1;
	}
	return sl_aborted(&sh->abort) ? IL_FAIL : IL_OK;
}

/* One repeat: spawn the responder (and, in process mode, its watcher), meet it at the
 * start barrier, run the rounds into rtt (the responder fills sh->oneway), join. After
 * a full repeat both locks are held again, as at the start (lock 0 by the initiator's
 * last acquisition, lock 1 by the responder's), so the next repeat reuses them. */
static int one_repeat(struct il_ctx *x, struct run *r, uint32_t rep, struct sl_handle h[2], struct il_hist *rtt,
		      json_t *checks, struct rep_out *o)
{
	const struct il_common *c = &x->c;
	struct shared *sh = r->sh;
	struct il_peer peer;
	struct watch w = { sh, &h[0], 0 };
	pthread_t wt;
	bool watching = false;
	sh->peer_rounds = 0;
	sh->peer_done = 0;
	sh->cpu_start = sh->cpu_end = -1;
	il_hist_init(&sh->oneway, HIST_MAX_NS);
	*o = (struct rep_out){ .cpu_start = -1, .cpu_end = -1 };
	lttng_ust_tracepoint(ipclab_run, run_begin, x->experiment, r->kname, c->mode, rep, c->iterations, c->warmup);
	int rc = il_spawn(&peer, c->mode, c->cpu[1], responder, r);
	if (rc != IL_OK) {
		lttng_ust_tracepoint(ipclab_run, run_end, x->experiment, r->kname, rep, rc);
		return rc;
	}
	if (c->mode == IL_MODE_PROCESS) {
		w.pid = peer.pid;
		watching = pthread_create(&wt, NULL, watcher, &w) == 0;
		if (!watching)
			il_warn("cannot start the watcher thread: a dead responder is caught by the watchdog only");
	}
	o->cpu_start = il_cpu_now();
	rc = il_barrier_wait(&sh->start) < 0 ? IL_FAIL : initiate(r, h, rtt, o);
	o->cpu_end = il_cpu_now();
	char how[128];
	if (watching)
		(void)pthread_join(wt, NULL);
	int jrc = il_join(&peer, how, sizeof(how));
	if (*how) {
		(void)snprintf(o->killed, sizeof(o->killed), "the responder (pid %d) was %s in round %" PRIu64
			       " holding lock 1; the watcher saw it exit, raised the abort flag and released lock 0, "
			       "the initiator stopped waiting", (int)peer.pid, how, sh->peer_rounds - 1);
		il_fail("%s", o->killed);
		il_jset(checks, "responder_alive", json_false());
		rc = IL_FAIL;
	}
	if (rc == IL_OK)
		rc = jrc;
	if (rc == IL_OK) {
		bool counts = o->rounds == r->total && sh->peer_rounds == r->total;
		il_jset(checks, "counts_match", json_boolean(counts));
		if (!counts) {
			il_fail("repeat %u: %" PRIu64 " round trips, %" PRIu64 " responder rounds, want %" PRIu64, rep,
				o->rounds, sh->peer_rounds, r->total);
			rc = IL_FAIL;
		}
	}
	lttng_ust_tracepoint(ipclab_run, run_end, x->experiment, r->kname, rep, rc);
	return rc;
}

/* The repeats, with the locks attached and the initiator pinned; the totals into
 * x->results. */
static int run_repeats(struct il_ctx *x, struct run *r, struct il_hist *rtt, struct il_hist *rep_rtt,
		       struct il_hist *oneway)
{
	const struct il_common *c = &x->c;
	struct shared *sh = r->sh;
	struct il_repeats spread = { 0 };
	struct sl_handle h[2];
	if (il_repeats_init(&spread, c->repeat) < 0) {
		il_err("out of memory");
		return IL_NORES;
	}
	int rc = il_pin_main(c->cpu[0], "the initiator");
	if (rc == IL_OK && (sl_attach(&h[0], &sh->l[0]) < 0 || sl_attach(&h[1], &sh->l[1]) < 0)) {
		il_errno("cannot attach to the locks");
		rc = IL_NORES;
	}
	json_t *checks = json_object(), *reps = json_array();
	struct rep_out o = { .cpu_start = -1 };
	uint64_t rounds = 0, peer_rounds = 0;
	for (uint32_t rep = 0; rep < c->repeat && rc == IL_OK; rep++) {
		il_info("%s %s: repeat %u/%" PRIu64, r->kname, c->mode == IL_MODE_THREAD ? "thread" : "process", rep + 1,
			c->repeat);
		il_hist_init(rep_rtt, HIST_MAX_NS);
		rc = one_repeat(x, r, rep, h, rep_rtt, checks, &o);
		rounds += o.rounds;
		peer_rounds += sh->peer_rounds;
		if (rc != IL_OK)
			break;
		il_hist_merge(rtt, rep_rtt);
		il_hist_merge(oneway, &sh->oneway);
		il_repeats_add(&spread, rep_rtt);
		(void)json_array_append_new(reps, json_pack("{sI sf sI sI s{s[ii] s[ii]}}", "repeat", (json_int_t)rep,
			"rtt_mean", il_hist_mean(rep_rtt), "rtt_p50", (json_int_t)il_hist_percentile(rep_rtt, 50), "oneway_p50",
			(json_int_t)il_hist_percentile(&sh->oneway, 50), "cpu", "initiator", o.cpu_start, o.cpu_end,
			"responder", sh->cpu_start, sh->cpu_end));
	}
	double rsd_p50, rsd_mean;
	il_repeats_results(x, &spread, &rsd_p50, &rsd_mean);
	il_repeats_free(&spread);
	il_jset(x->results, "lock", json_pack("{ss ss}", "kind", r->kname, "impl", sh->l[0].desc));
	il_jset(x->results, "round_trips", json_integer((json_int_t)rounds));
	il_jset(x->results, "peer_rounds", json_integer((json_int_t)peer_rounds));
	il_jset(x->results, "rtt", il_json_summary(rtt));
	il_jset(x->results, "oneway", il_json_summary(oneway));
	il_jset(x->results, "repeats", reps);
	il_jset(x->results, "checks", checks);
	il_jset(x->results, "killed", *o.killed ? json_string(o.killed) : json_null());
	il_jset(x->results, "events_per_round_trip", json_integer(6));
	il_ctx_hist(x, "rtt", rtt);
	il_ctx_hist(x, "oneway", oneway);
	return rc;
}

static int handoff_params(struct il_ctx *x, void *cfg)
{
	struct handoff_cfg *hc = cfg;
	hc->interval = il_ctx_given(x, "interval-us");
	if (!hc->interval)
		il_jset(x->params, "interval_us", json_null());
	return sl_kill_holder_check(hc->kill_holder, x->c.mode);
}

static int handoff_measure(struct il_ctx *x, void *cfg)
{
	const struct handoff_cfg *hc = cfg;
	const struct il_common *c = &x->c;
	struct shared *sh = il_shared_alloc(sizeof(*sh));
	struct il_hist *rtt = malloc(sizeof(*rtt)), *rep_rtt = malloc(sizeof(*rep_rtt)), *oneway = malloc(sizeof(*oneway));
	int rc = IL_OK, nlocks = 0;
	if (!sh || !rtt || !rep_rtt || !oneway) {
		il_err("out of memory");
		rc = IL_NORES;
		goto out;
	}
	il_hist_init(rtt, HIST_MAX_NS);
	il_hist_init(oneway, HIST_MAX_NS);
	for (; nlocks < 2 && rc == IL_OK; nlocks++)
		rc = sl_init(&sh->l[nlocks], handoff_sl[hc->kind], c->mode, SL_F_HELD, &sh->abort);
	if (rc == IL_OK)
		(void)il_barrier_init(&sh->start, 2);
	struct run r = { .sh = sh, .kname = handoff_kinds[hc->kind], .total = c->warmup + c->iterations,
			 .warmup = c->warmup, .kill_holder = hc->kill_holder, .sleep = hc->interval,
			 .interval = { (time_t)(hc->interval_us / 1000000), (long)(hc->interval_us % 1000000) * 1000 } };
	if (rc == IL_OK)
		rc = run_repeats(x, &r, rtt, rep_rtt, oneway);
	while (nlocks > 0)
		sl_destroy(&sh->l[--nlocks]);
out:
	il_shared_free(sh, sizeof(*sh));
	free(rtt);
	free(rep_rtt);
	free(oneway);
	return rc;
}

static void handoff_print(const struct il_ctx *x, const void *cfg)
{
	const struct handoff_cfg *hc = cfg;
	const struct il_common *c = &x->c;
	const json_t *r = x->results;
	printf("sync handoff: %s (%s), %s mode, %s", handoff_kinds[hc->kind],
	       json_string_value(json_object_get(json_object_get(r, "lock"), "impl")),
	       c->mode == IL_MODE_THREAD ? "thread" : "process", il_placement_text(c));
	if (c->cpu[0] >= 0)
		printf(" (%d,%d)", c->cpu[0], c->cpu[1]);
	printf(", %" PRIu64 " round trips x %" PRIu64 " repeats (+%" PRIu64 " warm-up)%s\n", c->iterations, c->repeat,
	       c->warmup, json_is_true(json_object_get(r, "traced")) ? ", traced" : "");
	il_print_summary_header();
	il_print_summary_json("round trip", json_object_get(r, "rtt"));
	il_print_summary_json("one way", json_object_get(r, "oneway"));
	if (c->repeat > 1)
		printf("repeat-to-repeat rel. stddev: p50 %.1f %%, mean %.1f %%\n",
		       100 * json_number_value(json_object_get(r, "repeat_rel_stddev_p50")),
		       100 * json_number_value(json_object_get(r, "repeat_rel_stddev_mean")));
}

static const struct il_opt handoff_opts[] = {
	{ .name = "lock", .type = IL_OPT_CHOICE, .metavar = "KIND", .choices = handoff_kinds, .param = "lock",
	  .help = "the two locks: mutex, spin, sem (POSIX unnamed) or sysvsem",
	  .off = IL_CFG(struct handoff_cfg, kind, int) },
	{ .name = "interval-us", .type = IL_OPT_U64, .metavar = "N", .min = 0, .max = 1000000, .param = "interval_us",
	  .help = "the responder sleeps N us (nanosleep, also for 0) after each acquisition, before it releases, "
		  "as rt-tests ptsematest/svsematest -i N do: a scheduling point outside the timed one-way "
		  "[default: no sleep]", .off = IL_CFG(struct handoff_cfg, interval_us, uint64_t) },
	{ .name = "kill-holder", .type = IL_OPT_FLAG, .param = "kill_holder",
	  .help = "fault injection (process mode): the responder SIGKILLs itself holding its lock halfway "
		  "through; the run must detect it and exit 1",
	  .off = IL_CFG(struct handoff_cfg, kill_holder, bool) },
	{ 0 },
};

const struct il_experiment il_exp_sync_handoff = {
	.group = "sync",
	.name = "handoff",
	.summary = "lock ping-pong latency between two peers (mutex, spin, sem, sysvsem), ptsematest style",
	.help = "Lock ping-pong between two peers (ptsematest/svsematest style: two locks,\n"
		"each side unlocks the other's): round-trip and one-way latency histograms.",
	.common = IL_C_ITER | IL_C_WARMUP | IL_C_REPEAT | IL_C_MODE | IL_C_CPU | IL_C_HIST,
	.opts = handoff_opts,
	.cfg_size = sizeof(struct handoff_cfg),
	.params = handoff_params,
	.measure = handoff_measure,
	.print = handoff_print,
	.flags = IL_EXP_GUARD | IL_EXP_TRACED | IL_EXP_PRINT_ON_FAIL,
};
