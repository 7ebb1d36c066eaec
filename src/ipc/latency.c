/* latency.c - "ipclab ipc latency": ping-pong over one transport between two peers
 * (processes or threads). Round trip measured by the initiator; one-way latency in
 * both directions from the send timestamp carried in the message (same CLOCK_MONOTONIC).
 * Every iteration, warm-up included, emits exactly four ipclab_msg events. */
#include "bench_common.h"
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

/* Filled by the responder, read by the initiator (MAP_SHARED in process mode). */
struct shared {
	struct il_hist oneway_ab;
};

/* One repeat's parameters, buffers and histograms (copied into a forked responder). */
struct run {
	struct shared *sh;
	uint64_t total;    /* warmup + iterations */
	uint64_t warmup;
	const char *tname;
	unsigned char *buf[2];            /* each side's message buffer */
	struct il_hist *rtt, *oneway_ba;  /* filled by the initiator */
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

/* The responder (side 1): receive, stamp the one-way latency, send straight back. */
static int responder(struct il_pair *p)
{
	struct run *r = p->arg;
	struct shared *sh = r->sh;
	struct il_link *l = &p->link;
	const uint32_t chan_in = p->rep << 1, chan_out = chan_in | 1u;
	unsigned char *buf = r->buf[1];
	struct msg_hdr *h = (struct msg_hdr *)buf;
	for (uint64_t i = 0; i < r->total; i++) {
		if (l->t->recv(l, 1, buf) < 0) {
			il_pair_why(p, 0, "responder: receive %" PRIu64 " failed: %s", i,
				    errno == EPIPE ? "the initiator went away" : strerror(errno));
			return IL_FAIL;
		}
		uint64_t t = il_now_ns();
		const bool timed = i >= r->warmup; /* the event carries what the histogram gets */
		lttng_ust_tracepoint(ipclab_msg, msg_recv, r->tname, chan_in, i, (uint32_t)l->size,
				     timed ? h->t_send : 0, timed ? t : 0);
		if (h->seq != i) {
			il_pair_why(p, 0, "responder: message %" PRIu64 " arrived as seq %" PRIu64, i, h->seq);
			return IL_FAIL;
		}
		if (timed)
			il_hist_add(&sh->oneway_ab, t - h->t_send);
		lttng_ust_tracepoint(ipclab_msg, msg_send, r->tname, chan_out, i, (uint32_t)l->size);
		h->t_send = il_now_ns();
		if (l->t->send(l, 1, buf) < 0) {
			il_pair_why(p, 0, "responder: send %" PRIu64 " failed: %s", i,
				    errno == EPIPE ? "the initiator went away" : strerror(errno));
			return IL_FAIL;
		}
	}
	return IL_OK;
}

/* The initiator (side 0): ping-pong; round trip and one-way B->A into r's histograms. */
static int initiator(struct il_pair *p)
{
	struct run *r = p->arg;
	struct il_link *l = &p->link;
	const struct il_transport *t = l->t;
	const uint32_t chan_out = p->rep << 1, chan_in = chan_out | 1u;
	unsigned char *buf = r->buf[0];
	struct msg_hdr *h = (struct msg_hdr *)buf;
	for (uint64_t i = 0; i < r->total; i++) {
		lttng_ust_tracepoint(ipclab_msg, msg_send, t->name, chan_out, i, (uint32_t)l->size);
		uint64_t t0 = il_now_ns();
		h->seq = i;
		h->t_send = t0;
		if (t->send(l, 0, buf) < 0) {
			if (errno == EPIPE)
				il_fail("send %" PRIu64 ": the responder went away", i);
			else
				il_errno("send %" PRIu64 " failed", i);
			return IL_FAIL;
		}
		if (t->recv(l, 0, buf) < 0) {
			if (errno == EPIPE)
				il_fail("receive %" PRIu64 ": the responder went away", i);
			else
				il_errno("receive %" PRIu64 " failed", i);
			return IL_FAIL;
		}
		uint64_t t1 = il_now_ns();
		const bool timed = i >= r->warmup; /* the event carries what the histogram gets */
		lttng_ust_tracepoint(ipclab_msg, msg_recv, t->name, chan_in, i, (uint32_t)l->size,
				     timed ? h->t_send : 0, timed ? t1 : 0);
		if (h->seq != i) {
			il_fail("reply %" PRIu64 " came back as seq %" PRIu64, i, h->seq);
			return IL_FAIL;
		}
		if (timed) {
			il_hist_add(r->rtt, t1 - t0);
			il_hist_add(r->oneway_ba, t1 - h->t_send);
		}
	}
	return IL_OK;
}

static int latency_body(struct il_pair *p, int side)
{
	return side == 0 ? initiator(p) : responder(p);
}

struct repeat_result {
	struct il_hist rtt, oneway_ba;
	int cpu_start, cpu_end;
};

/* One repeat: the two bodies inside bench_common's pair life cycle. */
static int one_repeat(struct il_ctx *x, const struct il_transport *t, size_t size, uint32_t rep,
		      struct shared *sh, struct il_pair *p, struct repeat_result *res)
{
	const struct il_common *c = &x->c;
	struct run r = { .sh = sh, .total = c->warmup + c->iterations, .warmup = c->warmup, .tname = t->name,
			 .rtt = &res->rtt, .oneway_ba = &res->oneway_ba };
	memset(sh, 0, sizeof(*sh));
	il_hist_init(&sh->oneway_ab, HIST_MAX_NS);
	il_hist_init(&res->rtt, HIST_MAX_NS);
	il_hist_init(&res->oneway_ba, HIST_MAX_NS);
	r.buf[0] = msg_buffer(size);
	r.buf[1] = msg_buffer(size);
	int rc = IL_NORES;
	if (!r.buf[0] || !r.buf[1]) {
		il_err("out of memory for a %zu-byte message", size);
	} else {
		p->arg = &r;
		rc = il_pair_run(p, x, t, size, rep, c->iterations, c->warmup);
		res->cpu_start = p->ps ? p->ps->cpu_start[0] : -1;
		res->cpu_end = p->ps ? p->ps->cpu_end[0] : -1;
	}
	free(r.buf[0]);
	free(r.buf[1]);
	return rc;
}

static json_t *cpu_pair(int a, int b)
{
	return json_pack("[ii]", a, b);
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
	il_jset(x.params, "size", json_integer((json_int_t)size));
	int crc = il_bench_check_transport(&x, t);
	if (crc != IL_RUN)
		return il_ctx_finish(&x, crc);
	if ((crc = il_bench_check_size(t, size)) != IL_OK)
		return il_ctx_finish(&x, crc);

	il_guard_install((unsigned)c->timeout_s);
	uint64_t clock_cost = il_clock_read_cost_ns();
	struct shared *sh = il_shared_alloc(sizeof(*sh));
	struct repeat_result *res = calloc(1, sizeof(*res));
	struct il_pair pair = { .body = latency_body, .task_name = "ipclab-resp" };
	struct il_hist *rtt = malloc(sizeof(*rtt)), *ab = malloc(sizeof(*ab)), *ba = malloc(sizeof(*ba));
	struct il_repeats spread = { 0 };
	int rc = IL_OK;
	if (!sh || !res || !rtt || !ab || !ba || il_repeats_init(&spread, c->repeat) < 0) {
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
		rc = one_repeat(&x, t, size, rep, sh, &pair, res);
		if (rc != IL_OK)
			break;
		il_hist_merge(rtt, &res->rtt);
		il_hist_merge(ab, &sh->oneway_ab);
		il_hist_merge(ba, &res->oneway_ba);
		il_repeats_add(&spread, &res->rtt);
		(void)json_array_append_new(reps, json_pack("{sI sf sI sI s{soso}}", "repeat", (json_int_t)rep,
			"rtt_mean", il_hist_mean(&res->rtt), "rtt_p50", (json_int_t)il_hist_percentile(&res->rtt, 50),
			"oneway_p50", (json_int_t)il_hist_percentile(&sh->oneway_ab, 50), "cpu",
			"initiator", cpu_pair(res->cpu_start, res->cpu_end),
			"responder", cpu_pair(pair.ps->cpu_start[1], pair.ps->cpu_end[1])));
	}
	il_guard_disarm();
	il_jset(x.results, "repeats", reps);
	if (rc != IL_OK)
		goto out;

	double rsd_p50, rsd_mean;
	il_ctx_pingpong_results(&x, rtt, ab, ba, clock_cost, &spread, &rsd_p50, &rsd_mean);
	il_jset(x.results, "messages_per_repeat", json_integer((json_int_t)(2 * (c->warmup + c->iterations))));

	if (!c->json || c->json_file) {
		const char *pl = il_placement_text(c);
		printf("ipc latency: %s, %s mode, %s", t->name, c->mode == IL_MODE_THREAD ? "thread" : "process", pl);
		if (c->cpu[0] >= 0)
			printf(" (%d,%d)", c->cpu[0], c->cpu[1]);
		printf(", %" PRIu64 " B, %" PRIu64 " iterations x %" PRIu64 " repeats (+%" PRIu64 " warm-up)%s\n",
		       size, c->iterations, c->repeat, c->warmup, il_trace_loaded() ? ", traced" : "");
		il_print_summary_header();
		il_print_summary_row("round trip", rtt);
		il_print_summary_row("one-way A->B", ab);
		il_print_summary_row("one-way B->A", ba);
		printf("clock read %" PRIu64 " ns; repeat-to-repeat rel. stddev: p50 %.1f %%, mean %.1f %%\n",
		       clock_cost, 100 * rsd_p50, 100 * rsd_mean);
	}
	if (c->hist) {
		const struct il_hist *hs[] = { rtt, ab, ba };
		static const char *const names[] = { "rtt", "oneway_ab", "oneway_ba" };
		if (il_write_hists(c->hist_file, 3, hs, names) != IL_OK)
			rc = IL_FAIL;
	}
out:
	il_pair_fini(&pair);
	il_shared_free(sh, sizeof(*sh));
	free(res);
	free(rtt);
	free(ab);
	free(ba);
	il_repeats_free(&spread);
	return il_ctx_finish(&x, rc);
}

const struct il_experiment il_exp_ipc_latency = {
	.group = "ipc",
	.name = "latency",
	.summary = "ping-pong round-trip and one-way latency over a transport (process or thread)",
	.run = latency_run,
};
