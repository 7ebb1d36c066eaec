/* pingpong.c - the ping-pong loop of "ipc latency" (see pingpong.h). */
#include "pingpong.h"
#include "../core/clock.h"
#include "../core/log.h"
#include "../core/tp.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

unsigned char *il_pingpong_buffer(size_t size)
{
	unsigned char *b = malloc(size);
	if (b)
		for (size_t i = 0; i < size; i++)
			b[i] = (unsigned char)(i * 31u + 7u);
	return b;
}

/* A failed send/receive of iteration i: logged, unless the other side went away
 * (EPIPE). The responder then stays silent (the initiator reports that run's failure
 * itself); the initiator notes where, and il_pair_run says it with how the responder
 * ended, in one line. */
static int transfer_failed(struct il_pair *p, const char *op, uint64_t i, bool responder)
{
	if (errno != EPIPE)
		il_errno("%s%s %" PRIu64 " failed", responder ? "responder: " : "", op, i);
	else if (!responder)
		return il_pair_peer_gone(p, op, i);
	return IL_FAIL;
}

/* The responder (side 1): receive, stamp the one-way latency, send straight back. */
static int responder(struct il_pair *p)
{
	const struct il_pingpong *r = p->arg;
	struct il_link *l = &p->link;
	const struct il_transport *t = l->t;
	const uint32_t chan_in = p->rep << 1, chan_out = chan_in | 1u;
	unsigned char *buf = r->buf[1];
	struct il_pingpong_hdr *h = (struct il_pingpong_hdr *)(void *)buf;
	uint64_t work = 0;
	for (uint64_t i = 0; i < r->total; i++) {
		if (t->recv(l, 1, buf) < 0)
			return transfer_failed(p, "receive", i, true);
		uint64_t now = il_now_ns();
		const bool timed = i >= r->warmup; /* the event carries what the histogram gets */
		lttng_ust_tracepoint(ipclab_msg, msg_recv, t->name, chan_in, i, (uint32_t)l->size,
				     timed ? h->t_send : 0, timed ? now : 0);
		if (h->seq != i) {
			il_fail("responder: message %" PRIu64 " arrived as seq %" PRIu64, i, h->seq);
			return IL_FAIL;
		}
		if (timed)
			il_hist_add(r->oneway_ab, now - h->t_send);
		if (r->rt_loop) { /* rt-tests: clock_nanosleep(CLOCK_MONOTONIC) before the answer */
			struct timespec d = { (time_t)(r->sleep_ns / 1000000000u), (long)(r->sleep_ns % 1000000000u) };
			while (clock_nanosleep(CLOCK_MONOTONIC, 0, &d, &d) == EINTR)
				;
		}
		lttng_ust_tracepoint(ipclab_msg, msg_send, t->name, chan_out, i, (uint32_t)l->size);
		h->t_send = il_now_ns();
		work += timed && !r->rt_loop ? h->t_send - now : 0;
		if (t->send(l, 1, buf) < 0)
			return transfer_failed(p, "send", i, true);
	}
	*r->work_ns = work;
	return IL_OK;
}

/* The initiator (side 0): ping-pong; round trip and one-way B->A into r's histograms. */
static int initiator(struct il_pair *p)
{
	const struct il_pingpong *r = p->arg;
	struct il_link *l = &p->link;
	const struct il_transport *t = l->t;
	const uint32_t chan_out = p->rep << 1, chan_in = chan_out | 1u;
	unsigned char *buf = r->buf[0];
	struct il_pingpong_hdr *h = (struct il_pingpong_hdr *)(void *)buf;
	for (uint64_t i = 0; i < r->total; i++) {
		lttng_ust_tracepoint(ipclab_msg, msg_send, t->name, chan_out, i, (uint32_t)l->size);
		uint64_t t0 = il_now_ns();
		h->seq = i;
		h->t_send = t0;
		if (t->send(l, 0, buf) < 0)
			return transfer_failed(p, "send", i, false);
		if (t->recv(l, 0, buf) < 0)
			return transfer_failed(p, "receive", i, false);
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

int il_pingpong_body(struct il_pair *p, int side)
{
	return side == 0 ? initiator(p) : responder(p);
}
