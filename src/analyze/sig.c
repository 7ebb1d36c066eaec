/* sig.c - signal delivery latency: sig_send -> sig_receive paired by (signo, seq); a send
 * to a process group (target < 0) stays in the table for its other receivers until the
 * run ends; the experiment's own latencies carried by sig_receive (timed.c); reaps. */
#include "ana_int.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define SIG_SLOTS 65 /* signo 1..64; slot 0: out of range */

/* pair flags (pt_entry.used; bit 0 always set) */
#define F_GROUP 0x2u   /* sent to a process group: several receivers */
#define F_MATCHED 0x4u

struct sigstat {
	uint64_t sends, recvs, matched, dup_sends, pending_sends, unmatched_recvs, group_sends;
	uint64_t methods; /* bit i: method string id i seen (ids < 64) */
	struct il_hist *lat;
	struct timed timed;
};

struct sigs {
	struct pairtab pairs;
	struct sigstat sig[SIG_SLOTS];
	uint64_t group_pending;
	uint64_t child_reaps;
};

static int sig_init(struct ana *a)
{
	struct sigs *s = calloc(1, sizeof(*s));
	if (!s || pt_init(&s->pairs, 64) < 0) {
		free(s);
		return -1;
	}
	a->sigs = s;
	return 0;
}

static void sig_fini(struct ana *a)
{
	struct sigs *s = a->sigs;
	if (!s)
		return;
	pt_free(&s->pairs);
	for (int i = 0; i < SIG_SLOTS; i++) {
		free(s->sig[i].lat);
		ana_timed_free(&s->sig[i].timed);
	}
	free(s);
}

static struct sigstat *sig_slot(struct ana *a, int64_t signo)
{
	struct sigstat *s = &a->sigs->sig[(signo > 0 && signo < SIG_SLOTS) ? signo : 0];
	if (!s->lat && !a->oom)
		s->lat = ana_hist_new(a, 0);
	return s;
}

void ana_sig_send(struct ana *a, int64_t ts, int64_t signo, uint64_t seq, int64_t target)
{
	struct sigs *g = a->sigs;
	struct sigstat *s = sig_slot(a, signo);
	s->sends++;
	struct pt_key k = pt_key_sig(signo, seq);
	int fresh;
	struct pt_entry *e = pt_upsert(&g->pairs, &k, &fresh);
	if (!e) {
		a->oom = 1;
		return;
	}
	if (!fresh) {
		if (!((e->used & F_GROUP) && (e->used & F_MATCHED)))
			s->dup_sends++; /* e.g. coalesced: the earlier one was never received */
		if (e->used & F_GROUP)
			g->group_pending--;
	}
	e->t[0] = (uint64_t)ts;
	e->used = 1;
	if (target < 0) { /* kill(-pgid): every member of the group receives it */
		e->used |= F_GROUP;
		s->group_sends++;
		g->group_pending++;
	}
}

void ana_sig_recv(struct ana *a, int64_t ts, int64_t signo, uint64_t seq, const char *method, uint64_t t_send,
		  uint64_t t_recv)
{
	struct sigs *g = a->sigs;
	struct sigstat *s = sig_slot(a, signo);
	s->recvs++;
	const int timed = t_send && t_recv;
	if (timed) /* the experiment's own value, whether or not the send event was seen */
		ana_timed_add(a, &s->timed, t_send, t_recv);
	uint32_t m = ana_intern(a, method);
	if (m < 64)
		s->methods |= 1ull << m;
	struct pt_key k = pt_key_sig(signo, seq);
	struct pt_entry *e = pt_find(&g->pairs, &k);
	if (!e) {
		s->unmatched_recvs++;
		return;
	}
	int64_t d = ts - (int64_t)e->t[0];
	if (e->used & F_GROUP)
		e->used |= F_MATCHED; /* kept for the other members, until the run ends */
	else
		pt_remove(&g->pairs, e);
	if (d < 0)
		return;
	s->matched++;
	ana_hist_add(s->lat, (uint64_t)d);
	if (timed)
		ana_timed_offset(a, &s->timed, d, t_send, t_recv);
}

struct keylist {
	struct pt_key *k;
	size_t n, cap;
};

static void collect_groups(const struct pt_entry *e, void *arg)
{
	struct keylist *l = arg;
	if (!(e->used & F_GROUP) || l->n >= l->cap)
		return;
	l->k[l->n++] = e->k;
}

/* At a run's end: group sends are done; drop them (unreceived ones count as unmatched). */
void ana_sig_sweep_groups(struct ana *a)
{
	struct sigs *g = a->sigs;
	if (!g->group_pending)
		return;
	struct keylist l = { .cap = g->group_pending };
	l.k = malloc(l.cap * sizeof(*l.k));
	if (!l.k)
		return;
	pt_foreach(&g->pairs, collect_groups, &l);
	for (size_t i = 0; i < l.n; i++) {
		struct pt_entry *e = pt_find(&g->pairs, &l.k[i]);
		if (!e)
			continue;
		if (!(e->used & F_MATCHED))
			sig_slot(a, pt_key_signo(&e->k))->pending_sends++;
		pt_remove(&g->pairs, e);
		g->group_pending--;
	}
	free(l.k);
}

void ana_child_reap(struct ana *a, int64_t ts, int64_t pid, uint64_t seq)
{
	(void)ts;
	(void)pid;
	(void)seq;
	a->sigs->child_reaps++;
}

/* ---------------------------------------------------------------- output */

static void count_pending(const struct pt_entry *e, void *arg)
{
	struct ana *a = arg;
	if ((e->used & F_GROUP) && (e->used & F_MATCHED))
		return;
	sig_slot(a, pt_key_signo(&e->k))->pending_sends++;
}

static void tsv_header(FILE *tsv)
{
	(void)fprintf(tsv, "# signal delivery latency per signal (sig_send -> sig_receive), ns\n"
		      "# signo\tsends\treceives\tmatched\tunmatched_sends\tunmatched_receives\t");
	ana_tsv_summary_cols(tsv);
	(void)fputc('\n', tsv);
}

/* One signal number's object (and its TSV row and histogram block). */
static json_t *signo_json(struct ana *a, int i, FILE *const tsv[2])
{
	struct sigstat *s = &a->sigs->sig[i];
	json_t *methods = json_array();
	for (uint32_t m = 0; m < 64 && m < a->str.n; m++)
		if (s->methods & (1ull << m))
			(void)json_array_append_new(methods, json_string(ana_str(a, m)));
	uint64_t us = s->pending_sends + s->dup_sends;
	json_t *o = json_pack("{so sI sI sI sI sI sI so so}", "signo", i ? json_integer(i) : json_null(), "sends",
			      (json_int_t)s->sends, "receives", (json_int_t)s->recvs, "matched", (json_int_t)s->matched,
			      "unmatched_sends", (json_int_t)us, "unmatched_receives", (json_int_t)s->unmatched_recvs,
			      "group_sends", (json_int_t)s->group_sends, "methods", methods, "latency", ana_jsum(s->lat));
	if (tsv[0]) {
		(void)fprintf(tsv[0], "%d\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64 "\t", i, s->sends,
			      s->recvs, s->matched, us, s->unmatched_recvs);
		ana_tsv_summary(tsv[0], s->lat);
		(void)fputc('\n', tsv[0]);
	}
	if (tsv[1] && s->lat) {
		char name[64];
		(void)snprintf(name, sizeof(name), "signal %d delivery", i);
		(void)il_hist_write_tsv(s->lat, name, tsv[1]);
		(void)fprintf(tsv[1], "\n\n");
	}
	return ana_timed_json(a, o, &s->timed);
}

static json_t *sig_render(struct ana *a, FILE *const tsv[2])
{
	struct sigs *g = a->sigs;
	pt_foreach(&g->pairs, count_pending, a);
	json_t *arr = json_array();
	uint64_t tot[6] = { 0 };
	if (tsv[0])
		tsv_header(tsv[0]);
	for (int i = 0; i < SIG_SLOTS; i++) {
		struct sigstat *s = &g->sig[i];
		if (!s->sends && !s->recvs)
			continue;
		(void)json_array_append_new(arr, signo_json(a, i, tsv));
		tot[0] += s->sends, tot[1] += s->recvs, tot[2] += s->matched, tot[3] += s->pending_sends + s->dup_sends;
		tot[4] += s->unmatched_recvs, tot[5] += s->group_sends;
	}
	return json_pack("{sI sI sI sI sI sI sI sI so}", "sends", (json_int_t)tot[0], "receives", (json_int_t)tot[1],
			 "matched", (json_int_t)tot[2], "unmatched_sends", (json_int_t)tot[3], "unmatched_receives",
			 (json_int_t)tot[4], "group_sends", (json_int_t)tot[5], "child_reaps",
			 (json_int_t)g->child_reaps, "in_flight_peak", (json_int_t)g->pairs.peak, "by_signo", arr);
}

/* signals=N (matched) and the p50/p99 of each signal number. */
static void sig_summary(struct ana *a, FILE *f, int final)
{
	(void)final;
	uint64_t matched = 0;
	for (int i = 0; i < SIG_SLOTS; i++)
		matched += a->sigs->sig[i].matched;
	(void)fprintf(f, " signals=%" PRIu64, matched);
	for (int i = 0; i < SIG_SLOTS; i++) {
		char name[32];
		(void)snprintf(name, sizeof(name), "sig%d", i);
		ana_summary_pcts(f, name, a->sigs->sig[i].lat);
	}
}

const struct ana_module ana_sig_module = {
	.id = ANA_SIG,
	.key = "signals",
	.tsv = { "signals.tsv", "signals_hist.tsv" },
	.init = sig_init,
	.fini = sig_fini,
	.render = sig_render,
	.summary = sig_summary,
};
