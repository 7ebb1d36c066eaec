/* overhead.c - "ipclab core overhead": what the harness itself costs, so every other
 * number can be read against it: one clock read, one measured sample (a clock read
 * and a histogram record), a histogram record alone, and one tracepoint call site
 * (untraced: a load and a not-taken branch; traced: the event record). */
#include "../core/clock.h"
#include "../core/experiment.h"
#include "../core/hist.h"
#include "../core/log.h"
#include "../core/result.h"
#include "../core/tp.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

/* Every cost is the median over batches of BATCH calls of (batch time / calls). One long
 * loop's mean would count every interrupt and preemption that landed in it: on a loaded
 * machine a 200 000-call loop is preempted several times (milliseconds each), which
 * turned a measured sample of ~27 ns into ~85 ns and more. A batch (tens of us) that is
 * hit is an outlier the median ignores; the two clock reads around a batch add
 * 2 x 23 / BATCH ns, well under the 0.1 ns we print. */
enum { BATCH = 1000 };

enum cost { EMPTY, CLOCK, RECORD, SAMPLE, TRACEPOINT, NCOST };

/* The calls of one batch of kind k; h: the histogram records go to. */
static double batch(enum cost k, uint64_t n, struct il_hist *h, uint64_t *prev)
{
	uint64_t t0 = il_now_ns();
	switch (k) {
	case EMPTY: /* the loop alone: the baseline of the tracepoint loop */
		for (uint64_t i = 0; i < n; i++)
			__asm__ volatile("" ::: "memory");
		break;
	case CLOCK:
		for (uint64_t i = 0; i < n; i++)
			(void)il_now_ns();
		break;
	case RECORD: /* values like a measured sample's (a few buckets), no clock read */
		for (uint64_t i = 0; i < n; i++) {
			il_hist_add(h, 24 + (i & 15));
			__asm__ volatile("" ::: "memory");
		}
		break;
	case SAMPLE: /* one clock read (the interval's other end is the previous read) + a record */
		for (uint64_t i = 0; i < n; i++) {
			uint64_t t = il_now_ns();
			il_hist_add(h, t - *prev);
			*prev = t;
		}
		break;
	case TRACEPOINT:
		for (uint64_t i = 0; i < n; i++) {
			lttng_ust_tracepoint(ipclab_run, probe, i);
			__asm__ volatile("" ::: "memory");
		}
		break;
	default:
		break;
	}
	return (double)(il_now_ns() - t0) / (double)n;
}

/* ns per call of kind k over exactly `calls` calls: the median of its batches' costs. */
static double cost(enum cost k, uint64_t calls, struct il_hist *h, double *per)
{
	uint64_t prev = il_now_ns();
	size_t nb = 0;
	for (uint64_t done = 0; done < calls; done += BATCH) {
		uint64_t n = calls - done < BATCH ? calls - done : BATCH;
		per[nb++] = batch(k, n, h, &prev);
	}
	return il_median_dbl(per, nb);
}

/* Each cost timed --iterations times per repeat; the medians and spreads go to results. */
static int overhead_measure(struct il_ctx *x, void *cfg)
{
	const struct il_common *c = &x->c;
	size_t r = c->repeat;
	double *v[NCOST] = { 0 }, *per = calloc(c->iterations / BATCH + 1, sizeof(double));
	struct il_hist *h = malloc(2 * sizeof(*h)), *rec = h + 1;
	int rc = IL_OK;
	for (int k = 0; k < NCOST; k++)
		v[k] = calloc(r, sizeof(double));
	if (!per || !h || !v[EMPTY] || !v[CLOCK] || !v[RECORD] || !v[SAMPLE] || !v[TRACEPOINT]) {
		il_err("out of memory");
		rc = IL_NORES;
		goto out;
	}
	il_hist_init(h, 0);
	il_hist_init(rec, 0);
	/* Warm up caches and the vDSO page once. */
	(void)cost(SAMPLE, c->iterations / 10 + 1, h, per);
	il_hist_init(h, 0);
	for (size_t i = 0; i < r; i++)
		for (int k = 0; k < NCOST; k++)
			v[k][i] = cost((enum cost)k, c->iterations, k == RECORD ? rec : h, per);
	for (size_t i = 0; i < r; i++)
		v[TRACEPOINT][i] -= v[EMPTY][i];
	double clk_m = il_median_dbl(v[CLOCK], r), har_m = il_median_dbl(v[SAMPLE], r);
	il_jset(x->results, "method", json_pack("{ss si}", "statistic",
		"median over batches of (batch time / calls), then the median over the repeats", "batch_calls", BATCH));
	il_jset(x->results, "clock_read_ns", json_real(clk_m));
	il_jset(x->results, "clock_read_rel_stddev", json_real(il_rel_stddev(v[CLOCK], r)));
	il_jset(x->results, "hist_record_ns", json_real(il_median_dbl(v[RECORD], r)));
	il_jset(x->results, "hist_record_rel_stddev", json_real(il_rel_stddev(v[RECORD], r)));
	il_jset(x->results, "iteration_overhead_ns", json_real(har_m));
	il_jset(x->results, "iteration_overhead_rel_stddev", json_real(il_rel_stddev(v[SAMPLE], r)));
	il_jset(x->results, "iteration_overhead_minus_clock_ns", json_real(har_m - clk_m));
	il_jset(x->results, "tracepoint_ns", json_real(il_median_dbl(v[TRACEPOINT], r)));
	il_jset(x->results, "tracepoint_rel_stddev", json_real(il_rel_stddev(v[TRACEPOINT], r)));
	il_jset(x->results, "tracepoint_events",
		json_integer((json_int_t)(il_trace_loaded() ? r * c->iterations : 0)));
	il_jset(x->results, "clock_delta", il_json_summary(h));
out:
	for (int k = 0; k < NCOST; k++)
		free(v[k]);
	free(per);
	free(h);
	return rc;
}

static double result(const struct il_ctx *x, const char *key)
{
	return json_number_value(json_object_get(x->results, key));
}

static void overhead_print(const struct il_ctx *x, const void *cfg)
{
	bool traced = json_is_true(json_object_get(x->results, "traced"));
	double clk = result(x, "clock_read_ns"), har = result(x, "iteration_overhead_ns");
	printf("core overhead (%" PRIu64 " x %" PRIu64 " calls each; per call, the median over batches of %d "
	       "calls)%s\n", x->c.repeat, x->c.iterations, BATCH, traced ? ", traced" : "");
	printf("  clock read (CLOCK_MONOTONIC)          %8.2f ns  (rel. stddev %.1f %%)\n", clk,
	       100 * result(x, "clock_read_rel_stddev"));
	printf("  histogram record (alone)              %8.2f ns  (rel. stddev %.1f %%)\n", result(x, "hist_record_ns"),
	       100 * result(x, "hist_record_rel_stddev"));
	printf("  measured sample (read + record)       %8.2f ns  (%.2f ns above one read)\n", har,
	       result(x, "iteration_overhead_minus_clock_ns"));
	printf("  tracepoint call site (%s)       %8.2f ns  (rel. stddev %.1f %%)\n", traced ? "traced  " : "untraced",
	       result(x, "tracepoint_ns"), 100 * result(x, "tracepoint_rel_stddev"));
}

const struct il_experiment il_exp_core_overhead = {
	.group = "core",
	.name = "overhead",
	.summary = "cost of a clock read, a histogram record, a measured iteration and a tracepoint call site",
	.help = "Harness cost: a clock read, a histogram record alone, one measured sample (a clock\n"
		"read + a histogram record), and one tracepoint call site (untraced unless run under\n"
		"scripts/ipclab-trace). Each is timed over --iterations calls in batches of 1000: a\n"
		"batch's cost per call, the median over the batches (an interrupt or a preemption\n"
		"inside one batch does not count), then the median over --repeat repeats.",
	.common = IL_C_ITER | IL_C_REPEAT,
	.defaults = { .iterations = 200000, .repeat = 11 },
	.measure = overhead_measure,
	.print = overhead_print,
	.flags = IL_EXP_TRACED,
};
