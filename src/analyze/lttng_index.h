/* lttng_index.h - a data stream file checked against its LTTng index (index/<file>.idx
 * beside it, CTF index format 1.x: a big-endian header {magic 0xC1F1DCC1, major, minor,
 * entry size} then one entry per packet {offset, packet_size, content_size,
 * timestamp_begin, timestamp_end, events_discarded, stream_id[, stream_instance_id,
 * packet_seq_num]}, sizes in bits). Each entry is compared with the packet header in the
 * file, which source.ctf.fs does not pass on (its packet context keeps only cpu_id): an
 * LTTng packet starts with the trace packet header {magic 0xC1FC1FC1, uuid[16],
 * stream_id, stream_instance_id} and the packet context {timestamp_begin, timestamp_end,
 * content_size, packet_size, packet_seq_num, ...}, 64-bit at fixed offsets, in the
 * trace's byte order. No babeltrace2 here. */
#ifndef IPCLAB_LTTNG_INDEX_H
#define IPCLAB_LTTNG_INDEX_H

#include <stddef.h>
#include <stdint.h>

struct lttng_index_entry {
	uint64_t offset, packet_bits, content_bits, ts_begin, ts_end, seq;
};

struct lttng_index {
	struct lttng_index_entry *e; /* NULL: the file has no index */
	size_t n;
	int has_seq; /* format 1.1: sequence numbers */
};

enum { LTTNG_INDEX_OK = 0, LTTNG_INDEX_INCOMPLETE = 1, LTTNG_INDEX_DAMAGED = -1 };

/* Reads the index of data stream file path and checks every packet against it:
 * OK; INCOMPLETE (why: the file ends inside a listed packet, or the index or file cannot
 * be read; idx keeps the packets that are there); DAMAGED (why: a packet differs from its
 * entry, entries overlap, sequence numbers do not increase). Free idx->e after. */
int lttng_index_check(const char *path, struct lttng_index *idx, char *why, size_t len);

#endif
