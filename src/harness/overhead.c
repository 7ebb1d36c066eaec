/* overhead.c - "ipclab core overhead": what the harness itself costs, so every other
 * number can be read against it: one clock read, one measured sample (a clock read
 * and a histogram record), and one tracepoint call site (untraced: a load and a
 * not-taken branch; traced: the event record). */
#include "../core/clock.h"
#include "../core/experiment.h"
#include "../core/hist.h"
#include "../core/log.h"
#include "../core/result.h"
#include "../core/tp.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

/* ns per iteration of an empty loop, the baseline subtracted from the tracepoint loop. */
static double empty_loop(uint64_t n)
{
	uint64_t t0 = il_now_ns();
	for (uint64_t i = 0; i < n; i++)
		__asm__ volatile("" ::: "memory");
	return (double)(il_now_ns() - t0) / (double)n;
}

static double tracepoint_loop(uint64_t n)
{
	uint64_t t0 = il_now_ns();
	for (uint64_t i = 0; i < n; i++) {
		lttng_ust_tracepoint(ipclab_run, probe, i);
		__asm__ volatile("" ::: "memory");
	}
	return (double)(il_now_ns() - t0) / (double)n;
}

/* What each measured sample costs the harness: one clock read (the other end of the
 * interval is the previous sample's read) and one histogram record. */
static double harness_loop(uint64_t n, struct il_hist *h)
{
	uint64_t t0 = il_now_ns(), prev = t0;
	for (uint64_t i = 0; i < n; i++) {
		uint64_t t = il_now_ns();
		il_hist_add(h, t - prev);
		prev = t;
	}
	return (double)(il_now_ns() - t0) / (double)n;
}

/* Each cost timed --iterations times per repeat; the medians and spreads go to results. */
static int overhead_measure(struct il_ctx *x, void *cfg)
{
	const struct il_common *c = &x->c;
	size_t r = c->repeat;
	double *clk = calloc(r, sizeof(double)), *har = calloc(r, sizeof(double)),
	       *tp = calloc(r, sizeof(double)), *base = calloc(r, sizeof(double));
	struct il_hist *h = malloc(sizeof(*h));
	int rc = IL_OK;
	if (!clk || !har || !tp || !base || !h) {
		il_err("out of memory");
		rc = IL_NORES;
		goto out;
	}
	il_hist_init(h, 0);
	/* Warm up caches and the vDSO page once. */
	(void)harness_loop(c->iterations / 10 + 1, h);
	il_hist_init(h, 0);
	for (size_t i = 0; i < r; i++) {
		clk[i] = (double)il_clock_read_cost_ns();
		har[i] = harness_loop(c->iterations, h);
		base[i] = empty_loop(c->iterations);
		tp[i] = tracepoint_loop(c->iterations) - base[i];
	}
	double clk_m = il_median_dbl(clk, r), har_m = il_median_dbl(har, r);
	il_jset(x->results, "clock_read_ns", json_real(clk_m));
	il_jset(x->results, "clock_read_rel_stddev", json_real(il_rel_stddev(clk, r)));
	il_jset(x->results, "iteration_overhead_ns", json_real(har_m));
	il_jset(x->results, "iteration_overhead_rel_stddev", json_real(il_rel_stddev(har, r)));
	il_jset(x->results, "iteration_overhead_minus_clock_ns", json_real(har_m - clk_m));
	il_jset(x->results, "tracepoint_ns", json_real(il_median_dbl(tp, r)));
	il_jset(x->results, "tracepoint_rel_stddev", json_real(il_rel_stddev(tp, r)));
	il_jset(x->results, "tracepoint_events",
		json_integer((json_int_t)(il_trace_loaded() ? r * c->iterations : 0)));
	il_jset(x->results, "clock_delta", il_json_summary(h));
out:
	free(clk);
	free(har);
	free(tp);
	free(base);
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
	printf("core overhead (median of %" PRIu64 " x %" PRIu64 " calls)%s\n", x->c.repeat, x->c.iterations,
	       traced ? ", traced" : "");
	printf("  clock read (CLOCK_MONOTONIC)          %8.2f ns  (rel. stddev %.1f %%)\n", clk,
	       100 * result(x, "clock_read_rel_stddev"));
	printf("  measured sample (read + record)       %8.2f ns  (%.2f ns above one read)\n", har,
	       result(x, "iteration_overhead_minus_clock_ns"));
	printf("  tracepoint call site (%s)       %8.2f ns  (rel. stddev %.1f %%)\n", traced ? "traced  " : "untraced",
	       result(x, "tracepoint_ns"), 100 * result(x, "tracepoint_rel_stddev"));
}

const struct il_experiment il_exp_core_overhead = {
	.group = "core",
	.name = "overhead",
	.summary = "cost of a clock read, a measured iteration and a tracepoint call site",
	.help = "Harness cost: a clock read, one measured sample (a clock read + a histogram\n"
		"record), and one tracepoint call site (untraced unless run under scripts/ipclab-trace).\n"
		"Each is timed over --iterations calls, --repeat times; the median is reported.",
	.common = IL_C_ITER | IL_C_REPEAT,
	.defaults = { .iterations = 200000, .repeat = 11 },
	.measure = overhead_measure,
	.print = overhead_print,
	.flags = IL_EXP_TRACED,
};
