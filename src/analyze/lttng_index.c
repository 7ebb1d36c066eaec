/* lttng_index.c - a data stream file checked against its LTTng index (lttng_index.h). */
#include "lttng_index.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define IDX_MAGIC 0xC1F1DCC1u
#define CTF_MAGIC 0xC1FC1FC1u
#define IDX_HDR 16u
#define IDX_ENTRY_V10 56u /* seven 64-bit fields; 1.1 adds two */
#define IDX_ENTRY_V11 72u
#define PKT_CTX 32u       /* the packet context's offset in an LTTng packet */

static uint64_t be64(const unsigned char *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static uint64_t le64(const unsigned char *p)
{
	uint64_t v = 0;
	for (int i = 8; i-- > 0;)
		v = v << 8 | p[i];
	return v;
}

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Reads the index of data file path into idx (e NULL when there is none); -1 when it
 * exists but is not a CTF index (why). */
static int idx_read(const char *path, struct lttng_index *idx, char *why, size_t len)
{
	const char *slash = strrchr(path, '/');
	char ipath[4096];
	(void)snprintf(ipath, sizeof(ipath), "%.*s/index/%s.idx", (int)(slash - path), path, slash + 1);
	FILE *f = fopen(ipath, "rbe");
	if (!f)
		return 0;
	unsigned char h[IDX_HDR], e[IDX_ENTRY_V11];
	uint32_t esize = 0;
	if (fread(h, 1, IDX_HDR, f) != IDX_HDR || be32(h) != IDX_MAGIC || be32(h + 4) != 1 ||
	    (esize = be32(h + 12)) < IDX_ENTRY_V10) {
		(void)snprintf(why, len, "its index is not a CTF index: not checked");
		goto fail;
	}
	const size_t want = esize < IDX_ENTRY_V11 ? esize : IDX_ENTRY_V11;
	idx->has_seq = esize >= IDX_ENTRY_V11;
	for (;;) {
		size_t got = fread(e, 1, want, f);
		if (got == 0 && feof(f))
			break;
		if (got != want || (esize > want && fseek(f, (long)(esize - want), SEEK_CUR) != 0)) {
			(void)snprintf(why, len, "its index ends inside entry %zu: not checked", idx->n);
			goto fail;
		}
		struct lttng_index_entry *ne = realloc(idx->e, (idx->n + 1) * sizeof(*ne));
		if (!ne) {
			(void)snprintf(why, len, "out of memory reading its index: not checked");
			goto fail;
		}
		idx->e = ne;
		ne[idx->n] = (struct lttng_index_entry){ be64(e), be64(e + 8), be64(e + 16), be64(e + 24), be64(e + 32),
							 idx->has_seq ? be64(e + 64) : idx->n };
		idx->n++;
	}
	(void)fclose(f);
	return 0;
fail:
	(void)fclose(f);
	free(idx->e);
	memset(idx, 0, sizeof(*idx));
	return -1;
}

/* Compares entry k of the index with the packet header at its offset in fd. 0 same, 1
 * the file ends before the packet does, -1 they differ (why says how). */
static int entry_check(int fd, off_t size, const struct lttng_index_entry *x, size_t k, int has_seq, char *why,
		       size_t len)
{
	unsigned char p[PKT_CTX + 40];
	if (x->packet_bits % 8 || x->content_bits > x->packet_bits || x->packet_bits < 8 * sizeof(p)) {
		(void)snprintf(why, len, "index entry %zu: impossible sizes (%" PRIu64 " of %" PRIu64 " bits)", k,
			       x->content_bits, x->packet_bits);
		return -1;
	}
	if ((uint64_t)size < x->offset + x->packet_bits / 8)
		return 1;
	if (pread(fd, p, sizeof(p), (off_t)x->offset) != (ssize_t)sizeof(p)) {
		(void)snprintf(why, len, "packet %zu: unreadable: %s", k, strerror(errno));
		return -1;
	}
	uint64_t (*get)(const unsigned char *) = le64;
	if (be32(p) == CTF_MAGIC)
		get = be64;
	else if (((uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0]) != CTF_MAGIC) {
		(void)snprintf(why, len, "packet %zu at byte %" PRIu64 ": no CTF magic number", k, x->offset);
		return -1;
	}
	const unsigned char *c = p + PKT_CTX;
	const uint64_t got[5] = { get(c), get(c + 8), get(c + 16), get(c + 24), get(c + 32) };
	const uint64_t want[5] = { x->ts_begin, x->ts_end, x->content_bits, x->packet_bits, x->seq };
	static const char *const what[5] = { "timestamp_begin", "timestamp_end", "content_size", "packet_size",
					      "packet_seq_num" };
	for (int i = 0; i < 4 + has_seq; i++) {
		if (got[i] != want[i]) {
			(void)snprintf(why, len, "packet %zu: %s %" PRIu64 " in the file, %" PRIu64 " in the index", k,
				       what[i], got[i], want[i]);
			return -1;
		}
	}
	return 0;
}


/* Checks entries in order against the file fd of size bytes: as lttng_index_check. */
static int check_entries(int fd, off_t size, struct lttng_index *idx, char *why, size_t len)
{
	for (size_t k = 0; k < idx->n; k++) {
		const struct lttng_index_entry *x = &idx->e[k], *prev = k ? x - 1 : NULL;
		if (x->offset != (prev ? prev->offset + prev->packet_bits / 8 : 0)) {
			(void)snprintf(why, len, "index entry %zu: packet at byte %" PRIu64 ", not after the previous one", k,
				       x->offset);
			return LTTNG_INDEX_DAMAGED;
		}
		if (prev && x->seq <= prev->seq) {
			(void)snprintf(why, len, "packet %zu: sequence number %" PRIu64 " after %" PRIu64, k, x->seq, prev->seq);
			return LTTNG_INDEX_DAMAGED;
		}
		int rc = entry_check(fd, size, x, k, idx->has_seq, why, len);
		if (rc == 1) {
			(void)snprintf(why, len, "%lld bytes: cut inside packet %zu of the %zu its index lists (%" PRIu64 " bytes)",
				       (long long)size, k, idx->n, idx->e[idx->n - 1].offset + idx->e[idx->n - 1].packet_bits / 8);
			idx->n = k; /* the packets that are there */
			return LTTNG_INDEX_INCOMPLETE;
		}
		if (rc < 0)
			return LTTNG_INDEX_DAMAGED;
	}
	return LTTNG_INDEX_OK;
}

int lttng_index_check(const char *path, struct lttng_index *idx, char *why, size_t len)
{
	memset(idx, 0, sizeof(*idx));
	if (idx_read(path, idx, why, len) < 0)
		return LTTNG_INDEX_INCOMPLETE;
	if (!idx->e)
		return LTTNG_INDEX_OK;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat sb;
	if (fd < 0 || fstat(fd, &sb) < 0) {
		(void)snprintf(why, len, "unreadable: %s", strerror(errno));
		if (fd >= 0)
			(void)close(fd);
		return LTTNG_INDEX_INCOMPLETE;
	}
	int rc = check_entries(fd, sb.st_size, idx, why, len);
	(void)close(fd);
	return rc;
}
