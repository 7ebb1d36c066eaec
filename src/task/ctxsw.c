/* ctxsw.c - "ipclab task ctxsw": the cost of a context switch between two processes vs two
 * threads on one pinned CPU, by working-set size, in the manner of lmbench's lat_ctx: two
 * tasks pass a token around a ring of two pipes, each touching its own working set (one
 * load per 64-byte line) before passing it on. One round trip is two switches plus twice
 * (touch + pipe write + pipe read); that overhead is measured first by the same loop in
 * one task over one pipe (no switch), and subtracted:
 *     ctxsw = p50(round trip) / 2 - p50(overhead).
 * A process switch changes address space (CR3; with PCID the TLB survives), a thread
 * switch does not; with working sets that no longer fit the caches, the refill after each
 * switch is part of the cost, as lat_ctx counts it. */
#include "task.h"
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define HIST_MAX_NS (10ull * 1000 * 1000 * 1000)
#define LINE 64u

static const uint64_t sweep_kb[] = { 0, 16, 64, 256, 1024 };
#define N_SWEEP (sizeof(sweep_kb) / sizeof(sweep_kb[0]))

/* What the peer reports (MAP_SHARED in process mode). */
struct cx_shared {
	struct il_barrier start;
	volatile int32_t pid, tid;
	int status;
	int cpu_end;
};

/* One repeat's ring: the token goes a2b, comes back b2a. */
struct cx_run {
	int a2b[2], b2a[2];
	uint64_t ws_kb, total, seq;
	struct cx_shared *sh;
};

/* A point: the estimates over the repeats, the merged histograms, where the tasks ran. */
struct cx_point {
	double ctxsw_ns;      /* median over repeats of round_p50/2 - overhead_p50 */
	double ctxsw_mean_ns; /* the same from means */
	double rel_stddev;    /* repeat-to-repeat, of ctxsw_ns */
	struct il_hist *round, *overhead, *r1, *o1;
	int cpu_seen[2];      /* CPU of each task at its end */
};

static volatile uint64_t sink; /* keeps the working-set loads */

/* One load per cache line of the working set. */
static inline uint64_t touch(const unsigned char *buf, size_t len)
{
	uint64_t s = 0;
	for (size_t off = 0; off < len; off += LINE)
		s += *(const volatile uint64_t *)(buf + off);
	return s;
}

/* A working set of kb KiB, written once so it is resident. *buf NULL for 0 KiB; -1
 * when out of memory. */
static int ws_alloc(uint64_t kb, unsigned char **buf)
{
	*buf = NULL;
	if (!kb)
		return 0;
	if (!(*buf = aligned_alloc(4096, kb * 1024)))
		return -1;
	memset(*buf, 1, kb * 1024);
	return 0;
}

/* Writes/reads exactly one 8-byte token: 0, or -1 with errno set (0: end of file). */
static int put_tok(int fd, uint64_t v)
{
	int r = il_write_full(fd, &v, sizeof(v));
	errno = -r;
	return r ? -1 : 0;
}

static int get_tok(int fd, uint64_t *v)
{
	int r = il_read_full(fd, v, sizeof(*v));
	errno = r == -EPIPE ? 0 : -r;
	return r ? -1 : 0;
}

/* The peer: receive the token, touch, pass it back. A primary failure is reported here;
 * end of file is not (the experiment stopped the ring and says why). */
static int peer_main(void *arg)
{
	struct cx_run *r = arg;
	struct cx_shared *sh = r->sh;
	uint64_t t = il_now_ns(), s = 0, tok;
	sh->pid = getpid();
	sh->tid = gettid();
	tk_tp_start(r->seq, sh->pid, sh->tid, t, false);
	il_set_task_name("ipclab-ctxsw");
	unsigned char *ws;
	int rc = IL_OK;
	if (ws_alloc(r->ws_kb, &ws) < 0) {
		il_err("peer: no memory for a %" PRIu64 " KiB working set", r->ws_kb);
		rc = IL_NORES;
	}
	sh->status = rc;
	if (il_barrier_wait(&sh->start) < 0)
		rc = IL_FAIL;
	for (uint64_t i = 0; rc == IL_OK && i < r->total; i++) {
		if (get_tok(r->a2b[0], &tok) < 0) {
			if (errno)
				il_errno("peer: token %" PRIu64 " not received", i);
			rc = IL_FAIL;
		} else if (tok != i) {
			il_fail("peer: token %" PRIu64 " arrived as %" PRIu64, i, tok);
			rc = IL_FAIL;
		} else {
			s += touch(ws, r->ws_kb * 1024);
			if (put_tok(r->b2a[1], tok) < 0) {
				il_errno("peer: token %" PRIu64 " not sent", i);
				rc = IL_FAIL;
			}
		}
	}
	sink += s;
	sh->cpu_end = il_cpu_now();
	free(ws);
	sh->status = rc;
	tk_tp_exit(r->seq, sh->pid, sh->tid, rc, false);
	return rc;
}

/* Passes r->total tokens out and back in (in from a pipe whose other end is ours for
 * the overhead, the peer's for the ring), touching the working set before each; the
 * measured ones' times go to h. *lost: the token that did not come back because the
 * other end went away (reported by the caller after the peer's own outcome),
 * UINT64_MAX if none. */
static int token_loop(const struct cx_run *r, int out, int in, uint64_t warmup, const unsigned char *ws,
		      struct il_hist *h, uint64_t *lost)
{
	uint64_t s = 0, tok;
	int rc = IL_OK;
	*lost = UINT64_MAX;
	for (uint64_t i = 0; rc == IL_OK && i < r->total; i++) {
		uint64_t t0 = il_now_ns();
		s += touch(ws, r->ws_kb * 1024);
		if (put_tok(out, i) < 0) {
			il_errno("token %" PRIu64 " not sent", i);
			rc = IL_FAIL;
		} else if (get_tok(in, &tok) < 0) {
			if (errno)
				il_errno("token %" PRIu64 " did not come back", i);
			else
				*lost = i;
			rc = IL_FAIL;
		} else if (tok != i) {
			il_fail("token %" PRIu64 " came back as %" PRIu64, i, tok);
			rc = IL_FAIL;
		} else if (i >= warmup) {
			il_hist_add(h, il_now_ns() - t0);
		}
	}
	sink += s;
	return rc;
}

/* The overhead: the same loop in one task over one pipe, no switch. */
static int overhead_loop(const struct cx_run *r, uint64_t warmup, const unsigned char *ws, struct il_hist *over)
{
	int self[2];
	if (pipe2(self, O_CLOEXEC) < 0) {
		int rc = il_exit_for_errno(errno);
		il_errno("pipe");
		return rc;
	}
	uint64_t lost;
	int rc = token_loop(r, self[1], self[0], warmup, ws, over, &lost);
	tk_close_pair(self);
	return rc;
}

/* The ring with the peer, after the start barrier; then the peer is reaped. One message
 * for the first failure: ours, the peer's, or the token lost when the peer went away. */
static int ring_with_peer(struct cx_run *r, int mode, int cpu, uint64_t warmup, const unsigned char *ws,
			  struct cx_point *pt)
{
	struct cx_shared *sh = r->sh;
	r->seq = tk_next_seq();
	tk_tp_spawn(mode == IL_MODE_THREAD ? "ctxsw-thread" : "ctxsw-process", r->seq);
	struct il_peer peer;
	uint64_t t_spawn = il_now_ns(), lost = UINT64_MAX;
	int rc = il_spawn(&peer, mode, cpu, peer_main, r);
	if (rc != IL_OK)
		return rc;
	if (mode == IL_MODE_PROCESS) { /* the peer's ends: its death is then end of file here */
		(void)close(r->a2b[0]);
		(void)close(r->b2a[1]);
		r->a2b[0] = r->b2a[1] = -1;
	}
	if (il_barrier_wait(&sh->start) < 0)
		rc = IL_FAIL; /* the barrier said why */
	else if ((rc = sh->status) == IL_OK)
		rc = token_loop(r, r->a2b[1], r->b2a[0], warmup, ws, pt->r1, &lost);
	pt->cpu_seen[0] = il_cpu_now();
	if (rc != IL_OK) /* unblock a peer waiting for a token that will not come */
		tk_close_pair(r->a2b);
	char how[128];
	int prc = il_join(&peer, how, sizeof(how));
	tk_tp_reaped(r->seq, sh->pid, sh->tid, prc, il_now_ns() - t_spawn);
	pt->cpu_seen[1] = sh->cpu_end;
	if (*how) {
		il_fail("the peer was %s", how);
		return IL_FAIL;
	}
	if (rc == IL_OK || prc != IL_OK) /* the peer reported its own failure */
		return prc != IL_OK ? prc : rc;
	if (lost != UINT64_MAX)
		il_fail("token %" PRIu64 " did not come back: end of file (the peer went away)", lost);
	return rc;
}

/* One repeat: the overhead loop alone, then the ring with the peer. */
static int one_repeat(int mode, int cpu, uint64_t ws_kb, const struct il_common *c, struct cx_shared *sh,
		      struct cx_point *pt)
{
	struct cx_run r = { .a2b = { -1, -1 }, .b2a = { -1, -1 }, .ws_kb = ws_kb, .total = c->iterations + c->warmup,
			    .sh = sh };
	unsigned char *ws;
	memset(sh, 0, sizeof(*sh));
	if (ws_alloc(ws_kb, &ws) < 0) {
		il_err("no memory for a %" PRIu64 " KiB working set", ws_kb);
		return IL_NORES;
	}
	int rc = overhead_loop(&r, c->warmup, ws, pt->o1);
	if (rc == IL_OK && (pipe2(r.a2b, O_CLOEXEC) < 0 || pipe2(r.b2a, O_CLOEXEC) < 0)) {
		rc = il_exit_for_errno(errno);
		il_errno("pipe");
	}
	if (rc == IL_OK && il_barrier_init(&sh->start, 2) < 0) {
		il_err("cannot create the start barrier");
		rc = IL_NORES;
	}
	if (rc == IL_OK) {
		rc = ring_with_peer(&r, mode, cpu, c->warmup, ws, pt);
		il_barrier_destroy(&sh->start);
	}
	tk_close_pair(r.a2b);
	tk_close_pair(r.b2a);
	free(ws);
	return rc;
}

static void point_free(struct cx_point *pt)
{
	free(pt->round);
	free(pt->overhead);
	free(pt->r1);
	free(pt->o1);
}

/* --repeat repeats at one working-set size, pinned to cpu (our affinity restored after). */
static int measure_point(const struct il_common *c, int cpu, uint64_t ws_kb, struct cx_point *pt)
{
	memset(pt, 0, sizeof(*pt));
	pt->round = tk_hist_new(HIST_MAX_NS);
	pt->overhead = tk_hist_new(HIST_MAX_NS);
	pt->r1 = tk_hist_new(HIST_MAX_NS);
	pt->o1 = tk_hist_new(HIST_MAX_NS);
	struct cx_shared *sh = il_shared_alloc(sizeof(*sh));
	double *est = calloc(c->repeat, sizeof(double)), *estm = calloc(c->repeat, sizeof(double));
	cpu_set_t saved;
	bool restore = sched_getaffinity(0, sizeof(saved), &saved) == 0;
	int rc = IL_OK;
	if (!pt->round || !pt->overhead || !pt->r1 || !pt->o1 || !sh || !est || !estm) {
		il_err("out of memory");
		rc = IL_NORES;
	} else {
		rc = il_pin_main(cpu, "the experiment");
	}
	for (uint64_t k = 0; k < c->repeat && rc == IL_OK; k++) {
		il_hist_init(pt->r1, HIST_MAX_NS);
		il_hist_init(pt->o1, HIST_MAX_NS);
		if ((rc = one_repeat(c->mode, cpu, ws_kb, c, sh, pt)) != IL_OK)
			break;
		est[k] = (double)il_hist_percentile(pt->r1, 50) / 2.0 - (double)il_hist_percentile(pt->o1, 50);
		estm[k] = il_hist_mean(pt->r1) / 2.0 - il_hist_mean(pt->o1);
		il_hist_merge(pt->round, pt->r1);
		il_hist_merge(pt->overhead, pt->o1);
	}
	if (rc == IL_OK) {
		pt->rel_stddev = il_rel_stddev(est, c->repeat);
		pt->ctxsw_ns = il_median_dbl(est, c->repeat);
		pt->ctxsw_mean_ns = il_median_dbl(estm, c->repeat);
	}
	if (restore)
		(void)sched_setaffinity(0, sizeof(saved), &saved);
	free(est);
	free(estm);
	il_shared_free(sh, sizeof(*sh));
	return rc;
}

/* JSON of one point. */
static json_t *point_json(uint64_t ws_kb, const struct cx_point *pt, int cpu)
{
	json_t *o = json_object();
	il_jset(o, "working_set_kb", json_integer((json_int_t)ws_kb));
	il_jset(o, "ctxsw_ns", json_real(pt->ctxsw_ns));
	il_jset(o, "ctxsw_mean_ns", json_real(pt->ctxsw_mean_ns));
	il_jset(o, "repeat_rel_stddev", json_real(pt->rel_stddev));
	il_jset(o, "round_trip", il_json_summary(pt->round));
	il_jset(o, "overhead", il_json_summary(pt->overhead));
	il_jset(o, "cpu", json_integer(cpu));
	il_jset(o, "cpu_seen", json_pack("[ii]", pt->cpu_seen[0], pt->cpu_seen[1]));
	return o;
}

/* The checks of one point: every round trip measured, both tasks on the CPU. */
static bool point_checks(json_t *checks, const struct il_common *c, uint64_t kb, int cpu, const struct cx_point *pt)
{
	char name[64];
	bool ok = true;
	(void)snprintf(name, sizeof(name), "ws%" PRIu64 "_round_trips", kb);
	ok &= tk_check(checks, name, json_integer((json_int_t)(c->iterations * c->repeat)),
		       json_integer((json_int_t)pt->round->count), pt->round->count == c->iterations * c->repeat);
	(void)snprintf(name, sizeof(name), "ws%" PRIu64 "_same_cpu", kb);
	ok &= tk_check(checks, name, json_pack("[ii]", cpu, cpu), json_pack("[ii]", pt->cpu_seen[0], pt->cpu_seen[1]),
		       pt->cpu_seen[0] == cpu && pt->cpu_seen[1] == cpu);
	return ok;
}

static int ctxsw_measure(struct il_ctx *x, void *cfgv)
{
	const struct tk_ctxsw_cfg *cfg = cfgv;
	const struct il_common *c = &x->c;
	int cpu = c->cpu[0] >= 0 ? c->cpu[0] : tk_first_allowed_cpu();
	il_jset(x->results, "cpu", json_integer(cpu));
	il_jset(x->results, "clock_read_ns", json_integer((json_int_t)il_clock_read_cost_ns()));
	json_t *points = json_array(), *checks = json_array();
	il_jset(x->results, "points", points);
	il_jset(x->results, "checks", checks);
	int rc = IL_OK;
	bool ok = true;
	for (size_t i = 0; i < (cfg->sweep ? N_SWEEP : 1) && rc == IL_OK; i++) {
		uint64_t kb = cfg->sweep ? sweep_kb[i] : cfg->ws_kb;
		struct cx_point pt;
		il_info("%s, %" PRIu64 " KiB working set", c->mode == IL_MODE_THREAD ? "thread" : "process", kb);
		rc = measure_point(c, cpu, kb, &pt);
		if (rc == IL_OK) {
			ok &= point_checks(checks, c, kb, cpu, &pt);
			json_t *o = point_json(kb, &pt, cpu);
			if (!cfg->sweep)
				(void)json_object_update(x->results, o);
			(void)json_array_append_new(points, o);
		}
		point_free(&pt);
	}
	return rc == IL_OK && !ok ? IL_FAIL : rc;
}

static int ctxsw_params(struct il_ctx *x, void *cfgv)
{
	const struct tk_ctxsw_cfg *cfg = cfgv;
	if (x->c.cpu[0] != x->c.cpu[1]) {
		il_err("--cpu: both tasks run on one CPU; give one CPU (A), not A,B");
		return IL_USAGE;
	}
	if (cfg->sweep && il_ctx_given(x, "working-set")) {
		il_err("--sweep and --working-set exclude each other; see 'ipclab %s --help'", x->experiment);
		return IL_USAGE;
	}
	il_jset(x->params, "working_set_kb", cfg->sweep ? json_null() : json_integer((json_int_t)cfg->ws_kb));
	return IL_OK;
}

static void ctxsw_print(const struct il_ctx *x, const void *cfgv)
{
	const struct il_common *c = &x->c;
	const json_t *r = x->results, *pt;
	(void)cfgv;
	printf("task ctxsw: %s mode, CPU %d, %" PRIu64 " round trips x %" PRIu64 " repeats (+%" PRIu64 " warm-up)%s\n",
	       c->mode == IL_MODE_THREAD ? "thread" : "process", (int)il_jint(r, "cpu"), c->iterations, c->repeat,
	       c->warmup, il_jtrue(r, "traced") ? ", traced" : "");
	printf("%8s %10s %10s %11s %11s %9s\n", "ws_KiB", "ctxsw_ns", "mean_ns", "round_p50", "overhd_p50", "rsd_%");
	size_t i;
	json_array_foreach(json_object_get(r, "points"), i, pt)
		printf("%8" JSON_INTEGER_FORMAT " %10.0f %10.0f %11" JSON_INTEGER_FORMAT " %11" JSON_INTEGER_FORMAT " %9.1f\n",
		       il_jint(pt, "working_set_kb"), il_jnum(pt, "ctxsw_ns"), il_jnum(pt, "ctxsw_mean_ns"),
		       il_jint(json_object_get(pt, "round_trip"), "p50"), il_jint(json_object_get(pt, "overhead"), "p50"),
		       100 * il_jnum(pt, "repeat_rel_stddev"));
}

static const struct il_opt ctxsw_opts[] = {
	{ .name = "working-set", .type = IL_OPT_U64, .metavar = "KB", .help = "KiB each task touches (one load per "
	  "64-byte line) before passing the token on (default 0)", .min = 0, .max = 65536,
	  .off = IL_CFG(struct tk_ctxsw_cfg, ws_kb, uint64_t) },
	{ .name = "sweep", .type = IL_OPT_FLAG, .help = "measure at 0,16,64,256,1024 KiB working sets",
	  .off = IL_CFG(struct tk_ctxsw_cfg, sweep, bool), .param = "sweep" },
	{ 0 },
};

const struct il_experiment il_exp_task_ctxsw = {
	.group = "task",
	.name = "ctxsw",
	.summary = "context-switch cost, process vs thread on one CPU, by working-set size (lat_ctx style)",
	.help = "Context-switch cost between two processes or two threads pinned on one CPU\n"
		"(lmbench lat_ctx style): a token ring over two pipes, each task touching its\n"
		"working set, minus the same loop's cost in one task: p50(round)/2 - p50(overhead).",
	.common = IL_C_ITER | IL_C_WARMUP | IL_C_REPEAT | IL_C_MODE | IL_C_CPU,
	.opts = ctxsw_opts,
	.cfg_size = sizeof(struct tk_ctxsw_cfg),
	.params = ctxsw_params,
	.measure = ctxsw_measure,
	.print = ctxsw_print,
	.flags = IL_EXP_GUARD | IL_EXP_TRACED | IL_EXP_PRINT_ON_FAIL,
};
