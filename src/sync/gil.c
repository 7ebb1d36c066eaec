/* gil.c - "ipclab sync gil": why Python threads do not speed up CPU work. A fixed total
 * amount of work is split among 1, 2, ... W workers (one sweep, one point per count) and
 * the wall time of each split is compared with one worker's:
 *   threads    plain threads;
 *   gil        threads that must hold one global lock to run, modelled on CPython's
 *              ceval_gil.c: a waiter that has waited a switch interval (--switch-ms,
 *              sys.getswitchinterval() is 5 ms) sets a drop request, the holder sees it
 *              between two chunks of work, drops the lock and waits until another thread
 *              took it (FORCE_SWITCHING); blocking "I/O" is done with the lock released;
 *   processes  forked workers, nothing shared.
 * Workloads: cpu = chunks of about 20 us of arithmetic; io = 1 ms blocking sleeps, each
 * followed by one chunk of processing. Expected: on cpu, gil stays flat (speed-up ~1)
 * while threads and processes scale to the CPU count; on io all three scale with W.
 * The shape is computed and shown (speed-up / ideal), never asserted: timing on a shared
 * machine is noisy. Events: run_begin/run_end per point and repeat. */
#include "sync.h"
#include "syncstat.h"
#include "../core/cleanup.h"
#include "../core/clock.h"
#include "../core/experiment.h"
#include "../core/hist.h"
#include "../core/log.h"
#include "../core/result.h"
#include "../core/tp.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#define COMMON (IL_C_REPEAT)
#define CHUNK_NS 20000ull       /* one chunk of CPU work */
#define IO_WAIT_NS 1000000ull   /* one blocking "I/O" */

enum { WL_CPU, WL_IO };
enum { M_THREADS, M_GIL, M_PROCESSES };
static const char *const wl_names[] = { "cpu", "io", NULL };
static const char *const model_names[] = { "threads", "gil", "processes", NULL };

/* The global interpreter lock (threads only). */
struct gil {
	pthread_mutex_t m;
	pthread_cond_t cond;         /* the lock became free */
	pthread_cond_t switch_cond;  /* another thread took it (forced switching) */
	int locked, holder;
	uint64_t switch_number;
	volatile int drop_request;
	uint64_t interval_ns;
	uint64_t switches, drop_requests;
};

struct shared {
	struct il_barrier gate;
	volatile int abort;
	struct gil gil;
	uint64_t t_end[];             /* per worker */
};

struct params {
	struct shared *sh;
	int workload, model;
	uint64_t chunk_iters;
	uint64_t units[128];          /* per worker */
};

struct warg {
	const struct params *p;
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

static int gil_init(struct gil *g, uint64_t interval_ns)
{
	memset(g, 0, sizeof(*g));
	g->holder = -1;
	g->interval_ns = interval_ns;
	pthread_condattr_t ca;
	int e = pthread_condattr_init(&ca);
	if (!e)
		e = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	if (!e)
		e = pthread_mutex_init(&g->m, NULL);
	if (!e)
		e = pthread_cond_init(&g->cond, &ca);
	if (!e)
		e = pthread_cond_init(&g->switch_cond, &ca);
	(void)pthread_condattr_destroy(&ca);
	return -e;
}

static void gil_destroy(struct gil *g)
{
	(void)pthread_cond_destroy(&g->cond);
	(void)pthread_cond_destroy(&g->switch_cond);
	(void)pthread_mutex_destroy(&g->m);
}

/* take_gil(): wait for the lock; after a whole interval without a switch, ask the holder
 * to drop it. */
static void take_gil(struct gil *g, int me)
{
	(void)pthread_mutex_lock(&g->m);
	while (g->locked) {
		uint64_t sw = g->switch_number, t = il_now_ns() + g->interval_ns;
		struct timespec dl = { (time_t)(t / 1000000000u), (long)(t % 1000000000u) };
		int r = pthread_cond_timedwait(&g->cond, &g->m, &dl);
		if (r == ETIMEDOUT && g->locked && g->switch_number == sw && !g->drop_request) {
			g->drop_request = 1;
			g->drop_requests++;
		}
	}
	g->locked = 1;
	if (g->holder != me)
		g->switches++;
	g->holder = me;
	g->switch_number++;
	g->drop_request = 0;
	(void)pthread_cond_signal(&g->switch_cond);
	(void)pthread_mutex_unlock(&g->m);
}

/* drop_gil(): release; when asked to (forced), wait until another thread has taken it, so
 * the releasing thread cannot grab it straight back. */
static void drop_gil(struct gil *g, int me, bool forced)
{
	(void)pthread_mutex_lock(&g->m);
	g->locked = 0;
	(void)pthread_cond_signal(&g->cond);
	if (forced)
		while (g->holder == me)
			(void)pthread_cond_wait(&g->switch_cond, &g->m);
	(void)pthread_mutex_unlock(&g->m);
}

static int gil_worker(void *arg)
{
	const struct warg *w = arg;
	const struct params *p = w->p;
	struct shared *sh = p->sh;
	struct gil *g = &sh->gil;
	const bool gil = p->model == M_GIL, io = p->workload == WL_IO;
	const int me = (int)w->idx;
	uint64_t x = w->idx + 1;
	il_set_task_name("ipclab-gil");
	if (il_barrier_wait(&sh->gate) < 0)
		return IL_FAIL;
	if (gil)
		take_gil(g, me);
	for (uint64_t u = 0; u < p->units[w->idx]; u++) {
		if (io) {
			if (gil)
				drop_gil(g, me, false); /* Py_BEGIN_ALLOW_THREADS */
			sp_sleep_ns(IO_WAIT_NS);
			if (gil)
				take_gil(g, me);
		}
		x = cpu_work(p->chunk_iters, x);
		if (gil && __atomic_load_n(&g->drop_request, __ATOMIC_RELAXED)) {
			drop_gil(g, me, true);
			take_gil(g, me);
		}
	}
	if (gil)
		drop_gil(g, me, false);
	sink = x;
	sh->t_end[w->idx] = il_now_ns();
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
};

/* One run with n workers: returns 0 or an exit code. */
static int run_point(struct params *p, unsigned n, uint64_t total_units, uint64_t switch_ns, const char *exp,
		     uint32_t rep, struct point *pt)
{
	struct shared *sh = p->sh;
	struct warg args[128];
	struct sp_pool pool;
	memset(sh, 0, sizeof(*sh) + n * sizeof(sh->t_end[0]));
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
	lttng_ust_tracepoint(ipclab_run, run_begin, exp, model_names[p->model], mode, rep, n, 0);
	uint64_t c0 = cpu_ns();
	int rc = sp_start(&pool, n, mode, gil_worker, args, sizeof(args[0]), &sh->abort, &sh->gate);
	if (rc == IL_OK)
		rc = sp_join(&pool);
	uint64_t t_last = 0;
	for (unsigned i = 0; i < n; i++)
		if (sh->t_end[i] > t_last)
			t_last = sh->t_end[i];
	pt->wall = t_last > sh->gate.t_release ? t_last - sh->gate.t_release : 0;
	pt->cpu = cpu_ns() - c0;
	pt->switches = sh->gil.switches;
	pt->drops = sh->gil.drop_requests;
	lttng_ust_tracepoint(ipclab_run, run_end, exp, model_names[p->model], rep, rc);
	if (rc == IL_OK && pool.victim >= 0)
		rc = IL_FAIL;
	if (pool.victim >= 0)
		il_fail("worker %d was killed by SIG%s", pool.victim, sp_signame(pool.victim_sig));
	sp_free(&pool);
	gil_destroy(&sh->gil);
	return rc;
}

static int gil_run(int argc, char **argv)
{
	int workload = WL_CPU, model = M_GIL;
	long np = sysconf(_SC_NPROCESSORS_ONLN);
	const unsigned nproc = np > 0 ? (unsigned)np : 1;
	const uint64_t maxw = 2 * nproc > 128 ? 128 : 2 * nproc;
	uint64_t workers = maxw, work_ms = 200, switch_ms = 5;
	char whelp[96];
	(void)snprintf(whelp, sizeof(whelp), "sweep 1..W workers (up to 2 x %u online CPUs; default %" PRIu64 ")",
		       nproc, maxw);
	const struct il_opt opts[] = {
		{ "workload", IL_OPT_CHOICE, "K", "cpu (arithmetic) or io (1 ms blocking waits + a little processing)",
		  0, 0, wl_names, &workload },
		{ "model", IL_OPT_CHOICE, "M", "threads (no GIL), gil (threads + one global lock), processes (forked)",
		  0, 0, model_names, &model },
		{ "workers", IL_OPT_U64, "W", whelp, 1, maxw, NULL, &workers },
		{ "work-ms", IL_OPT_U64, "MS", "total work of one point, split among its workers: ms of CPU (cpu) or of "
		  "blocking waits (io) (default 200)", 1, 60000, NULL, &work_ms },
		{ "switch-ms", IL_OPT_U64, "S", "GIL switch interval, like sys.setswitchinterval (default 5)", 1, 1000, NULL,
		  &switch_ms },
		{ 0 },
	};
	struct il_ctx x;
	il_ctx_begin(&x, argv[0], argc, argv);
	int prc = il_ctx_parse(&x, "Why Python threads do not speed up CPU work: a fixed amount of work split among\n"
			       "1..W threads, GIL-bound threads or processes; wall time and speed-up per count.",
			       COMMON, opts);
	if (prc != IL_RUN)
		return prc;
	const struct il_common *c = &x.c;
	const unsigned W = (unsigned)workers;
	il_jset(x.params, "workload", json_string(wl_names[workload]));
	il_jset(x.params, "model", json_string(model_names[model]));
	il_jset(x.params, "workers", json_integer((json_int_t)W));
	il_jset(x.params, "work_ms", json_integer((json_int_t)work_ms));
	il_jset(x.params, "switch_ms", json_integer((json_int_t)switch_ms));

	const size_t shsize = sizeof(struct shared) + W * sizeof(uint64_t);
	struct shared *sh = il_shared_alloc(shsize);
	struct params *p = calloc(1, sizeof(*p));
	struct point *pts = calloc(W, sizeof(*pts));
	double *walls = calloc(c->repeat, sizeof(double));
	struct point *reps = calloc(c->repeat, sizeof(*reps));
	int rc = IL_OK;
	if (!sh || !p || !pts || !walls || !reps) {
		il_err("out of memory");
		rc = IL_NORES;
		goto out;
	}
	il_guard_install((unsigned)c->timeout_s);
	*p = (struct params){ .sh = sh, .workload = workload, .model = model, .chunk_iters = calibrate() };
	const uint64_t total_units = workload == WL_CPU ? work_ms * 1000000 / CHUNK_NS : work_ms * 1000000 / IO_WAIT_NS;
	json_t *points = json_array();
	for (unsigned n = 1; n <= W && rc == IL_OK; n++) {
		for (uint32_t r = 0; r < c->repeat && rc == IL_OK; r++) {
			rc = run_point(p, n, total_units, switch_ms * 1000000, x.experiment, r, &reps[r]);
			walls[r] = (double)reps[r].wall;
		}
		if (rc != IL_OK)
			break;
		/* the repeat with the median wall time represents the point */
		double med = il_median_dbl(walls, c->repeat);
		uint32_t pick = 0;
		for (uint32_t r = 1; r < c->repeat; r++)
			if (fabs((double)reps[r].wall - med) < fabs((double)reps[pick].wall - med))
				pick = r;
		for (uint32_t r = 0; r < c->repeat; r++)
			walls[r] = (double)reps[r].wall;
		double rsd = il_rel_stddev(walls, c->repeat);
		pts[n - 1] = reps[pick];
		const double speedup = pts[n - 1].wall ? (double)pts[0].wall / (double)pts[n - 1].wall : 0;
		const unsigned ideal = workload == WL_IO ? n : model == M_GIL ? 1 : n < nproc ? n : nproc;
		(void)json_array_append_new(points, json_pack("{sI sI sf sf sI sI sf sI sI sf}", "workers", (json_int_t)n,
			"wall_ns", (json_int_t)pts[n - 1].wall, "speedup", speedup, "efficiency", speedup / n,
			"ideal_speedup", (json_int_t)ideal, "cpu_ns", (json_int_t)pts[n - 1].cpu,
			"cpu_per_wall", pts[n - 1].wall ? (double)pts[n - 1].cpu / (double)pts[n - 1].wall : 0.0,
			"gil_switches", (json_int_t)pts[n - 1].switches, "gil_drop_requests", (json_int_t)pts[n - 1].drops,
			"repeat_rel_stddev", rsd));
	}
	il_guard_disarm();
	il_jset(x.results, "points", points);
	if (rc != IL_OK)
		goto out;

	const double s_max = pts[W - 1].wall ? (double)pts[0].wall / (double)pts[W - 1].wall : 0;
	const unsigned i_max = workload == WL_IO ? W : model == M_GIL ? 1 : W < nproc ? W : nproc;
	const char *expected = workload == WL_IO ? "scales with workers: the waits overlap (the GIL is released around them)"
			       : model == M_GIL ? "flat, about 1: only the GIL holder computes"
					       : "scales up to the number of CPUs";
	il_jset(x.results, "shape", json_pack("{ss sf sI sf}", "expected", expected, "speedup_at_max", s_max,
		"ideal_at_max", (json_int_t)i_max, "fraction_of_ideal", i_max ? s_max / i_max : 0.0));
	il_jset(x.results, "calibration", json_pack("{sI sI sI}", "chunk_ns", (json_int_t)CHUNK_NS,
		"chunk_iterations", (json_int_t)p->chunk_iters, "io_wait_ns", (json_int_t)IO_WAIT_NS));
	il_jset(x.results, "units_per_point", json_integer((json_int_t)total_units));
	il_jset(x.results, "nproc_online", json_integer(nproc));
	il_jset(x.results, "traced", json_boolean(il_trace_loaded()));

	if (!c->json || c->json_file) {
		printf("sync gil: %s workload, %s, %" PRIu64 " ms of work per point, switch interval %" PRIu64 " ms, %u CPUs\n",
		       wl_names[workload], model_names[model], work_ms, switch_ms, nproc);
		printf("  %7s %10s %8s %6s %9s %9s\n", "workers", "wall ms", "speedup", "ideal", "cpu/wall", "switches");
		for (unsigned n = 1; n <= W; n++) {
			const struct point *q = &pts[n - 1];
			const unsigned ideal = workload == WL_IO ? n : model == M_GIL ? 1 : n < nproc ? n : nproc;
			printf("  %7u %10.1f %8.2f %6u %9.2f %9" PRIu64 "\n", n, (double)q->wall / 1e6,
			       q->wall ? (double)pts[0].wall / (double)q->wall : 0, ideal,
			       q->wall ? (double)q->cpu / (double)q->wall : 0, q->switches);
		}
		printf("  expected: %s; measured %.2f at %u workers = %.0f %% of the ideal %u\n", expected, s_max, W,
		       i_max ? 100 * s_max / i_max : 0, i_max);
	}
out:
	il_shared_free(sh, shsize);
	free(p);
	free(pts);
	free(walls);
	free(reps);
	return il_ctx_finish(&x, rc);
}

const struct il_experiment il_exp_sync_gil = {
	.group = "sync",
	.name = "gil",
	.summary = "why Python threads do not speed up CPU work: threads vs a GIL vs processes, speed-up sweep",
	.run = gil_run,
};
