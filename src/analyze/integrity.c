/* integrity.c - damaged and incomplete traces (see integrity.h); the LTTng index is read
 * and checked by lttng_index.c. */
#include "integrity.h"
#include "lttng_index.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CACHE 64u

/* One stream's history. */
struct sst {
	const bt_stream *s; /* referenced */
	char *path;         /* its data stream file (source.ctf.fs names streams so), or NULL */
	int clocked, pb_clock, pe_clock;
	uint64_t last;      /* its latest clock value */
	int have_last;
	struct lttng_index_entry *idx; /* its index, checked against the file; NULL if none */
	size_t nidx, next;  /* next: the first entry no packet matched yet */
	int in_packet;
	uint64_t packet_begin, packet_end; /* the current packet's entry's times */
};

/* A stream file not read whole. */
struct report {
	char *path, *reason;
};

struct integ {
	struct sst *st;
	size_t n, cap;
	struct sst *cache[CACHE];
	struct report *rep;
	size_t nrep, rep_cap;
};

/* Notes that path was not read whole (reason: printf-style). */
__attribute__((format(printf, 3, 4))) static void report(struct integ *g, const char *path, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	(void)vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (g->nrep == g->rep_cap) {
		size_t nc = g->rep_cap ? g->rep_cap * 2 : 8;
		struct report *r = realloc(g->rep, nc * sizeof(*r));
		if (!r)
			return;
		g->rep = r;
		g->rep_cap = nc;
	}
	struct report *r = &g->rep[g->nrep];
	r->path = strdup(path);
	r->reason = strdup(buf);
	if (r->path && r->reason)
		g->nrep++;
	else {
		free(r->path);
		free(r->reason);
	}
}

struct integ *integ_new(void)
{
	return calloc(1, sizeof(struct integ));
}

void integ_free(struct integ *g)
{
	if (!g)
		return;
	for (size_t i = 0; i < g->n; i++) {
		bt_stream_put_ref(g->st[i].s);
		free(g->st[i].path);
		free(g->st[i].idx);
	}
	free(g->st);
	for (size_t i = 0; i < g->nrep; i++) {
		free(g->rep[i].path);
		free(g->rep[i].reason);
	}
	free(g->rep);
	free(g);
}

/* ---------------------------------------------------------------- the index */

/* Checks st's file against its index: -1 damaged (why), 0 otherwise (a file cut short,
 * or an unreadable index, is reported as incomplete). */
static int idx_check(struct integ *g, struct sst *st, char *why, size_t len)
{
	char r[300];
	struct lttng_index x;
	int rc = lttng_index_check(st->path, &x, r, sizeof(r));
	st->idx = x.e;
	st->nidx = x.n;
	if (rc == LTTNG_INDEX_INCOMPLETE)
		report(g, st->path, "%s", r);
	if (rc != LTTNG_INDEX_DAMAGED)
		return 0;
	(void)snprintf(why, len, "stream file %s: %s", st->path, r);
	return -1;
}

/* ---------------------------------------------------------------- streams */

/* The state of stream s, created at its first message; NULL when out of memory. */
static struct sst *sst_get(struct integ *g, const bt_stream *s)
{
	unsigned h = (unsigned)(((uintptr_t)s >> 4) ^ ((uintptr_t)s >> 12)) & (CACHE - 1);
	if (g->cache[h] && g->cache[h]->s == s)
		return g->cache[h];
	for (size_t i = 0; i < g->n; i++)
		if (g->st[i].s == s)
			return g->cache[h] = &g->st[i];
	if (g->n == g->cap) {
		size_t nc = g->cap ? g->cap * 2 : 16;
		struct sst *n = realloc(g->st, nc * sizeof(*n));
		if (!n)
			return NULL;
		g->st = n;
		g->cap = nc;
		memset(g->cache, 0, sizeof(g->cache)); /* pointers into the moved array */
	}
	struct sst *st = &g->st[g->n++];
	memset(st, 0, sizeof(*st));
	st->s = s;
	bt_stream_get_ref(s);
	const bt_stream_class *sc = bt_stream_borrow_class_const(s);
	st->clocked = bt_stream_class_borrow_default_clock_class_const(sc) != NULL;
	st->pb_clock = st->clocked && bt_stream_class_packets_have_beginning_default_clock_snapshot(sc);
	st->pe_clock = st->clocked && bt_stream_class_packets_have_end_default_clock_snapshot(sc);
	const char *name = bt_stream_get_name(s);
	struct stat sb;
	if (name && name[0] == '/' && stat(name, &sb) == 0 && S_ISREG(sb.st_mode))
		st->path = strdup(name);
	return g->cache[h] = st;
}

/* Time must not go backwards within a stream (what filter.utils.muxer refuses). */
static int monotonic(struct sst *st, const bt_clock_snapshot *cs, const char *what, char *why, size_t len)
{
	uint64_t v = bt_clock_snapshot_get_value(cs);
	if (st->have_last && v < st->last) {
		(void)snprintf(why, len, "stream %s: time goes backwards at a %s (clock value %" PRIu64 " after %" PRIu64 ")",
			       st->path ? st->path : "(unnamed)", what, v, st->last);
		return -1;
	}
	st->last = v;
	st->have_last = 1;
	return 0;
}

/* A packet beginning at clock value v must be the next packet of the index (a trimmer in
 * front skips packets, and moves the time of those it cuts into the range). */
static int packet_begins(struct integ *g, struct sst *st, uint64_t v, char *why, size_t len)
{
	while (st->next < st->nidx && st->idx[st->next].ts_end < v)
		st->next++;
	if (st->next == st->nidx) { /* more packets than its index lists: the rest is unchecked */
		report(g, st->path, "more packets than its index lists: those were not checked");
		free(st->idx);
		st->idx = NULL;
		return 0;
	}
	const struct lttng_index_entry *x = &st->idx[st->next++];
	if (v < x->ts_begin) {
		(void)snprintf(why, len, "stream file %s: a packet beginning at clock value %" PRIu64 " is not in its index",
			       st->path, v);
		return -1;
	}
	st->packet_begin = x->ts_begin;
	st->packet_end = x->ts_end;
	st->in_packet = 1;
	return 0;
}

int integ_check(struct integ *g, const bt_message *m, char *why, size_t len)
{
	const bt_message_type t = bt_message_get_type(m);
	const bt_stream *s;
	switch (t) {
	case BT_MESSAGE_TYPE_EVENT: {
		const bt_event *ev = bt_message_event_borrow_event_const(m);
		struct sst *st = sst_get(g, bt_event_borrow_stream_const(ev));
		if (!st || !st->clocked)
			return 0;
		return monotonic(st, bt_message_event_borrow_default_clock_snapshot_const(m), "event", why, len);
	}
	case BT_MESSAGE_TYPE_STREAM_BEGINNING: {
		struct sst *st = sst_get(g, bt_message_stream_beginning_borrow_stream_const(m));
		return st && st->path ? idx_check(g, st, why, len) : 0;
	}
	case BT_MESSAGE_TYPE_PACKET_BEGINNING: {
		s = bt_packet_borrow_stream_const(bt_message_packet_beginning_borrow_packet_const(m));
		struct sst *st = sst_get(g, s);
		if (!st || !st->pb_clock)
			return 0;
		const bt_clock_snapshot *cs = bt_message_packet_beginning_borrow_default_clock_snapshot_const(m);
		if (monotonic(st, cs, "packet beginning", why, len) < 0)
			return -1;
		return st->idx ? packet_begins(g, st, bt_clock_snapshot_get_value(cs), why, len) : 0;
	}
	case BT_MESSAGE_TYPE_PACKET_END: {
		s = bt_packet_borrow_stream_const(bt_message_packet_end_borrow_packet_const(m));
		struct sst *st = sst_get(g, s);
		if (!st || !st->pe_clock)
			return 0;
		const bt_clock_snapshot *cs = bt_message_packet_end_borrow_default_clock_snapshot_const(m);
		if (monotonic(st, cs, "packet end", why, len) < 0)
			return -1;
		const uint64_t v = bt_clock_snapshot_get_value(cs);
		if (st->in_packet && (v > st->packet_end || v < st->packet_begin)) {
			(void)snprintf(why, len, "stream file %s: a packet ends at clock value %" PRIu64 ", its index says %" PRIu64,
				       st->path, v, st->packet_end);
			return -1;
		}
		st->in_packet = 0;
		return 0;
	}
	default:
		return 0;
	}
}

/* ---------------------------------------------------------------- the folders */

static int seen(const struct integ *g, const char *path)
{
	for (size_t i = 0; i < g->n; i++)
		if (g->st[i].path && strcmp(g->st[i].path, path) == 0)
			return 1;
	return 0;
}

/* Reports the files of folder dir (len bytes of a stream path) no stream came from. */
static void scan_folder(struct integ *g, const char *path, size_t dlen)
{
	char dir[4096], f[4096];
	(void)snprintf(dir, sizeof(dir), "%.*s", (int)dlen, path);
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		struct stat sb;
		if (e->d_name[0] == '.' || strcmp(e->d_name, "metadata") == 0)
			continue;
		int n = snprintf(f, sizeof(f), "%s/%s", dir, e->d_name);
		if (n < 0 || (size_t)n >= sizeof(f) || stat(f, &sb) < 0 || !S_ISREG(sb.st_mode) || seen(g, f))
			continue;
		if (sb.st_size == 0)
			report(g, f, "empty stream file: no packet in it was read");
		else
			report(g, f, "no stream was read from this file (%lld bytes)", (long long)sb.st_size);
	}
	(void)closedir(d);
}

/* The length of path's folder part. */
static size_t dir_len(const char *path)
{
	return (size_t)(strrchr(path, '/') - path);
}

void integ_incomplete(struct integ *g, void (*fn)(void *arg, const char *path, const char *reason), void *arg)
{
	for (size_t i = 0; i < g->n; i++) {
		const char *p = g->st[i].path;
		if (!p)
			continue;
		size_t dlen = dir_len(p);
		size_t j = 0; /* each folder once: the first stream of it */
		while (j < i && !(g->st[j].path && dir_len(g->st[j].path) == dlen && strncmp(g->st[j].path, p, dlen) == 0))
			j++;
		if (j == i)
			scan_folder(g, p, dlen);
	}
	if (g->n == 0) /* all stream files empty (source.ctf.fs skips them) or none */
		fn(arg, "*", "no stream was read: the trace's stream files are empty or missing");
	for (size_t i = 0; i < g->nrep; i++)
		fn(arg, g->rep[i].path, g->rep[i].reason);
}
