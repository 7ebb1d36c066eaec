/* latency.c - "ipclab ipc latency": ping-pong over one transport between two peers
 * (processes or threads), --repeat times. Round trip measured by the initiator; one-way
 * latency in both directions from the send timestamp carried in the message (the loop
 * is pingpong.c's). */
#include "latency.h"
#include "pingpong.h"
#include "../core/clock.h"
#include "../core/log.h"
#include "../core/result.h"
#include "../core/spawn.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define HIST_MAX_NS (10ull * 1000 * 1000 * 1000)

const struct il_latency_cfg il_latency_defaults = { .transport = 0, .size = IL_LATENCY_MIN_SIZE,
						    .loop = IL_LOOP_IPCLAB, .interval_us = 1000 };

static const char *const loop_names[] = { "ipclab", "rt-tests", NULL };

static const struct il_opt latency_opts[] = {
	{ .name = "transport", .type = IL_OPT_CHOICE, .metavar = "T",
	  .help = "transport to measure (see 'ipclab ipc transports')", .choices = il_transport_choices,
	  .off = IL_CFG(struct il_latency_cfg, transport, int), .param = "transport" },
	{ .name = "size", .type = IL_OPT_SIZE, .metavar = "BYTES", .help = "message size in bytes (K/M suffixes)",
	  .min = IL_LATENCY_MIN_SIZE, .max = 1u << 20, .off = IL_CFG(struct il_latency_cfg, size, uint64_t),
	  .param = "size" },
	{ .name = "loop", .type = IL_OPT_CHOICE, .metavar = "L", .choices = loop_names,
	  .help = "ipclab (default): our ping-pong, both directions timed, the responder answers at once; "
		  "rt-tests: pmqtest's and svsematest's loop: memory locked, the receiver sleeps --interval-us "
		  "before it answers (its one-way A->B is the tools' number)",
	  .off = IL_CFG(struct il_latency_cfg, loop, int), .param = "loop" },
	{ .name = "interval-us", .type = IL_OPT_U64, .metavar = "US", .min = 0, .max = 1000000,
	  .help = "--loop rt-tests: the receiver's clock_nanosleep before it answers, as the tools' -i (default 1000)",
	  .off = IL_CFG(struct il_latency_cfg, interval_us, uint64_t) },
	{ 0 },
};

/* The transport must work here and take messages of --size bytes. */
static int latency_params(struct il_ctx *x, void *cfg)
{
	const struct il_latency_cfg *lc = cfg;
	const struct il_transport *t = il_transport_at(lc->transport);
	if (!t || lc->size < IL_LATENCY_MIN_SIZE) {
		il_err("no such transport, or a message below %u bytes", IL_LATENCY_MIN_SIZE);
		return IL_USAGE;
	}
	if (lc->loop == IL_LOOP_RT_TESTS)
		il_jset(x->params, "interval_us", json_integer((json_int_t)lc->interval_us));
	else if (il_ctx_given(x, "interval-us")) {
		il_err("--interval-us applies to --loop rt-tests only");
		return IL_USAGE;
	}
	int rc = il_bench_check_transport(x, t);
	if (rc != IL_RUN)
		return rc;
	return il_bench_check_size(t, lc->size);
}

/* The histograms of one invocation: merged over the repeats. */
struct latency_hists {
	struct il_hist rtt, ab, ba;      /* merged */
	struct il_hist rep_rtt, rep_ba;  /* this repeat's, the initiator's */
};

/* What the responder fills (shared memory in process mode). */
struct responder_out {
	struct il_hist ab;
	uint64_t work_ns;
};

/* One repeat: the ping-pong inside pair.c's life cycle; its row in reps. */
static int one_repeat(struct il_ctx *x, const struct il_transport *t, size_t size, uint32_t rep,
		      struct responder_out *out, struct il_pair *p, struct latency_hists *hs, json_t *reps)
{
	const struct il_common *c = &x->c;
	struct il_hist *shared_ab = &out->ab;
	const struct il_latency_cfg *lc = x->cfg;
	struct il_pingpong r = { .total = c->warmup + c->iterations, .warmup = c->warmup, .rtt = &hs->rep_rtt,
				 .oneway_ba = &hs->rep_ba, .oneway_ab = shared_ab, .work_ns = &out->work_ns,
				 .rt_loop = lc->loop == IL_LOOP_RT_TESTS, .sleep_ns = lc->interval_us * 1000 };
	out->work_ns = 0;
	il_hist_init(shared_ab, HIST_MAX_NS);
	il_hist_init(&hs->rep_rtt, HIST_MAX_NS);
	il_hist_init(&hs->rep_ba, HIST_MAX_NS);
	r.buf[0] = il_pingpong_buffer(size);
	r.buf[1] = il_pingpong_buffer(size);
	int rc = IL_NORES;
	if (!r.buf[0] || !r.buf[1]) {
		il_err("out of memory for a %zu-byte message", size);
	} else {
		/* r lives for this repeat only: p->arg is cleared before returning */
		p->arg = &r; // cppcheck-suppress autoVariables
		rc = il_pair_run(p, x, t, size, rep, c->iterations, c->warmup);
		p->arg = NULL;
	}
	free(r.buf[0]);
	free(r.buf[1]);
	if (rc != IL_OK)
		return rc;
	const struct il_pair_shared *ps = p->ps;
	(void)json_array_append_new(reps, json_pack("{sI sf sI sI s{s[ii]s[ii]}}", "repeat", (json_int_t)rep,
		"rtt_mean", il_hist_mean(&hs->rep_rtt), "rtt_p50", (json_int_t)il_hist_percentile(&hs->rep_rtt, 50),
		"oneway_p50", (json_int_t)il_hist_percentile(shared_ab, 50), "cpu",
		"initiator", ps->cpu_start[0], ps->cpu_end[0], "responder", ps->cpu_start[1], ps->cpu_end[1]));
	il_hist_merge(&hs->rtt, &hs->rep_rtt);
	il_hist_merge(&hs->ab, shared_ab);
	il_hist_merge(&hs->ba, &hs->rep_ba);
	return IL_OK;
}

static int latency_measure(struct il_ctx *x, void *cfg)
{
	const struct il_latency_cfg *lc = cfg;
	const struct il_transport *t = il_transport_at(lc->transport);
	const struct il_common *c = &x->c;
	uint64_t clock_cost = il_clock_read_cost_ns();
	/* rt-tests lock their memory (no page fault inside a sample): so does their loop */
	if (lc->loop == IL_LOOP_RT_TESTS && mlockall(MCL_CURRENT | MCL_FUTURE) < 0)
		il_ctx_warn(x, "mlockall failed (%s): memory not locked, unlike rt-tests", strerror(errno));
	struct responder_out *out = il_shared_alloc(sizeof(*out));
	struct latency_hists *hs = malloc(sizeof(*hs));
	struct il_pair pair = { .body = il_pingpong_body, .task_name = "ipclab-resp", .role = "responder" };
	struct il_repeats spread = { 0 };
	json_t *reps = json_array();
	int rc = IL_OK;
	uint64_t work_ns = 0;
	if (!out || !hs || !reps || il_repeats_init(&spread, c->repeat) < 0) {
		il_err("out of memory");
		rc = IL_NORES;
		goto out;
	}
	il_hist_init(&hs->rtt, HIST_MAX_NS);
	il_hist_init(&hs->ab, HIST_MAX_NS);
	il_hist_init(&hs->ba, HIST_MAX_NS);
	for (uint32_t rep = 0; rep < c->repeat && rc == IL_OK; rep++) {
		il_info("%s %s: repeat %u/%" PRIu64, t->name, c->mode == IL_MODE_THREAD ? "thread" : "process",
			rep + 1, c->repeat);
		if ((rc = one_repeat(x, t, lc->size, rep, out, &pair, hs, reps)) == IL_OK) {
			il_repeats_add(&spread, &hs->rep_rtt);
			work_ns += out->work_ns;
		}
	}
	il_jset(x->results, "repeats", json_incref(reps));
	if (rc != IL_OK)
		goto out;
	il_ctx_pingpong_results(x, &hs->rtt, &hs->ab, &hs->ba, clock_cost, &spread, NULL, NULL);
	il_jset(x->results, "messages_per_repeat", json_integer((json_int_t)(2 * (c->warmup + c->iterations))));
	/* ipclab's own work inside a round trip: the responder's, between its receive and
	 * its send (measured from its own clock reads), plus the second of those reads */
	if (lc->loop == IL_LOOP_IPCLAB) { /* the rt-tests loop sleeps there */
		double work = (double)work_ns / (double)hs->rtt.count;
		il_jset(x->results, "harness_ns_per_rtt", json_pack("{sf sI sf}", "responder_work", work,
			"clock_read", (json_int_t)clock_cost, "total", work + (double)clock_cost));
	}
	if (pair.facts)
		il_jset(x->results, "transport_facts", json_incref(pair.facts));
	il_ctx_hist(x, "rtt", &hs->rtt);
	il_ctx_hist(x, "oneway_ab", &hs->ab);
	il_ctx_hist(x, "oneway_ba", &hs->ba);
out:
	if (lc->loop == IL_LOOP_RT_TESTS)
		(void)munlockall();
	json_decref(reps);
	il_pair_fini(&pair);
	il_shared_free(out, sizeof(*out));
	free(hs);
	il_repeats_free(&spread);
	return rc;
}

static double num(const struct il_ctx *x, const char *key)
{
	return json_number_value(json_object_get(x->results, key));
}

static void latency_print(const struct il_ctx *x, const void *cfg)
{
	const struct il_latency_cfg *lc = cfg;
	const struct il_common *c = &x->c;
	printf("ipc latency: %s, %s mode, %s", il_transport_choices[lc->transport],
	       c->mode == IL_MODE_THREAD ? "thread" : "process", il_placement_text(c));
	if (c->cpu[0] >= 0)
		printf(" (%d,%d)", c->cpu[0], c->cpu[1]);
	printf(", %" PRIu64 " B, %" PRIu64 " iterations x %" PRIu64 " repeats (+%" PRIu64 " warm-up)%s\n", lc->size,
	       c->iterations, c->repeat, c->warmup,
	       json_is_true(json_object_get(x->results, "traced")) ? ", traced" : "");
	il_print_summary_header();
	il_print_summary_json("round trip", json_object_get(x->results, "rtt"));
	il_print_summary_json("one-way A->B", json_object_get(x->results, "oneway_ab"));
	il_print_summary_json("one-way B->A", json_object_get(x->results, "oneway_ba"));
	const json_t *hn = json_object_get(x->results, "harness_ns_per_rtt");
	printf("clock read %.0f ns; ", num(x, "clock_read_ns"));
	if (hn)
		printf("ipclab's own work in a round trip %.0f ns; ", json_number_value(json_object_get(hn, "total")));
	else
		printf("rt-tests loop: the receiver slept %" PRIu64 " us before each answer (round trip includes it); ",
		       lc->interval_us);
	printf("repeat-to-repeat rel. stddev: p50 %.1f %%, mean %.1f %%\n", 100 * num(x, "repeat_rel_stddev_p50"),
	       100 * num(x, "repeat_rel_stddev_mean"));
}

const struct il_experiment il_exp_ipc_latency = {
	.group = "ipc",
	.name = "latency",
	.summary = "ping-pong round-trip and one-way latency over a transport (process or thread)",
	.help = "Ping-pong latency over one transport between two processes or threads:\n"
		"round trip and one-way (send timestamp carried in the message), histograms.",
	.common = IL_C_ITER | IL_C_WARMUP | IL_C_REPEAT | IL_C_MODE | IL_C_CPU | IL_C_HIST,
	.opts = latency_opts,
	.cfg_size = sizeof(struct il_latency_cfg),
	.cfg_defaults = &il_latency_defaults,
	.params = latency_params,
	.measure = latency_measure,
	.print = latency_print,
	.flags = IL_EXP_GUARD | IL_EXP_TRACED,
};
