/* gil.c - "ipclab sync gil": why Python threads do not speed up CPU work. A fixed total
 * amount of work is split among 1, 2, ... W workers (one sweep, one point per count) and
 * the wall time of each split is compared with one worker's:
 *   threads    plain threads;
 *   gil        threads that must hold one global lock to run (gil_lock.h, modelled on
 *              CPython's ceval_gil.c); blocking "I/O" is done with the lock released;
 *   processes  forked workers, nothing shared.
 * Workloads: cpu = chunks of about 20 us of arithmetic; io = 1 ms blocking sleeps, each
 * followed by one chunk of processing. Expected: on cpu, gil stays flat (speed-up ~1)
 * while threads and processes scale to the CPU count; on io all three scale with W.
 * The shape is computed and shown (speed-up / ideal), never asserted: timing on a shared
 * machine is noisy. What needs concurrency is checked: the workers of a point start
 * together (start barrier, then a handshake) and stamp their work's start and end; a
 * sweep whose workers never ran at the same time, a single worker, or (cpu) a single
 * CPU cannot show the speed-ups (or their absence): inconclusive, exit 4.
 * Events: run_begin/run_end per point and repeat. */
#include "gil_lock.h"
#include "lock.h"
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
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#define MAX_WORKERS SS_MAX_INTERVALS
#define CHUNK_NS 20000ull       /* one chunk of CPU work */
#define IO_WAIT_NS 1000000ull   /* one blocking "I/O" */

enum { WL_CPU, WL_IO };
enum { M_THREADS, M_GIL, M_PROCESSES };
static const char *const wl_names[] = { "cpu", "io", NULL };
static const char *const model_names[] = { "threads", "gil", "processes", NULL };

struct gil_cfg {
	int workload, model;
	uint64_t workers;          /* 0: 2 x the online CPUs (params resolves it) */
	uint64_t work_ms, switch_ms;
};

struct shared {
	struct il_barrier gate;
	volatile int abort;
	struct gil gil;
	struct {
		uint64_t start, end;
	} t[];                        /* per worker: its work began, ended */
};

/* What the workers of one point read. */
struct job {
	struct shared *sh;
	int workload, model;
	uint64_t chunk_iters;
	uint64_t units[MAX_WORKERS];  /* per worker */
};

struct warg {
	const struct job *p;
	unsigned idx;
};

static volatile uint64_t sink;

/* Arithmetic the compiler cannot skip (xorshift64), iters steps. */
static uint64_t cpu_work(uint64_t iters, uint64_t x)
{
	x |= 1;
	for (uint64_t i = 0; i < iters; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
	}
	return x;
}

/* Iterations of cpu_work that take about CHUNK_NS here (best of 5, so a preempted try
 * does not make chunks too short). */
static uint64_t calibrate(void)
{
	const uint64_t k = 200000;
	uint64_t best = UINT64_MAX;
	for (int i = 0; i < 5; i++) {
		uint64_t t0 = il_now_ns();
		sink = cpu_work(k, t0);
		uint64_t t = il_now_ns() - t0;
		if (t < best)
			best = t;
	}
	if (!best)
		best = 1;
	uint64_t n = k * CHUNK_NS / best;
	return n ? n : 1;
}

static int gil_worker(void *arg)
{
	const struct warg *w = arg;
	const struct job *p = w->p;
	struct shared *sh = p->sh;
	struct gil *g = &sh->gil;
	const bool gil = p->model == M_GIL, io = p->workload == WL_IO;
	const int me = (int)w->idx;
	uint64_t x = w->idx + 1;
	il_set_task_name("ipclab-gil");
	/* released together, then the handshake: all of them are running now */
	if (il_barrier_wait(&sh->gate) < 0 || il_barrier_wait(&sh->gate) < 0)
		return IL_FAIL;
	sh->t[w->idx].start = il_now_ns();
	if (gil)
		gil_take(g, me);
	for (uint64_t u = 0; u < p->units[w->idx]; u++) {
		if (io) {
			if (gil)
				gil_drop(g, me, false); /* Py_BEGIN_ALLOW_THREADS */
			sw_sleep_ns(IO_WAIT_NS);
			if (gil)
				gil_take(g, me);
		}
		x = cpu_work(p->chunk_iters, x);
		if (gil && gil_drop_requested(g)) {
			gil_drop(g, me, true);
			gil_take(g, me);
		}
	}
	if (gil)
		gil_drop(g, me, false);
	sink = x;
	sh->t[w->idx].end = il_now_ns();
	return IL_OK;
}

/* CPU time of this process and its reaped children, ns. */
static uint64_t cpu_ns(void)
{
	struct rusage a, b;
	if (getrusage(RUSAGE_SELF, &a) < 0 || getrusage(RUSAGE_CHILDREN, &b) < 0)
		return 0;
	return (uint64_t)(a.ru_utime.tv_sec + a.ru_stime.tv_sec + b.ru_utime.tv_sec + b.ru_stime.tv_sec) * 1000000000u +
	       (uint64_t)(a.ru_utime.tv_usec + a.ru_stime.tv_usec + b.ru_utime.tv_usec + b.ru_stime.tv_usec) * 1000u;
}

struct point {
	uint64_t wall, cpu, switches, drops;
	uint64_t overlap;  /* how long at least two workers worked at once */
};

/* One run with n workers into *pt: 0 or an exit code. */
static int run_point(struct il_ctx *x, struct job *p, unsigned n, uint64_t total_units, uint64_t switch_ns,
		     uint32_t rep, struct point *pt)
{
	struct shared *sh = p->sh;
	struct warg args[MAX_WORKERS];
	struct sw_team team;
	memset(sh, 0, sizeof(*sh) + n * sizeof(sh->t[0]));
	int e = gil_init(&sh->gil, switch_ns);
	if (e) {
		errno = -e;
		il_errno("cannot create the GIL");
		return il_exit_for_errno(-e);
	}
	for (unsigned i = 0; i < n; i++) {
		p->units[i] = ss_split(total_units, n, i);
		args[i] = (struct warg){ p, i };
	}
	const int mode = p->model == M_PROCESSES ? IL_MODE_PROCESS : IL_MODE_THREAD;
	lttng_ust_tracepoint(ipclab_run, run_begin, x->experiment, model_names[p->model], mode, rep, n, 0);
	uint64_t c0 = cpu_ns();
	int rc = sw_start(&team, n, mode, NULL, gil_worker, args, sizeof(args[0]), &sh->abort, &sh->gate);
	if (rc == IL_OK)
		rc = sw_join(&team);
	uint64_t t_last = 0, start[MAX_WORKERS], end[MAX_WORKERS];
	for (unsigned i = 0; i < n; i++) {
		t_last = sh->t[i].end > t_last ? sh->t[i].end : t_last;
		start[i] = sh->t[i].start;
		end[i] = sh->t[i].end;
	}
	pt->wall = t_last > sh->gate.t_release ? t_last - sh->gate.t_release : 0;
	pt->cpu = cpu_ns() - c0;
	pt->switches = sh->gil.switches;
	pt->drops = sh->gil.drop_requests;
	pt->overlap = ss_overlap(start, end, n, 2);
	lttng_ust_tracepoint(ipclab_run, run_end, x->experiment, model_names[p->model], rep, rc);
	char sig[IL_SIGNAME_MAX];
	if (team.victim >= 0) {
		il_fail("worker %d was killed by %s", team.victim, il_signal_name(team.victim_sig, sig, sizeof(sig)));
		rc = IL_FAIL;
	}
	sw_free(&team);
	gil_destroy(&sh->gil);
	return rc;
}

/* The repeats of one point: the one with the median wall time into *pt, their spread
 * into *rsd. 0 or an exit code. */
static int measure_point(struct il_ctx *x, struct job *p, const struct gil_cfg *gc, unsigned n, uint64_t units,
			 struct point *reps, double *walls, struct point *pt, double *rsd)
{
	const uint64_t R = x->c.repeat;
	for (uint32_t r = 0; r < R; r++) {
		int rc = run_point(x, p, n, units, gc->switch_ms * 1000000, r, &reps[r]);
		if (rc != IL_OK)
			return rc;
		walls[r] = (double)reps[r].wall;
	}
	*rsd = il_rel_stddev(walls, R);
	double med = il_median_dbl(walls, R); /* may reorder walls */
	uint32_t pick = 0;
	for (uint32_t r = 1; r < R; r++)
		if (fabs((double)reps[r].wall - med) < fabs((double)reps[pick].wall - med))
			pick = r;
	*pt = reps[pick];
	return IL_OK;
}

/* The speed-up a perfect machine would give n workers. */
static unsigned ideal(const struct gil_cfg *gc, unsigned n, unsigned nproc)
{
	return gc->workload == WL_IO ? n : gc->model == M_GIL ? 1 : n < nproc ? n : nproc;
}

/* When the sweep cannot show what it is for, why (NULL when it can). */
static const char *inconclusive(const struct gil_cfg *gc, const struct point *pts, unsigned allowed, char *buf,
				size_t len)
{
	uint64_t overlap = 0;
	for (unsigned n = 2; n <= gc->workers; n++)
		overlap += pts[n - 1].overlap;
	if (gc->workers == 1)
		(void)snprintf(buf, len, "one worker: there is no speed-up to show (use --workers 2 or more)");
	else if (gc->workload == WL_CPU && allowed < 2)
		(void)snprintf(buf, len, "one CPU: nothing can compute in parallel, so neither the speed-up of "
			       "threads and processes nor its absence under the GIL can show");
	else if (!overlap)
		(void)snprintf(buf, len, "the workers of a point never ran at the same time: no speed-up could show");
	else
		return NULL;
	return buf;
}

static int gil_params(struct il_ctx *x, void *cfg)
{
	struct gil_cfg *gc = cfg;
	long np = sysconf(_SC_NPROCESSORS_ONLN);
	const uint64_t maxw = np < 1 ? 2 : 2 * (uint64_t)np > MAX_WORKERS ? MAX_WORKERS : 2 * (uint64_t)np;
	if (gc->workers > maxw) {
		il_err("invalid value '%" PRIu64 "' for --workers (expected an integer in 1..%" PRIu64
		       ", up to 2 x %ld online CPUs)", gc->workers, maxw, np);
		return IL_USAGE;
	}
	if (!gc->workers)
		gc->workers = maxw;
	il_jset(x->params, "workers", json_integer((json_int_t)gc->workers));
	return IL_OK;
}

/* The sweep's shape (speed-up at W against the ideal) and the verdict. */
static int gil_shape(struct il_ctx *x, const struct gil_cfg *gc, const struct job *p, const struct point *pts,
		     uint64_t units, unsigned nproc)
{
	const unsigned W = (unsigned)gc->workers, i_max = ideal(gc, W, nproc);
	const double s_max = pts[W - 1].wall ? (double)pts[0].wall / (double)pts[W - 1].wall : 0;
	const char *expected = gc->workload == WL_IO ? "scales with workers: the waits overlap (the GIL is released around them)"
			       : gc->model == M_GIL ? "flat, about 1: only the GIL holder computes"
						    : "scales up to the number of CPUs";
	int cpu[MAX_WORKERS];
	unsigned allowed;
	(void)sw_place(&x->c, 1, cpu, &allowed);
	char reason[256];
	const char *inc = inconclusive(gc, pts, allowed, reason, sizeof(reason));
	il_jset(x->results, "shape", json_pack("{ss sf sI sf}", "expected", expected, "speedup_at_max", s_max,
		"ideal_at_max", (json_int_t)i_max, "fraction_of_ideal", i_max ? s_max / i_max : 0.0));
	il_jset(x->results, "calibration", json_pack("{sI sI sI}", "chunk_ns", (json_int_t)CHUNK_NS,
		"chunk_iterations", (json_int_t)p->chunk_iters, "io_wait_ns", (json_int_t)IO_WAIT_NS));
	il_jset(x->results, "units_per_point", json_integer((json_int_t)units));
	il_jset(x->results, "nproc_online", json_integer(nproc));
	il_jset(x->results, "allowed_cpus", json_integer(allowed));
	il_jset(x->results, "inconclusive", inc ? json_string(inc) : json_null());
	if (inc) {
		il_err("inconclusive: %s", inc);
		return IL_UNSUP;
	}
	return IL_OK;
}

/* The sweep's points into x->results, then its shape. */
static int gil_measure(struct il_ctx *x, void *cfg)
{
	const struct gil_cfg *gc = cfg;
	const unsigned W = (unsigned)gc->workers, R = (unsigned)x->c.repeat;
	long np = sysconf(_SC_NPROCESSORS_ONLN);
	const unsigned nproc = np > 0 ? (unsigned)np : 1;
	const size_t shsize = sizeof(struct shared) + W * sizeof(((struct shared *)0)->t[0]);
	struct shared *sh = il_shared_alloc(shsize);
	struct job *p = calloc(1, sizeof(*p));
	struct point *pts = calloc(W, sizeof(*pts)), *reps = calloc(R, sizeof(*reps));
	double *walls = calloc(R, sizeof(double));
	int rc = IL_NORES;
	if (!sh || !p || !pts || !walls || !reps) {
		il_err("out of memory");
		goto out;
	}
	*p = (struct job){ .sh = sh, .workload = gc->workload, .model = gc->model, .chunk_iters = calibrate() };
	const uint64_t units = gc->workload == WL_CPU ? gc->work_ms * 1000000 / CHUNK_NS : gc->work_ms * 1000000 / IO_WAIT_NS;
	json_t *points = json_array();
	il_jset(x->results, "points", points);
	rc = IL_OK;
	for (unsigned n = 1; n <= W && rc == IL_OK; n++) {
		double rsd;
		rc = measure_point(x, p, gc, n, units, reps, walls, &pts[n - 1], &rsd);
		if (rc != IL_OK)
			break;
		const struct point *q = &pts[n - 1];
		const double speedup = q->wall ? (double)pts[0].wall / (double)q->wall : 0;
		(void)json_array_append_new(points, json_pack("{sI sI sf sf sI sI sf sI sI sf sI}", "workers", (json_int_t)n,
			"wall_ns", (json_int_t)q->wall, "speedup", speedup, "efficiency", speedup / n,
			"ideal_speedup", (json_int_t)ideal(gc, n, nproc), "cpu_ns", (json_int_t)q->cpu,
			"cpu_per_wall", q->wall ? (double)q->cpu / (double)q->wall : 0.0,
			"gil_switches", (json_int_t)q->switches, "gil_drop_requests", (json_int_t)q->drops,
			"repeat_rel_stddev", rsd, "overlap_ns", (json_int_t)q->overlap));
	}
	if (rc == IL_OK)
		rc = gil_shape(x, gc, p, pts, units, nproc);
out:
	il_shared_free(sh, shsize);
	free(p);
	free(pts);
	free(walls);
	free(reps);
	return rc;
}

static void gil_print(const struct il_ctx *x, const void *cfg)
{
	const struct gil_cfg *gc = cfg;
	const json_t *r = x->results, *pts = json_object_get(r, "points"), *sh = json_object_get(r, "shape");
	printf("sync gil: %s workload, %s, %" PRIu64 " ms of work per point, switch interval %" PRIu64 " ms, %.0f CPUs\n",
	       wl_names[gc->workload], model_names[gc->model], gc->work_ms, gc->switch_ms, il_jnum(r, "nproc_online"));
	printf("  %7s %10s %8s %6s %9s %9s\n", "workers", "wall ms", "speedup", "ideal", "cpu/wall", "switches");
	for (size_t i = 0; i < json_array_size(pts); i++) {
		const json_t *q = json_array_get(pts, i);
		printf("  %7.0f %10.1f %8.2f %6.0f %9.2f %9.0f\n", il_jnum(q, "workers"), il_jnum(q, "wall_ns") / 1e6,
		       il_jnum(q, "speedup"), il_jnum(q, "ideal_speedup"), il_jnum(q, "cpu_per_wall"), il_jnum(q, "gil_switches"));
	}
	printf("  expected: %s; measured %.2f at %" PRIu64 " workers = %.0f %% of the ideal %.0f\n",
	       json_string_value(json_object_get(sh, "expected")), il_jnum(sh, "speedup_at_max"), gc->workers,
	       100 * il_jnum(sh, "fraction_of_ideal"), il_jnum(sh, "ideal_at_max"));
}

static const struct gil_cfg gil_defaults = { .workload = WL_CPU, .model = M_GIL, .work_ms = 200, .switch_ms = 5 };

static const struct il_opt gil_opts[] = {
	{ .name = "workload", .type = IL_OPT_CHOICE, .metavar = "K", .choices = wl_names, .param = "workload",
	  .help = "cpu (arithmetic) or io (1 ms blocking waits + a little processing)",
	  .off = IL_CFG(struct gil_cfg, workload, int) },
	{ .name = "model", .type = IL_OPT_CHOICE, .metavar = "M", .choices = model_names, .param = "model",
	  .help = "threads (no GIL), gil (threads + one global lock), processes (forked)",
	  .off = IL_CFG(struct gil_cfg, model, int) },
	{ .name = "workers", .type = IL_OPT_U64, .metavar = "W", .min = 1, .max = MAX_WORKERS,
	  .help = "sweep 1..W workers (up to 2 x the online CPUs, which is the default)",
	  .off = IL_CFG(struct gil_cfg, workers, uint64_t) },
	{ .name = "work-ms", .type = IL_OPT_U64, .metavar = "MS", .min = 1, .max = 60000, .param = "work_ms",
	  .help = "total work of one point, split among its workers: ms of CPU (cpu) or of blocking waits (io) "
		  "(default 200)", .off = IL_CFG(struct gil_cfg, work_ms, uint64_t) },
	{ .name = "switch-ms", .type = IL_OPT_U64, .metavar = "S", .min = 1, .max = 1000, .param = "switch_ms",
	  .help = "GIL switch interval, like sys.setswitchinterval (default 5)",
	  .off = IL_CFG(struct gil_cfg, switch_ms, uint64_t) },
	{ 0 },
};

const struct il_experiment il_exp_sync_gil = {
	.group = "sync",
	.name = "gil",
	.summary = "why Python threads do not speed up CPU work: threads vs a GIL vs processes, speed-up sweep",
	.help = "Why Python threads do not speed up CPU work: a fixed amount of work split among\n"
		"1..W threads, GIL-bound threads or processes; wall time and speed-up per count.\n"
		"A sweep that cannot show speed-ups (one worker, one CPU, workers that never ran\n"
		"at the same time) is inconclusive (exit 4).",
	.common = IL_C_REPEAT,
	.opts = gil_opts,
	.cfg_size = sizeof(struct gil_cfg),
	.cfg_defaults = &gil_defaults,
	.params = gil_params,
	.measure = gil_measure,
	.print = gil_print,
	.flags = IL_EXP_GUARD | IL_EXP_TRACED,
};
