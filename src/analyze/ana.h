/* ana.h - the ipclab trace analyses, independent of babeltrace2: the sink plugin
 * (plugin.c) decodes each event and calls one of the ana_* functions below; at the end
 * ana_finish() renders one JSON document (and TSV files) from the accumulated state.
 *
 * Pairing rules (what "matched" means), all keyed without the vpid so a pair may span
 * processes, and every in-flight entry removed as soon as it is matched, so memory is
 * bounded by what is in flight, not by the trace length:
 *   messages  msg_send -> msg_recv        key (transport, chan, seq)
 *   signals   sig_send -> sig_receive     key (signo, seq)
 *   locks     lock_request -> lock_acquire -> lock_release   key (lock, kind, vtid)
 *   tasks     task_spawn -> task_start -> task_exit -> task_reaped   key seq
 *   bus       bus_state intervals          key (vpid, role)
 * The trace is read in time order (babeltrace2's muxer), so a receive whose send was
 * not seen (discarded, or before a --begin cut) is counted as unmatched at once and
 * never stored. */
#ifndef IPCLAB_ANA_H
#define IPCLAB_ANA_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define ANA_SCHEMA "ipclab-analysis/1"

struct ana;

/* tsv_dir: NULL for no TSV output (else created if missing). NULL on failure (reason in err). */
struct ana *ana_new(const char *tsv_dir, char *err, size_t errlen);
void ana_free(struct ana *a);

/* An event's time in ns from the clock origin (0 if none), in time order: at least the
 * trace's first and last events (the time range), and every analysed event. */
void ana_event_time(struct ana *a, int64_t ts);

void ana_run_begin(struct ana *a, int64_t ts, int64_t vpid, const char *experiment, const char *variant,
		   int64_t mode, uint64_t repeat, uint64_t iterations, uint64_t warmup);
void ana_run_end(struct ana *a, int64_t ts, int64_t vpid, const char *experiment, const char *variant,
		 uint64_t repeat, int64_t status);

/* Experiment stamps (t_send/t_recv, t_begin/t_acquire): the emitting experiment's own
 * CLOCK_MONOTONIC reads bounding the interval it timed, converted to the trace's time
 * (ns from origin, like ts); both 0 when it timed none. Their difference is exactly the
 * experiment's value ("experiment" in the result); the event times give the tracer's
 * view of the same interval, and the two views' difference is "tracing_offset". */
void ana_msg_send(struct ana *a, int64_t ts, const char *transport, uint32_t chan, uint64_t seq);
void ana_msg_recv(struct ana *a, int64_t ts, const char *transport, uint32_t chan, uint64_t seq, uint64_t t_send,
		  uint64_t t_recv);

void ana_sig_send(struct ana *a, int64_t ts, int64_t signo, uint64_t seq, int64_t target);
void ana_sig_recv(struct ana *a, int64_t ts, int64_t signo, uint64_t seq, const char *method, uint64_t t_send,
		  uint64_t t_recv);
void ana_child_reap(struct ana *a, int64_t ts, int64_t pid, uint64_t seq);
void ana_bus_state(struct ana *a, int64_t ts, int64_t vpid, const char *role, const char *state);

enum ana_lock_op { ANA_LOCK_REQUEST, ANA_LOCK_ACQUIRE, ANA_LOCK_RELEASE };
void ana_lock(struct ana *a, enum ana_lock_op op, int64_t ts, uint32_t lock, const char *kind, int64_t vtid,
	      uint64_t t_begin, uint64_t t_acquire);

void ana_race(struct ana *a, int is_write, int64_t ts, uint32_t worker, uint64_t value);

/* Task life cycle, paired by seq. tid: the task's (start, exit, reaped; 0 for spawn, whose
 * fields name the creator). proxy: start/exit emitted by the creator after the reap for a
 * task that cannot trace itself: its time is not the task's, so it completes the timeline
 * but is left out of the stage durations. */
enum ana_task_stage { ANA_TASK_SPAWN, ANA_TASK_START, ANA_TASK_EXIT, ANA_TASK_REAPED };
void ana_task(struct ana *a, enum ana_task_stage st, int64_t ts, uint64_t seq, int64_t tid, int proxy);

/* A discarded-events / discarded-packets message; count_known 0: the count is unavailable. */
void ana_discarded_events(struct ana *a, uint64_t count, int count_known);
void ana_discarded_packets(struct ana *a, uint64_t count, int count_known);

/* A stream file that was not read whole (empty, cut short...): the result lists it in
 * "incomplete_streams" and says "complete": false. */
void ana_incomplete(struct ana *a, const char *path, const char *reason);

/* A note for the "warnings" array (e.g. an event whose fields do not match). */
void ana_warn(struct ana *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* One summary line of the analysis so far on f (while a live session is read; final: the
 * last one, whose numbers are the result's): messages matched and their rate, one-way
 * p50/p99 per transport and direction (warm-up excluded), signals matched and p50/p99
 * per signal, lock waits and their p50/p99 per lock. Changes nothing in the result. */
void ana_summary(struct ana *a, FILE *f, int final);

/* The result document (see README.md); events is the {"total", "ipclab", "by_name"}
 * object the caller counted (reference stolen). It ends the analysis: call it (or
 * ana_finish) once. NULL when out of memory. */
json_t *ana_result(struct ana *a, json_t *events);

/* The result written: JSON to json_path (NULL or "-": stdout), the summary TSV files, and
 * the streamed ones closed. 0 on success, -1 with err set. */
int ana_finish(struct ana *a, json_t *events, const char *json_path, char *err, size_t errlen);

#endif
