/* latency.c - "ipclab ipc latency": ping-pong over one transport between two peers
 * (processes or threads). Round trip measured by the initiator; one-way latency in
 * both directions from the send timestamp carried in the message (same CLOCK_MONOTONIC).
 * Every iteration, warm-up included, emits exactly four ipclab_msg events. */
#include "transport.h"
#include "../core/clock.h"
#include "../core/experiment.h"
#include "../core/cleanup.h"
#include "../core/hist.h"
#include "../core/log.h"
#include "../core/result.h"
#include "../core/spawn.h"
#include "../core/tp.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COMMON (IL_C_ITER | IL_C_WARMUP | IL_C_REPEAT | IL_C_MODE | IL_C_CPU | IL_C_HIST)
#define HIST_MAX_NS (10ull * 1000 * 1000 * 1000)

/* What travels in every message (the rest of --size is a fixed pattern). */
struct msg_hdr {
	uint64_t seq;
	uint64_t t_send; /* CLOCK_MONOTONIC ns, taken just before the send call */
};

/* Shared between the two sides (MAP_SHARED in process mode). */
struct shared {
	struct il_barrier start;
	struct il_hist oneway_ab;   /* filled by the responder */
	int resp_status;            /* responder's exit code so far */
	int cpu_start, cpu_end;     /* responder's observed CPU */
	char why[256];              /* responder's failure, for the initiator to report */
};

struct run {
	struct il_link link;
	struct shared *sh;
	uint64_t total;    /* warmup + iterations */
	uint64_t warmup;
	uint32_t repeat;
	const char *tname;
};

/* Fills a message buffer's payload with a pattern (once per run). */
static void *msg_buffer(size_t size)
{
	unsigned char *b = malloc(size);
	if (b)
		for (size_t i = 0; i < size; i++)
			b[i] = (unsigned char)(i * 31u + 7u);
	return b;
}

/* The responder: receive, stamp the one-way latency, send straight back. */
static int responder(void *arg)
{
	struct run *r = arg;
	struct shared *sh = r->sh;
	struct il_link *l = &r->link;
	const uint32_t chan_in = r->repeat << 1, chan_out = chan_in | 1u;
	int rc = IL_OK;

	il_set_task_name("ipclab-resp");
	unsigned char *buf = msg_buffer(l->size);
	if (!buf) {
		(void)snprintf(sh->why, sizeof(sh->why), "out of memory for a %zu-byte message", l->size);
		rc = IL_NORES;
	} else if ((rc = il_link_attach(l, 1)) != 0) {
		(void)snprintf(sh->why, sizeof(sh->why), "responder could not attach to %s", l->t->name);
	}
	sh->resp_status = rc;
	sh->cpu_start = il_cpu_now();
	il_barrier_wait(&sh->start);
	struct msg_hdr *h = (struct msg_hdr *)buf;
	for (uint64_t i = 0; rc == IL_OK && i < r->total; i++) {
		if (l->t->recv(l, 1, buf) < 0) {
			(void)snprintf(sh->why, sizeof(sh->why), "responder: receive %" PRIu64 " failed: %s", i,
				       errno == EPIPE ? "the initiator went away" : strerror(errno));
			rc = IL_FAIL;
			break;
		}
		uint64_t t = il_now_ns();
		lttng_ust_tracepoint(ipclab_msg, msg_recv, r->tname, chan_in, i, (uint32_t)l->size);
		if (h->seq != i) {
			(void)snprintf(sh->why, sizeof(sh->why), "responder: message %" PRIu64 " arrived as seq %" PRIu64,
				       i, h->seq);
			rc = IL_FAIL;
			break;
		}
		if (i >= r->warmup)
			il_hist_add(&sh->oneway_ab, t - h->t_send);
		lttng_ust_tracepoint(ipclab_msg, msg_send, r->tname, chan_out, i, (uint32_t)l->size);
		h->t_send = il_now_ns();
		if (l->t->send(l, 1, buf) < 0) {
			(void)snprintf(sh->why, sizeof(sh->why), "responder: send %" PRIu64 " failed: %s", i,
				       errno == EPIPE ? "the initiator went away" : strerror(errno));
			rc = IL_FAIL;
		}
	}
	sh->cpu_end = il_cpu_now();
	il_link_detach(l, 1);
	free(buf);
	sh->resp_status = rc;
	return rc;
}

struct repeat_result {
	struct il_hist rtt, oneway_ba;
	int cpu_start, cpu_end;
};

/* One repeat: set up the transport, spawn the responder, ping-pong, join, tear down. */
static int one_repeat(struct il_ctx *x, const struct il_transport *t, size_t size, uint32_t rep,
		      struct shared *sh, struct repeat_result *res)
{
	const struct il_common *c = &x->c;
	struct run r = { .sh = sh, .total = c->warmup + c->iterations, .warmup = c->warmup,
			 .repeat = rep, .tname = t->name };
	struct il_peer peer;
	char how[128];
	int rc;

	memset(sh, 0, sizeof(*sh));
	il_hist_init(&sh->oneway_ab, HIST_MAX_NS);
	il_hist_init(&res->rtt, HIST_MAX_NS);
	il_hist_init(&res->oneway_ba, HIST_MAX_NS);
	if (il_barrier_init(&sh->start, 2) < 0) {
		il_err("cannot create the start barrier");
		return IL_NORES;
	}
	unsigned char *buf = msg_buffer(size);
	if (!buf) {
		il_err("out of memory for a %zu-byte message", size);
		il_barrier_destroy(&sh->start);
		return IL_NORES;
	}
	if ((rc = il_link_init(&r.link, t, c->mode, size)) != 0)
		goto out_buf;
	int e = il_pin_self(c->cpu[0]);
	if (e) {
		errno = -e;
		il_errno("cannot pin the initiator to CPU %d", c->cpu[0]);
		rc = IL_NORES;
		goto out_link;
	}
	lttng_ust_tracepoint(ipclab_run, run_begin, x->experiment, t->name, c->mode, rep, c->iterations, c->warmup);
	if ((rc = il_spawn(&peer, c->mode, c->cpu[1], responder, &r)) != 0)
		goto out_link;
	rc = il_link_attach(&r.link, 0);
	res->cpu_start = il_cpu_now();
	il_barrier_wait(&sh->start);
	if (rc == IL_OK && sh->resp_status != IL_OK)
		rc = sh->resp_status;

	struct msg_hdr *h = (struct msg_hdr *)buf;
	const uint32_t chan_out = rep << 1, chan_in = chan_out | 1u;
	for (uint64_t i = 0; rc == IL_OK && i < r.total; i++) {
		lttng_ust_tracepoint(ipclab_msg, msg_send, t->name, chan_out, i, (uint32_t)size);
		uint64_t t0 = il_now_ns();
		h->seq = i;
		h->t_send = t0;
		if (t->send(&r.link, 0, buf) < 0) {
			if (errno == EPIPE)
				il_fail("send %" PRIu64 ": the responder went away", i);
			else
				il_errno("send %" PRIu64 " failed", i);
			rc = IL_FAIL;
			break;
		}
		if (t->recv(&r.link, 0, buf) < 0) {
			if (errno == EPIPE)
				il_fail("receive %" PRIu64 ": the responder went away", i);
			else
				il_errno("receive %" PRIu64 " failed", i);
			rc = IL_FAIL;
			break;
		}
		uint64_t t1 = il_now_ns();
		lttng_ust_tracepoint(ipclab_msg, msg_recv, t->name, chan_in, i, (uint32_t)size);
		if (h->seq != i) {
			il_fail("reply %" PRIu64 " came back as seq %" PRIu64, i, h->seq);
			rc = IL_FAIL;
			break;
		}
		if (i >= c->warmup) {
			il_hist_add(&res->rtt, t1 - t0);
			il_hist_add(&res->oneway_ba, t1 - h->t_send);
		}
	}
	res->cpu_end = il_cpu_now();
	il_link_detach(&r.link, 0);
	int prc = il_join(&peer, how, sizeof(how));
	if (*how)
		il_fail("the responder was %s", how);
	else if (prc != IL_OK && sh->why[0])
		il_err("%s", sh->why);
	if (rc == IL_OK)
		rc = prc;
	lttng_ust_tracepoint(ipclab_run, run_end, x->experiment, t->name, rep, rc);
out_link:
	il_link_free(&r.link);
out_buf:
	free(buf);
	il_barrier_destroy(&sh->start);
	return rc;
}

static json_t *cpu_pair(int a, int b)
{
	return json_pack("[ii]", a, b);
}

/* Prints one summary row of the human table. */
static void row(const char *label, const struct il_hist *h)
{
	struct il_summary s;
	il_hist_summary(h, &s);
	printf("%-14s %9" PRIu64 " %9" PRIu64 " %9.0f %9.0f %9" PRIu64 " %9" PRIu64 " %9" PRIu64 " %9" PRIu64 " %9" PRIu64 "\n",
	       label, s.count, s.min, s.mean, s.stddev, s.p50, s.p90, s.p99, s.p999, s.max);
}

static int latency_run(int argc, char **argv)
{
	static const char *const *choices;
	choices = il_transport_names();
	int tidx = 0;
	uint64_t size = sizeof(struct msg_hdr);
	const struct il_opt opts[] = {
		{ "transport", IL_OPT_CHOICE, "T", "transport to measure (see 'ipclab ipc transports')", 0, 0, choices, &tidx },
		{ "size", IL_OPT_SIZE, "BYTES", "message size in bytes (K/M suffixes)", sizeof(struct msg_hdr), 1u << 20, NULL, &size },
		{ 0 },
	};
	struct il_ctx x;
	il_ctx_begin(&x, argv[0], argc, argv);
	int prc = il_ctx_parse(&x, "Ping-pong latency over one transport between two processes or threads:\n"
			       "round trip and one-way (send timestamp carried in the message), histograms.",
			       COMMON, opts);
	if (prc != IL_RUN)
		return prc;
	const struct il_transport *t = il_transport_find(choices[tidx]);
	const struct il_common *c = &x.c;
	il_jset(x.params, "transport", json_string(t->name));
	il_jset(x.params, "size", json_integer((json_int_t)size));
	const char *why = t->unsupported ? t->unsupported() : NULL;
	if (why) {
		il_err("%s is not supported here: %s", t->name, why);
		il_jset(x.results, "unsupported", json_string(why));
		return il_ctx_finish(&x, IL_UNSUP);
	}
	if (t->max_size && size > t->max_size) {
		il_err("--size %" PRIu64 " exceeds the %s limit of %zu bytes", size, t->name, t->max_size);
		return il_ctx_finish(&x, IL_NORES);
	}

	il_guard_install((unsigned)c->timeout_s);
	uint64_t clock_cost = il_clock_read_cost_ns();
	struct shared *sh = il_shared_alloc(sizeof(*sh));
	struct repeat_result *res = calloc(1, sizeof(*res));
	struct il_hist *rtt = malloc(sizeof(*rtt)), *ab = malloc(sizeof(*ab)), *ba = malloc(sizeof(*ba));
	double *p50s = calloc(c->repeat, sizeof(double)), *means = calloc(c->repeat, sizeof(double));
	int rc = IL_OK;
	if (!sh || !res || !rtt || !ab || !ba || !p50s || !means) {
		il_err("out of memory");
		rc = IL_NORES;
		goto out;
	}
	il_hist_init(rtt, HIST_MAX_NS);
	il_hist_init(ab, HIST_MAX_NS);
	il_hist_init(ba, HIST_MAX_NS);
	json_t *reps = json_array();
	for (uint32_t rep = 0; rep < c->repeat && rc == IL_OK; rep++) {
		il_info("%s %s: repeat %u/%" PRIu64, t->name, c->mode == IL_MODE_THREAD ? "thread" : "process",
			rep + 1, c->repeat);
		rc = one_repeat(&x, t, size, rep, sh, res);
		if (rc != IL_OK)
			break;
		il_hist_merge(rtt, &res->rtt);
		il_hist_merge(ab, &sh->oneway_ab);
		il_hist_merge(ba, &res->oneway_ba);
		p50s[rep] = (double)il_hist_percentile(&res->rtt, 50);
		means[rep] = il_hist_mean(&res->rtt);
		(void)json_array_append_new(reps, json_pack("{sI sf sI sI s{soso}}", "repeat", (json_int_t)rep,
			"rtt_mean", il_hist_mean(&res->rtt), "rtt_p50", (json_int_t)il_hist_percentile(&res->rtt, 50),
			"oneway_p50", (json_int_t)il_hist_percentile(&sh->oneway_ab, 50), "cpu",
			"initiator", cpu_pair(res->cpu_start, res->cpu_end),
			"responder", cpu_pair(sh->cpu_start, sh->cpu_end)));
	}
	il_guard_disarm();
	il_jset(x.results, "repeats", reps);
	if (rc != IL_OK)
		goto out;

	double rsd_p50 = il_rel_stddev(p50s, c->repeat), rsd_mean = il_rel_stddev(means, c->repeat);
	il_jset(x.results, "rtt", il_json_summary(rtt));
	il_jset(x.results, "oneway_ab", il_json_summary(ab));
	il_jset(x.results, "oneway_ba", il_json_summary(ba));
	il_jset(x.results, "clock_read_ns", json_integer((json_int_t)clock_cost));
	il_jset(x.results, "repeat_rel_stddev_p50", json_real(rsd_p50));
	il_jset(x.results, "repeat_rel_stddev_mean", json_real(rsd_mean));
	il_jset(x.results, "messages_per_repeat", json_integer((json_int_t)(2 * (c->warmup + c->iterations))));
	il_jset(x.results, "traced", json_boolean(il_trace_loaded()));
	if (rtt->overflow)
		il_ctx_warn(&x, "%" PRIu64 " round trips above %llu ns were counted as overflow", rtt->overflow, HIST_MAX_NS);

	if (!c->json || c->json_file) {
		const char *pl = c->cpu[0] < 0 ? "unpinned" : c->cpu[0] == c->cpu[1] ? "same CPU" : "cross-CPU";
		printf("ipc latency: %s, %s mode, %s", t->name, c->mode == IL_MODE_THREAD ? "thread" : "process", pl);
		if (c->cpu[0] >= 0)
			printf(" (%d,%d)", c->cpu[0], c->cpu[1]);
		printf(", %" PRIu64 " B, %" PRIu64 " iterations x %" PRIu64 " repeats (+%" PRIu64 " warm-up)%s\n",
		       size, c->iterations, c->repeat, c->warmup, il_trace_loaded() ? ", traced" : "");
		printf("%-14s %9s %9s %9s %9s %9s %9s %9s %9s %9s\n", "ns", "count", "min", "mean", "stddev",
		       "p50", "p90", "p99", "p99.9", "max");
		row("round trip", rtt);
		row("one-way A->B", ab);
		row("one-way B->A", ba);
		printf("clock read %" PRIu64 " ns; repeat-to-repeat rel. stddev: p50 %.1f %%, mean %.1f %%\n",
		       clock_cost, 100 * rsd_p50, 100 * rsd_mean);
	}
	if (c->hist) {
		FILE *f = c->hist_file ? fopen(c->hist_file, "we") : stdout;
		if (!f) {
			il_errno("cannot open '%s'", c->hist_file);
			rc = IL_FAIL;
		} else {
			(void)il_hist_write_tsv(rtt, "rtt", f);
			(void)fputs("\n\n", f);
			(void)il_hist_write_tsv(ab, "oneway_ab", f);
			(void)fputs("\n\n", f);
			(void)il_hist_write_tsv(ba, "oneway_ba", f);
			if (f != stdout && fclose(f) != 0) {
				il_errno("cannot write '%s'", c->hist_file);
				rc = IL_FAIL;
			}
		}
	}
out:
	il_shared_free(sh, sizeof(*sh));
	free(res);
	free(rtt);
	free(ab);
	free(ba);
	free(p50s);
	free(means);
	return il_ctx_finish(&x, rc);
}

const struct il_experiment il_exp_ipc_latency = {
	.group = "ipc",
	.name = "latency",
	.summary = "ping-pong round-trip and one-way latency over a transport (process or thread)",
	.run = latency_run,
};
