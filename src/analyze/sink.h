/* sink.h - inside the babeltrace2 sink sink.ipclab.analyze: the component's state and
 * the three parts of its work: decoding events for the analyses (decode.c), pulling and
 * merging the inputs (merge.c), the component's methods and parameters (plugin.c). */
#ifndef IPCLAB_SINK_H
#define IPCLAB_SINK_H

#include <babeltrace2/babeltrace.h>

#include "ana.h"
#include "integrity.h"

#include <stdint.h>
#include <stdio.h>

/* Event kinds the analyses know. */
enum kind {
	K_OTHER,
	K_RUN_BEGIN,
	K_RUN_END,
	K_PROBE,
	K_MSG_SEND,
	K_MSG_RECV,
	K_SIG_SEND,
	K_SIG_RECV,
	K_BUS_STATE,
	K_CHILD_REAP,
	K_LOCK_REQUEST,
	K_LOCK_ACQUIRE,
	K_LOCK_RELEASE,
	K_RACE_READ,
	K_RACE_WRITE,
	K_TASK_SPAWN,
	K_TASK_START,
	K_TASK_EXIT,
	K_TASK_REAPED,
};

#define MAX_FIELDS 6

enum ftype { T_ABSENT = 0, T_UNSIGNED, T_SIGNED, T_STRING };

struct slot {
	uint64_t idx;
	enum ftype type;
};

/* One event class, resolved once. */
struct evc {
	const bt_event_class *cls; /* referenced */
	char *name;
	enum kind kind;
	int has_clock;
	int64_t origin; /* ns from origin at clock value 0: experiment stamps -> trace time */
	struct slot f[MAX_FIELDS];
	struct slot vpid, vtid; /* common context members */
	uint64_t count;
};

#define CACHE_SLOTS 256u

/* One connected input port: its iterator, the batch it returned and, when several
 * inputs are merged, the time of the next message. */
struct input {
	bt_message_iterator *it;
	bt_message_array_const msgs;
	uint64_t n, pos; /* batch size and next message (pos == n: batch used up) */
	int ended;
	int head_timed; /* the next message has a time: head_ts */
	int64_t head_ts;
	struct evc *head_evc; /* its event class, for an event message */
};

struct comp {
	bt_self_component *self;
	struct input *in; /* one per connected input port */
	size_t nin;
	struct ana *ana;
	struct integ *integ; /* damaged and incomplete streams */
	char *output;
	struct evc *evc;
	size_t nevc, evc_cap;
	struct evc *cache[CACHE_SLOTS]; /* direct-mapped by class address */
	int timed; /* the first event's time was recorded */
	int done;
	FILE *summary;         /* the summary parameter's stream, or NULL */
	uint64_t next_summary; /* CLOCK_MONOTONIC ns of the next summary line */
};

/* The event's time in ns from its clock's origin (0 without a clock). */
static inline int64_t event_time(const struct evc *e, const bt_message *msg)
{
	int64_t ts = 0;
	if (e->has_clock)
		(void)bt_clock_snapshot_get_ns_from_origin(bt_message_event_borrow_default_clock_snapshot_const(msg),
							   &ts);
	return ts;
}

/* ---------------------------------------------------------------- decode.c */

/* The descriptor of an event class, built at its first event; NULL when out of memory. */
struct evc *sink_evc(struct comp *c, const bt_event_class *cls);
/* Analyses one message (any type); messages come in time order. */
void sink_handle(struct comp *c, const bt_message *msg);
/* Analyses an event of class e at time ts (an analysed kind), or a non-event message. */
void sink_analyse_event(struct comp *c, const bt_event *ev, const struct evc *e, int64_t ts);
void sink_handle_other(struct comp *c, const bt_message *msg, bt_message_type type);
/* Times the last event message of a batch (the trace's time range). */
void sink_time_batch_end(struct comp *c, bt_message_array_const msgs, uint64_t n);
/* The {"total", "ipclab", "by_name"} object of event counts; NULL when out of memory. */
json_t *sink_event_counts(struct comp *c);

/* ---------------------------------------------------------------- merge.c */

bt_component_class_sink_consume_method_status sink_consume_one(struct comp *c);
bt_component_class_sink_consume_method_status sink_consume_merge(struct comp *c);

/* ---------------------------------------------------------------- plugin.c */

/* -1 (and a cause on the error chain) if msg shows the trace is damaged (integrity.h). */
int sink_damaged(struct comp *c, const bt_message *msg);
/* All inputs ended: the result written. */
bt_component_class_sink_consume_method_status sink_finish(struct comp *c);

#endif
