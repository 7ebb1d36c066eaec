/* stream.c - the verified one-way stream of "ipc throughput" (see stream.h). */
#include "stream.h"
#include "checksum.h"
#include "../core/clock.h"
#include "../core/log.h"
#include "../core/spawn.h"
#include "../core/tp.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const il_inject_names[] = { "none", "lose", "dup", "reorder", "corrupt", NULL };

/* What every message starts with; the rest of the message is payload. */
struct tput_hdr {
	uint64_t seq;
	uint64_t sum; /* il_csum_bind(seq, il_csum(payload)) */
};
_Static_assert(sizeof(struct tput_hdr) == IL_STREAM_HDR, "stream header size");

/* ---- payload and checksum ----
 * The sender keeps `variants` ready-made messages whose payloads differ (pseudo-random
 * bytes, a different seed each); message seq goes out of buffer seq % variants with only
 * its 16-byte header rewritten, so making a message costs nothing beside the transport.
 * The variant count is a prime (61 when memory allows, at least 3), so a message can only
 * be confused with another of the same payload 61 (or 3..31) messages away, never with
 * its neighbours, nor with one a power of two (a ring size) away below that.
 * The header's sum binds the sequence number to the payload's checksum; the receiver
 * recomputes the payload checksum over every byte it got. */

#define VARIANT_BUDGET (16u << 20)
static const unsigned variant_primes[] = { 61, 31, 13, 7, 5, 3 };

static int variants_make(struct il_stream_variants *v, size_t size)
{
	v->n = variant_primes[sizeof(variant_primes) / sizeof(variant_primes[0]) - 1];
	for (size_t i = 0; i < sizeof(variant_primes) / sizeof(variant_primes[0]); i++)
		if ((uint64_t)variant_primes[i] * size <= VARIANT_BUDGET) {
			v->n = variant_primes[i];
			break;
		}
	v->buf = malloc((size_t)v->n * size);
	v->psum = malloc(v->n * sizeof(*v->psum));
	if (!v->buf || !v->psum)
		return -1;
	const size_t hdr = IL_STREAM_HDR;
	for (unsigned k = 0; k < v->n; k++) {
		unsigned char *m = v->buf + (size_t)k * size;
		memset(m, 0, hdr);
		il_payload_fill(m + hdr, size - hdr, k);
		v->psum[k] = il_csum(m + hdr, size - hdr);
	}
	return 0;
}

static void variants_free(struct il_stream_variants *v)
{
	free(v->buf);
	free(v->psum);
	v->buf = NULL;
	v->psum = NULL;
}

/* Makes message seq: picks its variant, writes the header. */
static unsigned char *msg_make(const struct il_stream_variants *v, size_t size, uint64_t seq)
{
	unsigned k = (unsigned)(seq % v->n);
	unsigned char *m = v->buf + (size_t)k * size;
	struct tput_hdr h = { .seq = seq, .sum = il_csum_bind(seq, v->psum[k]) };
	memcpy(m, &h, sizeof(h));
	return m;
}

/* True when the message in buf (size bytes) is intact; its sequence number in *seq. */
static bool msg_check(const unsigned char *buf, size_t size, uint64_t *seq)
{
	struct tput_hdr h;
	memcpy(&h, buf, sizeof(h));
	*seq = h.seq;
	return il_csum_bind(h.seq, il_csum(buf + sizeof(h), size - sizeof(h))) == h.sum;
}

double il_stream_verify_cost(const struct il_stream *s)
{
	const struct il_stream_variants *v = &s->var;
	const size_t size = s->size;
	uint64_t n = 1 + (16u << 20) / size, sink = 0;
	uint64_t t0 = il_now_ns();
	for (uint64_t i = 0; i < n; i++) {
		uint64_t seq;
		sink += msg_check(msg_make(v, size, i), size, &seq);
	}
	uint64_t t1 = il_now_ns();
	__asm__ volatile("" ::"r"(sink));
	return (double)(t1 - t0) / (double)n;
}

int il_stream_alloc(struct il_stream *s, size_t size, uint64_t total)
{
	s->size = size;
	s->sh = il_shared_alloc(sizeof(*s->sh));
	s->rbuf = malloc(size);
	s->seen = malloc((size_t)((total + 7) / 8));
	if (variants_make(&s->var, size) < 0 || !s->sh || !s->rbuf || !s->seen)
		return -1;
	return 0;
}

void il_stream_free(struct il_stream *s)
{
	if (s->sh)
		il_shared_free(s->sh, sizeof(*s->sh));
	s->sh = NULL;
	variants_free(&s->var);
	free(s->rbuf);
	free(s->seen);
	s->rbuf = NULL;
	s->seen = NULL;
}

/* ---- the two sides ---- */

/* Notes the first problem the receiver saw. */
static void note(struct il_stream_verify *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(struct il_stream_verify *v, const char *fmt, ...)
{
	if (v->first[0])
		return;
	va_list ap;
	va_start(ap, fmt);
	(void)vsnprintf(v->first, sizeof(v->first), fmt, ap);
	va_end(ap);
}

/* Side 0: sends total messages (with the --inject fault, if any). */
static int sender(struct il_pair *p)
{
	struct il_stream *r = p->arg;
	struct il_link *l = &p->link;
	const struct il_transport *t = l->t;
	uint64_t sent = 0; /* a local: r shares cache lines with what the receiver reads */
	/* After the start barrier, so a test that waits for this line may kill the receiver. */
	if (p->peer_pid)
		il_info("%s process, %zu B: repeat %u/%u, receiver pid %d", t->name, r->size, r->rep + 1, r->nrep,
			(int)p->peer_pid);
	else
		il_info("%s thread, %zu B: repeat %u/%u", t->name, r->size, r->rep + 1, r->nrep);
	for (uint64_t i = 0; i < r->total; i++) {
		uint64_t seq = i;
		if (r->inject != IL_INJ_NONE) {
			if (r->inject == IL_INJ_LOSE && i == r->inject_at)
				continue;
			if (r->inject == IL_INJ_REORDER && (i == r->inject_at || i == r->inject_at + 1))
				seq = i == r->inject_at ? i + 1 : i - 1;
		}
		unsigned char *m = msg_make(&r->var, r->size, seq);
		bool corrupt = r->inject == IL_INJ_CORRUPT && seq == r->inject_at;
		if (corrupt)
			m[r->size - 1] ^= 0x10; /* the last byte: payload, or the sum at 16 B */
		for (int copy = 0; copy < 1 + (r->inject == IL_INJ_DUP && seq == r->inject_at); copy++) {
			lttng_ust_tracepoint(ipclab_msg, msg_send, t->name, r->chan, seq, (uint32_t)r->size);
			if (t->send(l, 0, m) < 0) {
				int e = errno;
				r->sent = sent;
				errno = e;
				if (errno == EPIPE) /* il_pair_run says it, with how the receiver ended */
					return il_pair_peer_gone(p, "send of message", seq);
				il_errno("send of message %" PRIu64 " failed", seq);
				return IL_FAIL;
			}
			sent++;
		}
		if (corrupt)
			m[r->size - 1] ^= 0x10;
	}
	r->sent = sent;
	return IL_OK;
}

/* Classifies one arrival (see struct il_stream_verify). */
static void classify(struct il_stream *r, struct il_stream_verify *v, uint64_t *max_seq)
{
	struct tput_hdr h;
	bool sum_ok = msg_check(r->rbuf, r->size, &h.seq);
	v->received++;
	if (h.seq >= r->total) {
		v->corrupted++;
		note(v, "arrival %" PRIu64 " carries sequence number %" PRIu64 ", beyond the last (%" PRIu64
		     "): corrupted", v->received, h.seq, r->total - 1);
		return;
	}
	if (!sum_ok) {
		v->corrupted++;
		note(v, "message %" PRIu64 " is corrupted (checksum mismatch)", h.seq);
	}
	uint8_t bit = (uint8_t)(1u << (h.seq & 7));
	if (r->seen[h.seq >> 3] & bit) {
		v->duplicated++;
		note(v, "message %" PRIu64 " arrived twice (duplicated)", h.seq);
		return;
	}
	r->seen[h.seq >> 3] |= bit;
	v->distinct++;
	if (v->distinct > 1 && h.seq < *max_seq) {
		v->reordered++;
		note(v, "message %" PRIu64 " arrived after message %" PRIu64 " (reordered)", h.seq, *max_seq);
		return;
	}
	*max_seq = h.seq;
	if (sum_ok)
		v->verified++;
}

/* Side 1: receives until every sequence number was seen or the sender is gone, then
 * checks that nothing more arrives. IL_FAIL when anything is wrong (side 0 reports). */
static int receiver(struct il_pair *p)
{
	struct il_stream *r = p->arg;
	struct il_link *l = &p->link;
	const struct il_transport *t = l->t;
	struct il_stream_verify *v = &r->sh->v;
	uint64_t max_seq = 0;
	bool ended = false;
	memset(r->seen, 0, (size_t)((r->total + 7) / 8));
	if (r->warmup == 0)
		r->sh->t_start = il_now_ns();
	while (v->distinct < r->total) {
		if (t->recv(l, 1, r->rbuf) < 0) {
			if (errno != EPIPE) {
				il_fail("receive after %" PRIu64 " messages failed: %s (errno %d)", v->received,
					    strerror(errno), errno);
				return IL_FAIL;
			}
			ended = true;
			break;
		}
		lttng_ust_tracepoint(ipclab_msg, msg_recv, t->name, r->chan,
				     ((const struct tput_hdr *)(const void *)r->rbuf)->seq, (uint32_t)r->size, 0, 0);
		uint64_t before = v->distinct;
		classify(r, v, &max_seq);
		if (v->distinct != before && v->distinct == r->warmup)
			r->sh->t_start = il_now_ns();
	}
	r->sh->t_end = il_now_ns();
	/* The sender has sent everything it should: anything more is a duplicate or junk. The
	 * bound only stops a transport that would make up messages forever. */
	while (!ended && v->after_end <= r->total) {
		if (t->recv(l, 1, r->rbuf) < 0) {
			if (errno != EPIPE) {
				il_fail("receive at the end of the stream failed: %s (errno %d)", strerror(errno),
					    errno);
				return IL_FAIL;
			}
			break;
		}
		lttng_ust_tracepoint(ipclab_msg, msg_recv, t->name, r->chan,
				     ((const struct tput_hdr *)(const void *)r->rbuf)->seq, (uint32_t)r->size, 0, 0);
		v->after_end++;
		classify(r, v, &max_seq);
	}
	v->lost = r->total - v->distinct;
	r->sh->done = 1;
	if (v->lost) {
		uint64_t s = 0;
		while (s < r->total && (r->seen[s >> 3] & (1u << (s & 7))))
			s++;
		char what[200];
		(void)snprintf(what, sizeof(what), "%" PRIu64 " message(s) never arrived (lost), the first is %" PRIu64,
			       v->lost, s);
		note(v, "%s", what);
	}
	return v->lost || v->duplicated || v->reordered || v->corrupted ? IL_FAIL : IL_OK;
}

int il_stream_body(struct il_pair *p, int side)
{
	return side == 0 ? sender(p) : receiver(p);
}
