/* core.c - the analyses' small core (see ana_int.h): life cycle, string interning, the
 * shared key -> array index, warnings, the time range, discard counts, histograms and
 * their summary rendering. */
#include "ana_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_STRINGS 4096 /* interned strings (transports, roles, kinds...) */
#define MAX_WARNINGS 50

const struct ana_module *const ana_modules[ANA_N] = {
	[ANA_MSG] = &ana_msg_module,   [ANA_SIG] = &ana_sig_module,   [ANA_LOCK] = &ana_lock_module,
	[ANA_RACE] = &ana_race_module, [ANA_TASK] = &ana_task_module, [ANA_BUS] = &ana_bus_module,
};

/* ---------------------------------------------------------------- helpers */

struct il_hist *ana_hist_new(struct ana *a, uint64_t max_ns)
{
	struct il_hist *h = malloc(sizeof(*h));
	if (!h) {
		a->oom = 1;
		return NULL;
	}
	il_hist_init(h, max_ns);
	return h;
}

int ana_grow(void **arr, size_t *cap, size_t n, size_t sz)
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

/* Compares with the last id first: events of one kind usually repeat the same string. */
uint32_t ana_intern(struct ana *a, const char *s)
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

const char *ana_str(const struct ana *a, uint32_t id)
{
	return id < a->str.n ? a->str.s[id] : "?";
}

int64_t ana_index(struct ana *a, uint32_t ns, uint64_t k1, uint32_t k2, int create, uint32_t next, int *fresh)
{
	struct pt_key k = pt_key_index(ns, k1, k2);
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

FILE *ana_stream(struct ana *a, const struct ana_module *m)
{
	struct ana_stream *s = &a->stream[m->id];
	if (s->f && !s->hdr++)
		(void)fprintf(s->f, "# %s\n# unit: ns; times relative to the first event of the trace\n"
			      "# origin_ns: %" PRId64 "\n# %s\n", m->stream_what, a->t_first, m->stream_cols);
	return s->f;
}

json_t *ana_jsum(const struct il_hist *h)
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

void ana_summary_pcts(FILE *f, const char *name, const struct il_hist *h)
{
	if (h && h->count)
		(void)fprintf(f, " %s.p50=%" PRIu64 " %s.p99=%" PRIu64, name, il_hist_percentile(h, 50), name,
			      il_hist_percentile(h, 99));
}

void ana_summary(struct ana *a, FILE *f, int final)
{
	if (final)
		(void)fputs("ipclab analysis: final", f);
	else
		(void)fprintf(f, "ipclab analysis: +%.1fs", a->have_time ? (double)(a->t_last - a->t_first) / 1e9 : 0.0);
	for (int i = 0; i < ANA_N; i++)
		if (ana_modules[i]->summary)
			ana_modules[i]->summary(a, f, final);
	(void)fputc('\n', f);
	(void)fflush(f);
}

void ana_tsv_summary_cols(FILE *f)
{
	(void)fprintf(f, "count\tmin\tmean\tstddev\tp50\tp90\tp99\tp999\tmax\toverflow");
}

void ana_tsv_summary(FILE *f, const struct il_hist *h)
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

/* ---------------------------------------------------------------- life cycle */

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

FILE *ana_tsv_open(struct ana *a, const char *name, char *err, size_t errlen)
{
	char path[4096];
	(void)snprintf(path, sizeof(path), "%s/%s", a->tsv_dir, name);
	FILE *f = fopen(path, "we");
	if (!f)
		(void)snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
	return f;
}

/* The TSV directory and the streamed files; -1 with err set. */
static int open_tsv(struct ana *a, const char *tsv_dir, char *err, size_t errlen)
{
	if (mkdirs(tsv_dir) < 0) {
		(void)snprintf(err, errlen, "cannot create the TSV directory %s: %s", tsv_dir,
			       errno ? strerror(errno) : "not a directory");
		return -1;
	}
	if (!(a->tsv_dir = strdup(tsv_dir))) {
		(void)snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (int i = 0; i < ANA_N; i++)
		if (ana_modules[i]->stream && !(a->stream[i].f = ana_tsv_open(a, ana_modules[i]->stream, err, errlen)))
			return -1;
	return 0;
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
	a->str.s = calloc(32, sizeof(char *));
	int ok = a->warnings && a->incomplete && pt_init(&a->index, 64) == 0 && a->str.s &&
		 (a->str.s[0] = strdup("?")) != NULL && ana_runs_init(a) == 0;
	a->str.n = 1;
	a->str.cap = 32;
	for (int i = 0; ok && i < ANA_N; i++)
		ok = ana_modules[i]->init(a) == 0;
	a->empty = ana_hist_new(a, LAT_HIST_MAX_NS);
	if (!ok || a->oom) {
		(void)snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (tsv_dir && *tsv_dir && open_tsv(a, tsv_dir, err, errlen) < 0)
		goto fail;
	return a;
fail:
	ana_free(a);
	return NULL;
}

void ana_free(struct ana *a)
{
	if (!a)
		return;
	for (int i = 0; i < ANA_N; i++) {
		if (a->stream[i].f)
			(void)fclose(a->stream[i].f);
		ana_modules[i]->fini(a);
	}
	ana_runs_fini(a);
	free(a->tsv_dir);
	for (uint32_t i = 0; i < a->str.n; i++)
		free(a->str.s[i]);
	free(a->str.s);
	pt_free(&a->index);
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
	a->discarded_events += count_known ? count : 1;
	if (!count_known)
		a->discards_unknown = 1;
}

void ana_discarded_packets(struct ana *a, uint64_t count, int count_known)
{
	a->discarded_packets += count_known ? count : 1;
	if (!count_known)
		a->discards_unknown = 1;
}
