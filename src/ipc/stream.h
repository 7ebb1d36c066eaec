/* stream.h - the verified one-way stream "ipc throughput" measures: side 0 sends, side 1
 * receives and checks every message.
 *
 * Every message carries its sequence number and a checksum of (sequence number,
 * payload), and the payload differs from message to message. The receiver classifies
 * every arrival (in order, duplicated, reordered, corrupted, beyond the last sequence
 * number) and, after the sender has finished, checks that nothing more arrives and
 * counts what never came (lost). The sender's messages are made before timing starts
 * (rotating payload variants, only the header written per message); the receiver's
 * checksum over every byte is part of the measured work, and its cost alone is
 * measured (il_stream_verify_cost) so it can be read against the result.
 *
 * Timing is on the receiver's side: from the moment it is ready for the first measured
 * message (after the last warm-up message, or the start barrier without warm-up) until
 * the last message is verified.
 *
 * Events: one msg_send per send call and one msg_recv per message received, warm-up
 * included (without --inject: exactly 1 + 1 per message), on channel `chan`. */
#ifndef IPCLAB_IPC_STREAM_H
#define IPCLAB_IPC_STREAM_H

#include "pair.h"

#include <stdint.h>

#define IL_STREAM_HDR 16u /* the header: sequence number + checksum */

/* --inject: the sender's deliberate fault in the middle message, to prove the checks. */
enum il_inject { IL_INJ_NONE, IL_INJ_LOSE, IL_INJ_DUP, IL_INJ_REORDER, IL_INJ_CORRUPT };
extern const char *const il_inject_names[]; /* "none", "lose", ... NULL */

/* The receiver's findings. */
struct il_stream_verify {
	uint64_t received;    /* messages delivered by recv, duplicates included */
	uint64_t distinct;    /* distinct sequence numbers among them */
	uint64_t verified;    /* right checksum, first of its number, not behind a later one */
	uint64_t duplicated, reordered, corrupted, lost;
	uint64_t after_end;   /* messages that arrived once all were there (counted above too) */
	char first[200];      /* the first problem, in words */
};

/* What the receiver fills (shared memory: side 1 writes, side 0 reads after the join). */
struct il_stream_shared {
	uint64_t t_start, t_end;  /* receiver's CLOCK_MONOTONIC ns around the measured messages */
	int done;                 /* the receiver got to the end (was not killed) */
	struct il_stream_verify v;
};

/* The sender's ready-made messages. */
struct il_stream_variants {
	unsigned n;
	unsigned char *buf;   /* n messages of size bytes */
	uint64_t *psum;       /* payload checksum of each */
};

/* One repeat's stream (copied into a forked receiver). */
struct il_stream {
	size_t size;
	uint64_t total, warmup;   /* messages: warmup + measured */
	uint32_t chan;
	enum il_inject inject;
	uint64_t inject_at;
	struct il_stream_shared *sh;
	struct il_stream_variants var; /* sender's messages */
	unsigned char *rbuf;      /* receiver's buffer */
	uint8_t *seen;            /* receiver: one bit per sequence number */
	uint64_t sent;            /* sender: successful send calls */
	uint32_t rep, nrep;       /* for the progress line */
};

/* Allocates the buffers of a stream of size-byte messages, at most `total` of them:
 * 0, or -1 when out of memory (il_stream_free releases what was made). */
int il_stream_alloc(struct il_stream *s, size_t size, uint64_t total);
void il_stream_free(struct il_stream *s);
/* ns the receiver spends verifying one message, measured on this thread alone. */
double il_stream_verify_cost(const struct il_stream *s);
/* The il_pair body: p->arg is a struct il_stream. IL_OK, or IL_FAIL (the sender logs
 * its failure; the receiver's findings are in sh->v for side 0 to report). */
int il_stream_body(struct il_pair *p, int side);

#endif
