/* task.c - task life cycles: task_spawn -> task_start -> task_exit -> task_reaped paired by
 * seq, stage durations, and one timeline row per task in tasks.tsv as the trace is read.
 * A proxied start or exit (emitted by the creator after the reap, proxy = 1) completes a
 * timeline but is left out of the stage durations: its time is not the task's. */
#include "ana_int.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* pair flags (pt_entry.used; bit 0 always set) */
#define F_SPAWN 0x2u  /* task stages seen (F_SPAWN << stage) */
#define F_START 0x4u
#define F_EXIT 0x8u
#define F_REAPED 0x10u
#define F_PSTART 0x20u /* start / exit were proxies (emitted by the creator) */
#define F_PEXIT 0x40u

struct tasks {
	struct pairtab pairs; /* e->t[stage], e->aux: the task's tid */
	uint64_t spawned, started, exited, reaped, completed, respawned, without_spawn, reaped_unknown, proxied;
	struct il_hist *spawn_start, *start_exit, *exit_reaped, *lifetime;
};

static int task_init(struct ana *a)
{
	struct tasks *t = calloc(1, sizeof(*t));
	if (!t || pt_init(&t->pairs, 64) < 0) {
		free(t);
		return -1;
	}
	a->tasks = t;
	t->spawn_start = ana_hist_new(a, 0);
	t->start_exit = ana_hist_new(a, 0);
	t->exit_reaped = ana_hist_new(a, 0);
	t->lifetime = ana_hist_new(a, 0);
	return a->oom ? -1 : 0;
}

static void task_fini(struct ana *a)
{
	struct tasks *t = a->tasks;
	if (!t)
		return;
	pt_free(&t->pairs);
	free(t->spawn_start);
	free(t->start_exit);
	free(t->exit_reaped);
	free(t->lifetime);
	free(t);
}

/* One timeline row of tasks.tsv. */
static void task_row(struct ana *a, const struct pt_entry *e)
{
	FILE *f = ana_stream(a, &ana_task_module);
	if (!f)
		return;
	int64_t v[4];
	for (int i = 0; i < 4; i++) {
		int seen = (e->used & (F_SPAWN << i)) && !(i == 1 && (e->used & F_PSTART)) &&
			   !(i == 2 && (e->used & F_PEXIT));
		v[i] = seen ? (int64_t)e->t[i] - a->t_first : -1;
	}
	(void)fprintf(f, "%" PRIu64 "\t%" PRIu32 "\t%" PRId64 "\t%" PRId64 "\t%" PRId64 "\t%" PRId64 "\t%d\n",
		      pt_key_seq(&e->k), e->aux, v[0], v[1], v[2], v[3], (e->used & (F_PSTART | F_PEXIT)) ? 1 : 0);
}

/* Adds (tb - the entry's timestamp ia) to h if that stage (flag fa) was seen and was not
 * a proxy (flag pa). */
static void stage(struct il_hist *h, const struct pt_entry *e, uint32_t fa, uint32_t pa, int ia, int64_t tb)
{
	if ((e->used & fa) && !(e->used & pa) && tb >= (int64_t)e->t[ia])
		ana_hist_add(h, (uint64_t)(tb - (int64_t)e->t[ia]));
}

/* A task whose remaining events were seen: its row; complete if all four were. */
static void task_done(struct ana *a, struct pt_entry *e)
{
	if ((e->used & (F_SPAWN | F_START | F_EXIT | F_REAPED)) == (F_SPAWN | F_START | F_EXIT | F_REAPED))
		a->tasks->completed++;
	task_row(a, e);
	pt_remove(&a->tasks->pairs, e);
}

static void task_reaped(struct ana *a, int64_t ts, const struct pt_key *k, int64_t tid)
{
	struct tasks *t = a->tasks;
	t->reaped++;
	struct pt_entry *e = pt_find(&t->pairs, k);
	if (!e) {
		t->reaped_unknown++;
		return;
	}
	stage(t->exit_reaped, e, F_EXIT, F_PEXIT, 2, ts);
	stage(t->lifetime, e, F_SPAWN, 0, 0, ts);
	e->used |= F_REAPED;
	e->t[3] = (uint64_t)ts;
	if (tid > 0)
		e->aux = (uint32_t)tid;
	/* else wait: a proxied task's start and exit are emitted after its reap */
	if ((e->used & (F_START | F_EXIT)) == (F_START | F_EXIT))
		task_done(a, e);
}

static void task_spawn(struct ana *a, struct pt_entry *e, int fresh, int64_t ts)
{
	struct tasks *t = a->tasks;
	t->spawned++;
	if (!fresh) { /* the previous task of this seq never completed */
		t->respawned++;
		task_row(a, e);
		memset(e->t, 0, sizeof(e->t));
		e->aux = 0;
		e->used = 1;
	}
	e->used |= F_SPAWN;
	e->t[0] = (uint64_t)ts;
}

void ana_task(struct ana *a, enum ana_task_stage st, int64_t ts, uint64_t seq, int64_t tid, int proxy)
{
	struct tasks *t = a->tasks;
	struct pt_key k = pt_key_task(seq);
	int fresh;
	if (st == ANA_TASK_REAPED) {
		task_reaped(a, ts, &k, tid);
		return;
	}
	struct pt_entry *e = pt_upsert(&t->pairs, &k, &fresh);
	if (!e) {
		a->oom = 1;
		return;
	}
	if (st == ANA_TASK_SPAWN) {
		task_spawn(a, e, fresh, ts);
		return;
	}
	if (fresh)
		t->without_spawn++;
	if (proxy)
		t->proxied++;
	if (st == ANA_TASK_START) {
		t->started++;
		if (!proxy)
			stage(t->spawn_start, e, F_SPAWN, 0, 0, ts);
		e->used |= F_START | (proxy ? F_PSTART : 0);
		e->t[1] = (uint64_t)ts;
	} else {
		t->exited++;
		if (!proxy)
			stage(t->start_exit, e, F_START, F_PSTART, 1, ts);
		e->used |= F_EXIT | (proxy ? F_PEXIT : 0);
		e->t[2] = (uint64_t)ts;
	}
	if (tid > 0)
		e->aux = (uint32_t)tid;
	if ((e->used & (F_START | F_EXIT | F_REAPED)) == (F_START | F_EXIT | F_REAPED))
		task_done(a, e);
}

/* ---------------------------------------------------------------- output */

static void flush_pending(const struct pt_entry *e, void *arg)
{
	task_row(arg, e);
}

static json_t *task_render(struct ana *a, FILE *const tsv[2])
{
	(void)tsv;
	struct tasks *t = a->tasks;
	uint64_t pending = t->pairs.count;
	pt_foreach(&t->pairs, flush_pending, a);
	return json_pack("{sI sI sI sI sI sI sI sI sI sI sI so so so so}", "spawned", (json_int_t)t->spawned, "started",
			 (json_int_t)t->started, "exited", (json_int_t)t->exited, "reaped", (json_int_t)t->reaped,
			 "complete_timelines", (json_int_t)t->completed, "incomplete", (json_int_t)pending,
			 "proxied_events", (json_int_t)t->proxied, "respawned_before_reap", (json_int_t)t->respawned,
			 "without_spawn", (json_int_t)t->without_spawn, "reaped_unknown", (json_int_t)t->reaped_unknown,
			 "in_flight_peak", (json_int_t)t->pairs.peak, "spawn_to_start", ana_jsum(t->spawn_start),
			 "start_to_exit", ana_jsum(t->start_exit), "exit_to_reaped", ana_jsum(t->exit_reaped),
			 "spawn_to_reaped", ana_jsum(t->lifetime));
}

const struct ana_module ana_task_module = {
	.id = ANA_TASK,
	.key = "tasks",
	.stream = "tasks.tsv",
	.stream_what = "task timelines (spawn -> start -> exit -> reaped); -1: not seen, or a proxy's time",
	.stream_cols = "seq\ttid\tspawn\tstart\texit\treaped\tproxy",
	.init = task_init,
	.fini = task_fini,
	.render = task_render,
};
