/* msg.c - message delivery latency: msg_send -> msg_recv paired by (transport, chan, seq),
 * per channel and per transport and direction, warm-up excluded as the experiment does,
 * and the experiment's own one-way latencies carried by msg_recv (timed.c). */
#include "ana_int.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CHANS 1024 /* each has a histogram (~18 KiB) */

struct chan {
	uint32_t tid, chan;
	uint64_t sends, recvs, matched, dup_sends, pending_sends, unmatched_recvs, negative;
	uint64_t warmup;
	int warmup_known;
	struct il_hist *lat;
};

struct dir_hists {
	struct il_hist *all;      /* merged from the channels' histograms at the end */
	struct il_hist *measured; /* warm-up excluded: filled per message */
	struct timed timed;
};

struct msgs {
	struct pairtab pairs;
	struct chan *chans;
	size_t nchans, chans_cap;
	uint32_t last_chan;      /* the channel of the previous message */
	uint32_t chan_cache[64]; /* direct-mapped (transport, chan) -> channel index + 1 */
	uint64_t chans_dropped;  /* messages of channels beyond MAX_CHANS: not analysed */
	struct dir_hists *dirs;  /* [tid * 2 + direction] */
	size_t ndirs;
	uint64_t summary_matched; /* at the previous summary line, for its rate */
	int64_t summary_t;
};

static int msg_init(struct ana *a)
{
	struct msgs *m = calloc(1, sizeof(*m));
	if (!m || pt_init(&m->pairs, 1024) < 0) {
		free(m);
		return -1;
	}
	m->last_chan = UINT32_MAX;
	a->msgs = m;
	return 0;
}

static void msg_fini(struct ana *a)
{
	struct msgs *m = a->msgs;
	if (!m)
		return;
	pt_free(&m->pairs);
	for (size_t i = 0; i < m->nchans; i++)
		free(m->chans[i].lat);
	free(m->chans);
	for (size_t i = 0; i < m->ndirs; i++) {
		free(m->dirs[i].all);
		free(m->dirs[i].measured);
		ana_timed_free(&m->dirs[i].timed);
	}
	free(m->dirs);
	free(m);
}

void ana_msg_warmup(struct ana *a, uint32_t variant, uint64_t repeat, uint64_t warmup)
{
	struct msgs *m = a->msgs;
	for (size_t i = 0; i < m->nchans; i++) {
		struct chan *c = &m->chans[i];
		if (c->tid == variant && (c->chan >> 1) == repeat) {
			c->warmup = warmup;
			c->warmup_known = 1;
		}
	}
}

/* The per-direction histograms of transport tid (created with its first channel); -1
 * when out of memory. */
static int dirs_for(struct ana *a, uint32_t tid, uint32_t chan)
{
	struct msgs *m = a->msgs;
	size_t need = ((size_t)tid + 1) * 2;
	if (need > m->ndirs) {
		struct dir_hists *d = realloc(m->dirs, need * sizeof(*d));
		if (!d)
			return -1;
		memset(d + m->ndirs, 0, (need - m->ndirs) * sizeof(*d));
		m->dirs = d;
		m->ndirs = need;
	}
	struct dir_hists *dh = &m->dirs[tid * 2 + (chan & 1)];
	if (!dh->all) {
		dh->all = ana_hist_new(a, LAT_HIST_MAX_NS);
		dh->measured = ana_hist_new(a, LAT_HIST_MAX_NS);
	}
	return 0;
}

/* A new channel (transport id, chan): NULL only when out of memory. */
static struct chan *chan_new(struct ana *a, uint32_t tid, uint32_t chan)
{
	struct msgs *m = a->msgs;
	if (ana_grow((void **)&m->chans, &m->chans_cap, m->nchans, sizeof(*m->chans)) < 0) {
		a->oom = 1;
		return NULL;
	}
	struct chan *c = &m->chans[m->nchans++];
	memset(c, 0, sizeof(*c));
	c->tid = tid;
	c->chan = chan;
	c->lat = ana_hist_new(a, LAT_HIST_MAX_NS);
	c->warmup_known = ana_run_warmup(a, tid, chan >> 1, &c->warmup); /* the latest run's */
	if (dirs_for(a, tid, chan) < 0) {
		a->oom = 1;
		return NULL;
	}
	return c;
}

/* The channel (transport id, chan), created on first sight; NULL when not analysed. */
static struct chan *chan_get(struct ana *a, uint32_t tid, uint32_t chan)
{
	struct msgs *m = a->msgs;
	/* ping-pong alternates two channels: a small direct-mapped cache avoids the hash */
	unsigned slot = (tid * 31u + chan) & 63u;
	uint32_t ci = m->chan_cache[slot];
	if (ci) {
		struct chan *c = &m->chans[ci - 1];
		if (c->tid == tid && c->chan == chan) {
			m->last_chan = ci - 1;
			return c;
		}
	}
	int fresh;
	int64_t i = ana_index(a, NS_CHAN, chan, tid, m->nchans < MAX_CHANS, (uint32_t)m->nchans, &fresh);
	if (i < 0) {
		m->chans_dropped++;
		return NULL;
	}
	if (fresh && !chan_new(a, tid, chan))
		return NULL;
	m->last_chan = (uint32_t)i;
	m->chan_cache[slot] = (uint32_t)i + 1;
	return &m->chans[i];
}

void ana_msg_send(struct ana *a, int64_t ts, const char *transport, uint32_t chan, uint64_t seq)
{
	struct msgs *m = a->msgs;
	uint32_t tid = ana_intern(a, transport);
	struct chan *c = chan_get(a, tid, chan);
	if (!c)
		return;
	c->sends++;
	struct pt_key k = pt_key_msg(tid, chan, seq);
	int fresh;
	struct pt_entry *e = pt_upsert(&m->pairs, &k, &fresh);
	if (!e) {
		a->oom = 1;
		return;
	}
	if (!fresh)
		c->dup_sends++; /* the earlier send of this key is never matched */
	e->t[0] = (uint64_t)ts;
	e->aux = m->last_chan;
}

void ana_msg_recv(struct ana *a, int64_t ts, const char *transport, uint32_t chan, uint64_t seq, uint64_t t_send,
		  uint64_t t_recv)
{
	struct msgs *m = a->msgs;
	uint32_t tid = ana_intern(a, transport);
	struct chan *c = chan_get(a, tid, chan);
	if (!c)
		return;
	c->recvs++;
	struct dir_hists *dh = &m->dirs[tid * 2 + (chan & 1)];
	const int timed = t_send && t_recv;
	if (timed) /* the experiment's own value, whether or not the send event was seen */
		ana_timed_add(a, &dh->timed, t_send, t_recv);
	struct pt_key k = pt_key_msg(tid, chan, seq);
	struct pt_entry *e = pt_find(&m->pairs, &k);
	if (!e) {
		c->unmatched_recvs++;
		return;
	}
	int64_t d = ts - (int64_t)e->t[0];
	pt_remove(&m->pairs, e);
	if (d < 0) { /* cannot happen on one monotonic clock; counted, not histogrammed */
		c->negative++;
		return;
	}
	c->matched++;
	ana_hist_add(c->lat, (uint64_t)d);
	if (!(c->warmup_known && seq < c->warmup))
		ana_hist_add(dh->measured, (uint64_t)d);
	if (timed)
		ana_timed_offset(a, &dh->timed, d, t_send, t_recv);
}

/* ---------------------------------------------------------------- output */

static void count_pending(const struct pt_entry *e, void *arg)
{
	struct msgs *m = arg;
	if (e->aux < m->nchans)
		m->chans[e->aux].pending_sends++;
}

static void tsv_channel(struct ana *a, FILE *tsv, const struct chan *c, uint64_t us)
{
	(void)fprintf(tsv, "%s\t%" PRIu32 "\t%" PRIu32 "\t%" PRIu32 "\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64
		      "\t%" PRIu64 "\t",
		      ana_str(a, c->tid), c->chan, c->chan >> 1, c->chan & 1, c->sends, c->recvs, c->matched, us,
		      c->unmatched_recvs);
	ana_tsv_summary(tsv, c->lat);
	(void)fputc('\n', tsv);
}

/* The channels array (tot: sends, recvs, matched, unmatched sends and receives,
 * duplicates, negative latencies over all channels). */
static json_t *channels_json(struct ana *a, FILE *tsv, uint64_t tot[7])
{
	struct msgs *m = a->msgs;
	json_t *chans = json_array();
	if (tsv) {
		(void)fprintf(tsv, "# message delivery latency per channel (msg_send -> msg_recv), ns\n"
			      "# transport\tchan\trepeat\tdirection\tsends\trecvs\tmatched\tunmatched_sends\t"
			      "unmatched_recvs\t");
		ana_tsv_summary_cols(tsv);
		(void)fputc('\n', tsv);
	}
	for (size_t i = 0; i < m->nchans; i++) {
		struct chan *c = &m->chans[i];
		uint64_t us = c->pending_sends + c->dup_sends;
		(void)json_array_append_new(
			chans, json_pack("{ss sI sI sI sI sI sI sI sI sI so so}", "transport", ana_str(a, c->tid),
					 "chan", (json_int_t)c->chan, "repeat", (json_int_t)(c->chan >> 1),
					 "direction", (json_int_t)(c->chan & 1), "sends", (json_int_t)c->sends,
					 "recvs", (json_int_t)c->recvs, "matched", (json_int_t)c->matched,
					 "unmatched_sends", (json_int_t)us, "unmatched_recvs",
					 (json_int_t)c->unmatched_recvs, "duplicate_sends", (json_int_t)c->dup_sends,
					 "warmup", c->warmup_known ? json_integer((json_int_t)c->warmup) : json_null(),
					 "latency", ana_jsum(c->lat)));
		tot[0] += c->sends, tot[1] += c->recvs, tot[2] += c->matched, tot[3] += us;
		tot[4] += c->unmatched_recvs, tot[5] += c->dup_sends, tot[6] += c->negative;
		if (tsv)
			tsv_channel(a, tsv, c, us);
	}
	return chans;
}

/* The gnuplot blocks of one transport and direction (all messages, then measured). */
static void hist_blocks(struct ana *a, FILE *hist, const struct dir_hists *dh, uint32_t tid, uint32_t dir)
{
	char name[300];
	(void)snprintf(name, sizeof(name), "%s direction %u (all messages)", ana_str(a, tid), dir);
	(void)il_hist_write_tsv(dh->all, name, hist);
	(void)fprintf(hist, "\n\n");
	(void)snprintf(name, sizeof(name), "%s direction %u (measured: warm-up excluded)", ana_str(a, tid), dir);
	(void)il_hist_write_tsv(dh->measured, name, hist);
	(void)fprintf(hist, "\n\n");
}

/* One transport and direction: its channels' counts and merged histogram. */
static json_t *direction_json(struct ana *a, struct dir_hists *dh, uint32_t tid, uint32_t dir)
{
	struct msgs *m = a->msgs;
	uint64_t n[5] = { 0 };
	for (size_t i = 0; i < m->nchans; i++) {
		struct chan *c = &m->chans[i];
		if (c->tid != tid || (c->chan & 1) != dir)
			continue;
		if (c->lat)
			il_hist_merge(dh->all, c->lat);
		n[0] += c->sends, n[1] += c->recvs, n[2] += c->matched;
		n[3] += c->pending_sends + c->dup_sends, n[4] += c->unmatched_recvs;
	}
	json_t *o = json_pack("{ss sI sI sI sI sI sI so so}", "transport", ana_str(a, tid), "direction",
			      (json_int_t)dir, "sends", (json_int_t)n[0], "recvs", (json_int_t)n[1], "matched",
			      (json_int_t)n[2], "unmatched_sends", (json_int_t)n[3], "unmatched_recvs",
			      (json_int_t)n[4], "latency", ana_jsum(dh->all), "latency_measured", ana_jsum(dh->measured));
	return ana_timed_json(a, o, &dh->timed);
}

static json_t *msg_render(struct ana *a, FILE *const tsv[2])
{
	struct msgs *m = a->msgs;
	pt_foreach(&m->pairs, count_pending, m);
	uint64_t tot[7] = { 0 };
	json_t *chans = channels_json(a, tsv[0], tot), *dirs = json_array();
	for (size_t d = 0; d < m->ndirs; d++) {
		struct dir_hists *dh = &m->dirs[d];
		if (!dh->all)
			continue;
		(void)json_array_append_new(dirs, direction_json(a, dh, (uint32_t)(d / 2), (uint32_t)(d % 2)));
		if (tsv[1])
			hist_blocks(a, tsv[1], dh, (uint32_t)(d / 2), (uint32_t)(d % 2));
	}
	return json_pack("{sI sI sI sI sI sI sI sI so so}", "sends", (json_int_t)tot[0], "recvs", (json_int_t)tot[1],
			 "matched", (json_int_t)tot[2], "unmatched_sends", (json_int_t)tot[3], "unmatched_recvs",
			 (json_int_t)tot[4], "duplicate_sends", (json_int_t)tot[5], "negative_latency",
			 (json_int_t)tot[6], "in_flight_peak", (json_int_t)m->pairs.peak, "by_direction", dirs,
			 "channels", chans);
}

/* messages=N rate=R/s (since the previous line; the final: over the trace) and the
 * measured one-way p50/p99 of each transport and direction. */
static void msg_summary(struct ana *a, FILE *f, int final)
{
	struct msgs *m = a->msgs;
	uint64_t matched = 0;
	for (size_t i = 0; i < m->nchans; i++)
		matched += m->chans[i].matched;
	int64_t since = final || !m->summary_t ? a->t_first : m->summary_t;
	uint64_t before = final ? 0 : m->summary_matched;
	double dt = (double)(a->t_last - since) / 1e9;
	(void)fprintf(f, " messages=%" PRIu64 " rate=%.0f/s", matched, dt > 0 ? (double)(matched - before) / dt : 0.0);
	m->summary_matched = matched;
	m->summary_t = a->t_last;
	for (size_t d = 0; d < m->ndirs; d++) {
		char name[300];
		(void)snprintf(name, sizeof(name), "%s.%zu", ana_str(a, (uint32_t)(d / 2)), d % 2);
		ana_summary_pcts(f, name, m->dirs[d].measured);
	}
}

static void msg_notes(struct ana *a)
{
	if (a->msgs->chans_dropped)
		ana_warn(a, "%" PRIu64 " messages on channels beyond the first %d not analysed", a->msgs->chans_dropped,
			 MAX_CHANS);
}

const struct ana_module ana_msg_module = {
	.id = ANA_MSG,
	.key = "messages",
	.tsv = { "messages.tsv", "messages_hist.tsv" },
	.init = msg_init,
	.fini = msg_fini,
	.render = msg_render,
	.notes = msg_notes,
	.summary = msg_summary,
};
