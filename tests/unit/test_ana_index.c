/* test_ana_index.c - unit tests for src/analyze/lttng_index.c: a data stream file and its
 * LTTng index (index/<file>.idx, big endian) built here packet by packet: in agreement;
 * cut at a packet boundary (incomplete, the packets that are there kept); a flipped
 * field in a packet header (damaged); sequence numbers that do not increase; no index;
 * an index that is not one. */
#include "test_ana.h"

#include "analyze/lttng_index.h"

#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#define PKT 4096u /* bytes per packet */

static char dir[64], data[128], idx[160];

static void put_be64(unsigned char *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (unsigned char)v;
}

static void put_le64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++, v >>= 8)
		p[i] = (unsigned char)v;
}

/* Writes n packets (times 1000*k .. 1000*k+900, seq[k]) and their index (v1.1). */
static void make_trace(int n, const uint64_t *seq)
{
	FILE *d = fopen(data, "w"), *x = fopen(idx, "w");
	assert_non_null(d);
	assert_non_null(x);
	unsigned char h[16] = { 0xc1, 0xf1, 0xdc, 0xc1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 72 };
	assert_int_equal(fwrite(h, 1, 16, x), 16);
	for (int k = 0; k < n; k++) {
		unsigned char p[PKT] = { 0xc1, 0x1f, 0xfc, 0xc1 }, e[72] = { 0 };
		/* timestamp_begin, timestamp_end, content_size, packet_size, packet_seq_num: in
		 * the packet context (from byte 32) and in the index entry (at these offsets) */
		const uint64_t v[5] = { 1000u * k, 1000u * k + 900, 8 * 1000, 8 * PKT, seq[k] };
		static const int at_idx[5] = { 24, 32, 16, 8, 64 };
		for (int i = 0; i < 5; i++) {
			put_le64(p + 32 + 8 * i, v[i]);
			put_be64(e + at_idx[i], v[i]);
		}
		put_be64(e, (uint64_t)k * PKT);
		assert_int_equal(fwrite(p, 1, PKT, d), PKT);
		assert_int_equal(fwrite(e, 1, 72, x), 72);
	}
	assert_int_equal(fclose(d), 0);
	assert_int_equal(fclose(x), 0);
}

static int setup(void **state)
{
	(void)snprintf(dir, sizeof(dir), "/tmp/test_ana_index.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	(void)snprintf(data, sizeof(data), "%s/chan_0", dir);
	(void)snprintf(idx, sizeof(idx), "%s/index", dir);
	if (mkdir(idx, 0700) < 0)
		return -1;
	(void)snprintf(idx, sizeof(idx), "%s/index/chan_0.idx", dir);
	return 0;
}

static int teardown(void **state)
{
	char p[160];
	(void)unlink(data);
	(void)unlink(idx);
	(void)snprintf(p, sizeof(p), "%s/index", dir);
	(void)rmdir(p);
	return rmdir(dir);
}

/* Runs the check: its verdict must be want (the reason in why). */
static void expect(int want, struct lttng_index *x, char *why, size_t len)
{
	why[0] = 0;
	int rc = lttng_index_check(data, x, why, len);
	if (rc != want)
		fail_msg("verdict %d, want %d: %s", rc, want, why);
}

static const uint64_t seq3[] = { 0, 1, 2 };

/* index_agrees_with_packets */
static void index_agrees_with_packets(void **state)
{
	struct lttng_index x;
	char why[300];
	make_trace(3, seq3);
	expect(LTTNG_INDEX_OK, &x, why, sizeof(why));
	assert_int_equal(x.n, 3);
	assert_true(x.has_seq);
	assert_int_equal(x.e[2].ts_begin, 2000);
	free(x.e);
}

/* index_file_cut_is_incomplete: the last packet cut off */
static void index_file_cut_is_incomplete(void **state)
{
	struct lttng_index x;
	char why[300];
	make_trace(3, seq3);
	assert_int_equal(truncate(data, 2 * PKT), 0);
	expect(LTTNG_INDEX_INCOMPLETE, &x, why, sizeof(why));
	assert_int_equal(x.n, 2);
	assert_non_null(strstr(why, "cut inside packet 2 of the 3"));
	free(x.e);
}

/* index_flipped_header_is_damaged: timestamp_end of packet 1 differs from its entry */
static void index_flipped_header_is_damaged(void **state)
{
	struct lttng_index x;
	char why[300];
	make_trace(3, seq3);
	FILE *f = fopen(data, "r+");
	assert_non_null(f);
	assert_int_equal(fseek(f, PKT + 40 + 5, SEEK_SET), 0);
	assert_int_equal(fputc(0x80, f), 0x80);
	assert_int_equal(fclose(f), 0);
	expect(LTTNG_INDEX_DAMAGED, &x, why, sizeof(why));
	assert_non_null(strstr(why, "packet 1: timestamp_end"));
	free(x.e);
}

/* index_sequence_must_increase */
static void index_sequence_must_increase(void **state)
{
	static const uint64_t seq[] = { 4, 4 };
	struct lttng_index x;
	char why[300];
	make_trace(2, seq);
	expect(LTTNG_INDEX_DAMAGED, &x, why, sizeof(why));
	assert_non_null(strstr(why, "sequence number 4 after 4"));
	free(x.e);
}

/* index_absent_or_not_an_index: nothing to check, or incomplete saying why */
static void index_absent_or_not_an_index(void **state)
{
	struct lttng_index x;
	char why[300];
	make_trace(1, seq3);
	assert_int_equal(unlink(idx), 0);
	expect(LTTNG_INDEX_OK, &x, why, sizeof(why));
	assert_null(x.e);
	FILE *f = fopen(idx, "w");
	assert_non_null(f);
	assert_int_equal(fputs("not an index at all", f), 1);
	assert_int_equal(fclose(f), 0);
	expect(LTTNG_INDEX_INCOMPLETE, &x, why, sizeof(why));
	assert_non_null(strstr(why, "not a CTF index"));
	assert_null(x.e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(index_agrees_with_packets),
		cmocka_unit_test(index_file_cut_is_incomplete),
		cmocka_unit_test(index_flipped_header_is_damaged),
		cmocka_unit_test(index_sequence_must_increase),
		cmocka_unit_test(index_absent_or_not_an_index),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
