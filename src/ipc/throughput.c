/* throughput.c - "ipclab ipc throughput": one-way streaming over one transport between
 * two peers (processes or threads): side 0 sends, side 1 receives, with the transport's
 * own send/recv and the same start barrier and link life cycle as "ipc latency".
 *
 * Verification beside timing: every message carries its sequence number and a checksum
 * of (sequence number, payload), and the payload differs from message to message. The
 * receiver classifies every arrival (in order, duplicated, reordered, corrupted, beyond
 * the last sequence number) and, after the sender has finished, checks that nothing
 * more arrives and counts what never came (lost). Any of those fails the run (exit 1).
 * The sender's messages are made before timing starts (rotating payload variants, only
 * the header written per message); the receiver's checksum over every byte is part of
 * the measured work, and its cost alone is reported (checksum.verify_ns_per_msg) so it
 * can be read against the result.
 *
 * Timing is on the receiver's side: from the moment it is ready for the first measured
 * message (after the last warm-up message, or the start barrier without warm-up) until
 * the last message is verified: exactly --count receptions.
 *
 * Events: one msg_send per send call and one msg_recv per message received, warm-up
 * included (without --inject: exactly 1 + 1 per message); chan is (run << 1), run
 * counting the repeats of every size of this invocation from 0, as in run_begin. */
#include "bench_common.h"
#include "../core/cleanup.h"
#include "../core/clock.h"
#include "../core/experiment.h"
#include "../core/log.h"
#include "../core/result.h"
#include "../core/spawn.h"
#include "../core/tp.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COMMON (IL_C_WARMUP | IL_C_REPEAT | IL_C_MODE | IL_C_CPU)
#define MIN_SIZE 16u              /* the header: sequence number + checksum */
#define MAX_SIZE (1u << 20)
#define MAX_COUNT 100000000ull    /* the receiver keeps one bit per message */
#define DEFAULT_BYTES (256ull << 20)
#define DEFAULT_MIN_COUNT 1000ull
#define DEFAULT_MAX_COUNT 200000ull

/* What every message starts with; the rest of the message is payload. */
struct tput_hdr {
	uint64_t seq;
	uint64_t sum; /* checksum(seq, payload) */
};

enum inject { INJ_NONE, INJ_LOSE, INJ_DUP, INJ_REORDER, INJ_CORRUPT };
static const char *const inject_names[] = { "none", "lose", "dup", "reorder", "corrupt", NULL };

/* The receiver's findings (shared memory: filled by side 1, read by side 0). */
struct verify {
	uint64_t received;    /* messages delivered by recv, duplicates included */
	uint64_t distinct;    /* distinct sequence numbers among them */
	uint64_t verified;    /* right checksum, first of its number, not behind a later one */
	uint64_t duplicated, reordered, corrupted, lost;
	uint64_t after_end;   /* messages that arrived once all were there (counted above too) */
	char first[200];      /* the first problem, in words */
};

struct tput_shared {
	uint64_t t_start, t_end;  /* receiver's CLOCK_MONOTONIC ns around the measured messages */
	int done;                 /* the receiver got to the end (was not killed) */
	struct verify v;
};

/* The sender's ready-made messages (see "payload and checksum" below). */
struct variants {
	unsigned n;
	unsigned char *buf;   /* n messages of size bytes */
	uint64_t *psum;       /* payload checksum of each */
};

/* One repeat's parameters and both sides' private buffers (copied into a forked peer). */
struct tput_run {
	size_t size;
	uint64_t total, warmup;   /* messages: warmup + count */
	uint32_t chan;
	enum inject inject;
	uint64_t inject_at;
	struct tput_shared *sh;
	struct variants var;      /* sender's messages */
	unsigned char *rbuf;      /* receiver's buffer */
	uint8_t *seen;            /* receiver: one bit per sequence number */
	uint64_t sent;            /* sender: successful send calls */
	uint32_t rep, nrep;       /* for the progress line */
};

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

/* splitmix64's finaliser: a full-avalanche 64-bit mix. */
static inline uint64_t mix64(uint64_t z)
{
	z ^= z >> 30;
	z *= 0xbf58476d1ce4e5b9ull;
	z ^= z >> 27;
	z *= 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* One step of the scalar part of the checksum: a multiply-xorshift absorb. */
static inline uint64_t absorb(uint64_t h, uint64_t w, uint64_t mul)
{
	h = (h ^ w) * mul;
	return h ^ (h >> 32);
}

#define MUL1 0x100000001b3ull      /* the FNV-1a 64-bit prime */
#define MUL2 0x9e3779b97f4a7c15ull /* 2^64 / golden ratio, odd */

typedef uint64_t u64x2 __attribute__((vector_size(16)));

/* The payload checksum: Fletcher-64 (s1 += w; s2 += s1, mod 2^64) in eight 64-bit lanes
 * (GCC vector extensions: four SSE2 registers on x86-64, any target elsewhere), so it
 * runs at memory speed (~85 GB/s here, vs ~7 for CRC32C on this CPU); the running sum
 * s2 makes it position-dependent (swapped, shifted or stale words change it), and the
 * 16 lane sums, the trailing words and bytes and the length are absorbed through
 * multiply-xorshift steps and a final full-avalanche mix. Not cryptographic: it catches
 * transport faults (lost, stale, shifted or overwritten data), not a forger. */
static uint64_t csum(const unsigned char *p, size_t len)
{
	uint64_t h = mix64(len), g = ~h;
	size_t i = 0;
	if (len >= 64) {
		const u64x2 z = { 0, 0 };
		u64x2 a0 = z, a1 = z, a2 = z, a3 = z, b0 = z, b1 = z, b2 = z, b3 = z;
		for (; i + 64 <= len; i += 64) {
			u64x2 x0, x1, x2, x3;
			memcpy(&x0, p + i, 16);
			memcpy(&x1, p + i + 16, 16);
			memcpy(&x2, p + i + 32, 16);
			memcpy(&x3, p + i + 48, 16);
			a0 += x0;
			b0 += a0;
			a1 += x1;
			b1 += a1;
			a2 += x2;
			b2 += a2;
			a3 += x3;
			b3 += a3;
		}
		const u64x2 v[8] = { a0, b0, a1, b1, a2, b2, a3, b3 };
		for (int k = 0; k < 8; k += 2) {
			h = absorb(absorb(h, v[k][0], MUL1), v[k + 1][0], MUL2);
			g = absorb(absorb(g, v[k][1], MUL1), v[k + 1][1], MUL2);
		}
	}
	for (; i + 8 <= len; i += 8) {
		uint64_t w;
		memcpy(&w, p + i, 8);
		h = absorb(h, w, MUL1);
	}
	uint64_t tail = 0;
	memcpy(&tail, p + i, len - i);
	return mix64(absorb(h, tail, MUL2) ^ g);
}

static const char *const csum_name = "fletcher64x8-mix";

/* The header sum: message seq carrying a payload whose checksum is psum. */
static inline uint64_t msg_sum(uint64_t seq, uint64_t psum)
{
	return mix64(seq ^ mix64(psum + 0x9e3779b97f4a7c15ull));
}

/* Fills a payload with pseudo-random words from seed. */
static void payload_fill(unsigned char *p, size_t len, uint64_t seed)
{
	uint64_t x = mix64(seed + 1);
	size_t i = 0;
	for (; i + 8 <= len; i += 8) {
		uint64_t w = mix64(x += 0x9e3779b97f4a7c15ull);
		memcpy(p + i, &w, 8);
	}
	uint64_t w = mix64(x + 0x9e3779b97f4a7c15ull);
	memcpy(p + i, &w, len - i);
}

static int variants_make(struct variants *v, size_t size)
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
	const size_t hdr = sizeof(struct tput_hdr);
	for (unsigned k = 0; k < v->n; k++) {
		unsigned char *m = v->buf + (size_t)k * size;
		memset(m, 0, hdr);
		payload_fill(m + hdr, size - hdr, k);
		v->psum[k] = csum(m + hdr, size - hdr);
	}
	return 0;
}

static void variants_free(struct variants *v)
{
	free(v->buf);
	free(v->psum);
	v->buf = NULL;
	v->psum = NULL;
}

/* Makes message seq: picks its variant, writes the header. */
static unsigned char *msg_make(const struct variants *v, size_t size, uint64_t seq)
{
	unsigned k = (unsigned)(seq % v->n);
	unsigned char *m = v->buf + (size_t)k * size;
	struct tput_hdr h = { .seq = seq, .sum = msg_sum(seq, v->psum[k]) };
	memcpy(m, &h, sizeof(h));
	return m;
}

/* True when the message in buf (size bytes) is intact; its sequence number in *seq. */
static bool msg_check(const unsigned char *buf, size_t size, uint64_t *seq)
{
	struct tput_hdr h;
	memcpy(&h, buf, sizeof(h));
	*seq = h.seq;
	return msg_sum(h.seq, csum(buf + sizeof(h), size - sizeof(h))) == h.sum;
}

/* ns per message to verify one (the receiver's extra work), on this thread alone. */
static double verify_cost(const struct variants *v, size_t size)
{
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

/* ---- the two sides ---- */

/* Notes the first problem the receiver saw. */
static void note(struct verify *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(struct verify *v, const char *fmt, ...)
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
	struct tput_run *r = p->arg;
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
		if (r->inject != INJ_NONE) {
			if (r->inject == INJ_LOSE && i == r->inject_at)
				continue;
			if (r->inject == INJ_REORDER && (i == r->inject_at || i == r->inject_at + 1))
				seq = i == r->inject_at ? i + 1 : i - 1;
		}
		unsigned char *m = msg_make(&r->var, r->size, seq);
		bool corrupt = r->inject == INJ_CORRUPT && seq == r->inject_at;
		if (corrupt)
			m[r->size - 1] ^= 0x10; /* the last byte: payload, or the sum at 16 B */
		for (int copy = 0; copy < 1 + (r->inject == INJ_DUP && seq == r->inject_at); copy++) {
			lttng_ust_tracepoint(ipclab_msg, msg_send, t->name, r->chan, seq, (uint32_t)r->size);
			if (t->send(l, 0, m) < 0) {
				int e = errno;
				r->sent = sent;
				errno = e;
				if (errno == EPIPE)
					il_fail("send of message %" PRIu64 " (after %" PRIu64 " sent): the receiver went away",
						seq, sent);
				else
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

/* Classifies one arrival (see struct verify). */
static void classify(struct tput_run *r, struct verify *v, uint64_t *max_seq)
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
	struct tput_run *r = p->arg;
	struct il_link *l = &p->link;
	const struct il_transport *t = l->t;
	struct verify *v = &r->sh->v;
	uint64_t max_seq = 0;
	bool ended = false;
	memset(r->seen, 0, (size_t)((r->total + 7) / 8));
	if (r->warmup == 0)
		r->sh->t_start = il_now_ns();
	while (v->distinct < r->total) {
		if (t->recv(l, 1, r->rbuf) < 0) {
			if (errno != EPIPE) {
				il_pair_why(p, 1, "receive after %" PRIu64 " messages failed: %s (errno %d)", v->received,
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
				il_pair_why(p, 1, "receive at the end of the stream failed: %s (errno %d)", strerror(errno),
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

static int tput_body(struct il_pair *p, int side)
{
	return side == 0 ? sender(p) : receiver(p);
}

/* ---- the experiment ---- */

struct point_opts {
	uint64_t count, bytes;     /* 0: not given */
	enum inject inject;
};

/* Messages per repeat for size: --count, or --bytes / size, or the default. */
static uint64_t count_for(const struct point_opts *o, uint64_t size)
{
	if (o->count)
		return o->count;
	uint64_t n = ((o->bytes ? o->bytes : DEFAULT_BYTES) + size - 1) / size;
	if (!o->bytes) {
		n = n < DEFAULT_MIN_COUNT ? DEFAULT_MIN_COUNT : n;
		n = n > DEFAULT_MAX_COUNT ? DEFAULT_MAX_COUNT : n;
	}
	return n < 1 ? 1 : n > MAX_COUNT ? MAX_COUNT : n;
}

/* Runs every repeat of one size; appends the point to points. IL_OK or an exit code. */
static int run_point(struct il_ctx *x, const struct il_transport *t, uint64_t size, const struct point_opts *o,
		     uint32_t *run_no, json_t *points)
{
	const struct il_common *c = &x->c;
	uint64_t count = count_for(o, size);
	struct tput_run r = { .size = size, .warmup = c->warmup, .total = c->warmup + count, .inject = o->inject,
			      .inject_at = c->warmup + count / 2 };
	struct il_pair p = { .body = tput_body, .arg = &r, .task_name = "ipclab-tput" };
	double verify_ns = 0;
	r.sh = il_shared_alloc(sizeof(*r.sh));
	int vrc = variants_make(&r.var, size);
	r.rbuf = malloc(size);
	r.seen = malloc((size_t)((r.total + 7) / 8));
	double *mps = calloc(c->repeat, sizeof(double)), *bps = calloc(c->repeat, sizeof(double));
	json_t *reps = json_array();
	struct verify sum = { 0 };
	uint64_t sent = 0;
	int rc = IL_OK;
	if (!r.sh || vrc < 0 || !r.rbuf || !r.seen || !mps || !bps) {
		il_err("out of memory for %" PRIu64 "-byte messages", size);
		rc = IL_NORES;
		goto out;
	}
	verify_ns = verify_cost(&r.var, size);
	for (uint32_t rep = 0; rep < c->repeat; rep++) {
		memset(r.sh, 0, sizeof(*r.sh));
		r.sent = 0;
		r.rep = rep;
		r.nrep = (uint32_t)c->repeat;
		r.chan = *run_no << 1;
		r.inject = rep == 0 ? o->inject : INJ_NONE;
		rc = il_pair_run(&p, x, t, size, (*run_no)++, count, c->warmup);
		const struct verify *v = &r.sh->v;
		double secs = r.sh->t_end > r.sh->t_start ? (double)(r.sh->t_end - r.sh->t_start) / 1e9 : 0;
		mps[rep] = secs > 0 ? (double)count / secs : 0;
		bps[rep] = mps[rep] * (double)size;
		(void)json_array_append_new(reps, json_pack("{sI sI sf sf sf sI sI sI sI sI sI sI sI s[ii] s[ii]}",
			"repeat", (json_int_t)rep, "elapsed_ns", (json_int_t)(r.sh->t_end - r.sh->t_start),
			"msgs_per_s", mps[rep], "bytes_per_s", bps[rep], "mib_per_s", bps[rep] / (1 << 20),
			"sent", (json_int_t)r.sent, "received", (json_int_t)v->received,
			"verified", (json_int_t)v->verified, "lost", (json_int_t)v->lost,
			"duplicated", (json_int_t)v->duplicated, "reordered", (json_int_t)v->reordered,
			"corrupted", (json_int_t)v->corrupted, "after_end", (json_int_t)v->after_end,
			"cpu_sender", p.ps->cpu_start[0], p.ps->cpu_end[0],
			"cpu_receiver", p.ps->cpu_start[1], p.ps->cpu_end[1]));
		sent += r.sent;
		sum.received += v->received;
		sum.verified += v->verified;
		sum.lost += v->lost;
		sum.duplicated += v->duplicated;
		sum.reordered += v->reordered;
		sum.corrupted += v->corrupted;
		bool bad = r.sh->done && (v->lost || v->duplicated || v->reordered || v->corrupted || v->received != r.sent);
		if (bad)
			il_fail("%s, %" PRIu64 " B, repeat %u: %" PRIu64 " lost, %" PRIu64 " duplicated, %" PRIu64
				" reordered, %" PRIu64 " corrupted; received %" PRIu64 " of %" PRIu64 " sent, %" PRIu64
				" verified of %" PRIu64 ": %s", t->name, size, rep + 1, v->lost, v->duplicated, v->reordered,
				v->corrupted, v->received, r.sent, v->verified, r.total,
				v->first[0] ? v->first : "the receiver counted a different number of messages");
		if (bad || rc != IL_OK) {
			rc = rc != IL_OK ? rc : IL_FAIL;
			break;
		}
	}
	size_t nrep = json_array_size(reps);
	double rsd = il_rel_stddev(mps, nrep);
	double med_m = il_median_dbl(mps, nrep), med_b = il_median_dbl(bps, nrep);
	json_t *pt = json_pack("{sI sI sI sI so sf sf sf sf s{sI sI sI sI sI sI sI} s{ss sf}}", "size",
		(json_int_t)size, "count", (json_int_t)count, "warmup", (json_int_t)c->warmup,
		"repeats_done", (json_int_t)nrep, "repeats", reps, "msgs_per_s", med_m, "bytes_per_s", med_b,
		"mib_per_s", med_b / (1 << 20), "rel_stddev", rsd,
		"verification", "sent", (json_int_t)sent, "received", (json_int_t)sum.received,
		"verified", (json_int_t)sum.verified, "lost", (json_int_t)sum.lost,
		"duplicated", (json_int_t)sum.duplicated, "reordered", (json_int_t)sum.reordered,
		"corrupted", (json_int_t)sum.corrupted,
		"checksum", "name", csum_name, "verify_ns_per_msg", verify_ns);
	reps = NULL;
	(void)json_array_append_new(points, pt);
	if (!c->json || c->json_file)
		printf("%10" PRIu64 " %10" PRIu64 " %14.0f %12.1f %7.1f %10" PRIu64 "/%-10" PRIu64 " %7" PRIu64 " %9.0f\n",
		       size, count, med_m, med_b / (1 << 20), 100 * rsd, sum.verified, sent,
		       sum.lost + sum.duplicated + sum.reordered + sum.corrupted, verify_ns);
out:
	json_decref(reps);
	il_pair_fini(&p);
	il_shared_free(r.sh, sizeof(*r.sh));
	variants_free(&r.var);
	free(r.rbuf);
	free(r.seen);
	free(mps);
	free(bps);
	return rc;
}

static int throughput_run(int argc, char **argv)
{
	static const char *const *choices;
	choices = il_transport_choices;
	int tidx = 0, inj = INJ_NONE;
	uint64_t size = 64, count = 0, bytes = 0;
	bool sweep = false;
	const struct il_opt opts[] = {
		{ "transport", IL_OPT_CHOICE, "T", "transport to measure (see 'ipclab ipc transports')", 0, 0, choices, &tidx },
		{ "size", IL_OPT_SIZE, "BYTES", "message size, header (16 B) included [default 64]", MIN_SIZE, MAX_SIZE, NULL, &size },
		{ "count", IL_OPT_U64, "N", "measured messages per repeat [default: 256 MiB worth, 1000..200000]", 1, MAX_COUNT, NULL, &count },
		{ "bytes", IL_OPT_SIZE, "B", "measured bytes per repeat instead of --count (rounded up to messages)", 1, 1ull << 40, NULL, &bytes },
		{ "sweep", IL_OPT_FLAG, NULL, "every size 16 B, 64 B, ... 1 MiB (powers of 4) instead of one --size", 0, 0, NULL, &sweep },
		{ "inject", IL_OPT_CHOICE, "FAULT", "self-test of the verification: the sender loses, duplicates, swaps or corrupts the middle message of the first repeat (the run must fail)", 0, 0, inject_names, &inj },
		{ 0 },
	};
	struct il_ctx x;
	il_ctx_begin(&x, argv[0], argc, argv);
	x.c.warmup = 100;
	int prc = il_ctx_parse(&x, "One-way streaming over one transport between two processes or threads: side 0\n"
			       "sends, side 1 receives and verifies every message (sequence number and checksum:\n"
			       "lost, duplicated, reordered or corrupted messages fail the run). Messages/s and MiB/s\n"
			       "per repeat, their median and relative stddev. Warm-up is counted in messages.",
			       COMMON, opts);
	if (prc != IL_RUN)
		return prc;
	const struct il_common *c = &x.c;
	bool size_given = il_ctx_given(&x, "size");
	if (count && bytes) {
		return il_ctx_usage(&x, "--count and --bytes exclude each other");
	}
	if (sweep && size_given) {
		return il_ctx_usage(&x, "--sweep runs every size: leave out --size");
	}
	if (inj == INJ_REORDER && count == 1) {
		return il_ctx_usage(&x, "--inject=reorder needs --count of at least 2");
	}
	const struct il_transport *t = il_transport_find(choices[tidx]);
	if (sweep)
		il_jset(x.params, "sweep", json_true());
	else
		il_jset(x.params, "size", json_integer((json_int_t)size));
	il_jset(x.params, "count", count ? json_integer((json_int_t)count) : json_null());
	il_jset(x.params, "bytes", bytes ? json_integer((json_int_t)bytes) : json_null());
	il_jset(x.params, "inject", json_string(inject_names[inj]));
	int rc = il_bench_check_transport(&x, t);
	if (rc != IL_RUN)
		return il_ctx_finish(&x, rc);
	rc = IL_OK;
	if (!sweep && (rc = il_bench_check_size(t, size)) != IL_OK)
		return il_ctx_finish(&x, rc);

	il_guard_install((unsigned)c->timeout_s);
	if (!c->json || c->json_file) {
		const char *pl = il_placement_text(c);
		printf("ipc throughput: %s, %s mode, %s", t->name, c->mode == IL_MODE_THREAD ? "thread" : "process", pl);
		if (c->cpu[0] >= 0)
			printf(" (%d,%d)", c->cpu[0], c->cpu[1]);
		printf(", %" PRIu64 " warm-up messages, %" PRIu64 " repeat(s)%s\n", c->warmup, c->repeat,
		       il_trace_loaded() ? ", traced" : "");
		printf("%10s %10s %14s %12s %7s %21s %7s %9s\n", "size B", "messages", "msgs/s", "MiB/s", "rsd %",
		       "verified/sent", "errors", "verify ns");
		(void)fflush(stdout);
	}
	struct point_opts o = { .count = count, .bytes = bytes, .inject = (enum inject)inj };
	json_t *points = json_array(), *skipped = json_array();
	uint32_t run_no = 0;
	if (!sweep) {
		rc = run_point(&x, t, size, &o, &run_no, points);
	} else {
		for (uint64_t s = MIN_SIZE; s <= MAX_SIZE && rc == IL_OK; s *= 4) {
			if (il_bench_check_size(t, s) != IL_OK) {
				(void)json_array_append_new(skipped, json_integer((json_int_t)s));
				continue;
			}
			size_t before = json_array_size(points);
			rc = run_point(&x, t, s, &o, &run_no, points);
			o.inject = INJ_NONE; /* the fault goes into the first point only */
			if (rc == IL_NORES || rc == IL_UNSUP) {
				/* A size the kernel's limits refuse (the message said which sysctl):
				 * a skipped size in a sweep, not a zero point nor the end of it. */
				while (json_array_size(points) > before)
					(void)json_array_remove(points, json_array_size(points) - 1);
				(void)json_array_append_new(skipped, json_integer((json_int_t)s));
				il_ctx_warn(&x, "size %" PRIu64 " skipped: over a limit of %s (see the message above)", s, t->name);
				rc = IL_OK;
			}
		}
	}
	il_guard_disarm();
	il_jset(x.results, "points", points);
	il_jset(x.results, "skipped_sizes", skipped);
	il_jset(x.results, "traced", json_boolean(il_trace_loaded()));
	return il_ctx_finish(&x, rc);
}

const struct il_experiment il_exp_ipc_throughput = {
	.group = "ipc",
	.name = "throughput",
	.summary = "one-way streaming messages/s and MiB/s over a transport, every message verified",
	.run = throughput_run,
};
