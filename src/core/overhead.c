/* overhead.c - "ipclab core overhead": what the harness itself costs, so every other
 * number can be read against it: one clock read, one measured sample (a clock read
 * and a histogram record), and one tracepoint call site (untraced: a load and a
 * not-taken branch; traced: the event record). */
#include "clock.h"
#include "experiment.h"
#include "hist.h"
#include "log.h"
#include "result.h"
#include "tp.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#define COMMON (IL_C_ITER | IL_C_REPEAT)

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

static int overhead_run(int argc, char **argv)
{
	struct il_ctx x;
	il_ctx_begin(&x, argv[0], argc, argv);
	x.c.iterations = 200000;
	x.c.repeat = 11;
	int prc = il_ctx_parse(&x, "Harness cost: a clock read, one measured sample (a clock read + a histogram\n"
			       "record), and one tracepoint call site (untraced unless run under scripts/ipclab-trace).\n"
			       "Each is timed over --iterations calls, --repeat times; the median is reported.",
			       COMMON, NULL);
	if (prc != IL_RUN)
		return prc;
	const struct il_common *c = &x.c;
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
	double clk_rsd = il_rel_stddev(clk, r), har_rsd = il_rel_stddev(har, r), tp_rsd = il_rel_stddev(tp, r);
	double clk_m = il_median_dbl(clk, r), har_m = il_median_dbl(har, r), tp_m = il_median_dbl(tp, r);
	bool traced = il_trace_loaded();
	il_jset(x.results, "clock_read_ns", json_real(clk_m));
	il_jset(x.results, "clock_read_rel_stddev", json_real(clk_rsd));
	il_jset(x.results, "iteration_overhead_ns", json_real(har_m));
	il_jset(x.results, "iteration_overhead_rel_stddev", json_real(har_rsd));
	il_jset(x.results, "iteration_overhead_minus_clock_ns", json_real(har_m - clk_m));
	il_jset(x.results, "tracepoint_ns", json_real(tp_m));
	il_jset(x.results, "tracepoint_rel_stddev", json_real(tp_rsd));
	il_jset(x.results, "tracepoint_events", json_integer((json_int_t)(traced ? r * c->iterations : 0)));
	il_jset(x.results, "traced", json_boolean(traced));
	il_jset(x.results, "clock_delta", il_json_summary(h));
	if (!c->json || c->json_file) {
		printf("core overhead (median of %zu x %" PRIu64 " calls)%s\n", r, c->iterations, traced ? ", traced" : "");
		printf("  clock read (CLOCK_MONOTONIC)          %8.2f ns  (rel. stddev %.1f %%)\n", clk_m, 100 * clk_rsd);
		printf("  measured sample (read + record)       %8.2f ns  (%.2f ns above one read)\n", har_m, har_m - clk_m);
		printf("  tracepoint call site (%s)       %8.2f ns  (rel. stddev %.1f %%)\n",
		       traced ? "traced  " : "untraced", tp_m, 100 * tp_rsd);
	}
out:
	free(clk);
	free(har);
	free(tp);
	free(base);
	free(h);
	return il_ctx_finish(&x, rc);
}

const struct il_experiment il_exp_core_overhead = {
	.group = "core",
	.name = "overhead",
	.summary = "cost of a clock read, a measured iteration and a tracepoint call site",
	.run = overhead_run,
};

/* "ipclab core sysinfo": the environment every result records, on its own. */
static int sysinfo_run(int argc, char **argv)
{
	struct il_ctx x;
	il_ctx_begin(&x, argv[0], argc, argv);
	int prc = il_ctx_parse(&x, "Print the environment recorded beside every result (kernel, CPU, clocksource...).",
			       0, NULL);
	if (prc != IL_RUN)
		return prc;
	json_t *si = il_sysinfo_json();
	if (!x.c.json || x.c.json_file) {
		const char *k;
		json_t *v;
		json_object_foreach(si, k, v) {
			char *s = json_dumps(v, JSON_ENCODE_ANY);
			printf("%-18s %s\n", k, s ? s : "?");
			free(s);
		}
	}
	json_decref(si);
	return il_ctx_finish(&x, IL_OK);
}

const struct il_experiment il_exp_core_sysinfo = {
	.group = "core",
	.name = "sysinfo",
	.summary = "the environment recorded beside every result",
	.run = sysinfo_run,
};
