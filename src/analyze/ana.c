/* ana.c - the ipclab trace analyses (see ana.h): pairing tables, per-key statistics
 * with the experiments' own histogram (src/core/hist.c), and the JSON/TSV rendering.
 * Nothing here allocates per event once a key has been seen: a matched pair is removed
 * from its table, statistics live in small per-key arrays. */
#include "ana.h"
#include "pairtab.h"
#include "core/hist.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* values above are counted as overflow, as in "ipclab ipc latency" (HIST_MAX_NS there) */
#define LAT_HIST_MAX_NS (10ull * 1000 * 1000 * 1000)
#define SIG_SLOTS 65          /* signo 1..64; slot 0: out of range */
#define MAX_STRINGS 4096      /* interned strings (transports, roles, kinds...) */
#define MAX_RUNS 100000
#define MAX_RACE_SEGMENTS 1000
#define MAX_RACE_WORKERS 65536
#define MAX_WARNINGS 50
#define MAX_THREADS 65536
#define MAX_LOCKS 1024        /* each has two histograms (~37 KiB) */
#define MAX_CHANS 1024        /* each has a histogram (~18 KiB) */
#define MAX_BUS_STATES 256
#define MAX_HOLDERS 4096      /* outstanding acquisitions kept per lock */
#define LOCK_RELEASES 8       /* releases remembered per lock (the hand-over of a timed wait) */

/* pairtab namespaces sharing one index table (key c) */
enum { NS_CHAN = 1, NS_LOCK = 2, NS_THREAD = 3 };

/* pair flags (pt_entry.used; bit 0 always set) */
#define F_GROUP   0x2u  /* signal sent to a process group: several receivers */
#define F_MATCHED 0x4u
#define F_SPAWN   0x2u  /* task stages seen (F_SPAWN << stage) */
#define F_START   0x4u
#define F_EXIT    0x8u
#define F_REAPED  0x10u
#define F_PSTART  0x20u /* start / exit were proxies (emitted by the creator) */
#define F_PEXIT   0x40u

struct strtab {
	char **s;
	uint32_t n, cap, last;
};

/* Intervals an experiment timed itself (stamps carried by the closing event): its own
 * values, exactly as it recorded them, and per interval the tracer's view minus the
 * experiment's (the cost of tracing it), where the tracer saw both ends. */
struct timed {
	struct il_hist *exp, *offset; /* allocated at the first stamped event */
};

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

struct sigstat {
	uint64_t sends, recvs, matched, dup_sends, pending_sends, unmatched_recvs, group_sends;
	uint64_t methods; /* bit i: method string id i seen (ids < 64) */
	struct il_hist *lat;
	struct timed timed;
};

struct busstat {
	uint32_t role, state;
	uint64_t count, total;
	struct il_hist *dur;
};

/* An acquisition not released yet. */
struct holding {
	int64_t vtid, t;
};

struct lockstat {
	uint32_t lock, kind;
	uint64_t requests, acquires, releases;
	uint64_t acquires_without_request, releases_without_acquire, cross_thread_releases,
		requests_abandoned, holders_dropped;
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

struct worker {
	uint64_t last_read, read_gen;
	int has_read;
	uint64_t reads, writes, overlapped;
};

struct race_seg {
	int64_t begin, end;
	uint64_t reads, writes, initial, final, overlapping, writes_without_read;
	int initial_from_write;
	uint32_t nworkers;
};

struct run {
	int64_t vpid, begin, end, mode, status;
	uint32_t experiment, variant;
	uint64_t repeat, iterations, warmup;
	int ended;
};

struct ana {
	char *tsv_dir;
	FILE *tsv_tasks, *tsv_bus;
	int tsv_tasks_hdr, tsv_bus_hdr;

	int64_t t_first, t_last;
	int have_time;

	uint64_t discarded_events, discarded_packets, discard_records;
	int discards_unknown;

	struct strtab str;
	struct pairtab index; /* (key, ns) -> array index for channels, locks, threads */

	/* runs */
	struct run *runs;
	size_t nruns, runs_cap;
	uint64_t runs_dropped;

	/* messages */
	struct pairtab msgs;
	struct chan *chans;
	size_t nchans, chans_cap;
	uint32_t last_chan; /* index cache: the channel of the previous message */
	uint32_t chan_cache[64]; /* direct-mapped (transport, chan) -> channel index + 1 */
	uint64_t chans_dropped;  /* messages of channels beyond MAX_CHANS: not analysed */
	struct dir_hists *dirs; /* [tid * 2 + direction] */
	size_t ndirs;

	/* signals */
	struct pairtab sigs;
	struct sigstat sig[SIG_SLOTS];
	uint64_t group_pending;
	uint64_t child_reaps;

	/* bus */
	struct pairtab bus;
	struct busstat *busst;
	size_t nbus, bus_cap;
	uint64_t bus_transitions;

	/* locks */
	struct pairtab locks;
	struct lockstat *lk;
	size_t nlk, lk_cap;
	struct threadstat *th;
	size_t nth, th_cap;
	uint64_t locks_dropped, threads_dropped;

	/* races */
	int race_active;
	struct race_seg seg;
	struct worker *workers;
	size_t nworkers;
	uint64_t write_gen;
	json_t *race_segments;
	uint64_t race_total_lost, race_total_writes, race_segments_total;
	uint64_t race_worker_dropped;

	/* tasks */
	struct pairtab tasks;
	uint64_t spawned, started, exited, reaped, completed, respawned, without_spawn, reaped_unknown, proxied;
	struct il_hist *t_spawn_start, *t_start_exit, *t_exit_reaped, *t_lifetime;

	uint64_t negative_offsets; /* tracer's view shorter than the experiment's */
	struct il_hist *empty;     /* rendered for a timed view nothing filled */

	int oom;
	json_t *warnings;
	json_t *incomplete; /* [{stream, reason}] */
};

/* ---------------------------------------------------------------- helpers */

/* A histogram on the heap (they are ~18 KiB: never on the stack, never per event). */
static struct il_hist *hist_new(struct ana *a, uint64_t max_ns)
{
	struct il_hist *h = malloc(sizeof(*h));
	if (!h) {
		a->oom = 1;
		return NULL;
	}
	il_hist_init(h, max_ns);
	return h;
}

static inline void hist_add(struct il_hist *h, uint64_t v)
{
	if (h)
		il_hist_add(h, v);
}

/* Grows an array of elements of size sz to hold n+1 (doubling); -1 on failure. */
static int grow(void **arr, size_t *cap, size_t n, size_t sz)
{
	if (n < *cap)
		return 0;
	size_t nc = *cap ? *cap * 2 : 16;
	void *p = realloc(*arr, nc * sz);
	if (!p)
		return -1;
	memset((char *)p + *cap * sz, 0, (nc - *cap) * sz);
	*arr = p;
	*cap = nc;
	return 0;
}

/* Records one interval the experiment timed from t0 to t1 (its own stamps): exactly the
 * value it added to its histogram (unsigned difference, as it computes it). */
static void timed_add(struct ana *a, struct timed *t, uint64_t t0, uint64_t t1)
{
	if (!t->exp && !(t->exp = hist_new(a, LAT_HIST_MAX_NS)))
		return;
	hist_add(t->exp, t1 - t0);
}

/* The tracer saw the same interval as `tracer` ns: the offset between the two views. */
static void timed_offset(struct ana *a, struct timed *t, int64_t tracer, uint64_t t0, uint64_t t1)
{
	int64_t off = tracer - (int64_t)(t1 - t0);
	if (off < 0) {
		a->negative_offsets++;
		return;
	}
	if (!t->offset && !(t->offset = hist_new(a, LAT_HIST_MAX_NS)))
		return;
	hist_add(t->offset, (uint64_t)off);
}

static void timed_free(struct timed *t)
{
	free(t->exp);
	free(t->offset);
}

void ana_incomplete(struct ana *a, const char *path, const char *reason)
{
	(void)json_array_append_new(a->incomplete, json_pack("{ss ss}", "stream", path, "reason", reason));
}

void ana_warn(struct ana *a, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	(void)vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (json_array_size(a->warnings) < MAX_WARNINGS)
		(void)json_array_append_new(a->warnings, json_string(buf));
}

/* Interns s (id 0 is "?": NULL, or the table full/out of memory). Compares with the last
 * id first: events of one kind usually repeat the same string. */
static uint32_t intern(struct ana *a, const char *s)
{
	struct strtab *t = &a->str;
	if (!s)
		return 0;
	if (t->last) { /* the common case (one transport at a time): no call */
		const char *x = t->s[t->last], *y = s;
		while (*x && *x == *y)
			x++, y++;
		if (*x == *y)
			return t->last;
	}
	for (uint32_t i = 1; i < t->n; i++)
		if (strcmp(t->s[i], s) == 0)
			return t->last = i;
	if (t->n >= MAX_STRINGS)
		return 0;
	if (t->n == t->cap) {
		uint32_t nc = t->cap ? t->cap * 2 : 32;
		char **p = realloc(t->s, nc * sizeof(*p));
		if (!p)
			return 0;
		t->s = p;
		t->cap = nc;
	}
	char *d = strdup(s);
	if (!d)
		return 0;
	t->s[t->n] = d;
	return t->last = t->n++;
}

static const char *str_of(const struct ana *a, uint32_t id)
{
	return id < a->str.n ? a->str.s[id] : "?";
}

/* Index of the (k1, k2) entry of namespace ns in the shared index table, or -1 if absent
 * and create is 0. A fresh entry gets aux = next (the caller appends that element). */
static int64_t index_get(struct ana *a, uint32_t ns, uint64_t k1, uint32_t k2, int create, uint32_t next,
			 int *fresh)
{
	struct pt_key k = { .a = k1, .b = k2, .c = ns };
	*fresh = 0;
	if (!create) {
		struct pt_entry *e = pt_find(&a->index, &k);
		return e ? (int64_t)e->aux : -1;
	}
	struct pt_entry *e = pt_upsert(&a->index, &k, fresh);
	if (!e) {
		a->oom = 1;
		return -1;
	}
	if (*fresh)
		e->aux = next;
	return e->aux;
}

/* ---------------------------------------------------------------- life cycle */

static FILE *tsv_open(struct ana *a, const char *name, char *err, size_t errlen)
{
	char path[4096];
	(void)snprintf(path, sizeof(path), "%s/%s", a->tsv_dir, name);
	FILE *f = fopen(path, "we");
	if (!f)
		(void)snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
	return f;
}

/* mkdir -p for the TSV directory. */
static int mkdirs(const char *dir)
{
	char buf[4096];
	size_t n = strlen(dir);
	if (n == 0 || n >= sizeof(buf))
		return -1;
	memcpy(buf, dir, n + 1);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(buf, 0777) < 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(buf, 0777) < 0 && errno != EEXIST)
		return -1;
	struct stat st;
	return stat(buf, &st) == 0 && S_ISDIR(st.st_mode) ? 0 : -1;
}

struct ana *ana_new(const char *tsv_dir, char *err, size_t errlen)
{
	struct ana *a = calloc(1, sizeof(*a));
	if (!a) {
		(void)snprintf(err, errlen, "out of memory");
		return NULL;
	}
	a->warnings = json_array();
	a->incomplete = json_array();
	a->race_segments = json_array();
	if (!a->warnings || !a->incomplete || !a->race_segments || pt_init(&a->index, 64) < 0 || pt_init(&a->msgs, 1024) < 0 ||
	    pt_init(&a->sigs, 64) < 0 || pt_init(&a->bus, 16) < 0 || pt_init(&a->locks, 64) < 0 ||
	    pt_init(&a->tasks, 64) < 0) {
		(void)snprintf(err, errlen, "out of memory");
		goto fail;
	}
	a->str.s = calloc(32, sizeof(char *));
	if (!a->str.s || !(a->str.s[0] = strdup("?"))) {
		(void)snprintf(err, errlen, "out of memory");
		goto fail;
	}
	a->str.n = 1;
	a->str.cap = 32;
	a->last_chan = UINT32_MAX;
	a->t_spawn_start = hist_new(a, 0);
	a->t_start_exit = hist_new(a, 0);
	a->t_exit_reaped = hist_new(a, 0);
	a->t_lifetime = hist_new(a, 0);
	a->empty = hist_new(a, LAT_HIST_MAX_NS);
	if (a->oom) {
		(void)snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (tsv_dir && *tsv_dir) {
		if (mkdirs(tsv_dir) < 0) {
			(void)snprintf(err, errlen, "cannot create the TSV directory %s: %s", tsv_dir,
				       errno ? strerror(errno) : "not a directory");
			goto fail;
		}
		a->tsv_dir = strdup(tsv_dir);
		if (!a->tsv_dir || !(a->tsv_tasks = tsv_open(a, "tasks.tsv", err, errlen)) ||
		    !(a->tsv_bus = tsv_open(a, "bus_intervals.tsv", err, errlen)))
			goto fail;
	}
	return a;
fail:
	ana_free(a);
	return NULL;
}

void ana_free(struct ana *a)
{
	if (!a)
		return;
	if (a->tsv_tasks)
		(void)fclose(a->tsv_tasks);
	if (a->tsv_bus)
		(void)fclose(a->tsv_bus);
	free(a->tsv_dir);
	for (uint32_t i = 0; i < a->str.n; i++)
		free(a->str.s[i]);
	free(a->str.s);
	pt_free(&a->index);
	pt_free(&a->msgs);
	pt_free(&a->sigs);
	pt_free(&a->bus);
	pt_free(&a->locks);
	pt_free(&a->tasks);
	free(a->runs);
	for (size_t i = 0; i < a->nchans; i++)
		free(a->chans[i].lat);
	free(a->chans);
	for (size_t i = 0; i < a->ndirs; i++) {
		free(a->dirs[i].all);
		free(a->dirs[i].measured);
		timed_free(&a->dirs[i].timed);
	}
	free(a->dirs);
	for (int i = 0; i < SIG_SLOTS; i++) {
		free(a->sig[i].lat);
		timed_free(&a->sig[i].timed);
	}
	for (size_t i = 0; i < a->nbus; i++)
		free(a->busst[i].dur);
	free(a->busst);
	for (size_t i = 0; i < a->nlk; i++) {
		free(a->lk[i].wait);
		free(a->lk[i].hold);
		free(a->lk[i].held);
		timed_free(&a->lk[i].timed);
	}
	free(a->lk);
	free(a->th);
	free(a->workers);
	json_decref(a->race_segments);
	free(a->t_spawn_start);
	free(a->t_start_exit);
	free(a->t_exit_reaped);
	free(a->t_lifetime);
	free(a->empty);
	json_decref(a->warnings);
	json_decref(a->incomplete);
	free(a);
}

void ana_event_time(struct ana *a, int64_t ts)
{
	if (!a->have_time) {
		a->t_first = ts;
		a->have_time = 1;
	}
	if (ts > a->t_last)
		a->t_last = ts;
}

void ana_discarded_events(struct ana *a, uint64_t count, int count_known)
{
	a->discard_records++;
	a->discarded_events += count_known ? count : 1;
	if (!count_known)
		a->discards_unknown = 1;
}

void ana_discarded_packets(struct ana *a, uint64_t count, int count_known)
{
	a->discard_records++;
	a->discarded_packets += count_known ? count : 1;
	if (!count_known)
		a->discards_unknown = 1;
}

/* ---------------------------------------------------------------- runs */

static void race_close(struct ana *a);
static void sig_sweep_groups(struct ana *a);

/* Applies a run's warm-up to the channels of its transport and repeat. */
static void chans_set_warmup(struct ana *a, uint32_t variant, uint64_t repeat, uint64_t warmup)
{
	for (size_t i = 0; i < a->nchans; i++) {
		struct chan *c = &a->chans[i];
		if (c->tid == variant && (c->chan >> 1) == repeat) {
			c->warmup = warmup;
			c->warmup_known = 1;
		}
	}
}

void ana_run_begin(struct ana *a, int64_t ts, int64_t vpid, const char *experiment, const char *variant,
		   int64_t mode, uint64_t repeat, uint64_t iterations, uint64_t warmup)
{
	race_close(a); /* a race segment is one measured run */
	uint32_t var = intern(a, variant);
	chans_set_warmup(a, var, repeat, warmup);
	if (a->nruns >= MAX_RUNS || grow((void **)&a->runs, &a->runs_cap, a->nruns, sizeof(*a->runs)) < 0) {
		a->runs_dropped++;
		return;
	}
	struct run *r = &a->runs[a->nruns++];
	memset(r, 0, sizeof(*r));
	r->vpid = vpid;
	r->begin = ts;
	r->mode = mode;
	r->experiment = intern(a, experiment);
	r->variant = var;
	r->repeat = repeat;
	r->iterations = iterations;
	r->warmup = warmup;
}

void ana_run_end(struct ana *a, int64_t ts, int64_t vpid, const char *experiment, const char *variant,
		 uint64_t repeat, int64_t status)
{
	race_close(a);
	if (a->group_pending)
		sig_sweep_groups(a);
	uint32_t exp = intern(a, experiment), var = intern(a, variant);
	for (size_t i = a->nruns; i-- > 0;) {
		struct run *r = &a->runs[i];
		if (!r->ended && r->vpid == vpid && r->experiment == exp && r->variant == var && r->repeat == repeat) {
			r->ended = 1;
			r->end = ts;
			r->status = status;
			return;
		}
	}
	ana_warn(a, "run_end of \"%s\" %s repeat %" PRIu64 " (vpid %" PRId64 ") without its run_begin",
		 experiment ? experiment : "?", variant ? variant : "?", repeat, vpid);
}

/* ---------------------------------------------------------------- messages */

/* The channel (transport id, chan), created on first sight; NULL only when out of memory. */
static struct chan *chan_get(struct ana *a, uint32_t tid, uint32_t chan)
{
	/* ping-pong alternates two channels: a small direct-mapped cache avoids the hash */
	unsigned slot = (tid * 31u + chan) & 63u;
	uint32_t ci = a->chan_cache[slot];
	if (ci) {
		struct chan *c = &a->chans[ci - 1];
		if (c->tid == tid && c->chan == chan) {
			a->last_chan = ci - 1;
			return c;
		}
	}
	int fresh;
	int64_t i = index_get(a, NS_CHAN, chan, tid, a->nchans < MAX_CHANS, (uint32_t)a->nchans, &fresh);
	if (i < 0) {
		a->chans_dropped++;
		return NULL;
	}
	if (fresh) {
		if (grow((void **)&a->chans, &a->chans_cap, a->nchans, sizeof(*a->chans)) < 0) {
			a->oom = 1;
			return NULL;
		}
		struct chan *c = &a->chans[a->nchans++];
		memset(c, 0, sizeof(*c));
		c->tid = tid;
		c->chan = chan;
		c->lat = hist_new(a, LAT_HIST_MAX_NS);
		/* the warm-up of the latest run of this transport and repeat */
		for (size_t r = a->nruns; r-- > 0;) {
			if (a->runs[r].variant == tid && a->runs[r].repeat == (chan >> 1)) {
				c->warmup = a->runs[r].warmup;
				c->warmup_known = 1;
				break;
			}
		}
		/* per-direction histograms of this transport */
		size_t need = ((size_t)tid + 1) * 2;
		if (need > a->ndirs) {
			struct dir_hists *d = realloc(a->dirs, need * sizeof(*d));
			if (!d) {
				a->oom = 1;
				return NULL;
			}
			memset(d + a->ndirs, 0, (need - a->ndirs) * sizeof(*d));
			a->dirs = d;
			a->ndirs = need;
		}
		struct dir_hists *dh = &a->dirs[tid * 2 + (chan & 1)];
		if (!dh->all) {
			dh->all = hist_new(a, LAT_HIST_MAX_NS);
			dh->measured = hist_new(a, LAT_HIST_MAX_NS);
		}
	}
	a->last_chan = (uint32_t)i;
	a->chan_cache[slot] = (uint32_t)i + 1;
	return &a->chans[i];
}

void ana_msg_send(struct ana *a, int64_t ts, const char *transport, uint32_t chan, uint64_t seq)
{
	uint32_t tid = intern(a, transport);
	struct chan *c = chan_get(a, tid, chan);
	if (!c)
		return;
	c->sends++;
	struct pt_key k = { .a = seq, .b = chan, .c = tid };
	int fresh;
	struct pt_entry *e = pt_upsert(&a->msgs, &k, &fresh);
	if (!e) {
		a->oom = 1;
		return;
	}
	if (!fresh)
		c->dup_sends++; /* the earlier send of this key is never matched */
	e->t[0] = (uint64_t)ts;
	e->aux = a->last_chan;
}

void ana_msg_recv(struct ana *a, int64_t ts, const char *transport, uint32_t chan, uint64_t seq, uint64_t t_send,
		  uint64_t t_recv)
{
	uint32_t tid = intern(a, transport);
	struct chan *c = chan_get(a, tid, chan);
	if (!c)
		return;
	c->recvs++;
	struct dir_hists *dh = &a->dirs[tid * 2 + (chan & 1)];
	const int timed = t_send && t_recv;
	if (timed) /* the experiment's own value, whether or not the send event was seen */
		timed_add(a, &dh->timed, t_send, t_recv);
	struct pt_key k = { .a = seq, .b = chan, .c = tid };
	struct pt_entry *e = pt_find(&a->msgs, &k);
	if (!e) {
		c->unmatched_recvs++;
		return;
	}
	int64_t d = ts - (int64_t)e->t[0];
	pt_remove(&a->msgs, e);
	if (d < 0) { /* cannot happen on one monotonic clock; counted, not histogrammed */
		c->negative++;
		return;
	}
	c->matched++;
	hist_add(c->lat, (uint64_t)d);
	if (!(c->warmup_known && seq < c->warmup))
		hist_add(dh->measured, (uint64_t)d);
	if (timed)
		timed_offset(a, &dh->timed, d, t_send, t_recv);
}

/* ---------------------------------------------------------------- signals */

static struct sigstat *sig_slot(struct ana *a, int64_t signo)
{
	struct sigstat *s = &a->sig[(signo > 0 && signo < SIG_SLOTS) ? signo : 0];
	if (!s->lat && !a->oom)
		s->lat = hist_new(a, 0);
	return s;
}

void ana_sig_send(struct ana *a, int64_t ts, int64_t signo, uint64_t seq, int64_t target)
{
	struct sigstat *s = sig_slot(a, signo);
	s->sends++;
	struct pt_key k = { .a = seq, .b = (uint32_t)signo, .c = 0 };
	int fresh;
	struct pt_entry *e = pt_upsert(&a->sigs, &k, &fresh);
	if (!e) {
		a->oom = 1;
		return;
	}
	if (!fresh) {
		if (!((e->used & F_GROUP) && (e->used & F_MATCHED)))
			s->dup_sends++; /* e.g. coalesced: the earlier one was never received */
		if (e->used & F_GROUP)
			a->group_pending--;
	}
	e->t[0] = (uint64_t)ts;
	e->used = 1;
	if (target < 0) { /* kill(-pgid): every member of the group receives it */
		e->used |= F_GROUP;
		s->group_sends++;
		a->group_pending++;
	}
}

void ana_sig_recv(struct ana *a, int64_t ts, int64_t signo, uint64_t seq, const char *method, uint64_t t_send,
		  uint64_t t_recv)
{
	struct sigstat *s = sig_slot(a, signo);
	s->recvs++;
	const int timed = t_send && t_recv;
	if (timed) /* the experiment's own value, whether or not the send event was seen */
		timed_add(a, &s->timed, t_send, t_recv);
	uint32_t m = intern(a, method);
	if (m < 64)
		s->methods |= 1ull << m;
	struct pt_key k = { .a = seq, .b = (uint32_t)signo, .c = 0 };
	struct pt_entry *e = pt_find(&a->sigs, &k);
	if (!e) {
		s->unmatched_recvs++;
		return;
	}
	int64_t d = ts - (int64_t)e->t[0];
	if (e->used & F_GROUP)
		e->used |= F_MATCHED; /* kept for the other members, until the run ends */
	else
		pt_remove(&a->sigs, e);
	if (d < 0)
		return;
	s->matched++;
	hist_add(s->lat, (uint64_t)d);
	if (timed)
		timed_offset(a, &s->timed, d, t_send, t_recv);
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
static void sig_sweep_groups(struct ana *a)
{
	struct keylist l = { .cap = a->group_pending };
	l.k = malloc(l.cap * sizeof(*l.k));
	if (!l.k)
		return;
	pt_foreach(&a->sigs, collect_groups, &l);
	for (size_t i = 0; i < l.n; i++) {
		struct pt_entry *e = pt_find(&a->sigs, &l.k[i]);
		if (!e)
			continue;
		if (!(e->used & F_MATCHED))
			sig_slot(a, (int64_t)e->k.b)->pending_sends++;
		pt_remove(&a->sigs, e);
		a->group_pending--;
	}
	free(l.k);
}

void ana_child_reap(struct ana *a, int64_t ts, int64_t pid, uint64_t seq)
{
	(void)ts;
	(void)pid;
	(void)seq;
	a->child_reaps++;
}

/* ---------------------------------------------------------------- bus */

static struct busstat *bus_stat(struct ana *a, uint32_t role, uint32_t state)
{
	for (size_t i = 0; i < a->nbus; i++)
		if (a->busst[i].role == role && a->busst[i].state == state)
			return &a->busst[i];
	if (a->nbus >= MAX_BUS_STATES)
		return NULL;
	if (grow((void **)&a->busst, &a->bus_cap, a->nbus, sizeof(*a->busst)) < 0) {
		a->oom = 1;
		return NULL;
	}
	struct busstat *b = &a->busst[a->nbus++];
	memset(b, 0, sizeof(*b));
	b->role = role;
	b->state = state;
	b->dur = hist_new(a, 0);
	return b;
}

static void tsv_origin_header(struct ana *a, FILE *f, const char *what, const char *cols)
{
	(void)fprintf(f, "# %s\n# unit: ns; times relative to the first event of the trace\n"
		      "# origin_ns: %" PRId64 "\n# %s\n", what, a->t_first, cols);
}

void ana_bus_state(struct ana *a, int64_t ts, int64_t vpid, const char *role, const char *state)
{
	uint32_t r = intern(a, role), s = intern(a, state);
	struct pt_key k = { .a = (uint64_t)vpid, .b = r, .c = 0 };
	int fresh;
	struct pt_entry *e = pt_upsert(&a->bus, &k, &fresh);
	if (!e) {
		a->oom = 1;
		return;
	}
	a->bus_transitions++;
	if (!fresh) {
		int64_t d = ts - (int64_t)e->t[0];
		struct busstat *b = bus_stat(a, r, e->aux);
		if (b && d >= 0) {
			b->count++;
			b->total += (uint64_t)d;
			hist_add(b->dur, (uint64_t)d);
		}
		if (a->tsv_bus) {
			if (!a->tsv_bus_hdr++)
				tsv_origin_header(a, a->tsv_bus, "bus driver/conductor state intervals",
						  "role\tvpid\tstate\tbegin\tend\tduration");
			(void)fprintf(a->tsv_bus, "%s\t%" PRId64 "\t%s\t%" PRId64 "\t%" PRId64 "\t%" PRId64 "\n",
				      str_of(a, r), vpid, str_of(a, e->aux), (int64_t)e->t[0] - a->t_first,
				      ts - a->t_first, d);
		}
	}
	e->t[0] = (uint64_t)ts;
	e->aux = s;
}

/* ---------------------------------------------------------------- locks */

static struct lockstat *lock_stat(struct ana *a, uint32_t lock, uint32_t kind)
{
	int fresh;
	if (a->nlk >= MAX_LOCKS) {
		int64_t i = index_get(a, NS_LOCK, lock, kind, 0, 0, &fresh);
		if (i < 0)
			a->locks_dropped++;
		return i < 0 ? NULL : &a->lk[i];
	}
	int64_t i = index_get(a, NS_LOCK, lock, kind, 1, (uint32_t)a->nlk, &fresh);
	if (i < 0)
		return NULL;
	if (fresh) {
		if (grow((void **)&a->lk, &a->lk_cap, a->nlk, sizeof(*a->lk)) < 0) {
			a->oom = 1;
			return NULL;
		}
		struct lockstat *l = &a->lk[a->nlk++];
		memset(l, 0, sizeof(*l));
		l->lock = lock;
		l->kind = kind;
		l->wait = hist_new(a, 0);
		l->hold = hist_new(a, 0);
	}
	return &a->lk[i];
}

static struct threadstat *thread_stat(struct ana *a, int64_t vtid)
{
	int fresh;
	int create = a->nth < MAX_THREADS;
	int64_t i = index_get(a, NS_THREAD, (uint64_t)vtid, 0, create, (uint32_t)a->nth, &fresh);
	if (i < 0) {
		a->threads_dropped++;
		return NULL;
	}
	if (fresh) {
		if (grow((void **)&a->th, &a->th_cap, a->nth, sizeof(*a->th)) < 0) {
			a->oom = 1;
			return NULL;
		}
		struct threadstat *t = &a->th[a->nth++];
		memset(t, 0, sizeof(*t));
		t->vtid = vtid;
	}
	return &a->th[i];
}

/* Ends the hold held[i] of lock l at ts (hold = release - acquire, per acquirer). */
static void lock_hold_done(struct ana *a, struct lockstat *l, size_t i, int64_t ts)
{
	struct holding h = l->held[i];
	memmove(&l->held[i], &l->held[i + 1], (l->nheld - i - 1) * sizeof(*l->held));
	l->nheld--;
	int64_t d = ts - h.t;
	if (d < 0)
		return;
	hist_add(l->hold, (uint64_t)d);
	struct threadstat *t = thread_stat(a, h.vtid);
	if (t) {
		t->holds++;
		t->hold_total += (uint64_t)d;
		if ((uint64_t)d > t->hold_max)
			t->hold_max = (uint64_t)d;
	}
}

/* An acquisition by vtid at ts that the experiment timed from t_begin to t_acquire. The
 * tracer's view of that interval starts at the lock's last event at or before t_begin
 * among the acquirer's own request (req, -1: none) and the releases of other threads
 * (the hand-over), and ends at the acquire event. */
static void lock_timed(struct ana *a, struct lockstat *l, int64_t ts, int64_t vtid, int64_t req, uint64_t t_begin,
		       uint64_t t_acquire)
{
	timed_add(a, &l->timed, t_begin, t_acquire);
	int64_t start = req >= 0 && req <= (int64_t)t_begin ? req : -1;
	uint32_t n = l->nreleased < LOCK_RELEASES ? l->nreleased : LOCK_RELEASES;
	for (uint32_t i = 0; i < n; i++) {
		const struct holding *r = &l->released[i];
		if (r->vtid != vtid && r->t <= (int64_t)t_begin && r->t > start)
			start = r->t;
	}
	if (start >= 0)
		timed_offset(a, &l->timed, ts - start, t_begin, t_acquire);
}

/* Waits pair by thread (request -> acquire of the same vtid, lock and kind). Holds pair
 * per lock: a release ends the releasing thread's own acquisition if it has one, else the
 * oldest outstanding one (a semaphore posted by another thread: the handoff pattern),
 * else it had no acquisition in the trace (e.g. the initial post of a handoff).
 * t_begin, t_acquire: an acquisition's stamps (0: not timed by the experiment). */
void ana_lock(struct ana *a, enum ana_lock_op op, int64_t ts, uint32_t lock, const char *kind, int64_t vtid,
	      uint64_t t_begin, uint64_t t_acquire)
{
	uint32_t kid = intern(a, kind);
	struct lockstat *l = lock_stat(a, lock, kid);
	if (!l)
		return;
	struct pt_key k = { .a = (uint64_t)vtid, .b = lock, .c = kid };
	int fresh;
	struct pt_entry *e;
	switch (op) {
	case ANA_LOCK_REQUEST:
		l->requests++;
		e = pt_upsert(&a->locks, &k, &fresh);
		if (!e) {
			a->oom = 1;
			return;
		}
		if (!fresh)
			l->requests_abandoned++; /* requested again without acquiring */
		e->t[0] = (uint64_t)ts;
		break;
	case ANA_LOCK_ACQUIRE: {
		l->acquires++;
		e = pt_find(&a->locks, &k);
		const int64_t req = e ? (int64_t)e->t[0] : -1;
		if (t_begin && t_acquire)
			lock_timed(a, l, ts, vtid, req, t_begin, t_acquire);
		if (e) {
			int64_t d = ts - (int64_t)e->t[0];
			pt_remove(&a->locks, e);
			if (d >= 0) {
				hist_add(l->wait, (uint64_t)d);
				struct threadstat *t = thread_stat(a, vtid);
				if (t) {
					t->waits++;
					t->wait_total += (uint64_t)d;
					if ((uint64_t)d > t->wait_max)
						t->wait_max = (uint64_t)d;
				}
			}
		} else {
			l->acquires_without_request++; /* e.g. a trylock, or the request was cut off */
		}
		if (l->nheld >= MAX_HOLDERS) {
			memmove(&l->held[0], &l->held[1], (l->nheld - 1) * sizeof(*l->held));
			l->nheld--;
			l->holders_dropped++;
		}
		if (grow((void **)&l->held, &l->held_cap, l->nheld, sizeof(*l->held)) < 0) {
			a->oom = 1;
			return;
		}
		l->held[l->nheld].vtid = vtid;
		l->held[l->nheld].t = ts;
		l->nheld++;
		break;
	}
	case ANA_LOCK_RELEASE:
		l->releases++;
		l->released[l->nreleased++ % LOCK_RELEASES] = (struct holding){ .vtid = vtid, .t = ts };
		for (size_t i = l->nheld; i-- > 0;) {
			if (l->held[i].vtid == vtid) {
				lock_hold_done(a, l, i, ts);
				return;
			}
		}
		if (l->nheld) {
			l->cross_thread_releases++;
			lock_hold_done(a, l, 0, ts);
			return;
		}
		l->releases_without_acquire++;
		break;
	}
}

/* ---------------------------------------------------------------- races */

static void race_open(struct ana *a, int64_t ts)
{
	memset(&a->seg, 0, sizeof(a->seg));
	a->seg.begin = ts;
	a->race_active = 1;
	a->write_gen = 0;
	if (a->workers)
		memset(a->workers, 0, a->nworkers * sizeof(*a->workers));
}

/* Ends the current race segment: lost updates = increments - (final - initial). */
static void race_close(struct ana *a)
{
	if (!a->race_active)
		return;
	a->race_active = 0;
	struct race_seg *s = &a->seg;
	int64_t advance = (int64_t)(s->final - s->initial);
	int64_t lost = (int64_t)s->writes - advance;
	a->race_total_lost += lost > 0 ? (uint64_t)lost : 0;
	a->race_total_writes += s->writes;
	a->race_segments_total++;
	if (json_array_size(a->race_segments) >= MAX_RACE_SEGMENTS)
		return;
	json_t *workers = json_array();
	for (size_t w = 0; w < a->nworkers && json_array_size(workers) < 256; w++) {
		struct worker *k = &a->workers[w];
		if (!k->reads && !k->writes)
			continue;
		(void)json_array_append_new(workers, json_pack("{sI sI sI sI}", "worker", (json_int_t)w,
							       "reads", (json_int_t)k->reads, "writes",
							       (json_int_t)k->writes, "overlapped",
							       (json_int_t)k->overlapped));
	}
	json_t *o = json_pack("{sI sI sI sI sI sI sI sI sb sI sI so}", "begin_ns", (json_int_t)s->begin, "end_ns",
			      (json_int_t)s->end, "reads", (json_int_t)s->reads, "increments",
			      (json_int_t)s->writes, "initial", (json_int_t)s->initial, "final",
			      (json_int_t)s->final, "lost_updates", (json_int_t)lost, "overlapping_windows",
			      (json_int_t)s->overlapping, "initial_from_write", s->initial_from_write,
			      "writes_without_read", (json_int_t)s->writes_without_read, "workers_seen",
			      (json_int_t)s->nworkers, "workers", workers ? workers : json_array());
	if (o)
		(void)json_array_append_new(a->race_segments, o);
}

static struct worker *worker_get(struct ana *a, uint32_t w)
{
	if (w >= MAX_RACE_WORKERS) {
		a->race_worker_dropped++;
		return NULL;
	}
	if (w >= a->nworkers) {
		size_t n = a->nworkers ? a->nworkers : 8;
		while (n <= w)
			n *= 2;
		struct worker *p = realloc(a->workers, n * sizeof(*p));
		if (!p) {
			a->oom = 1;
			return NULL;
		}
		memset(p + a->nworkers, 0, (n - a->nworkers) * sizeof(*p));
		a->workers = p;
		a->nworkers = n;
	}
	return &a->workers[w];
}

void ana_race(struct ana *a, int is_write, int64_t ts, uint32_t worker, uint64_t value)
{
	if (!a->race_active)
		race_open(a, ts);
	struct race_seg *s = &a->seg;
	s->end = ts;
	struct worker *w = worker_get(a, worker);
	if (!w)
		return;
	if (!w->reads && !w->writes)
		s->nworkers++;
	if (!is_write) {
		if (!s->reads && !s->writes)
			s->initial = value;
		s->reads++;
		w->reads++;
		w->last_read = value;
		w->read_gen = a->write_gen;
		w->has_read = 1;
		return;
	}
	if (!s->reads && !s->writes) { /* the segment starts with a write: its read was cut off */
		s->initial = value - 1;
		s->initial_from_write = 1;
	}
	s->writes++;
	w->writes++;
	if (w->has_read) {
		/* another write between this worker's read and its write: it overwrote that one */
		if (a->write_gen != w->read_gen) {
			s->overlapping++;
			w->overlapped++;
		}
		w->has_read = 0;
	} else {
		s->writes_without_read++;
	}
	a->write_gen++;
	s->final = value;
}

/* ---------------------------------------------------------------- tasks */

static void task_row(struct ana *a, const struct pt_entry *e)
{
	if (!a->tsv_tasks)
		return;
	if (!a->tsv_tasks_hdr++)
		tsv_origin_header(a, a->tsv_tasks,
				  "task timelines (spawn -> start -> exit -> reaped); -1: not seen, or a proxy's time",
				  "seq\ttid\tspawn\tstart\texit\treaped\tproxy");
	int64_t v[4];
	for (int i = 0; i < 4; i++) {
		int seen = (e->used & (F_SPAWN << i)) && !(i == 1 && (e->used & F_PSTART)) &&
			   !(i == 2 && (e->used & F_PEXIT));
		v[i] = seen ? (int64_t)e->t[i] - a->t_first : -1;
	}
	(void)fprintf(a->tsv_tasks, "%" PRIu64 "\t%" PRIu32 "\t%" PRId64 "\t%" PRId64 "\t%" PRId64 "\t%" PRId64 "\t%d\n",
		      e->k.a, e->aux, v[0], v[1], v[2], v[3], (e->used & (F_PSTART | F_PEXIT)) ? 1 : 0);
}

/* Adds (tb - the entry's timestamp ia) to h if that stage (flag fa) was seen and was not
 * a proxy (flag pa). */
static void stage(struct il_hist *h, const struct pt_entry *e, uint32_t fa, uint32_t pa, int ia, int64_t tb)
{
	if ((e->used & fa) && !(e->used & pa) && tb >= (int64_t)e->t[ia])
		hist_add(h, (uint64_t)(tb - (int64_t)e->t[ia]));
}

/* A task whose four events were all seen: one complete timeline. */
static void task_done(struct ana *a, struct pt_entry *e)
{
	if ((e->used & (F_SPAWN | F_START | F_EXIT | F_REAPED)) == (F_SPAWN | F_START | F_EXIT | F_REAPED))
		a->completed++;
	task_row(a, e);
	pt_remove(&a->tasks, e);
}

void ana_task(struct ana *a, enum ana_task_stage st, int64_t ts, uint64_t seq, int64_t tid, int proxy)
{
	struct pt_key k = { .a = seq, .b = 0, .c = 0 };
	int fresh;
	struct pt_entry *e;
	if (st == ANA_TASK_REAPED) {
		a->reaped++;
		e = pt_find(&a->tasks, &k);
		if (!e) {
			a->reaped_unknown++;
			return;
		}
		stage(a->t_exit_reaped, e, F_EXIT, F_PEXIT, 2, ts);
		stage(a->t_lifetime, e, F_SPAWN, 0, 0, ts);
		e->used |= F_REAPED;
		e->t[3] = (uint64_t)ts;
		if (tid > 0)
			e->aux = (uint32_t)tid;
		/* else wait: a proxied task's start and exit are emitted after its reap */
		if ((e->used & (F_START | F_EXIT)) == (F_START | F_EXIT))
			task_done(a, e);
		return;
	}
	e = pt_upsert(&a->tasks, &k, &fresh);
	if (!e) {
		a->oom = 1;
		return;
	}
	if (st == ANA_TASK_SPAWN) {
		a->spawned++;
		if (!fresh) { /* the previous task of this seq never completed */
			a->respawned++;
			task_row(a, e);
			memset(e->t, 0, sizeof(e->t));
			e->aux = 0;
			e->used = 1;
		}
		e->used |= F_SPAWN;
		e->t[0] = (uint64_t)ts;
		return;
	}
	if (fresh)
		a->without_spawn++;
	if (proxy)
		a->proxied++;
	if (st == ANA_TASK_START) {
		a->started++;
		if (!proxy)
			stage(a->t_spawn_start, e, F_SPAWN, 0, 0, ts);
		e->used |= F_START | (proxy ? F_PSTART : 0);
		e->t[1] = (uint64_t)ts;
	} else {
		a->exited++;
		if (!proxy)
			stage(a->t_start_exit, e, F_START, F_PSTART, 1, ts);
		e->used |= F_EXIT | (proxy ? F_PEXIT : 0);
		e->t[2] = (uint64_t)ts;
	}
	if (tid > 0)
		e->aux = (uint32_t)tid;
	if ((e->used & (F_START | F_EXIT | F_REAPED)) == (F_START | F_EXIT | F_REAPED))
		task_done(a, e);
}

/* ---------------------------------------------------------------- output */

/* {count min mean stddev p50 p90 p99 p999 max overflow} in ns: the experiments' latency
 * summary object (the same fields as il_json_summary in src/core/result.c). */
static json_t *jsum(const struct il_hist *h)
{
	if (!h)
		return json_null();
	struct il_summary s;
	il_hist_summary(h, &s);
	return json_pack("{sI sI sf sf sI sI sI sI sI sI}", "count", (json_int_t)s.count, "min",
			 (json_int_t)s.min, "mean", s.mean, "stddev", s.stddev, "p50", (json_int_t)s.p50, "p90",
			 (json_int_t)s.p90, "p99", (json_int_t)s.p99, "p999", (json_int_t)s.p999, "max",
			 (json_int_t)s.max, "overflow", (json_int_t)s.overflow);
}

/* obj gets "experiment" (the experiment's own values) and "tracing_offset" (tracer's
 * view - experiment's, per interval); returns obj. */
static json_t *with_timed(struct ana *a, json_t *obj, const struct timed *t)
{
	(void)json_object_set_new(obj, "experiment", jsum(t->exp ? t->exp : a->empty));
	(void)json_object_set_new(obj, "tracing_offset", jsum(t->offset ? t->offset : a->empty));
	return obj;
}

static void count_pending_msg(const struct pt_entry *e, void *arg)
{
	struct ana *a = arg;
	if (e->aux < a->nchans)
		a->chans[e->aux].pending_sends++;
}

static void count_pending_sig(const struct pt_entry *e, void *arg)
{
	struct ana *a = arg;
	if ((e->used & F_GROUP) && (e->used & F_MATCHED))
		return;
	sig_slot(a, (int64_t)e->k.b)->pending_sends++;
}

static void flush_pending_task(const struct pt_entry *e, void *arg)
{
	task_row(arg, e);
}

struct open_bus {
	struct ana *a;
	json_t *arr;
};

static void list_open_bus(const struct pt_entry *e, void *arg)
{
	struct open_bus *o = arg;
	(void)json_array_append_new(o->arr, json_pack("{ss sI ss sI}", "role", str_of(o->a, e->k.b), "vpid",
						      (json_int_t)e->k.a, "state", str_of(o->a, e->aux),
						      "since_ns", (json_int_t)e->t[0]));
}

static void tsv_summary_cols(FILE *f)
{
	(void)fprintf(f, "count\tmin\tmean\tstddev\tp50\tp90\tp99\tp999\tmax\toverflow");
}

static void tsv_summary(FILE *f, const struct il_hist *h)
{
	struct il_summary s;
	if (!h) {
		(void)fprintf(f, "0\t0\t0\t0\t0\t0\t0\t0\t0\t0");
		return;
	}
	il_hist_summary(h, &s);
	(void)fprintf(f, "%" PRIu64 "\t%" PRIu64 "\t%.1f\t%.1f\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64
		      "\t%" PRIu64 "\t%" PRIu64,
		      s.count, s.min, s.mean, s.stddev, s.p50, s.p90, s.p99, s.p999, s.max, s.overflow);
}

static json_t *messages_json(struct ana *a, FILE *tsv, FILE *hist)
{
	pt_foreach(&a->msgs, count_pending_msg, a);
	json_t *chans = json_array(), *dirs = json_array();
	uint64_t tot[7] = { 0 };
	if (tsv) {
		(void)fprintf(tsv, "# message delivery latency per channel (msg_send -> msg_recv), ns\n"
			      "# transport\tchan\trepeat\tdirection\tsends\trecvs\tmatched\tunmatched_sends\t"
			      "unmatched_recvs\t");
		tsv_summary_cols(tsv);
		(void)fputc('\n', tsv);
	}
	for (size_t i = 0; i < a->nchans; i++) {
		struct chan *c = &a->chans[i];
		uint64_t us = c->pending_sends + c->dup_sends;
		(void)json_array_append_new(
			chans, json_pack("{ss sI sI sI sI sI sI sI sI sI so so}", "transport", str_of(a, c->tid),
					 "chan", (json_int_t)c->chan, "repeat", (json_int_t)(c->chan >> 1),
					 "direction", (json_int_t)(c->chan & 1), "sends", (json_int_t)c->sends,
					 "recvs", (json_int_t)c->recvs, "matched", (json_int_t)c->matched,
					 "unmatched_sends", (json_int_t)us, "unmatched_recvs",
					 (json_int_t)c->unmatched_recvs, "duplicate_sends", (json_int_t)c->dup_sends,
					 "warmup", c->warmup_known ? json_integer((json_int_t)c->warmup) : json_null(),
					 "latency", jsum(c->lat)));
		tot[0] += c->sends, tot[1] += c->recvs, tot[2] += c->matched, tot[3] += us;
		tot[4] += c->unmatched_recvs, tot[5] += c->dup_sends, tot[6] += c->negative;
		if (tsv) {
			(void)fprintf(tsv, "%s\t%" PRIu32 "\t%" PRIu32 "\t%" PRIu32 "\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64
				      "\t%" PRIu64 "\t%" PRIu64 "\t",
				      str_of(a, c->tid), c->chan, c->chan >> 1, c->chan & 1, c->sends, c->recvs,
				      c->matched, us, c->unmatched_recvs);
			tsv_summary(tsv, c->lat);
			(void)fputc('\n', tsv);
		}
	}
	for (size_t d = 0; d < a->ndirs; d++) {
		struct dir_hists *dh = &a->dirs[d];
		if (!dh->all)
			continue;
		uint32_t tid = (uint32_t)(d / 2), dir = (uint32_t)(d % 2);
		uint64_t n[5] = { 0 };
		for (size_t i = 0; i < a->nchans; i++) {
			struct chan *c = &a->chans[i];
			if (c->tid != tid || (c->chan & 1) != dir)
				continue;
			if (c->lat)
				il_hist_merge(dh->all, c->lat);
			n[0] += c->sends, n[1] += c->recvs, n[2] += c->matched;
			n[3] += c->pending_sends + c->dup_sends, n[4] += c->unmatched_recvs;
		}
		json_t *o = json_pack("{ss sI sI sI sI sI sI so so}", "transport", str_of(a, tid), "direction",
				      (json_int_t)dir, "sends", (json_int_t)n[0], "recvs", (json_int_t)n[1], "matched",
				      (json_int_t)n[2], "unmatched_sends", (json_int_t)n[3], "unmatched_recvs",
				      (json_int_t)n[4], "latency", jsum(dh->all), "latency_measured", jsum(dh->measured));
		(void)json_array_append_new(dirs, with_timed(a, o, &dh->timed));
		if (hist) {
			char name[300];
			(void)snprintf(name, sizeof(name), "%s direction %u (all messages)", str_of(a, tid), dir);
			(void)il_hist_write_tsv(dh->all, name, hist);
			(void)fprintf(hist, "\n\n");
			(void)snprintf(name, sizeof(name), "%s direction %u (measured: warm-up excluded)",
				       str_of(a, tid), dir);
			(void)il_hist_write_tsv(dh->measured, name, hist);
			(void)fprintf(hist, "\n\n");
		}
	}
	return json_pack("{sI sI sI sI sI sI sI sI so so}", "sends", (json_int_t)tot[0], "recvs", (json_int_t)tot[1],
			 "matched", (json_int_t)tot[2], "unmatched_sends", (json_int_t)tot[3], "unmatched_recvs",
			 (json_int_t)tot[4], "duplicate_sends", (json_int_t)tot[5], "negative_latency",
			 (json_int_t)tot[6], "in_flight_peak", (json_int_t)a->msgs.peak, "by_direction", dirs,
			 "channels", chans);
}

static json_t *signals_json(struct ana *a, FILE *tsv, FILE *hist)
{
	pt_foreach(&a->sigs, count_pending_sig, a);
	json_t *arr = json_array();
	uint64_t tot[6] = { 0 };
	if (tsv) {
		(void)fprintf(tsv, "# signal delivery latency per signal (sig_send -> sig_receive), ns\n"
			      "# signo\tsends\treceives\tmatched\tunmatched_sends\tunmatched_receives\t");
		tsv_summary_cols(tsv);
		(void)fputc('\n', tsv);
	}
	for (int i = 0; i < SIG_SLOTS; i++) {
		struct sigstat *s = &a->sig[i];
		if (!s->sends && !s->recvs)
			continue;
		json_t *methods = json_array();
		for (uint32_t m = 0; m < 64 && m < a->str.n; m++)
			if (s->methods & (1ull << m))
				(void)json_array_append_new(methods, json_string(str_of(a, m)));
		uint64_t us = s->pending_sends + s->dup_sends;
		json_t *o = json_pack("{so sI sI sI sI sI sI so so}", "signo", i ? json_integer(i) : json_null(),
				      "sends", (json_int_t)s->sends, "receives", (json_int_t)s->recvs, "matched",
				      (json_int_t)s->matched, "unmatched_sends", (json_int_t)us, "unmatched_receives",
				      (json_int_t)s->unmatched_recvs, "group_sends", (json_int_t)s->group_sends,
				      "methods", methods, "latency", jsum(s->lat));
		(void)json_array_append_new(arr, with_timed(a, o, &s->timed));
		tot[0] += s->sends, tot[1] += s->recvs, tot[2] += s->matched, tot[3] += us;
		tot[4] += s->unmatched_recvs, tot[5] += s->group_sends;
		if (tsv) {
			(void)fprintf(tsv, "%d\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64 "\t", i,
				      s->sends, s->recvs, s->matched, us, s->unmatched_recvs);
			tsv_summary(tsv, s->lat);
			(void)fputc('\n', tsv);
		}
		if (hist && s->lat) {
			char name[64];
			(void)snprintf(name, sizeof(name), "signal %d delivery", i);
			(void)il_hist_write_tsv(s->lat, name, hist);
			(void)fprintf(hist, "\n\n");
		}
	}
	return json_pack("{sI sI sI sI sI sI sI sI so}", "sends", (json_int_t)tot[0], "receives", (json_int_t)tot[1],
			 "matched", (json_int_t)tot[2], "unmatched_sends", (json_int_t)tot[3], "unmatched_receives",
			 (json_int_t)tot[4], "group_sends", (json_int_t)tot[5], "child_reaps",
			 (json_int_t)a->child_reaps, "in_flight_peak", (json_int_t)a->sigs.peak, "by_signo", arr);
}

static json_t *locks_json(struct ana *a, FILE *tsv, FILE *ttsv)
{
	uint64_t held = 0;
	for (size_t i = 0; i < a->nlk; i++)
		held += a->lk[i].nheld;
	json_t *locks = json_array(), *threads = json_array();
	if (tsv) {
		(void)fprintf(tsv, "# lock wait (request -> acquire) and hold (acquire -> release) per lock, ns\n"
			      "# lock\tkind\trequests\tacquires\treleases\twait_count\twait_p50\twait_p99\twait_max\t"
			      "hold_count\thold_p50\thold_p99\thold_max\n");
	}
	for (size_t i = 0; i < a->nlk; i++) {
		struct lockstat *l = &a->lk[i];
		json_t *o = json_pack("{sI ss sI sI sI sI sI sI sI sI so so}", "lock", (json_int_t)l->lock, "kind",
				      str_of(a, l->kind), "requests", (json_int_t)l->requests, "acquires",
				      (json_int_t)l->acquires, "releases", (json_int_t)l->releases,
				      "acquires_without_request", (json_int_t)l->acquires_without_request,
				      "releases_without_acquire", (json_int_t)l->releases_without_acquire,
				      "cross_thread_releases", (json_int_t)l->cross_thread_releases,
				      "requests_abandoned", (json_int_t)l->requests_abandoned, "still_held",
				      (json_int_t)l->nheld, "wait", jsum(l->wait), "hold", jsum(l->hold));
		(void)json_array_append_new(locks, with_timed(a, o, &l->timed));
		if (tsv) {
			struct il_summary w, h;
			il_hist_summary(l->wait, &w);
			il_hist_summary(l->hold, &h);
			(void)fprintf(tsv, "%" PRIu32 "\t%s\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64
				      "\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64 "\n",
				      l->lock, str_of(a, l->kind), l->requests, l->acquires, l->releases, w.count, w.p50,
				      w.p99, w.max, h.count, h.p50, h.p99, h.max);
		}
	}
	if (ttsv)
		(void)fprintf(ttsv, "# lock wait and hold per thread, ns\n"
			      "# vtid\twaits\twait_total\twait_max\tholds\thold_total\thold_max\n");
	for (size_t i = 0; i < a->nth; i++) {
		struct threadstat *t = &a->th[i];
		(void)json_array_append_new(
			threads, json_pack("{sI sI sI sI sf sI sI sI sf}", "vtid", (json_int_t)t->vtid, "waits",
					   (json_int_t)t->waits, "wait_total_ns", (json_int_t)t->wait_total,
					   "wait_max_ns", (json_int_t)t->wait_max, "wait_mean_ns",
					   t->waits ? (double)t->wait_total / (double)t->waits : 0.0, "holds",
					   (json_int_t)t->holds, "hold_total_ns", (json_int_t)t->hold_total,
					   "hold_max_ns", (json_int_t)t->hold_max, "hold_mean_ns",
					   t->holds ? (double)t->hold_total / (double)t->holds : 0.0));
		if (ttsv)
			(void)fprintf(ttsv, "%" PRId64 "\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64
				      "\t%" PRIu64 "\n",
				      t->vtid, t->waits, t->wait_total, t->wait_max, t->holds, t->hold_total,
				      t->hold_max);
	}
	return json_pack("{sI sI sI sI sI so so}", "pending_requests", (json_int_t)a->locks.count, "still_held",
			 (json_int_t)held, "in_flight_peak", (json_int_t)a->locks.peak, "locks_dropped",
			 (json_int_t)a->locks_dropped, "threads_dropped", (json_int_t)a->threads_dropped, "locks",
			 locks, "threads", threads);
}

static json_t *races_json(struct ana *a, FILE *tsv)
{
	race_close(a);
	if (tsv) {
		(void)fprintf(tsv, "# shared-counter race segments (one per measured run)\n"
			      "# lost_updates = increments - (final - initial)\n"
			      "# segment\tbegin_ns\tend_ns\treads\tincrements\tinitial\tfinal\tlost_updates\t"
			      "overlapping_windows\n");
		size_t i;
		json_t *s;
		json_array_foreach(a->race_segments, i, s)
		{
			(void)fprintf(tsv, "%zu\t%" JSON_INTEGER_FORMAT "\t%" JSON_INTEGER_FORMAT "\t%" JSON_INTEGER_FORMAT
				      "\t%" JSON_INTEGER_FORMAT "\t%" JSON_INTEGER_FORMAT "\t%" JSON_INTEGER_FORMAT
				      "\t%" JSON_INTEGER_FORMAT "\t%" JSON_INTEGER_FORMAT "\n",
				      i, json_integer_value(json_object_get(s, "begin_ns")),
				      json_integer_value(json_object_get(s, "end_ns")),
				      json_integer_value(json_object_get(s, "reads")),
				      json_integer_value(json_object_get(s, "increments")),
				      json_integer_value(json_object_get(s, "initial")),
				      json_integer_value(json_object_get(s, "final")),
				      json_integer_value(json_object_get(s, "lost_updates")),
				      json_integer_value(json_object_get(s, "overlapping_windows")));
		}
	}
	json_t *o = json_pack("{sI sI sI sI sO}", "segments_total", (json_int_t)a->race_segments_total, "increments",
			      (json_int_t)a->race_total_writes, "lost_updates", (json_int_t)a->race_total_lost,
			      "workers_dropped", (json_int_t)a->race_worker_dropped, "segments", a->race_segments);
	return o;
}

static json_t *tasks_json(struct ana *a)
{
	uint64_t pending = a->tasks.count;
	pt_foreach(&a->tasks, flush_pending_task, a);
	return json_pack("{sI sI sI sI sI sI sI sI sI sI sI so so so so}", "spawned", (json_int_t)a->spawned, "started",
			 (json_int_t)a->started, "exited", (json_int_t)a->exited, "reaped", (json_int_t)a->reaped,
			 "complete_timelines", (json_int_t)a->completed, "incomplete", (json_int_t)pending,
			 "proxied_events", (json_int_t)a->proxied,
			 "respawned_before_reap", (json_int_t)a->respawned, "without_spawn",
			 (json_int_t)a->without_spawn, "reaped_unknown", (json_int_t)a->reaped_unknown,
			 "in_flight_peak", (json_int_t)a->tasks.peak, "spawn_to_start", jsum(a->t_spawn_start),
			 "start_to_exit", jsum(a->t_start_exit), "exit_to_reaped", jsum(a->t_exit_reaped),
			 "spawn_to_reaped", jsum(a->t_lifetime));
}

static json_t *bus_json(struct ana *a, FILE *tsv)
{
	json_t *states = json_array(), *open = json_array();
	if (tsv) {
		(void)fprintf(tsv, "# bus driver/conductor: time spent per state, ns\n# role\tstate\t");
		tsv_summary_cols(tsv);
		(void)fprintf(tsv, "\ttotal\n");
	}
	for (size_t i = 0; i < a->nbus; i++) {
		struct busstat *b = &a->busst[i];
		(void)json_array_append_new(states, json_pack("{ss ss sI sI so}", "role", str_of(a, b->role), "state",
							      str_of(a, b->state), "count", (json_int_t)b->count,
							      "total_ns", (json_int_t)b->total, "duration",
							      jsum(b->dur)));
		if (tsv) {
			(void)fprintf(tsv, "%s\t%s\t", str_of(a, b->role), str_of(a, b->state));
			tsv_summary(tsv, b->dur);
			(void)fprintf(tsv, "\t%" PRIu64 "\n", b->total);
		}
	}
	struct open_bus ob = { a, open };
	pt_foreach(&a->bus, list_open_bus, &ob);
	return json_pack("{sI so so}", "transitions", (json_int_t)a->bus_transitions, "states", states,
			 "final_states", open);
}

static json_t *runs_json(struct ana *a)
{
	json_t *arr = json_array();
	for (size_t i = 0; i < a->nruns; i++) {
		struct run *r = &a->runs[i];
		(void)json_array_append_new(
			arr, json_pack("{ss ss sI sI sI sI sI so so so}", "experiment", str_of(a, r->experiment),
				       "variant", str_of(a, r->variant), "vpid", (json_int_t)r->vpid, "mode",
				       (json_int_t)r->mode, "repeat", (json_int_t)r->repeat, "iterations",
				       (json_int_t)r->iterations, "warmup", (json_int_t)r->warmup, "begin_ns",
				       json_integer(r->begin), "end_ns",
				       r->ended ? json_integer(r->end) : json_null(), "status",
				       r->ended ? json_integer(r->status) : json_null()));
	}
	return arr;
}

/* Opens DIR/name for a summary TSV; NULL (and err set) on failure. */
static FILE *tsv_summary_file(struct ana *a, const char *name, int *failed, char *err, size_t errlen)
{
	if (!a->tsv_dir || *failed)
		return NULL;
	FILE *f = tsv_open(a, name, err, errlen);
	if (!f)
		*failed = 1;
	return f;
}

static int tsv_close(FILE *f, int *failed, char *err, size_t errlen, const char *name)
{
	if (!f)
		return 0;
	if (ferror(f) | fclose(f)) {
		if (!*failed)
			(void)snprintf(err, errlen, "writing %s failed", name);
		*failed = 1;
		return -1;
	}
	return 0;
}

int ana_finish(struct ana *a, json_t *events, const char *json_path, char *err, size_t errlen)
{
	int tsv_failed = 0, rc = 0;
	FILE *f_msg = tsv_summary_file(a, "messages.tsv", &tsv_failed, err, errlen);
	FILE *f_msgh = tsv_summary_file(a, "messages_hist.tsv", &tsv_failed, err, errlen);
	FILE *f_sig = tsv_summary_file(a, "signals.tsv", &tsv_failed, err, errlen);
	FILE *f_sigh = tsv_summary_file(a, "signals_hist.tsv", &tsv_failed, err, errlen);
	FILE *f_lk = tsv_summary_file(a, "locks.tsv", &tsv_failed, err, errlen);
	FILE *f_th = tsv_summary_file(a, "lock_threads.tsv", &tsv_failed, err, errlen);
	FILE *f_race = tsv_summary_file(a, "races.tsv", &tsv_failed, err, errlen);
	FILE *f_bus = tsv_summary_file(a, "bus_states.tsv", &tsv_failed, err, errlen);

	int complete = a->discarded_events == 0 && a->discarded_packets == 0 && !a->discards_unknown &&
		       json_array_size(a->incomplete) == 0;
	json_t *root = json_object();
	json_t *msgs = messages_json(a, f_msg, f_msgh);
	json_t *sigs = signals_json(a, f_sig, f_sigh);
	json_t *locks = locks_json(a, f_lk, f_th);
	json_t *races = races_json(a, f_race);
	json_t *tasks = tasks_json(a);
	json_t *bus = bus_json(a, f_bus);
	if (a->tsv_tasks && !a->tsv_tasks_hdr)
		tsv_origin_header(a, a->tsv_tasks,
				  "task timelines (spawn -> start -> exit -> reaped); -1: not seen, or a proxy's time",
				  "seq\ttid\tspawn\tstart\texit\treaped\tproxy");
	if (a->tsv_bus && !a->tsv_bus_hdr)
		tsv_origin_header(a, a->tsv_bus, "bus driver/conductor state intervals",
				  "role\tvpid\tstate\tbegin\tend\tduration");
	if (a->oom)
		ana_warn(a, "out of memory during the analysis: some results are missing");
	if (a->chans_dropped)
		ana_warn(a, "%" PRIu64 " messages on channels beyond the first %d not analysed", a->chans_dropped,
			 MAX_CHANS);
	if (a->locks_dropped)
		ana_warn(a, "%" PRIu64 " lock events on locks beyond the first %d not analysed", a->locks_dropped,
			 MAX_LOCKS);
	if (a->negative_offsets)
		ana_warn(a, "%" PRIu64 " timed intervals are shorter in the trace than the experiment's own stamps "
			 "say: is the trace clock not CLOCK_MONOTONIC?", a->negative_offsets);
	json_t *range = a->have_time ? json_pack("{sI sI sI}", "begin_ns", (json_int_t)a->t_first, "end_ns",
						  (json_int_t)a->t_last, "duration_ns",
						  (json_int_t)(a->t_last - a->t_first))
				     : json_null();
	if (!root || json_object_set_new(root, "schema", json_string(ANA_SCHEMA)) ||
	    json_object_set_new(root, "complete", json_boolean(complete)) ||
	    json_object_set_new(root, "discarded_events", json_integer((json_int_t)a->discarded_events)) ||
	    json_object_set_new(root, "discarded_packets", json_integer((json_int_t)a->discarded_packets)) ||
	    json_object_set_new(root, "discard_counts_unknown", json_boolean(a->discards_unknown)) ||
	    json_object_set(root, "incomplete_streams", a->incomplete) ||
	    json_object_set_new(root, "time_range", range) || json_object_set_new(root, "events", events) ||
	    json_object_set_new(root, "runs", runs_json(a)) ||
	    json_object_set_new(root, "runs_dropped", json_integer((json_int_t)a->runs_dropped)) ||
	    json_object_set_new(root, "messages", msgs) || json_object_set_new(root, "signals", sigs) ||
	    json_object_set_new(root, "locks", locks) || json_object_set_new(root, "races", races) ||
	    json_object_set_new(root, "tasks", tasks) || json_object_set_new(root, "bus", bus) ||
	    json_object_set(root, "warnings", a->warnings)) {
		(void)snprintf(err, errlen, "out of memory building the JSON result");
		rc = -1;
		goto out;
	}
	if (!json_path || strcmp(json_path, "-") == 0) {
		if (json_dumpf(root, stdout, JSON_INDENT(2)) < 0 || fputc('\n', stdout) == EOF || fflush(stdout)) {
			(void)snprintf(err, errlen, "writing the JSON result to stdout failed");
			rc = -1;
		}
	} else {
		char tmp[4096];
		(void)snprintf(tmp, sizeof(tmp), "%s.tmp%d", json_path, (int)getpid());
		if (json_dump_file(root, tmp, JSON_INDENT(2)) < 0 || rename(tmp, json_path) < 0) {
			(void)snprintf(err, errlen, "cannot write %s: %s", json_path, strerror(errno));
			(void)unlink(tmp);
			rc = -1;
		}
	}
out:
	json_decref(root);
	tsv_close(f_msg, &tsv_failed, err, errlen, "messages.tsv");
	tsv_close(f_msgh, &tsv_failed, err, errlen, "messages_hist.tsv");
	tsv_close(f_sig, &tsv_failed, err, errlen, "signals.tsv");
	tsv_close(f_sigh, &tsv_failed, err, errlen, "signals_hist.tsv");
	tsv_close(f_lk, &tsv_failed, err, errlen, "locks.tsv");
	tsv_close(f_th, &tsv_failed, err, errlen, "lock_threads.tsv");
	tsv_close(f_race, &tsv_failed, err, errlen, "races.tsv");
	tsv_close(f_bus, &tsv_failed, err, errlen, "bus_states.tsv");
	FILE *ft = a->tsv_tasks, *fb = a->tsv_bus;
	a->tsv_tasks = a->tsv_bus = NULL;
	tsv_close(ft, &tsv_failed, err, errlen, "tasks.tsv");
	tsv_close(fb, &tsv_failed, err, errlen, "bus_intervals.tsv");
	return tsv_failed ? -1 : rc;
}
