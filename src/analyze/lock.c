/* lock.c - lock wait (lock_request -> lock_acquire of one thread) and hold (lock_acquire
 * -> lock_release, a release by another thread ending the oldest acquisition: a handed
 * over semaphore), per lock and per thread, and the intervals the experiment timed
 * itself, carried by lock_acquire (timed.c). */
#include "ana_int.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LOCKS 1024    /* each has two histograms (~37 KiB) */
#define MAX_THREADS 65536
#define MAX_HOLDERS 4096  /* outstanding acquisitions kept per lock */
#define LOCK_RELEASES 8   /* releases remembered per lock (the hand-over of a timed wait) */

/* An acquisition not released yet, or a release. */
struct holding {
	int64_t vtid, t;
};

struct lockstat {
	uint32_t lock, kind;
	uint64_t requests, acquires, releases;
	uint64_t acquires_without_request, releases_without_acquire, cross_thread_releases, requests_abandoned,
		holders_dropped;
	struct holding *held; /* outstanding acquisitions, oldest first (a mutex: at most 1) */
	size_t nheld, held_cap;
	struct il_hist *wait, *hold;
	struct holding released[LOCK_RELEASES]; /* the latest releases (ring), for timed's offset */
	uint64_t nreleased;
	struct timed timed;
};

struct threadstat {
	int64_t vtid;
	uint64_t waits, wait_total, wait_max, holds, hold_total, hold_max;
};

struct locks {
	struct pairtab pairs; /* pending requests, by (vtid, lock, kind) */
	struct lockstat *lk;
	size_t nlk, lk_cap;
	struct threadstat *th;
	size_t nth, th_cap;
	uint64_t locks_dropped, threads_dropped;
};

static int lock_init(struct ana *a)
{
	struct locks *l = calloc(1, sizeof(*l));
	if (!l || pt_init(&l->pairs, 64) < 0) {
		free(l);
		return -1;
	}
	a->locks = l;
	return 0;
}

static void lock_fini(struct ana *a)
{
	struct locks *l = a->locks;
	if (!l)
		return;
	pt_free(&l->pairs);
	for (size_t i = 0; i < l->nlk; i++) {
		free(l->lk[i].wait);
		free(l->lk[i].hold);
		free(l->lk[i].held);
		ana_timed_free(&l->lk[i].timed);
	}
	free(l->lk);
	free(l->th);
	free(l);
}

static struct lockstat *lock_stat(struct ana *a, uint32_t lock, uint32_t kind)
{
	struct locks *ls = a->locks;
	int fresh;
	if (ls->nlk >= MAX_LOCKS) {
		int64_t i = ana_index(a, NS_LOCK, lock, kind, 0, 0, &fresh);
		if (i < 0)
			ls->locks_dropped++;
		return i < 0 ? NULL : &ls->lk[i];
	}
	int64_t i = ana_index(a, NS_LOCK, lock, kind, 1, (uint32_t)ls->nlk, &fresh);
	if (i < 0)
		return NULL;
	if (fresh) {
		if (ana_grow((void **)&ls->lk, &ls->lk_cap, ls->nlk, sizeof(*ls->lk)) < 0) {
			a->oom = 1;
			return NULL;
		}
		struct lockstat *l = &ls->lk[ls->nlk++];
		memset(l, 0, sizeof(*l));
		l->lock = lock;
		l->kind = kind;
		l->wait = ana_hist_new(a, 0);
		l->hold = ana_hist_new(a, 0);
	}
	return &ls->lk[i];
}

static struct threadstat *thread_stat(struct ana *a, int64_t vtid)
{
	struct locks *ls = a->locks;
	int fresh;
	int create = ls->nth < MAX_THREADS;
	int64_t i = ana_index(a, NS_THREAD, (uint64_t)vtid, 0, create, (uint32_t)ls->nth, &fresh);
	if (i < 0) {
		ls->threads_dropped++;
		return NULL;
	}
	if (fresh) {
		if (ana_grow((void **)&ls->th, &ls->th_cap, ls->nth, sizeof(*ls->th)) < 0) {
			a->oom = 1;
			return NULL;
		}
		struct threadstat *t = &ls->th[ls->nth++];
		memset(t, 0, sizeof(*t));
		t->vtid = vtid;
	}
	return &ls->th[i];
}

/* Adds d to a thread's total and maximum (*n counts them). */
static void thread_add(uint64_t *n, uint64_t *total, uint64_t *max, uint64_t d)
{
	(*n)++;
	*total += d;
	if (d > *max)
		*max = d;
}

/* Ends the hold held[i] of lock l at ts (hold = release - acquire, per acquirer). */
static void hold_done(struct ana *a, struct lockstat *l, size_t i, int64_t ts)
{
	struct holding h = l->held[i];
	memmove(&l->held[i], &l->held[i + 1], (l->nheld - i - 1) * sizeof(*l->held));
	l->nheld--;
	int64_t d = ts - h.t;
	if (d < 0)
		return;
	ana_hist_add(l->hold, (uint64_t)d);
	struct threadstat *t = thread_stat(a, h.vtid);
	if (t)
		thread_add(&t->holds, &t->hold_total, &t->hold_max, (uint64_t)d);
}

/* An acquisition by vtid at ts that the experiment timed from t_begin to t_acquire. The
 * tracer's view of that interval starts at the lock's last event at or before t_begin
 * among the acquirer's own request (req, -1: none) and the releases of other threads
 * (the hand-over), and ends at the acquire event. */
static void timed_acquire(struct ana *a, struct lockstat *l, int64_t ts, int64_t vtid, int64_t req, uint64_t t_begin,
			  uint64_t t_acquire)
{
	ana_timed_add(a, &l->timed, t_begin, t_acquire);
	int64_t start = req >= 0 && req <= (int64_t)t_begin ? req : -1;
	uint64_t n = l->nreleased < LOCK_RELEASES ? l->nreleased : LOCK_RELEASES;
	for (uint64_t i = 0; i < n; i++) {
		const struct holding *r = &l->released[i];
		if (r->vtid != vtid && r->t <= (int64_t)t_begin && r->t > start)
			start = r->t;
	}
	if (start >= 0)
		ana_timed_offset(a, &l->timed, ts - start, t_begin, t_acquire);
}

static void lock_request(struct ana *a, struct lockstat *l, const struct pt_key *k, int64_t ts)
{
	int fresh;
	l->requests++;
	struct pt_entry *e = pt_upsert(&a->locks->pairs, k, &fresh);
	if (!e) {
		a->oom = 1;
		return;
	}
	if (!fresh)
		l->requests_abandoned++; /* requested again without acquiring */
	e->t[0] = (uint64_t)ts;
}

static void lock_acquire(struct ana *a, struct lockstat *l, const struct pt_key *k, int64_t ts, int64_t vtid,
			 uint64_t t_begin, uint64_t t_acquire)
{
	l->acquires++;
	struct pt_entry *e = pt_find(&a->locks->pairs, k);
	const int64_t req = e ? (int64_t)e->t[0] : -1;
	if (t_begin && t_acquire)
		timed_acquire(a, l, ts, vtid, req, t_begin, t_acquire);
	if (e) {
		int64_t d = ts - req;
		pt_remove(&a->locks->pairs, e);
		struct threadstat *t = d >= 0 ? thread_stat(a, vtid) : NULL;
		if (d >= 0)
			ana_hist_add(l->wait, (uint64_t)d);
		if (t)
			thread_add(&t->waits, &t->wait_total, &t->wait_max, (uint64_t)d);
	} else {
		l->acquires_without_request++; /* e.g. a trylock, or the request was cut off */
	}
	if (l->nheld >= MAX_HOLDERS) {
		memmove(&l->held[0], &l->held[1], (l->nheld - 1) * sizeof(*l->held));
		l->nheld--;
		l->holders_dropped++;
	}
	if (ana_grow((void **)&l->held, &l->held_cap, l->nheld, sizeof(*l->held)) < 0) {
		a->oom = 1;
		return;
	}
	l->held[l->nheld++] = (struct holding){ .vtid = vtid, .t = ts };
}

static void lock_release(struct ana *a, struct lockstat *l, int64_t ts, int64_t vtid)
{
	l->releases++;
	l->released[l->nreleased++ % LOCK_RELEASES] = (struct holding){ .vtid = vtid, .t = ts };
	for (size_t i = l->nheld; i-- > 0;) {
		if (l->held[i].vtid == vtid) {
			hold_done(a, l, i, ts);
			return;
		}
	}
	if (l->nheld) {
		l->cross_thread_releases++;
		hold_done(a, l, 0, ts);
		return;
	}
	l->releases_without_acquire++;
}

/* Waits pair by thread (request -> acquire of the same vtid, lock and kind). Holds pair
 * per lock: a release ends the releasing thread's own acquisition if it has one, else the
 * oldest outstanding one (a semaphore posted by another thread: the handoff pattern),
 * else it had no acquisition in the trace (e.g. the initial post of a handoff). */
void ana_lock(struct ana *a, enum ana_lock_op op, int64_t ts, uint32_t lock, const char *kind, int64_t vtid,
	      uint64_t t_begin, uint64_t t_acquire)
{
	uint32_t kid = ana_intern(a, kind);
	struct lockstat *l = lock_stat(a, lock, kid);
	if (!l)
		return;
	struct pt_key k = pt_key_lock(vtid, lock, kid);
	if (op == ANA_LOCK_REQUEST)
		lock_request(a, l, &k, ts);
	else if (op == ANA_LOCK_ACQUIRE)
		lock_acquire(a, l, &k, ts, vtid, t_begin, t_acquire);
	else
		lock_release(a, l, ts, vtid);
}

/* ---------------------------------------------------------------- output */

static json_t *lock_json(struct ana *a, const struct lockstat *l, FILE *tsv)
{
	json_t *o = json_pack("{sI ss sI sI sI sI sI sI sI sI so so}", "lock", (json_int_t)l->lock, "kind",
			      ana_str(a, l->kind), "requests", (json_int_t)l->requests, "acquires",
			      (json_int_t)l->acquires, "releases", (json_int_t)l->releases, "acquires_without_request",
			      (json_int_t)l->acquires_without_request, "releases_without_acquire",
			      (json_int_t)l->releases_without_acquire, "cross_thread_releases",
			      (json_int_t)l->cross_thread_releases, "requests_abandoned", (json_int_t)l->requests_abandoned,
			      "still_held", (json_int_t)l->nheld, "wait", ana_jsum(l->wait), "hold", ana_jsum(l->hold));
	if (tsv) {
		struct il_summary w, h;
		il_hist_summary(l->wait, &w);
		il_hist_summary(l->hold, &h);
		(void)fprintf(tsv, "%" PRIu32 "\t%s\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64
			      "\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64 "\n",
			      l->lock, ana_str(a, l->kind), l->requests, l->acquires, l->releases, w.count, w.p50, w.p99,
			      w.max, h.count, h.p50, h.p99, h.max);
	}
	return ana_timed_json(a, o, &l->timed);
}

static json_t *thread_json(const struct threadstat *t, FILE *tsv)
{
	if (tsv)
		(void)fprintf(tsv, "%" PRId64 "\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64 "\n",
			      t->vtid, t->waits, t->wait_total, t->wait_max, t->holds, t->hold_total, t->hold_max);
	return json_pack("{sI sI sI sI sf sI sI sI sf}", "vtid", (json_int_t)t->vtid, "waits", (json_int_t)t->waits,
			 "wait_total_ns", (json_int_t)t->wait_total, "wait_max_ns", (json_int_t)t->wait_max,
			 "wait_mean_ns", t->waits ? (double)t->wait_total / (double)t->waits : 0.0, "holds",
			 (json_int_t)t->holds, "hold_total_ns", (json_int_t)t->hold_total, "hold_max_ns",
			 (json_int_t)t->hold_max, "hold_mean_ns", t->holds ? (double)t->hold_total / (double)t->holds : 0.0);
}

static json_t *lock_render(struct ana *a, FILE *const tsv[2])
{
	struct locks *ls = a->locks;
	uint64_t held = 0;
	json_t *locks = json_array(), *threads = json_array();
	if (tsv[0])
		(void)fprintf(tsv[0], "# lock wait (request -> acquire) and hold (acquire -> release) per lock, ns\n"
			      "# lock\tkind\trequests\tacquires\treleases\twait_count\twait_p50\twait_p99\twait_max\t"
			      "hold_count\thold_p50\thold_p99\thold_max\n");
	for (size_t i = 0; i < ls->nlk; i++) {
		held += ls->lk[i].nheld;
		(void)json_array_append_new(locks, lock_json(a, &ls->lk[i], tsv[0]));
	}
	if (tsv[1])
		(void)fprintf(tsv[1], "# lock wait and hold per thread, ns\n"
			      "# vtid\twaits\twait_total\twait_max\tholds\thold_total\thold_max\n");
	for (size_t i = 0; i < ls->nth; i++)
		(void)json_array_append_new(threads, thread_json(&ls->th[i], tsv[1]));
	return json_pack("{sI sI sI sI sI so so}", "pending_requests", (json_int_t)ls->pairs.count, "still_held",
			 (json_int_t)held, "in_flight_peak", (json_int_t)ls->pairs.peak, "locks_dropped",
			 (json_int_t)ls->locks_dropped, "threads_dropped", (json_int_t)ls->threads_dropped, "locks", locks,
			 "threads", threads);
}

static void lock_notes(struct ana *a)
{
	if (a->locks->locks_dropped)
		ana_warn(a, "%" PRIu64 " lock events on locks beyond the first %d not analysed", a->locks->locks_dropped,
			 MAX_LOCKS);
}

/* lock_waits=N and the wait p50/p99 of each lock. */
static void lock_summary(struct ana *a, FILE *f, int final)
{
	(void)final;
	const struct locks *ls = a->locks;
	uint64_t waits = 0;
	for (size_t i = 0; i < ls->nlk; i++)
		waits += ls->lk[i].wait ? ls->lk[i].wait->count : 0;
	(void)fprintf(f, " lock_waits=%" PRIu64, waits);
	for (size_t i = 0; i < ls->nlk; i++) {
		char name[300];
		(void)snprintf(name, sizeof(name), "lock%" PRIu32 ".%s.wait", ls->lk[i].lock, ana_str(a, ls->lk[i].kind));
		ana_summary_pcts(f, name, ls->lk[i].wait);
	}
}

const struct ana_module ana_lock_module = {
	.id = ANA_LOCK,
	.key = "locks",
	.tsv = { "locks.tsv", "lock_threads.tsv" },
	.init = lock_init,
	.fini = lock_fini,
	.render = lock_render,
	.notes = lock_notes,
	.summary = lock_summary,
};
