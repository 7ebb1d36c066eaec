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
#include "../core/cleanup.h"
#include "../core/clock.h"
#include "../core/experiment.h"
#include "../core/log.h"
#include "../core/result.h"
#include "../core/spawn.h"
#include "../core/tp.h"

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
	char why[256];
};

struct cx_run {
	int a2b[2], b2a[2];
	uint64_t ws_kb, total, seq;
	struct cx_shared *sh;
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

/* A working set of kb KiB, written once so it is resident (NULL for 0). */
static unsigned char *ws_alloc(uint64_t kb, bool *fail)
{
	*fail = false;
	if (!kb)
		return NULL;
	unsigned char *b = aligned_alloc(4096, kb * 1024);
	if (!b) {
		*fail = true;
		return NULL;
	}
	memset(b, 1, kb * 1024);
	return b;
}

/* Writes/reads exactly one 8-byte token; -1 on error or EOF. */
static int put_tok(int fd, uint64_t v)
{
	ssize_t n;
	while ((n = write(fd, &v, sizeof(v))) < 0 && errno == EINTR)
		;
	return n == (ssize_t)sizeof(v) ? 0 : -1;
}

static int get_tok(int fd, uint64_t *v)
{
	ssize_t n;
	while ((n = read(fd, v, sizeof(*v))) < 0 && errno == EINTR)
		;
	return n == (ssize_t)sizeof(*v) ? 0 : -1;
}

/* The peer: receive the token, touch, pass it back. */
static int peer_main(void *arg)
{
	struct cx_run *r = arg;
	struct cx_shared *sh = r->sh;
	uint64_t t = il_now_ns();
	sh->pid = getpid();
	sh->tid = gettid();
	tk_tp_start(r->seq, sh->pid, sh->tid, t, false);
	il_set_task_name("ipclab-ctxsw");
	bool nomem;
	unsigned char *ws = ws_alloc(r->ws_kb, &nomem);
	int rc = IL_OK;
	if (nomem) {
		(void)snprintf(sh->why, sizeof(sh->why), "peer: no memory for a %" PRIu64 " KiB working set", r->ws_kb);
		rc = IL_NORES;
	}
	sh->status = rc;
	il_barrier_wait(&sh->start);
	uint64_t s = 0;
	for (uint64_t i = 0; rc == IL_OK && i < r->total; i++) {
		uint64_t tok;
		if (get_tok(r->a2b[0], &tok) < 0) {
			(void)snprintf(sh->why, sizeof(sh->why), "peer: token %" PRIu64 " not received: %s", i,
				       errno ? strerror(errno) : "end of file");
			rc = IL_FAIL;
			break;
		}
		if (tok != i) {
			(void)snprintf(sh->why, sizeof(sh->why), "peer: token %" PRIu64 " arrived as %" PRIu64, i, tok);
			rc = IL_FAIL;
			break;
		}
		s += touch(ws, r->ws_kb * 1024);
		if (put_tok(r->b2a[1], tok) < 0) {
			(void)snprintf(sh->why, sizeof(sh->why), "peer: token %" PRIu64 " not sent: %s", i, strerror(errno));
			rc = IL_FAIL;
		}
	}
	sink += s;
	sh->cpu_end = il_cpu_now();
	free(ws);
	sh->status = rc;
	tk_tp_exit(r->seq, sh->pid, sh->tid, rc, false);
	return rc;
}

void tk_ctxsw_res_free(struct tk_ctxsw_res *res)
{
	free(res->round);
	free(res->overhead);
	res->round = res->overhead = NULL;
}

static void close_pair(int p[2])
{
	for (int i = 0; i < 2; i++)
		if (p[i] >= 0) {
			(void)close(p[i]);
			p[i] = -1;
		}
}

/* One repeat: the overhead loop alone, then the ring with the peer. */
static int one_repeat(int mode, int cpu, uint64_t ws_kb, uint64_t iterations, uint64_t warmup,
		      struct cx_shared *sh, struct il_hist *round, struct il_hist *over, int cpu_seen[2],
		      char *why, size_t wl)
{
	struct cx_run r = { .a2b = { -1, -1 }, .b2a = { -1, -1 }, .ws_kb = ws_kb, .total = iterations + warmup, .sh = sh };
	int self[2] = { -1, -1 };
	int rc = IL_OK;
	bool nomem;
	unsigned char *ws = ws_alloc(ws_kb, &nomem);
	memset(sh, 0, sizeof(*sh));
	if (nomem) {
		(void)snprintf(why, wl, "no memory for a %" PRIu64 " KiB working set", ws_kb);
		return IL_NORES;
	}
	if (pipe2(self, O_CLOEXEC) < 0 || pipe2(r.a2b, O_CLOEXEC) < 0 || pipe2(r.b2a, O_CLOEXEC) < 0) {
		(void)snprintf(why, wl, "pipe: %s", strerror(errno));
		rc = il_exit_for_errno(errno);
		goto out;
	}
	/* the overhead: the same loop in one task, over one pipe, no switch */
	uint64_t s = 0;
	for (uint64_t i = 0; i < r.total; i++) {
		uint64_t t0 = il_now_ns(), tok;
		s += touch(ws, ws_kb * 1024);
		if (put_tok(self[1], i) < 0 || get_tok(self[0], &tok) < 0 || tok != i) {
			(void)snprintf(why, wl, "overhead loop: self-pipe token %" PRIu64 " lost", i);
			rc = IL_FAIL;
			goto out;
		}
		uint64_t t1 = il_now_ns();
		if (i >= warmup)
			il_hist_add(over, t1 - t0);
	}
	if (il_barrier_init(&sh->start, 2) < 0) {
		(void)snprintf(why, wl, "cannot create the start barrier");
		rc = IL_NORES;
		goto out;
	}
	r.seq = tk_next_seq();
	tk_tp_spawn(mode == IL_MODE_THREAD ? "ctxsw-thread" : "ctxsw-process", r.seq);
	struct il_peer peer;
	uint64_t t_spawn = il_now_ns();
	if ((rc = il_spawn(&peer, mode, cpu, peer_main, &r)) != IL_OK) {
		(void)snprintf(why, wl, "cannot start the peer");
		il_barrier_destroy(&sh->start);
		goto out;
	}
	if (il_barrier_wait(&sh->start) < 0) {
		(void)snprintf(why, wl, "no measurement: the peer never reached the start barrier");
		rc = IL_FAIL;
	} else {
		rc = sh->status;
	}
	for (uint64_t i = 0; rc == IL_OK && i < r.total; i++) {
		uint64_t t0 = il_now_ns(), tok;
		s += touch(ws, ws_kb * 1024);
		if (put_tok(r.a2b[1], i) < 0) {
			(void)snprintf(why, wl, "token %" PRIu64 " not sent: %s", i, strerror(errno));
			rc = IL_FAIL;
			break;
		}
		if (get_tok(r.b2a[0], &tok) < 0) {
			(void)snprintf(why, wl, "token %" PRIu64 " did not come back: %s", i,
				       errno ? strerror(errno) : "end of file (the peer went away)");
			rc = IL_FAIL;
			break;
		}
		uint64_t t1 = il_now_ns();
		if (tok != i) {
			(void)snprintf(why, wl, "token %" PRIu64 " came back as %" PRIu64, i, tok);
			rc = IL_FAIL;
			break;
		}
		if (i >= warmup)
			il_hist_add(round, t1 - t0);
	}
	sink += s;
	cpu_seen[0] = il_cpu_now();
	if (rc != IL_OK) /* unblock a peer waiting for a token that will not come */
		close_pair(r.a2b);
	char how[128];
	int prc = il_join(&peer, how, sizeof(how));
	uint64_t t_reaped = il_now_ns();
	tk_tp_reaped(r.seq, sh->pid, sh->tid, prc, t_reaped - t_spawn);
	cpu_seen[1] = sh->cpu_end;
	if (*how) {
		(void)snprintf(why, wl, "the peer was %s", how);
		rc = IL_FAIL;
	} else if (rc == IL_OK && prc != IL_OK) {
		(void)snprintf(why, wl, "%s", sh->why[0] ? sh->why : "the peer failed");
		rc = prc;
	}
	il_barrier_destroy(&sh->start);
out:
	close_pair(self);
	close_pair(r.a2b);
	close_pair(r.b2a);
	free(ws);
	return rc;
}

int tk_ctxsw_measure(int mode, int cpu, uint64_t ws_kb, uint64_t iterations, uint64_t warmup,
		     uint64_t repeat, struct tk_ctxsw_res *res)
{
	memset(res, 0, sizeof(*res));
	res->round = tk_hist_new(HIST_MAX_NS);
	res->overhead = tk_hist_new(HIST_MAX_NS);
	struct il_hist *r1 = tk_hist_new(HIST_MAX_NS), *o1 = tk_hist_new(HIST_MAX_NS);
	struct cx_shared *sh = il_shared_alloc(sizeof(*sh));
	double *est = calloc(repeat, sizeof(double)), *estm = calloc(repeat, sizeof(double));
	cpu_set_t saved;
	bool restore = sched_getaffinity(0, sizeof(saved), &saved) == 0;
	int rc = IL_OK;
	if (!res->round || !res->overhead || !r1 || !o1 || !sh || !est || !estm) {
		(void)snprintf(res->why, sizeof(res->why), "out of memory");
		rc = IL_NORES;
		goto out;
	}
	int e = il_pin_self(cpu);
	if (e) {
		errno = -e;
		(void)snprintf(res->why, sizeof(res->why), "cannot pin to CPU %d: %s", cpu, strerror(-e));
		rc = IL_NORES;
		goto out;
	}
	for (uint64_t k = 0; k < repeat && rc == IL_OK; k++) {
		il_hist_init(r1, HIST_MAX_NS);
		il_hist_init(o1, HIST_MAX_NS);
		rc = one_repeat(mode, cpu, ws_kb, iterations, warmup, sh, r1, o1, res->cpu_seen, res->why, sizeof(res->why));
		if (rc != IL_OK)
			break;
		est[k] = (double)il_hist_percentile(r1, 50) / 2.0 - (double)il_hist_percentile(o1, 50);
		estm[k] = il_hist_mean(r1) / 2.0 - il_hist_mean(o1);
		il_hist_merge(res->round, r1);
		il_hist_merge(res->overhead, o1);
	}
	if (rc == IL_OK) {
		res->rel_stddev = il_rel_stddev(est, repeat);
		res->ctxsw_ns = il_median_dbl(est, repeat);
		res->ctxsw_mean_ns = il_median_dbl(estm, repeat);
	}
out:
	if (restore)
		(void)sched_setaffinity(0, sizeof(saved), &saved);
	free(r1);
	free(o1);
	free(est);
	free(estm);
	il_shared_free(sh, sizeof(*sh));
	return rc;
}

/* JSON of one point. */
static json_t *point_json(uint64_t ws_kb, const struct tk_ctxsw_res *r, int cpu)
{
	json_t *o = json_object();
	il_jset(o, "working_set_kb", json_integer((json_int_t)ws_kb));
	il_jset(o, "ctxsw_ns", json_real(r->ctxsw_ns));
	il_jset(o, "ctxsw_mean_ns", json_real(r->ctxsw_mean_ns));
	il_jset(o, "repeat_rel_stddev", json_real(r->rel_stddev));
	il_jset(o, "round_trip", il_json_summary(r->round));
	il_jset(o, "overhead", il_json_summary(r->overhead));
	il_jset(o, "cpu", json_integer(cpu));
	il_jset(o, "cpu_seen", json_pack("[ii]", r->cpu_seen[0], r->cpu_seen[1]));
	return o;
}

static int ctxsw_run(int argc, char **argv)
{
	uint64_t ws_kb = 0;
	bool sweep = false;
	const struct il_opt opts[] = {
		{ "working-set", IL_OPT_U64, "KB", "KiB each task touches (one load per 64-byte line) before passing "
		  "the token on (default 0)", 0, 65536, NULL, &ws_kb },
		{ "sweep", IL_OPT_FLAG, NULL, "measure at 0,16,64,256,1024 KiB working sets", 0, 0, NULL, &sweep },
		{ 0 },
	};
	struct il_ctx x;
	il_ctx_begin(&x, argv[0], argc, argv);
	int prc = il_ctx_parse(&x, "Context-switch cost between two processes or two threads pinned on one CPU\n"
			       "(lmbench lat_ctx style): a token ring over two pipes, each task touching its\n"
			       "working set, minus the same loop's cost in one task: p50(round)/2 - p50(overhead).",
			       IL_C_ITER | IL_C_WARMUP | IL_C_REPEAT | IL_C_MODE | IL_C_CPU, opts);
	if (prc != IL_RUN)
		return prc;
	const struct il_common *c = &x.c;
	if (c->cpu[0] != c->cpu[1])
		return il_ctx_usage(&x, "--cpu: both tasks run on one CPU; give one CPU (A), not A,B");
	if (sweep && il_ctx_given(&x, "working-set"))
		return il_ctx_usage(&x, "--sweep and --working-set exclude each other; see 'ipclab %s --help'",
				    x.experiment);
	int cpu = c->cpu[0] >= 0 ? c->cpu[0] : tk_first_allowed_cpu();
	il_jset(x.params, "working_set_kb", sweep ? json_null() : json_integer((json_int_t)ws_kb));
	il_jset(x.params, "sweep", json_boolean(sweep));
	il_jset(x.results, "cpu", json_integer(cpu));
	il_jset(x.results, "clock_read_ns", json_integer((json_int_t)il_clock_read_cost_ns()));
	il_jset(x.results, "traced", json_boolean(il_trace_loaded()));
	il_guard_install((unsigned)c->timeout_s);
	const char *mname = c->mode == IL_MODE_THREAD ? "thread" : "process";
	bool human = !c->json || c->json_file;
	if (human) {
		printf("task ctxsw: %s mode, CPU %d, %" PRIu64 " round trips x %" PRIu64 " repeats (+%" PRIu64 " warm-up)%s\n",
		       mname, cpu, c->iterations, c->repeat, c->warmup, il_trace_loaded() ? ", traced" : "");
		printf("%8s %10s %10s %11s %11s %9s\n", "ws_KiB", "ctxsw_ns", "mean_ns", "round_p50", "overhd_p50", "rsd_%");
	}
	json_t *points = json_array(), *checks = json_array();
	int rc = IL_OK;
	bool ok = true;
	size_t n = sweep ? N_SWEEP : 1;
	for (size_t i = 0; i < n && rc == IL_OK; i++) {
		uint64_t kb = sweep ? sweep_kb[i] : ws_kb;
		struct tk_ctxsw_res res;
		il_info("%s, %" PRIu64 " KiB working set", mname, kb);
		rc = tk_ctxsw_measure(c->mode, cpu, kb, c->iterations, c->warmup, c->repeat, &res);
		if (rc != IL_OK) {
			if (rc == IL_FAIL)
				il_fail("%s", res.why);
			else
				il_err("%s", res.why);
			tk_ctxsw_res_free(&res);
			break;
		}
		json_t *pt = point_json(kb, &res, cpu);
		char name[64];
		(void)snprintf(name, sizeof(name), "ws%" PRIu64 "_round_trips", kb);
		ok &= tk_check(checks, name, json_integer((json_int_t)(c->iterations * c->repeat)),
			       json_integer((json_int_t)res.round->count), res.round->count == c->iterations * c->repeat);
		(void)snprintf(name, sizeof(name), "ws%" PRIu64 "_same_cpu", kb);
		ok &= tk_check(checks, name, json_pack("[ii]", cpu, cpu), json_pack("[ii]", res.cpu_seen[0], res.cpu_seen[1]),
			       res.cpu_seen[0] == cpu && res.cpu_seen[1] == cpu);
		if (human)
			printf("%8" PRIu64 " %10.0f %10.0f %11" PRIu64 " %11" PRIu64 " %9.1f\n", kb, res.ctxsw_ns, res.ctxsw_mean_ns,
			       il_hist_percentile(res.round, 50), il_hist_percentile(res.overhead, 50), 100 * res.rel_stddev);
		if (!sweep)
			(void)json_object_update(x.results, pt);
		(void)json_array_append_new(points, pt);
		tk_ctxsw_res_free(&res);
	}
	il_guard_disarm();
	il_jset(x.results, "points", points);
	il_jset(x.results, "checks", checks);
	if (rc == IL_OK && !ok)
		rc = IL_FAIL;
	return il_ctx_finish(&x, rc);
}

const struct il_experiment il_exp_task_ctxsw = {
	.group = "task",
	.name = "ctxsw",
	.summary = "context-switch cost, process vs thread on one CPU, by working-set size (lat_ctx style)",
	.run = ctxsw_run,
};
