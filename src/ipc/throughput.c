/* throughput.c - "ipclab ipc throughput": one-way streaming over one transport between
 * two peers (processes or threads): side 0 sends, side 1 receives and verifies every
 * message (stream.c), with the transport's own send/recv and the same start barrier and
 * link life cycle as "ipc latency". Lost, duplicated, reordered or corrupted messages
 * fail the run (exit 1); --inject proves the checks. Messages/s and MiB/s per repeat,
 * their median and relative stddev, for one --size or a --sweep of sizes.
 * chan (in the msg events) is (run << 1), run counting the repeats of every size of
 * this invocation from 0, as in run_begin. */
#include "checksum.h"
#include "stream.h"
#include "../core/experiment.h"
#include "../core/log.h"
#include "../core/result.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MIN_SIZE IL_STREAM_HDR
#define MAX_SIZE (1u << 20)
#define MAX_COUNT 100000000ull    /* the receiver keeps one bit per message */
#define DEFAULT_BYTES (256ull << 20)
#define DEFAULT_MIN_COUNT 1000ull
#define DEFAULT_MAX_COUNT 200000ull

struct tput_cfg {
	int transport;
	uint64_t size, count, bytes; /* count, bytes: 0 when not given */
	bool sweep;
	int inject;                  /* enum il_inject */
};

static const struct tput_cfg tput_defaults = { .size = 64 };

static const struct il_opt tput_opts[] = {
	{ .name = "transport", .type = IL_OPT_CHOICE, .metavar = "T",
	  .help = "transport to measure (see 'ipclab ipc transports')", .choices = il_transport_choices,
	  .off = IL_CFG(struct tput_cfg, transport, int), .param = "transport" },
	{ .name = "size", .type = IL_OPT_SIZE, .metavar = "BYTES",
	  .help = "message size, header (16 B) included [default 64]", .min = MIN_SIZE, .max = MAX_SIZE,
	  .off = IL_CFG(struct tput_cfg, size, uint64_t) },
	{ .name = "count", .type = IL_OPT_U64, .metavar = "N",
	  .help = "measured messages per repeat [default: 256 MiB worth, 1000..200000]", .min = 1,
	  .max = MAX_COUNT, .off = IL_CFG(struct tput_cfg, count, uint64_t) },
	{ .name = "bytes", .type = IL_OPT_SIZE, .metavar = "B",
	  .help = "measured bytes per repeat instead of --count (rounded up to messages)", .min = 1,
	  .max = 1ull << 40, .off = IL_CFG(struct tput_cfg, bytes, uint64_t) },
	{ .name = "sweep", .type = IL_OPT_FLAG,
	  .help = "every size 16 B, 64 B, ... 1 MiB (powers of 4) instead of one --size",
	  .off = IL_CFG(struct tput_cfg, sweep, bool) },
	{ .name = "inject", .type = IL_OPT_CHOICE, .metavar = "FAULT",
	  .help = "self-test of the verification: the sender loses, duplicates, swaps or corrupts the middle "
		  "message of the first repeat (the run must fail)",
	  .choices = il_inject_names, .off = IL_CFG(struct tput_cfg, inject, int), .param = "inject" },
	{ 0 },
};

/* Option combinations, the params that depend on them, the transport and the size. */
static int tput_params(struct il_ctx *x, void *cfg)
{
	const struct tput_cfg *tc = cfg;
	if (tc->count && tc->bytes) {
		il_err("--count and --bytes exclude each other");
		return IL_USAGE;
	}
	if (tc->sweep && il_ctx_given(x, "size")) {
		il_err("--sweep runs every size: leave out --size");
		return IL_USAGE;
	}
	if (tc->inject == IL_INJ_REORDER && tc->count == 1) {
		il_err("--inject=reorder needs --count of at least 2");
		return IL_USAGE;
	}
	if (tc->sweep)
		il_jset(x->params, "sweep", json_true());
	else
		il_jset(x->params, "size", json_integer((json_int_t)tc->size));
	il_jset(x->params, "count", tc->count ? json_integer((json_int_t)tc->count) : json_null());
	il_jset(x->params, "bytes", tc->bytes ? json_integer((json_int_t)tc->bytes) : json_null());
	const struct il_transport *t = il_transport_at(tc->transport);
	int rc = il_bench_check_transport(x, t);
	if (rc != IL_RUN)
		return rc;
	return tc->sweep ? IL_OK : il_bench_check_size(t, tc->size);
}

/* Messages per repeat for size: --count, or --bytes / size, or the default. */
static uint64_t count_for(const struct tput_cfg *tc, uint64_t size)
{
	if (tc->count)
		return tc->count;
	uint64_t n = ((tc->bytes ? tc->bytes : DEFAULT_BYTES) + size - 1) / size;
	if (!tc->bytes) {
		n = n < DEFAULT_MIN_COUNT ? DEFAULT_MIN_COUNT : n;
		n = n > DEFAULT_MAX_COUNT ? DEFAULT_MAX_COUNT : n;
	}
	return n < 1 ? 1 : n > MAX_COUNT ? MAX_COUNT : n;
}

/* One point's verification counts, summed over its repeats. */
struct tally {
	struct il_stream_verify v;
	uint64_t sent;
};

static void tally_add(struct tally *sum, const struct il_stream_verify *v, uint64_t sent)
{
	sum->sent += sent;
	sum->v.received += v->received;
	sum->v.verified += v->verified;
	sum->v.lost += v->lost;
	sum->v.duplicated += v->duplicated;
	sum->v.reordered += v->reordered;
	sum->v.corrupted += v->corrupted;
}

/* One repeat's row in the point's "repeats". */
static json_t *repeat_row(const struct il_stream *s, const struct il_pair_shared *ps, uint32_t rep,
			  double mps, double bps)
{
	const struct il_stream_verify *v = &s->sh->v;
	return json_pack("{sI sI sf sf sf sI sI sI sI sI sI sI sI s[ii] s[ii]}", "repeat", (json_int_t)rep,
			 "elapsed_ns", (json_int_t)(s->sh->t_end - s->sh->t_start), "msgs_per_s", mps, "bytes_per_s",
			 bps, "mib_per_s", bps / (1 << 20), "sent", (json_int_t)s->sent, "received",
			 (json_int_t)v->received, "verified", (json_int_t)v->verified, "lost", (json_int_t)v->lost,
			 "duplicated", (json_int_t)v->duplicated, "reordered", (json_int_t)v->reordered,
			 "corrupted", (json_int_t)v->corrupted, "after_end", (json_int_t)v->after_end,
			 "cpu_sender", ps->cpu_start[0], ps->cpu_end[0], "cpu_receiver", ps->cpu_start[1],
			 ps->cpu_end[1]);
}

/* IL_FAIL after one line when the receiver, having got to the end, found a fault. */
static int judge(const struct il_transport *t, const struct il_stream *s, uint32_t rep)
{
	const struct il_stream_verify *v = &s->sh->v;
	if (!s->sh->done ||
	    !(v->lost || v->duplicated || v->reordered || v->corrupted || v->received != s->sent))
		return IL_OK;
	il_fail("%s, %zu B, repeat %u: %" PRIu64 " lost, %" PRIu64 " duplicated, %" PRIu64 " reordered, %" PRIu64
		" corrupted; received %" PRIu64 " of %" PRIu64 " sent, %" PRIu64 " verified of %" PRIu64 ": %s",
		t->name, s->size, rep + 1, v->lost, v->duplicated, v->reordered, v->corrupted, v->received, s->sent,
		v->verified, s->total, v->first[0] ? v->first : "the receiver counted a different number of messages");
	return IL_FAIL;
}

/* The point of one size, from its repeats' rates and verification counts. */
static json_t *point_json(const struct il_common *c, uint64_t size, uint64_t count, json_t *reps, double *mps,
			  double *bps, const struct tally *sum, double verify_ns)
{
	size_t n = json_array_size(reps);
	double med_m = il_median_dbl(mps, n), med_b = il_median_dbl(bps, n);
	const struct il_stream_verify *v = &sum->v;
	return json_pack("{sI sI sI sI so sf sf sf sf s{sI sI sI sI sI sI sI} s{ss sf}}", "size", (json_int_t)size,
			 "count", (json_int_t)count, "warmup", (json_int_t)c->warmup, "repeats_done", (json_int_t)n,
			 "repeats", reps, "msgs_per_s", med_m, "bytes_per_s", med_b, "mib_per_s", med_b / (1 << 20),
			 "rel_stddev", il_rel_stddev(mps, n), "verification", "sent", (json_int_t)sum->sent,
			 "received", (json_int_t)v->received, "verified", (json_int_t)v->verified, "lost",
			 (json_int_t)v->lost, "duplicated", (json_int_t)v->duplicated, "reordered",
			 (json_int_t)v->reordered, "corrupted", (json_int_t)v->corrupted, "checksum", "name",
			 il_csum_name, "verify_ns_per_msg", verify_ns);
}

/* Runs every repeat of one size; appends the point to points. IL_OK or an exit code. */
static int run_point(struct il_ctx *x, const struct il_transport *t, uint64_t size, enum il_inject inject,
		     uint64_t count, uint32_t *run_no, json_t *points)
{
	const struct il_common *c = &x->c;
	struct il_stream s = { .warmup = c->warmup, .total = c->warmup + count, .inject_at = c->warmup + count / 2,
			       .nrep = (uint32_t)c->repeat };
	struct il_pair p = { .body = il_stream_body, .arg = &s, .task_name = "ipclab-tput", .role = "receiver" };
	double *mps = calloc(c->repeat, sizeof(double)), *bps = calloc(c->repeat, sizeof(double));
	json_t *reps = json_array();
	struct tally sum = { 0 };
	int rc = IL_OK;
	if (il_stream_alloc(&s, size, s.total) < 0 || !mps || !bps || !reps) {
		il_err("out of memory for %" PRIu64 "-byte messages", size);
		rc = IL_NORES;
		goto out;
	}
	double verify_ns = il_stream_verify_cost(&s);
	for (uint32_t rep = 0; rep < c->repeat && rc == IL_OK; rep++) {
		memset(s.sh, 0, sizeof(*s.sh));
		s.sent = 0;
		s.rep = rep;
		s.chan = *run_no << 1;
		s.inject = rep == 0 ? inject : IL_INJ_NONE;
		rc = il_pair_run(&p, x, t, size, (*run_no)++, count, c->warmup);
		uint64_t ns = s.sh->t_end > s.sh->t_start ? s.sh->t_end - s.sh->t_start : 0;
		mps[rep] = ns ? (double)count * 1e9 / (double)ns : 0;
		bps[rep] = mps[rep] * (double)size;
		(void)json_array_append_new(reps, repeat_row(&s, p.ps, rep, mps[rep], bps[rep]));
		tally_add(&sum, &s.sh->v, s.sent);
		int jrc = judge(t, &s, rep);
		rc = rc != IL_OK ? rc : jrc;
	}
	json_t *pt = point_json(c, size, count, reps, mps, bps, &sum, verify_ns);
	reps = NULL;
	if (p.facts)
		il_jset(pt, "transport_facts", json_incref(p.facts));
	(void)json_array_append_new(points, pt);
out:
	json_decref(reps);
	il_pair_fini(&p);
	il_stream_free(&s);
	free(mps);
	free(bps);
	return rc;
}

/* Every size 16 B .. 1 MiB (powers of 4); a size over a limit of t is skipped, not a failure. */
static int run_sweep(struct il_ctx *x, const struct il_transport *t, const struct tput_cfg *tc,
		     uint32_t *run_no, json_t *points, json_t *skipped)
{
	enum il_inject inject = (enum il_inject)tc->inject;
	int rc = IL_OK;
	for (uint64_t s = MIN_SIZE; s <= MAX_SIZE && rc == IL_OK; s *= 4) {
		if (il_bench_check_size(t, s) != IL_OK) {
			(void)json_array_append_new(skipped, json_integer((json_int_t)s));
			continue;
		}
		size_t before = json_array_size(points);
		rc = run_point(x, t, s, inject, count_for(tc, s), run_no, points);
		inject = IL_INJ_NONE; /* the fault goes into the first point only */
		if (rc == IL_NORES || rc == IL_UNSUP) {
			/* A size the kernel's limits refuse (the message said which sysctl):
			 * a skipped size in a sweep, not a zero point nor the end of it. */
			while (json_array_size(points) > before)
				(void)json_array_remove(points, json_array_size(points) - 1);
			(void)json_array_append_new(skipped, json_integer((json_int_t)s));
			il_ctx_warn(x, "size %" PRIu64 " skipped: over a limit of %s (see the message above)", s, t->name);
			rc = IL_OK;
		}
	}
	return rc;
}

static int tput_measure(struct il_ctx *x, void *cfg)
{
	const struct tput_cfg *tc = cfg;
	const struct il_transport *t = il_transport_at(tc->transport);
	json_t *points = json_array(), *skipped = json_array();
	uint32_t run_no = 0;
	int rc;
	if (tc->sweep)
		rc = run_sweep(x, t, tc, &run_no, points, skipped);
	else
		rc = run_point(x, t, tc->size, (enum il_inject)tc->inject, count_for(tc, tc->size), &run_no, points);
	il_jset(x->results, "points", points);
	il_jset(x->results, "skipped_sizes", skipped);
	return rc;
}

static double num(const json_t *o, const char *key)
{
	return json_number_value(json_object_get(o, key));
}

static void tput_print(const struct il_ctx *x, const void *cfg)
{
	const struct tput_cfg *tc = cfg;
	const struct il_common *c = &x->c;
	printf("ipc throughput: %s, %s mode, %s", il_transport_choices[tc->transport],
	       c->mode == IL_MODE_THREAD ? "thread" : "process", il_placement_text(c));
	if (c->cpu[0] >= 0)
		printf(" (%d,%d)", c->cpu[0], c->cpu[1]);
	printf(", %" PRIu64 " warm-up messages, %" PRIu64 " repeat(s)%s\n", c->warmup, c->repeat,
	       json_is_true(json_object_get(x->results, "traced")) ? ", traced" : "");
	printf("%10s %10s %14s %12s %7s %21s %7s %9s\n", "size B", "messages", "msgs/s", "MiB/s", "rsd %",
	       "verified/sent", "errors", "verify ns");
	size_t i;
	json_t *pt;
	json_array_foreach(json_object_get(x->results, "points"), i, pt) {
		const json_t *v = json_object_get(pt, "verification");
		printf("%10.0f %10.0f %14.0f %12.1f %7.1f %10.0f/%-10.0f %7.0f %9.0f\n", num(pt, "size"),
		       num(pt, "count"), num(pt, "msgs_per_s"), num(pt, "mib_per_s"), 100 * num(pt, "rel_stddev"),
		       num(v, "verified"), num(v, "sent"),
		       num(v, "lost") + num(v, "duplicated") + num(v, "reordered") + num(v, "corrupted"),
		       num(json_object_get(pt, "checksum"), "verify_ns_per_msg"));
	}
}

const struct il_experiment il_exp_ipc_throughput = {
	.group = "ipc",
	.name = "throughput",
	.summary = "one-way streaming messages/s and MiB/s over a transport, every message verified",
	.help = "One-way streaming over one transport between two processes or threads: side 0\n"
		"sends, side 1 receives and verifies every message (sequence number and checksum:\n"
		"lost, duplicated, reordered or corrupted messages fail the run). Messages/s and MiB/s\n"
		"per repeat, their median and relative stddev. Warm-up is counted in messages.",
	.common = IL_C_WARMUP | IL_C_REPEAT | IL_C_MODE | IL_C_CPU,
	.defaults = { .warmup = 100 },
	.opts = tput_opts,
	.cfg_size = sizeof(struct tput_cfg),
	.cfg_defaults = &tput_defaults,
	.params = tput_params,
	.measure = tput_measure,
	.print = tput_print,
	.flags = IL_EXP_GUARD | IL_EXP_TRACED | IL_EXP_PRINT_ON_FAIL,
};
