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
 * shm_common.h (both pinned to one CPU: yield on every poll). */
#include "bench_common.h"
#include "shm_common.h"
#include "../core/cleanup.h"
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

#define COMMON (IL_C_ITER | IL_C_WARMUP | IL_C_REPEAT | IL_C_CPU | IL_C_HIST)
#define HIST_MAX_NS (10ull * 1000 * 1000 * 1000)
#define BATCH 256u

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
	_Alignas(IL_CACHELINE) _Atomic uint64_t word; /* the cache line that bounces */
	_Alignas(IL_CACHELINE) struct il_barrier start;
	int status[2];        /* each side's set-up result */
	int cpu_end[2];
	struct sched sc;      /* what both sides do, in order */
	bool same_cpu;
	int cpu1;
	struct il_link lk;    /* --transport: the link both threads use */
	struct il_link *link; /* &lk with --transport, else NULL */
	char why[160];        /* side 1's failure */
};

/* Polls until the word reaches v. */
static inline void wait_for(struct floor_shared *sh, uint64_t v)
{
	for (uint64_t n = 1; atomic_load_explicit(&sh->word, memory_order_acquire) != v; n++)
		il_spin_once(n, sh->same_cpu);
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
		(void)snprintf(sh->why, sizeof(sh->why), "cannot pin side 1 to CPU %d: %s", sh->cpu1, strerror(-e));
		rc = IL_NORES;
	} else if (l && !buf) {
		(void)snprintf(sh->why, sizeof(sh->why), "out of memory");
		rc = IL_NORES;
	} else if (l && (rc = il_link_attach(l, 1)) != IL_OK) {
		(void)snprintf(sh->why, sizeof(sh->why), "side 1 could not attach to %s", l->t->name);
	}
	sh->status[1] = rc;
	il_barrier_wait(&sh->start);
	if (sh->status[0] != IL_OK)
		rc = sh->status[0];
	const struct sched *sc = &sh->sc;
	uint64_t i = 0; /* bare round trips so far */
	for (int ph = 0; rc == IL_OK && ph < PH_N; ph++)
		for (uint64_t off = 0; rc == IL_OK && off < sc->per[ph]; off += BATCH)
			for (int kind = 0; rc == IL_OK && kind < sc->kinds; kind++) {
				uint64_t n = sc->per[ph] - off < BATCH ? sc->per[ph] - off : BATCH;
				for (uint64_t j = 0; j < n; j++) {
					if (kind == 0) {
						i++;
						wait_for(sh, 2 * i - 1);
						atomic_store_explicit(&sh->word, 2 * i, memory_order_release);
					} else if (l->t->recv(l, 1, buf) < 0 || l->t->send(l, 1, buf) < 0) {
						(void)snprintf(sh->why, sizeof(sh->why), "side 1: a %s round trip failed: %s",
							       l->t->name, strerror(errno));
						rc = IL_FAIL;
						break;
					}
				}
			}
	sh->cpu_end[1] = il_cpu_now();
	if (l)
		il_link_detach(l, 1);
	free(buf);
	return rc;
}

struct floor_result {
	struct il_hist rtt[2];  /* per kind */
	double untimed[2];      /* median of the batch means, ns */
	int cpu_end;
};

static int cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* One repeat: the schedule's warm-up, timed and untimed round trips. */
static int one_repeat(const struct il_common *c, const struct il_transport *t, size_t size,
		      struct floor_shared *sh, struct floor_result *res)
{
	struct il_peer peer;
	uint64_t nbatch = (c->iterations + BATCH - 1) / BATCH;
	double *bm[2] = { calloc(nbatch, sizeof(double)), calloc(nbatch, sizeof(double)) };
	void *buf = calloc(1, size);
	int rc;
	memset(sh, 0, sizeof(*sh));
	for (int k = 0; k < 2; k++) {
		il_hist_init(&res->rtt[k], HIST_MAX_NS);
		res->untimed[k] = 0;
	}
	sh->sc = (struct sched){ .per = { c->warmup, c->iterations, nbatch * BATCH }, .kinds = t ? 2 : 1 };
	sh->same_cpu = c->cpu[0] >= 0 && c->cpu[0] == c->cpu[1];
	sh->cpu1 = c->cpu[1];
	if (!bm[0] || !bm[1] || !buf) {
		il_err("out of memory");
		rc = IL_NORES;
		goto out_mem;
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
	const struct sched *sc = &sh->sc;
	uint64_t i = 0;
	for (int ph = 0; rc == IL_OK && ph < PH_N; ph++)
		for (uint64_t off = 0; rc == IL_OK && off < sc->per[ph]; off += BATCH)
			for (int kind = 0; rc == IL_OK && kind < sc->kinds; kind++) {
				uint64_t n = sc->per[ph] - off < BATCH ? sc->per[ph] - off : BATCH;
				uint64_t tb = il_now_ns();
				for (uint64_t j = 0; j < n; j++) {
					uint64_t t0 = ph == PH_TIMED ? il_now_ns() : 0;
					if (kind == 0) {
						i++;
						atomic_store_explicit(&sh->word, 2 * i - 1, memory_order_release);
						wait_for(sh, 2 * i);
					} else if (t->send(sh->link, 0, buf) < 0 || t->recv(sh->link, 0, buf) < 0) {
						il_errno("a %s round trip failed", t->name);
						rc = IL_FAIL;
						break;
					}
					if (ph == PH_TIMED)
						il_hist_add(&res->rtt[kind], il_now_ns() - t0);
				}
				if (ph == PH_UNTIMED)
					bm[kind][off / BATCH] = (double)(il_now_ns() - tb) / (double)n;
			}
	for (int k = 0; rc == IL_OK && k < sc->kinds; k++) {
		qsort(bm[k], nbatch, sizeof(double), cmp_dbl);
		res->untimed[k] = nbatch % 2 ? bm[k][nbatch / 2] : (bm[k][nbatch / 2 - 1] + bm[k][nbatch / 2]) / 2;
	}
	res->cpu_end = il_cpu_now();
	if (t)
		il_link_detach(sh->link, 0);
	int prc = il_join(&peer, NULL, 0);
	if (prc != IL_OK && sh->why[0])
		il_err("%s", sh->why);
	if (rc == IL_OK)
		rc = prc;
out_link:
	if (t)
		il_link_free(sh->link);
out_barrier:
	il_barrier_destroy(&sh->start);
out_mem:
	free(bm[0]);
	free(bm[1]);
	free(buf);
	return rc;
}

static int floor_run(int argc, char **argv)
{
	/* "none" (the plain cache line), then every transport */
	static const char *choices[64];
	const char *const *names = il_transport_choices;
	size_t nc = 0;
	choices[nc++] = "none";
	for (size_t k = 0; names[k] && nc < sizeof(choices) / sizeof(choices[0]) - 1; k++)
		choices[nc++] = names[k];
	choices[nc] = NULL;
	int tidx = 0;
	uint64_t size = 16;
	const struct il_opt opts[] = {
		{ "transport", IL_OPT_CHOICE, "T", "also ping-pong through T's send/recv, in blocks interleaved with the cache line; the ratio is reported", 0, 0, choices, &tidx },
		{ "size", IL_OPT_SIZE, "BYTES", "message size with --transport [default 16]", 1, 1u << 20, NULL, &size },
		{ 0 },
	};
	struct il_ctx x;
	il_ctx_begin(&x, argv[0], argc, argv);
	x.c.iterations = 100000;
	int prc = il_ctx_parse(&x, "The hardware floor of a shared-memory round trip: two threads ping-pong one\n"
			       "atomic cache line (no transport, no syscalls, no tracepoints). Compare its rtt\n"
			       "with 'ipc latency --transport shm-spin' at the same --cpu placement, or use\n"
			       "--transport shm-spin to run both in the very same loop, interleaved.",
			       COMMON, opts);
	if (prc != IL_RUN)
		return prc;
	const struct il_common *c = &x.c;
	const struct il_transport *t = tidx ? il_transport_find(choices[tidx]) : NULL;
	il_jset(x.params, "mode", json_string("thread"));
	il_jset(x.params, "transport", t ? json_string(t->name) : json_null());
	il_jset(x.params, "size", t ? json_integer((json_int_t)size) : json_integer(8));
	if (t) {
		int rc = il_bench_check_transport(&x, t);
		if (rc != IL_RUN)
			return il_ctx_finish(&x, rc);
		if ((rc = il_bench_check_size(t, size)) != IL_OK)
			return il_ctx_finish(&x, rc);
	}
	il_guard_install((unsigned)c->timeout_s);
	uint64_t clock_cost = il_clock_read_cost_ns();
	const int kinds = t ? 2 : 1;
	struct floor_shared *sh = il_shared_alloc(sizeof(*sh));
	struct floor_result *res = calloc(1, sizeof(*res));
	struct il_hist *rtt = malloc(2 * sizeof(*rtt));
	double *p50s = calloc(2 * c->repeat, sizeof(double)), *untimed = calloc(2 * c->repeat, sizeof(double));
	int rc = IL_OK;
	if (!sh || !res || !rtt || !p50s || !untimed) {
		il_err("out of memory");
		rc = IL_NORES;
		goto out;
	}
	il_hist_init(&rtt[0], HIST_MAX_NS);
	il_hist_init(&rtt[1], HIST_MAX_NS);
	json_t *reps = json_array();
	for (uint32_t rep = 0; rep < c->repeat && rc == IL_OK; rep++) {
		il_info("%s%s: repeat %u/%" PRIu64, t ? "cache line and " : "cache line", t ? t->name : "", rep + 1,
			c->repeat);
		rc = one_repeat(c, t, size, sh, res);
		if (rc != IL_OK)
			break;
		for (int k = 0; k < kinds; k++) {
			il_hist_merge(&rtt[k], &res->rtt[k]);
			p50s[k * c->repeat + rep] = (double)il_hist_percentile(&res->rtt[k], 50);
			untimed[k * c->repeat + rep] = res->untimed[k];
		}
		json_t *jr = json_pack("{sI sf sI sf s[ii]}", "repeat", (json_int_t)rep, "rtt_mean",
			il_hist_mean(&res->rtt[0]), "rtt_p50", (json_int_t)il_hist_percentile(&res->rtt[0], 50),
			"rtt_untimed", res->untimed[0], "cpu_end", res->cpu_end, sh->cpu_end[1]);
		if (t)
			il_jset(jr, "transport", json_pack("{sf sI sf}", "rtt_mean", il_hist_mean(&res->rtt[1]), "rtt_p50",
				(json_int_t)il_hist_percentile(&res->rtt[1], 50), "rtt_untimed", res->untimed[1]));
		(void)json_array_append_new(reps, jr);
	}
	il_guard_disarm();
	il_jset(x.results, "repeats", reps);
	if (rc != IL_OK)
		goto out;
	double rsd_p50[2], untimed_med[2];
	for (int k = 0; k < kinds; k++) {
		rsd_p50[k] = il_rel_stddev(p50s + k * c->repeat, c->repeat);
		untimed_med[k] = il_median_dbl(untimed + k * c->repeat, c->repeat);
	}
	il_jset(x.results, "rtt", il_json_summary(&rtt[0]));
	il_jset(x.results, "rtt_untimed", json_real(untimed_med[0]));
	il_jset(x.results, "repeat_rel_stddev_p50", json_real(rsd_p50[0]));
	il_jset(x.results, "untimed_batch", json_integer(BATCH));
	il_jset(x.results, "clock_read_ns", json_integer((json_int_t)clock_cost));
	il_jset(x.results, "same_cpu_yields", json_boolean(c->cpu[0] >= 0 && c->cpu[0] == c->cpu[1]));
	double r_p50 = 0, r_untimed = 0;
	if (t) {
		uint64_t f50 = il_hist_percentile(&rtt[0], 50);
		r_p50 = f50 ? (double)il_hist_percentile(&rtt[1], 50) / (double)f50 : 0;
		r_untimed = untimed_med[0] > 0 ? untimed_med[1] / untimed_med[0] : 0;
		il_jset(x.results, "transport", json_pack("{ss so sf sf}", "name", t->name, "rtt",
			il_json_summary(&rtt[1]), "rtt_untimed", untimed_med[1], "repeat_rel_stddev_p50", rsd_p50[1]));
		il_jset(x.results, "ratio_p50", json_real(r_p50));
		il_jset(x.results, "ratio_untimed", json_real(r_untimed));
	}
	if (!c->json || c->json_file) {
		const char *pl = c->cpu[0] < 0 ? "unpinned" : c->cpu[0] == c->cpu[1] ? "same CPU (yielding)" : "cross-CPU";
		printf("ipc floor: one cache line");
		if (t)
			printf(" vs %s send/recv of %" PRIu64 " B, interleaved in blocks of %u", t->name, size, BATCH);
		printf(", thread mode, %s", pl);
		if (c->cpu[0] >= 0)
			printf(" (%d,%d)", c->cpu[0], c->cpu[1]);
		printf(", %" PRIu64 " iterations x %" PRIu64 " repeats (+%" PRIu64 " warm-up)\n", c->iterations,
		       c->repeat, c->warmup);
		il_print_summary_header();
		il_print_summary_row("cache line", &rtt[0]);
		if (t)
			il_print_summary_row(t->name, &rtt[1]);
		printf("untimed (median of %u-round-trip batch means): cache line %.1f ns", BATCH, untimed_med[0]);
		if (t)
			printf(", %s %.1f ns; ratio %s/floor: p50 %.2f, untimed %.2f", t->name, untimed_med[1], t->name,
			       r_p50, r_untimed);
		printf("\nclock read %" PRIu64 " ns; repeat-to-repeat rel. stddev of the p50 %.1f %%\n", clock_cost,
		       100 * rsd_p50[0]);
	}
	if (c->hist) {
		const struct il_hist *hs[] = { &rtt[0], &rtt[1] };
		const char *hnames[] = { "rtt", t ? t->name : NULL };
		if (il_write_hists(c->hist_file, t ? 2 : 1, hs, hnames) != IL_OK)
			rc = IL_FAIL;
	}
out:
	il_shared_free(sh, sizeof(*sh));
	free(res);
	free(rtt);
	free(p50s);
	free(untimed);
	return il_ctx_finish(&x, rc);
}

const struct il_experiment il_exp_ipc_floor = {
	.group = "ipc",
	.name = "floor",
	.summary = "hardware floor: two threads ping-pong one atomic cache line (compare with shm-spin)",
	.run = floor_run,
};
