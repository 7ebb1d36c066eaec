/* merge.c - the sink's inputs: one time-ordered port (the CLI's muxer in front) analysed
 * as it comes, or any number of ports (every stream of source.ctf.fs, as
 * scripts/ipclab-analyze connects them) merged by event time as filter.utils.muxer does,
 * reading each event's clock once, for the order and for the analyses. Every message
 * goes through the integrity checks first (integrity.h). */
#include "sink.h"

#include <string.h>


/* Status of pulling the next batch of an input. */
enum pull { PULL_OK, PULL_END, PULL_AGAIN, PULL_MEMORY, PULL_ERROR };

static enum pull pull(struct comp *c, struct input *in)
{
	switch (bt_message_iterator_next(in->it, &in->msgs, &in->n)) {
	case BT_MESSAGE_ITERATOR_NEXT_STATUS_OK:
		in->pos = 0;
		return PULL_OK;
	case BT_MESSAGE_ITERATOR_NEXT_STATUS_END:
		in->ended = 1;
		in->n = in->pos = 0;
		return PULL_END;
	case BT_MESSAGE_ITERATOR_NEXT_STATUS_AGAIN:
		in->n = in->pos = 0;
		return PULL_AGAIN;
	case BT_MESSAGE_ITERATOR_NEXT_STATUS_MEMORY_ERROR:
		in->n = in->pos = 0;
		return PULL_MEMORY;
	default:
		in->n = in->pos = 0;
		BT_CURRENT_THREAD_ERROR_APPEND_CAUSE_FROM_COMPONENT(
			c->self, "ipclab analysis: reading the trace failed (truncated or corrupt trace?); no result written");
		return PULL_ERROR;
	}
}

static bt_component_class_sink_consume_method_status pull_status(enum pull p)
{
	switch (p) {
	case PULL_AGAIN:
		return BT_COMPONENT_CLASS_SINK_CONSUME_METHOD_STATUS_AGAIN;
	case PULL_MEMORY:
		return BT_COMPONENT_CLASS_SINK_CONSUME_METHOD_STATUS_MEMORY_ERROR;
	case PULL_ERROR:
		return BT_COMPONENT_CLASS_SINK_CONSUME_METHOD_STATUS_ERROR;
	default:
		return BT_COMPONENT_CLASS_SINK_CONSUME_METHOD_STATUS_OK;
	}
}

/* One input (the CLI's muxer in front, or a single stream): messages arrive in time
 * order, so they are analysed as they come. */
bt_component_class_sink_consume_method_status sink_consume_one(struct comp *c)
{
	struct input *in = &c->in[0];
	enum pull p = pull(c, in);
	if (p == PULL_END)
		return sink_finish(c);
	if (p != PULL_OK)
		return pull_status(p);
	for (uint64_t i = 0; i < in->n; i++) {
		if (sink_damaged(c, in->msgs[i])) {
			in->pos = 0; /* comp_free puts the batch */
			return BT_COMPONENT_CLASS_SINK_CONSUME_METHOD_STATUS_ERROR;
		}
		sink_handle(c, in->msgs[i]);
	}
	sink_time_batch_end(c, in->msgs, in->n);
	for (uint64_t i = 0; i < in->n; i++)
		bt_message_put_ref(in->msgs[i]);
	in->n = 0;
	return BT_COMPONENT_CLASS_SINK_CONSUME_METHOD_STATUS_OK;
}

/* Reads the time of in's next message into its head (event messages only: the other
 * kinds carry nothing order-dependent and are handled as soon as they are next). */
static inline void head_time(struct comp *c, struct input *in)
{
	const bt_message *m = in->msgs[in->pos];
	in->head_timed = 0;
	in->head_ts = 0;
	in->head_evc = NULL;
	if (bt_message_get_type(m) != BT_MESSAGE_TYPE_EVENT)
		return;
	struct evc *e = sink_evc(c, bt_event_borrow_class_const(bt_message_event_borrow_event_const(m)));
	in->head_evc = e;
	if (e && e->has_clock) {
		in->head_ts = event_time(e, m);
		in->head_timed = 1;
	}
}

/* Analyses in's next message (its head) and drops it; -1 if the trace is damaged. */
static inline int take_head(struct comp *c, struct input *in)
{
	const bt_message *m = in->msgs[in->pos];
	struct evc *e = in->head_evc;
	if (sink_damaged(c, m))
		return -1;
	if (e) {
		e->count++;
		if (in->head_timed) {
			ana_event_time(c->ana, in->head_ts);
			c->timed = 1;
		}
		if (e->kind != K_OTHER && e->kind != K_PROBE)
			sink_analyse_event(c, bt_message_event_borrow_event_const(m), e, in->head_ts);
	} else if (bt_message_get_type(m) != BT_MESSAGE_TYPE_EVENT) {
		sink_handle_other(c, m, bt_message_get_type(m));
	}
	bt_message_put_ref(m);
	in->pos++;
	return 0;
}

#define MERGE_BUDGET 8192u /* messages per consume call: the graph's loop costs little */

static const bt_stream *head_stream(const struct input *in)
{
	return bt_event_borrow_stream_const(bt_message_event_borrow_event_const(in->msgs[in->pos]));
}

/* <0 if x's messages go before y's at equal times, the order filter.utils.muxer
 * gives two streams (so both graphs analyse the same sequence): by trace UUID, then
 * trace name (a present one first), then stream class id, then stream id. */
static int stream_order(const bt_stream *x, const bt_stream *y)
{
	if (x == y)
		return 0;
	const bt_trace *tx = bt_stream_borrow_trace_const(x), *ty = bt_stream_borrow_trace_const(y);
	if (tx != ty) {
		bt_uuid ux = bt_trace_get_uuid(tx), uy = bt_trace_get_uuid(ty);
		if (!ux != !uy)
			return ux ? -1 : 1;
		int d = ux ? memcmp(ux, uy, 16) : 0; /* a bt_uuid: 16 bytes */
		if (d)
			return d;
		const char *nx = bt_trace_get_name(tx), *ny = bt_trace_get_name(ty);
		if (!nx != !ny)
			return nx ? -1 : 1;
		if (nx && (d = strcmp(nx, ny)) != 0)
			return d;
	}
	uint64_t cx = bt_stream_class_get_id(bt_stream_borrow_class_const(x));
	uint64_t cy = bt_stream_class_get_id(bt_stream_borrow_class_const(y));
	if (cx != cy)
		return cx < cy ? -1 : 1;
	uint64_t ix = bt_stream_get_id(x), iy = bt_stream_get_id(y);
	return ix == iy ? 0 : ix < iy ? -1 : 1;
}

/* True if a's next (timed event) message goes strictly before b's. */
static inline int before(const struct input *a, const struct input *b)
{
	if (a->head_ts != b->head_ts)
		return a->head_ts < b->head_ts;
	return stream_order(head_stream(a), head_stream(b)) < 0;
}

/* Several inputs (babeltrace2 run connecting each stream port of source.ctf.fs here,
 * as scripts/ipclab-analyze does): merged by event time as filter.utils.muxer does,
 * equal times included (stream_order), but each event's clock is read once, for the
 * order and for the analyses. Untimed messages go as soon as they are next. */
bt_component_class_sink_consume_method_status sink_consume_merge(struct comp *c)
{
	unsigned done = 0;
	while (done < MERGE_BUDGET) {
		struct input *best = NULL, *next = NULL; /* the first and second in order */
		int live = 0, untimed = 0;
		for (size_t i = 0; i < c->nin; i++) {
			struct input *in = &c->in[i];
			if (in->ended)
				continue;
			if (in->pos == in->n) {
				enum pull p = pull(c, in);
				if (p == PULL_END)
					continue;
				if (p != PULL_OK)
					return pull_status(p);
				head_time(c, in);
			}
			live++;
			if (!in->head_timed) { /* untimed: take it now */
				best = in;
				untimed = 1;
				break;
			}
			if (!best || before(in, best)) {
				next = best;
				best = in;
			} else if (!next || before(in, next)) {
				next = in;
			}
		}
		if (!live)
			return sink_finish(c);
		if (untimed) {
			if (take_head(c, best) < 0)
				return BT_COMPONENT_CLASS_SINK_CONSUME_METHOD_STATUS_ERROR;
			done++;
			if (best->pos < best->n)
				head_time(c, best);
			continue;
		}
		/* best's messages while they go before next's, or up to an untimed one */
		do {
			if (take_head(c, best) < 0)
				return BT_COMPONENT_CLASS_SINK_CONSUME_METHOD_STATUS_ERROR;
			done++;
			if (best->pos == best->n)
				break; /* refilled (or ended) by the next scan */
			head_time(c, best);
		} while (best->head_timed && (!next || before(best, next)));
	}
	return BT_COMPONENT_CLASS_SINK_CONSUME_METHOD_STATUS_OK;
}

