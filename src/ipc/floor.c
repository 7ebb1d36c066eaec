/* floor.c - "ipclab ipc floor": the hardware floor of a shared-memory round trip. Two
 * threads ping-pong one atomic 64-bit word on its own cache line (side 0 stores 2i-1 and
 * polls for 2i, side 1 polls for 2i-1 and stores 2i): one cache line bouncing between
 * the two cores, no transport ops, no system calls, no tracepoints. Each round trip is
 * timed the way "ipc latency" times one (a clock read on each side of it, on side 0
 * only); a second, untimed pass in batches of BATCH round trips gives the median batch
 * mean, free of the per-sample clock reads and robust to preemption outliers.
 *
 * With --transport T the same two loops run over T's send/recv (thread mode, --size
 * bytes) and side 1 does nothing but receive and send back: the difference from the
 * plain floor is the transport's own cost. ("ipc latency" also has its responder take
 * two timestamps and record a histogram sample inside every round trip, for the one-way
 * latencies, which the floor does not.) Polling follows the busy-wait policy of
 * transport/ring.h (both pinned to one CPU: yield on every poll). */
#include "pair.h"
#include "transport/ring.h"
#include "../core/clock.h"
#include "../core/experiment.h"
#include "../core/hist.h"
#include "../core/log.h"
#include "../core/result.h"
#include "../core/spawn.h"

#include <errno.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HIST_MAX_NS (10ull * 1000 * 1000 * 1000)
#define BATCH 256u

/* "none" (the plain cache line alone), then every transport. */
static const char *const floor_choices[] = {
	"none",
#define IL_TRANSPORT(id, name) name,
#include "transport/transports.def"
#undef IL_TRANSPORT
	NULL,
};

struct floor_cfg {
	int transport; /* index in floor_choices: 0 none, else 1 + the registry index */
	uint64_t size;
};

static const struct floor_cfg floor_defaults = { .size = 16 };

static const struct il_opt floor_opts[] = {
	{ .name = "transport", .type = IL_OPT_CHOICE, .metavar = "T",
	  .help = "also ping-pong through T's send/recv, in blocks interleaved with the cache line; the ratio "
		  "is reported",
	  .choices = floor_choices, .off = IL_CFG(struct floor_cfg, transport, int) },
	{ .name = "size", .type = IL_OPT_SIZE, .metavar = "BYTES", .help = "message size with --transport [default 16]",
	  .min = 1, .max = 1u << 20, .off = IL_CFG(struct floor_cfg, size, uint64_t) },
	{ 0 },
};

/* The schedule both sides follow: three phases (warm-up, timed, untimed) of `per[phase]`
 * round trips of each kind (0: the bare cache line, 1: the transport), in blocks of at
 * most BATCH round trips, the kinds alternating block by block, so slow drifts of the
 * machine (a busy neighbour, a moved vCPU) hit both kinds alike. */
enum { PH_WARMUP, PH_TIMED, PH_UNTIMED, PH_N };

struct sched {
	uint64_t per[PH_N];
	int kinds;  /* 1, or 2 with --transport */
};

struct floor_shared {
	_Alignas(IL_PAIR) _Atomic uint64_t word; /* the cache line that bounces (alone in its pair) */
	_Alignas(IL_PAIR) struct il_barrier start;
	int status[2];        /* each side's set-up result */
	int cpu_end[2];
	struct sched sc;      /* what both sides do, in order */
	bool same_cpu;
	int cpu1;
	struct il_link lk;    /* --transport: the link both threads use */
	struct il_link *link; /* &lk with --transport, else NULL */
};

/* What side 0 measures in one repeat, per kind. */
struct floor_result {
	struct il_hist rtt[2];
	double *batch[2];       /* untimed batch means, ns */
	double untimed[2];      /* their median */
	int cpu_end;
};

static const struct il_transport *floor_transport(const struct floor_cfg *fc)
{
	return fc->transport ? il_transport_at(fc->transport - 1) : NULL;
}

/* Polls until the word reaches v. */
static inline void wait_for(struct floor_shared *sh, uint64_t v)
{
	for (uint64_t n = 1; atomic_load_explicit(&sh->word, memory_order_acquire) != v; n++)
		il_spin_once(n, sh->same_cpu);
}

/* Block `n` round trips of `kind` on side `side`: the cache line, or the link (side 1
 * echoes what it receives). bare counts the cache-line round trips so far. 0 or -1. */
static inline int round_trip(struct floor_shared *sh, int side, int kind, void *buf, uint64_t *bare)
{
	struct il_link *l = sh->link;
	if (kind == 0) {
		uint64_t i = ++*bare;
		if (side == 0) {
			atomic_store_explicit(&sh->word, 2 * i - 1, memory_order_release);
			wait_for(sh, 2 * i);
		} else {
			wait_for(sh, 2 * i - 1);
			atomic_store_explicit(&sh->word, 2 * i, memory_order_release);
		}
		return 0;
	}
	if (side == 0)
		return l->t->send(l, 0, buf) < 0 || l->t->recv(l, 0, buf) < 0 ? -1 : 0;
	return l->t->recv(l, 1, buf) < 0 || l->t->send(l, 1, buf) < 0 ? -1 : 0;
}

/* Runs the schedule on one side; side 0 times it into res (NULL on side 1). */
static int run_schedule(struct floor_shared *sh, int side, void *buf, struct floor_result *res)
{
	const struct sched *sc = &sh->sc;
	uint64_t bare = 0;
	for (int ph = 0; ph < PH_N; ph++)
		for (uint64_t off = 0; off < sc->per[ph]; off += BATCH)
			for (int kind = 0; kind < sc->kinds; kind++) {
				uint64_t n = sc->per[ph] - off < BATCH ? sc->per[ph] - off : BATCH;
				const bool timed = res && ph == PH_TIMED;
				uint64_t tb = il_now_ns();
				for (uint64_t j = 0; j < n; j++) {
					uint64_t t0 = timed ? il_now_ns() : 0;
					if (round_trip(sh, side, kind, buf, &bare) < 0) {
						il_errno("side %d: a %s round trip failed", side, sh->link->t->name);
						return IL_FAIL;
					}
					if (timed)
						il_hist_add(&res->rtt[kind], il_now_ns() - t0);
				}
				if (res && ph == PH_UNTIMED)
					res->batch[kind][off / BATCH] = (double)(il_now_ns() - tb) / (double)n;
			}
	return IL_OK;
}

/* Side 1: answer every round trip. */
static int echo_side(void *arg)
{
	struct floor_shared *sh = arg;
	struct il_link *l = sh->link;
	void *buf = l ? calloc(1, l->size) : NULL;
	int rc = IL_OK;
	il_set_task_name("ipclab-floor");
	int e = il_pin_self(sh->cpu1);
	if (e) {
		errno = -e;
		il_errno("cannot pin side 1 to CPU %d", sh->cpu1);
		rc = IL_NORES;
	} else if (l && !buf) {
		il_err("out of memory");
		rc = IL_NORES;
	} else if (l && (rc = il_link_attach(l, 1)) != IL_OK) {
		il_err("side 1 could not attach to %s", l->t->name);
	}
	sh->status[1] = rc;
	il_barrier_wait(&sh->start);
	if (rc == IL_OK && sh->status[0] == IL_OK)
		rc = run_schedule(sh, 1, buf, NULL);
	sh->cpu_end[1] = il_cpu_now();
	if (l)
		il_link_detach(l, 1);
	free(buf);
	return rc;
}

/* The link (with --transport), side 1 started, both at the start barrier, the
 * schedule, side 1 joined. */
static int one_repeat(const struct il_common *c, const struct il_transport *t, size_t size,
		      struct floor_shared *sh, struct floor_result *res, uint64_t nbatch)
{
	struct il_peer peer;
	void *buf = calloc(1, size);
	int rc;
	memset(sh, 0, sizeof(*sh));
	for (int k = 0; k < 2; k++)
		il_hist_init(&res->rtt[k], HIST_MAX_NS);
	sh->sc = (struct sched){ .per = { c->warmup, c->iterations, nbatch * BATCH }, .kinds = t ? 2 : 1 };
	sh->same_cpu = c->cpu[0] >= 0 && c->cpu[0] == c->cpu[1];
	sh->cpu1 = c->cpu[1];
	if (!buf) {
		il_err("out of memory");
		return IL_NORES;
	}
	if (il_barrier_init(&sh->start, 2) < 0) {
		il_err("cannot create the start barrier");
		rc = IL_NORES;
		goto out_mem;
	}
	if (t) {
		if ((rc = il_link_init(&sh->lk, t, IL_MODE_THREAD, size)) != IL_OK)
			goto out_barrier;
		sh->link = &sh->lk;
	}
	sh->status[0] = il_pin_main(c->cpu[0], "side 0");
	if ((rc = il_spawn(&peer, IL_MODE_THREAD, -1, echo_side, sh)) != 0)
		goto out_link;
	if (t && sh->status[0] == IL_OK)
		sh->status[0] = il_link_attach(sh->link, 0);
	if (il_barrier_wait(&sh->start) < 0)
		rc = IL_FAIL;
	else
		rc = sh->status[0] != IL_OK ? sh->status[0] : sh->status[1];
	if (rc == IL_OK && t)
		il_link_both_attached(sh->link); /* both sides hold their ends */
	if (rc == IL_OK)
		rc = run_schedule(sh, 0, buf, res);
	for (int k = 0; rc == IL_OK && k < sh->sc.kinds; k++)
		res->untimed[k] = il_median_dbl(res->batch[k], nbatch);
	res->cpu_end = il_cpu_now();
	if (t)
		il_link_detach(sh->link, 0);
	int prc = il_join(&peer, NULL, 0);
	if (rc == IL_OK)
		rc = prc;
out_link:
	if (t)
		il_link_free(sh->link);
out_barrier:
	il_barrier_destroy(&sh->start);
out_mem:
	free(buf);
	return rc;
}

static int floor_params(struct il_ctx *x, void *cfg)
{
	const struct floor_cfg *fc = cfg;
	const struct il_transport *t = floor_transport(fc);
	il_jset(x->params, "mode", json_string("thread"));
	il_jset(x->params, "transport", t ? json_string(t->name) : json_null());
	il_jset(x->params, "size", json_integer(t ? (json_int_t)fc->size : 8));
	if (!t)
		return IL_OK;
	int rc = il_bench_check_transport(x, t);
	if (rc != IL_RUN)
		return rc;
	return il_bench_check_size(t, fc->size);
}

/* Per kind, over the repeats: merged histogram, each repeat's p50 and untimed median. */
struct floor_acc {
	struct il_hist rtt[2];
	double *p50[2], *untimed[2];
};

/* The results of kind k ("rtt", "rtt_untimed", ... for the cache line, an object for
 * the transport) and the ratios. */
static void floor_results(struct il_ctx *x, const struct il_transport *t, const struct floor_acc *a, size_t n)
{
	double rsd[2], untimed[2];
	for (int k = 0; k < (t ? 2 : 1); k++) {
		rsd[k] = il_rel_stddev(a->p50[k], n);
		untimed[k] = il_median_dbl(a->untimed[k], n);
	}
	il_jset(x->results, "rtt", il_json_summary(&a->rtt[0]));
	il_jset(x->results, "rtt_untimed", json_real(untimed[0]));
	il_jset(x->results, "repeat_rel_stddev_p50", json_real(rsd[0]));
	il_jset(x->results, "untimed_batch", json_integer(BATCH));
	il_jset(x->results, "same_cpu_yields", json_boolean(x->c.cpu[0] >= 0 && x->c.cpu[0] == x->c.cpu[1]));
	il_ctx_hist(x, "rtt", &a->rtt[0]);
	if (!t)
		return;
	uint64_t f50 = il_hist_percentile(&a->rtt[0], 50);
	il_jset(x->results, "transport", json_pack("{ss so sf sf}", "name", t->name, "rtt", il_json_summary(&a->rtt[1]),
						   "rtt_untimed", untimed[1], "repeat_rel_stddev_p50", rsd[1]));
	il_jset(x->results, "ratio_p50",
		json_real(f50 ? (double)il_hist_percentile(&a->rtt[1], 50) / (double)f50 : 0));
	il_jset(x->results, "ratio_untimed", json_real(untimed[0] > 0 ? untimed[1] / untimed[0] : 0));
	il_ctx_hist(x, t->name, &a->rtt[1]);
}

static json_t *repeat_row(const struct il_transport *t, uint32_t rep, const struct floor_result *res, int cpu1)
{
	json_t *jr = json_pack("{sI sf sI sf s[ii]}", "repeat", (json_int_t)rep, "rtt_mean", il_hist_mean(&res->rtt[0]),
			       "rtt_p50", (json_int_t)il_hist_percentile(&res->rtt[0], 50), "rtt_untimed",
			       res->untimed[0], "cpu_end", res->cpu_end, cpu1);
	if (t)
		il_jset(jr, "transport", json_pack("{sf sI sf}", "rtt_mean", il_hist_mean(&res->rtt[1]), "rtt_p50",
						   (json_int_t)il_hist_percentile(&res->rtt[1], 50), "rtt_untimed",
						   res->untimed[1]));
	return jr;
}

static int floor_measure(struct il_ctx *x, void *cfg)
{
	const struct floor_cfg *fc = cfg;
	const struct il_common *c = &x->c;
	const struct il_transport *t = floor_transport(fc);
	const uint64_t nbatch = (c->iterations + BATCH - 1) / BATCH;
	il_jset(x->results, "clock_read_ns", json_integer((json_int_t)il_clock_read_cost_ns()));
	struct floor_shared *sh = il_shared_alloc(sizeof(*sh));
	struct floor_result *res = calloc(1, sizeof(*res));
	struct floor_acc *a = calloc(1, sizeof(*a));
	json_t *reps = json_array();
	int rc = IL_OK;
	for (int k = 0; a && res && k < 2; k++) {
		a->p50[k] = calloc(c->repeat, sizeof(double));
		a->untimed[k] = calloc(c->repeat, sizeof(double));
		res->batch[k] = calloc(nbatch, sizeof(double));
	}
	if (!sh || !res || !a || !reps || !a->p50[1] || !a->untimed[1] || !res->batch[1] || !a->p50[0] ||
	    !a->untimed[0] || !res->batch[0]) {
		il_err("out of memory");
		rc = IL_NORES;
		goto out;
	}
	il_hist_init(&a->rtt[0], HIST_MAX_NS);
	il_hist_init(&a->rtt[1], HIST_MAX_NS);
	for (uint32_t rep = 0; rep < c->repeat && rc == IL_OK; rep++) {
		il_info("%s%s: repeat %u/%" PRIu64, t ? "cache line and " : "cache line", t ? t->name : "", rep + 1,
			c->repeat);
		if ((rc = one_repeat(c, t, fc->size, sh, res, nbatch)) != IL_OK)
			break;
		for (int k = 0; k < (t ? 2 : 1); k++) {
			il_hist_merge(&a->rtt[k], &res->rtt[k]);
			a->p50[k][rep] = (double)il_hist_percentile(&res->rtt[k], 50);
			a->untimed[k][rep] = res->untimed[k];
		}
		(void)json_array_append_new(reps, repeat_row(t, rep, res, sh->cpu_end[1]));
	}
	il_jset(x->results, "repeats", json_incref(reps));
	if (rc == IL_OK)
		floor_results(x, t, a, c->repeat);
out:
	json_decref(reps);
	for (int k = 0; a && res && k < 2; k++) {
		free(a->p50[k]);
		free(a->untimed[k]);
		free(res->batch[k]);
	}
	il_shared_free(sh, sizeof(*sh));
	free(res);
	free(a);
	return rc;
}

static double num(const json_t *o, const char *key)
{
	return json_number_value(json_object_get(o, key));
}

static void floor_print(const struct il_ctx *x, const void *cfg)
{
	const struct floor_cfg *fc = cfg;
	const struct il_common *c = &x->c;
	const json_t *r = x->results, *tr = json_object_get(r, "transport");
	const char *tname = fc->transport ? floor_choices[fc->transport] : NULL;
	printf("ipc floor: one cache line");
	if (tname)
		printf(" vs %s send/recv of %" PRIu64 " B, interleaved in blocks of %u", tname, fc->size, BATCH);
	printf(", thread mode, %s",
	       c->cpu[0] < 0 ? "unpinned" : c->cpu[0] == c->cpu[1] ? "same CPU (yielding)" : "cross-CPU");
	if (c->cpu[0] >= 0)
		printf(" (%d,%d)", c->cpu[0], c->cpu[1]);
	printf(", %" PRIu64 " iterations x %" PRIu64 " repeats (+%" PRIu64 " warm-up)\n", c->iterations, c->repeat,
	       c->warmup);
	il_print_summary_header();
	il_print_summary_json("cache line", json_object_get(r, "rtt"));
	if (tname)
		il_print_summary_json(tname, json_object_get(tr, "rtt"));
	printf("untimed (median of %u-round-trip batch means): cache line %.1f ns", BATCH, num(r, "rtt_untimed"));
	if (tname)
		printf(", %s %.1f ns; ratio %s/floor: p50 %.2f, untimed %.2f", tname, num(tr, "rtt_untimed"), tname,
		       num(r, "ratio_p50"), num(r, "ratio_untimed"));
	printf("\nclock read %.0f ns; repeat-to-repeat rel. stddev of the p50 %.1f %%\n", num(r, "clock_read_ns"),
	       100 * num(r, "repeat_rel_stddev_p50"));
}

const struct il_experiment il_exp_ipc_floor = {
	.group = "ipc",
	.name = "floor",
	.summary = "hardware floor: two threads ping-pong one atomic cache line (compare with shm-spin)",
	.help = "The hardware floor of a shared-memory round trip: two threads ping-pong one\n"
		"atomic cache line (no transport, no syscalls, no tracepoints). Compare its rtt\n"
		"with 'ipc latency --transport shm-spin' at the same --cpu placement, or use\n"
		"--transport shm-spin to run both in the very same loop, interleaved.",
	.common = IL_C_ITER | IL_C_WARMUP | IL_C_REPEAT | IL_C_CPU | IL_C_HIST,
	.defaults = { .iterations = 100000 },
	.opts = floor_opts,
	.cfg_size = sizeof(struct floor_cfg),
	.cfg_defaults = &floor_defaults,
	.params = floor_params,
	.measure = floor_measure,
	.print = floor_print,
	.flags = IL_EXP_GUARD,
};
