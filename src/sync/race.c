/* race.c - "ipclab sync race": W workers (threads or processes) increment one shared
 * counter N times each; the critical section is a read, --delay iterations of busy work,
 * a write. Without a lock, updates are lost (two workers read the same value, both write
 * value + 1); with a lock (or atomic), counter == increments completed == W*N is checked.
 * The race needs the workers to run at the same time: they go on distinct CPUs when
 * there are enough (or where --cpu says), wait for each other at a start barrier they
 * spin on, then once more (a handshake: every one of them ran after the release), and
 * stamp their loop's start and end. How long at least two loops overlapped is reported;
 * a run without a lock that lost nothing is inconclusive (exit 4, the overlap says why),
 * never "0 lost updates". Fairness is each worker's progress at the moment the first
 * one finished (with a fixed N per worker, the final counts are equal by construction).
 * Fault injection: --kill-holder (process mode) SIGKILLs worker 0 inside its critical
 * section halfway through; the run must detect it (robust mutex: EOWNERDEAD; spin, sem:
 * the abort flag raised when the parent reaps the dead worker; flock: the kernel drops
 * the dead holder's lock), report it, exit 1 and leave nothing behind.
 * Events (ipclab_lock.h): 2 or 5 per increment when W*N <= --trace-limit. */
#include "race.h"
#include "syncstat.h"
#include "workers.h"
#include "../core/clock.h"
#include "../core/experiment.h"
#include "../core/log.h"
#include "../core/result.h"
#include "../core/sys.h"
#include "../core/tp.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_WORKERS RACE_MAX_WORKERS
#define LOCKSTEP_CHUNK 64   /* increments between two lockstep waits (divided by 1 + delay) */

static const char *const race_kinds[] = { "none", "atomic", "mutex", "spin", "sem", "flock", NULL };

struct race_cfg {
	int kind; /* enum sl_kind: race_kinds[] is its prefix */
	uint64_t workers, increments, delay, trace_limit;
	bool kill_holder;
};

/* Why the run was stopped, as one sentence, for the message and the JSON. */
static void describe_kill(const struct job *p, const struct sw_team *team, char *buf, size_t len)
{
	const struct shared *sh = p->sh;
	char sig[IL_SIGNAME_MAX];
	int n = snprintf(buf, len, "worker %d (pid %d) was killed by %s", team->victim, (int)team->victim_pid,
			 il_signal_name(team->victim_sig, sig, sizeof(sig)));
	if (n < 0 || (size_t)n >= len)
		return;
	char tmp[160];
	const char *how = "; there was no lock to hold, the others were stopped";
	switch (p->kind) {
	case SL_MUTEX:
		how = "; no locker saw EOWNERDEAD (it did not hold the mutex); the others were stopped";
		if (sh->ownerdead_by == RACE_PARENT)
			how = "; the parent's lock after the run returned EOWNERDEAD (robust mutex): it died holding it";
		if (sh->ownerdead_by >= 0) {
			(void)snprintf(tmp, sizeof(tmp), "; worker %d's next lock returned EOWNERDEAD (robust mutex), "
				       "the others stopped", sh->ownerdead_by);
			how = tmp;
		}
		break;
	case SL_SPIN:
	case SL_SEM:
		how = "; the parent reaped it and raised the abort flag, so the workers waiting for the "
		      "lock it held gave up (a spinlock or semaphore has no owner to die)";
		break;
	case SL_FLOCK:
		how = "; the kernel released its flock when its file closed, the others were stopped";
		break;
	}
	(void)snprintf(buf + n, len - (size_t)n, "%s", how);
}

/* True if all n workers are pinned to one CPU. */
static bool same_cpu(const int *cpu, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (cpu[i] < 0 || cpu[i] != cpu[0])
			return false;
	return true;
}

/* Without a lock the point is lost updates: none lost is inconclusive, with the reason
 * (NULL when updates were lost). */
static const char *inconclusive(const struct job *p, uint64_t lost, uint64_t overlap, double frac,
				unsigned allowed, bool one_cpu, char *buf, size_t len)
{
	if (p->kind != SL_NONE || lost)
		return NULL;
	if (p->workers == 1)
		(void)snprintf(buf, len, "one worker has nobody to race with: no update could be lost "
			       "(use --workers 2 or more)");
	else if (one_cpu)
		(void)snprintf(buf, len, "the %u workers shared one CPU: they ran in turns, and no switch fell "
			       "between a read and its write (give them distinct CPUs: --cpu A,B)", p->workers);
	else if (!overlap)
		(void)snprintf(buf, len, "the workers' loops never overlapped in time (%u workers, %u CPU%s "
			       "available): no update could be lost", p->workers, allowed, allowed == 1 ? "" : "s");
	else
		(void)snprintf(buf, len, "the workers' loops overlapped only %" PRIu64 " ns (%.2f %% of the run) "
			       "and no update was lost (more --increments or --delay make the race likelier)",
			       overlap, 100 * frac);
	return buf;
}

/* Per-worker results, and the loops' overlap (at least two running at once). */
static json_t *per_worker(const struct job *p, const int *cpu, uint64_t *completed, uint64_t *overlap, double *frac)
{
	const struct shared *sh = p->sh;
	const uint64_t t0 = sh->gate.t_release;
	uint64_t start[MAX_WORKERS], stop[MAX_WORKERS], lo = UINT64_MAX, hi = 0;
	json_t *per = json_array();
	*completed = 0;
	for (unsigned i = 0; i < p->workers; i++) {
		const struct slot *s = &sh->slot[i];
		bool ran = s->t_start && s->t_stop, fin = ran && s->done == p->n;
		start[i] = ran ? s->t_start : 0;
		stop[i] = ran ? s->t_stop : 0;
		if (ran && s->t_start < lo)
			lo = s->t_start;
		if (ran && s->t_stop > hi)
			hi = s->t_stop;
		*completed += s->done;
		(void)json_array_append_new(per, json_pack("{sI sI sI so so so s[ii]}", "worker", (json_int_t)i,
			"increments", (json_int_t)s->done, "at_first_finish", (json_int_t)s->snap,
			"start_ns", ran ? json_integer((json_int_t)(s->t_start - t0)) : json_null(),
			"finish_ns", fin ? json_integer((json_int_t)(s->t_stop - t0)) : json_null(),
			"pinned_cpu", cpu[i] >= 0 ? json_integer(cpu[i]) : json_null(),
			"cpu", ran ? s->cpu_start : -1, ran ? s->cpu_end : -1));
		if (s->lock_result == SL_ERROR && s->err) {
			errno = s->err;
			il_errno("worker %u: %s failed", i, sl_kind_names[p->kind]);
		}
	}
	*overlap = ss_overlap(start, stop, p->workers, 2);
	*frac = hi > lo ? (double)*overlap / (double)(hi - lo) : 0;
	return per;
}

/* The results (x->results) and the verdict: rc as the workers ended, then the checks. */
static int race_results(struct il_ctx *x, const struct job *p, const struct sw_team *team, const int *cpu,
			enum sw_policy pol, unsigned allowed, int rc)
{
	const struct shared *sh = p->sh;
	const unsigned W = p->workers;
	uint64_t completed, overlap;
	double frac;
	json_t *per = per_worker(p, cpu, &completed, &overlap, &frac);
	uint64_t snap[MAX_WORKERS], t_last = 0, t_first = UINT64_MAX, waits = 0;
	for (unsigned i = 0; i < W; i++) {
		snap[i] = sh->slot[i].snap;
		waits += sh->slot[i].waits;
		uint64_t e = sh->slot[i].done == p->n ? sh->slot[i].t_stop : 0;
		t_last = e > t_last ? e : t_last;
		t_first = e && e < t_first ? e : t_first;
	}
	const uint64_t expected = W * p->n, actual = sh->counter;
	const uint64_t lost = completed > actual ? completed - actual : 0;
	struct ss_fair f;
	ss_fairness(snap, W, &f);
	const bool finished = t_last && rc == IL_OK;
	const double wall = finished ? (double)(t_last - sh->gate.t_release) : 0;
	json_t *r = x->results, *checks = json_object();
	char killed[512] = "", reason[256];
	if (team->victim >= 0) {
		describe_kill(p, team, killed, sizeof(killed));
		il_fail("%s; counter %" PRIu64 " after %" PRIu64 " completed increments", killed, actual, completed);
		il_jset(checks, "no_worker_killed", json_false());
		rc = IL_FAIL;
	}
	if (p->kind != SL_NONE) {
		bool ok = actual == completed && completed == expected;
		il_jset(checks, "no_lost_updates", json_boolean(actual == completed));
		il_jset(checks, "all_increments_done", json_boolean(completed == expected));
		if (!ok && rc == IL_OK) /* a worker that stopped early said why */
			il_fail("with a %s: counter %" PRIu64 ", %" PRIu64 " increments completed of %" PRIu64,
				race_kinds[p->kind], actual, completed, expected);
		if (!ok && !rc)
			rc = IL_FAIL;
	}
	const char *inc = rc == IL_OK ? inconclusive(p, lost, overlap, frac, allowed,
									   allowed == 1 || same_cpu(cpu, W), reason, sizeof(reason)) : NULL;
	if (inc) {
		il_err("inconclusive: %s", inc);
		rc = IL_UNSUP;
	}
	il_jset(r, "expected", json_integer((json_int_t)expected));
	il_jset(r, "completed", json_integer((json_int_t)completed));
	il_jset(r, "actual", json_integer((json_int_t)actual));
	il_jset(r, "lost_updates", json_integer((json_int_t)lost));
	il_jset(r, "lost_fraction", json_real(completed ? (double)lost / (double)completed : 0));
	il_jset(r, "overlap_ns", json_integer((json_int_t)overlap));
	il_jset(r, "overlap_fraction", json_real(frac));
	il_jset(r, "inconclusive", inc ? json_string(inc) : json_null());
	il_jset(r, "wall_ns", finished ? json_integer((json_int_t)wall) : json_null());
	il_jset(r, "ops_per_s", finished ? json_real((double)completed * 1e9 / wall) : json_null());
	il_jset(r, "ns_per_increment", finished ? json_real(wall / (double)completed) : json_null());
	il_jset(r, "finish_spread_ns", finished ? json_integer((json_int_t)(t_last - t_first)) : json_null());
	il_jset(r, "per_worker", per);
	il_jset(r, "placement", json_pack("{ss sI}", "policy", sw_policy_names[pol], "allowed_cpus", (json_int_t)allowed));
	il_jset(r, "lockstep", json_pack("{sI sI}", "chunk", (json_int_t)p->chunk, "waits", (json_int_t)waits));
	il_jset(r, "fairness", json_pack("{ss sI sf sf sf sf}",
		"basis", "increments each worker had done when the first one finished its N",
		"first_finisher", (json_int_t)sh->first_done, "min_share", f.min_share, "max_share", f.max_share,
		"min_over_max", f.min_over_max, "jain", f.jain));
	il_jset(r, "lock", json_pack("{ss ss}", "kind", race_kinds[p->kind], "impl", sh->lock.desc));
	il_jset(r, "killed", team->victim >= 0 ? json_pack("{sI sI ss ss}", "worker", (json_int_t)team->victim,
		"pid", (json_int_t)team->victim_pid, "signal", sigabbrev_np(team->victim_sig) ?: "?",
		"detected", killed) : json_null());
	il_jset(r, "checks", checks);
	il_jset(r, "trace", json_pack("{sb si}", "per_increment_events", p->trace,
		"events_per_increment", p->trace ? (sl_is_lock(p->kind) ? 5 : 2) : 0));
	return rc;
}

static int race_params(struct il_ctx *x, void *cfg)
{
	const struct race_cfg *rc = cfg;
	return sl_kill_holder_check(rc->kill_holder, x->c.mode);
}

/* A worker died and no other one locked the robust mutex after (they had finished):
 * the parent does, to see the lock's own verdict (EOWNERDEAD if it died holding it). */
static void owner_died_check(struct shared *sh)
{
	if (pthread_mutex_trylock(&sh->lock.u.mutex) != EOWNERDEAD)
		return;
	sh->ownerdead_by = RACE_PARENT;
	(void)pthread_mutex_consistent(&sh->lock.u.mutex);
	(void)pthread_mutex_unlock(&sh->lock.u.mutex);
}

/* True if the n workers (n >= 2) are pinned to n different CPUs. */
static bool distinct(const int *cpu, unsigned n)
{
	if (n < 2)
		return false;
	for (unsigned i = 0; i < n; i++) {
		if (cpu[i] < 0)
			return false;
		for (unsigned j = 0; j < i; j++)
			if (cpu[i] == cpu[j])
				return false;
	}
	return true;
}

static int race_measure(struct il_ctx *x, void *cfg)
{
	const struct race_cfg *rc = cfg;
	const unsigned W = (unsigned)rc->workers;
	const size_t shsize = sizeof(struct shared) + W * sizeof(struct slot);
	struct shared *sh = il_shared_alloc(shsize);
	struct warg args[MAX_WORKERS];
	int cpu[MAX_WORKERS];
	struct sw_team team = { .victim = -1 };
	if (!sh) {
		il_err("out of memory");
		return IL_NORES;
	}
	sh->first_done = -1;
	sh->ownerdead_by = -1;
	unsigned allowed;
	enum sw_policy pol = sw_place(&x->c, W, cpu, &allowed);
	const struct job p = { .sh = sh, .workers = W, .n = rc->increments, .delay = rc->delay, .kind = rc->kind,
			       .chunk = rc->kind == SL_NONE && distinct(cpu, W) ? LOCKSTEP_CHUNK / (1 + rc->delay) + 1 : 0,
			       .trace = W * rc->increments <= rc->trace_limit, .kill_holder = rc->kill_holder };
	for (unsigned i = 0; i < W; i++)
		args[i] = (struct warg){ &p, i };
	int r = sl_init(&sh->lock, rc->kind, x->c.mode, x->c.mode == IL_MODE_PROCESS ? SL_F_ROBUST : 0, &sh->abort);
	if (r == IL_OK) {
		lttng_ust_tracepoint(ipclab_run, run_begin, x->experiment, race_kinds[rc->kind], x->c.mode, 0,
				     rc->increments, 0);
		r = sw_start(&team, W, x->c.mode, cpu, race_worker, args, sizeof(args[0]), &sh->abort, &sh->gate);
		if (r == IL_OK)
			r = sw_join(&team);
		if (team.victim >= 0 && rc->kind == SL_MUTEX && sh->ownerdead_by < 0)
			owner_died_check(sh);
		lttng_ust_tracepoint(ipclab_run, run_end, x->experiment, race_kinds[rc->kind], 0, r);
		sl_destroy(&sh->lock);
		if (team.peer)
			r = race_results(x, &p, &team, cpu, pol, allowed, r);
	}
	sw_free(&team);
	il_shared_free(sh, shsize);
	return r;
}

static void race_print(const struct il_ctx *x, const void *cfg)
{
	const struct race_cfg *rc = cfg;
	const json_t *r = x->results, *fair = json_object_get(r, "fairness"), *per = json_object_get(r, "per_worker");
	const unsigned W = (unsigned)rc->workers;
	const double completed = il_jnum(r, "completed"), lost = il_jnum(r, "lost_updates"), wall = il_jnum(r, "wall_ns");
	printf("sync race: %s (%s), %s mode, %u workers x %" PRIu64 " increments, delay %" PRIu64 "%s\n",
	       race_kinds[rc->kind], json_string_value(json_object_get(json_object_get(r, "lock"), "impl")),
	       x->c.mode == IL_MODE_THREAD ? "thread" : "process", W, rc->increments, rc->delay,
	       json_is_true(json_object_get(r, "traced")) ? ", traced" : "");
	printf("  expected %.0f, completed %.0f, counter %.0f: lost updates %.0f (%.2f %%)\n", il_jnum(r, "expected"),
	       completed, il_jnum(r, "actual"), lost, completed ? 100 * lost / completed : 0);
	printf("  loops overlapped %.3f ms (%.1f %% of the run); workers on CPUs", il_jnum(r, "overlap_ns") / 1e6,
	       100 * il_jnum(r, "overlap_fraction"));
	for (unsigned i = 0; i < W && i < 16; i++)
		printf("%s%" JSON_INTEGER_FORMAT, i ? "," : " ",
		       json_integer_value(json_array_get(json_object_get(json_array_get(per, i), "cpu"), 0)));
	const json_t *ls = json_object_get(r, "lockstep");
	printf("%s (%s)", W > 16 ? ",..." : "", json_string_value(json_object_get(json_object_get(r, "placement"), "policy")));
	if (il_jnum(ls, "chunk") > 0)
		printf("; lockstep every %.0f increments, %.0f waits", il_jnum(ls, "chunk"), il_jnum(ls, "waits"));
	printf("\n");
	if (wall > 0)
		printf("  wall %.3f ms, %.2f M increments/s (%.1f ns each)\n", wall / 1e6, il_jnum(r, "ops_per_s") / 1e6,
		       wall / completed);
	double sum = 0; /* every worker's progress when the first one finished */
	for (unsigned i = 0; i < W; i++)
		sum += il_jnum(json_array_get(per, i), "at_first_finish");
	printf("  fairness when worker %.0f finished first: min/max %.3f, Jain %.4f; shares", il_jnum(fair, "first_finisher"),
	       il_jnum(fair, "min_over_max"), il_jnum(fair, "jain"));
	for (unsigned i = 0; i < W && i < 16; i++)
		printf(" %.1f%%", sum ? 100 * il_jnum(json_array_get(per, i), "at_first_finish") / sum : 0);
	printf("%s\n", W > 16 ? " ..." : "");
	const json_t *k = json_object_get(r, "killed");
	if (json_is_object(k))
		printf("  killed: %s\n", json_string_value(json_object_get(k, "detected")));
}

static const struct race_cfg race_defaults = {
	.kind = SL_NONE, .workers = 2, .increments = 1000000, .delay = 0, .trace_limit = 10000,
};

static const struct il_opt race_opts[] = {
	{ .name = "sync", .type = IL_OPT_CHOICE, .metavar = "KIND", .choices = race_kinds, .param = "sync",
	  .help = "how the increment is protected: none (lost updates expected), atomic (fetch-and-add), "
		  "mutex (process mode: process-shared robust), spin (pthread_spin), sem (unnamed POSIX "
		  "semaphore), flock (flock(2) on a private temporary file)",
	  .off = IL_CFG(struct race_cfg, kind, int) },
	{ .name = "workers", .type = IL_OPT_U64, .metavar = "W", .min = 1, .max = MAX_WORKERS, .param = "workers",
	  .help = "workers incrementing the counter (default 2)", .off = IL_CFG(struct race_cfg, workers, uint64_t) },
	{ .name = "increments", .type = IL_OPT_U64, .metavar = "N", .min = 1, .max = 100000000, .param = "increments",
	  .help = "increments per worker (default 1000000)", .off = IL_CFG(struct race_cfg, increments, uint64_t) },
	{ .name = "delay", .type = IL_OPT_U64, .metavar = "D", .min = 0, .max = 1000000, .param = "delay",
	  .help = "busy-loop iterations between the read and the write (default 0)",
	  .off = IL_CFG(struct race_cfg, delay, uint64_t) },
	{ .name = "trace-limit", .type = IL_OPT_U64, .metavar = "L", .min = 0, .max = 100000000, .param = "trace_limit",
	  .help = "emit the per-increment events only when W*N <= L (default 10000)",
	  .off = IL_CFG(struct race_cfg, trace_limit, uint64_t) },
	{ .name = "kill-holder", .type = IL_OPT_FLAG, .param = "kill_holder",
	  .help = "fault injection (process mode): worker 0 SIGKILLs itself inside its critical section "
		  "halfway through; the run must detect it and exit 1",
	  .off = IL_CFG(struct race_cfg, kill_holder, bool) },
	{ 0 },
};

const struct il_experiment il_exp_sync_race = {
	.group = "sync",
	.name = "race",
	.summary = "lost updates on a shared counter without a lock; none with atomic/mutex/spin/sem/flock",
	.help = "W workers increment one shared counter N times each (read, delay, write):\n"
		"lost updates without a lock, none with one; throughput and fairness per lock kind.\n"
		"Workers go on distinct CPUs when there are enough (--cpu A[,B]: worker i on the\n"
		"i-th of them, alternately), start together and, without a lock on distinct CPUs,\n"
		"run in lockstep (each waits every 64/(1+D) increments until the others caught up);\n"
		"how long their loops overlapped is reported. Without a lock, a run that lost\n"
		"nothing is inconclusive (exit 4, one line saying why).",
	.common = IL_C_MODE | IL_C_CPU,
	.opts = race_opts,
	.cfg_size = sizeof(struct race_cfg),
	.cfg_defaults = &race_defaults,
	.params = race_params,
	.measure = race_measure,
	.print = race_print,
	.flags = IL_EXP_GUARD | IL_EXP_TRACED | IL_EXP_PRINT_ON_FAIL,
};
