/* plugin.c - babeltrace2 plugin "ipclab", sink component class "analyze":
 *
 *   babeltrace2 --plugin-path=build/lib/babeltrace2/plugins TRACE \
 *       -c sink.ipclab.analyze -p 'output="r.json",tsv-dir="tsv"'
 *
 * Decodes every ipclab_* event and hands it to the analyses of ana.c. The hot path
 * allocates nothing: each event class is resolved once (kind, payload member indexes,
 * context member indexes, clock) and cached by its address; a reference on the class
 * keeps the address from being reused while the graph runs.
 * Inputs: one time-ordered port (the CLI's muxer in front), or any number of ports
 * (every stream of source.ctf.fs, as scripts/ipclab-analyze connects them) which the
 * sink merges by event time itself, reading each event's clock once.
 * Discarded-events and discarded-packets messages are counted: the result then says
 * "complete": false. An upstream error (truncated or corrupt trace) makes the sink fail
 * with a cause on the error chain: babeltrace2 prints it and exits non-zero, and no
 * result is written. */
#include <babeltrace2/babeltrace.h>

#include "ana.h"
#include "integrity.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static bt_component_class_sink_consume_method_status analyze_consume(bt_self_component_sink *self);
static bt_component_class_initialize_method_status analyze_init(bt_self_component_sink *self,
								  bt_self_component_sink_configuration *config,
								  const bt_value *params, void *init_data);
static void analyze_finalize(bt_self_component_sink *self);
static bt_component_class_sink_graph_is_configured_method_status analyze_configured(bt_self_component_sink *self);
static bt_component_class_port_connected_method_status analyze_port_connected(bt_self_component_sink *self,
									      bt_self_component_port_input *port,
									      const bt_port_output *other);

BT_PLUGIN_MODULE();
BT_PLUGIN(ipclab);
BT_PLUGIN_DESCRIPTION("ipclab trace analyses (message/signal latency, locks, races, tasks, bus states)");
BT_PLUGIN_AUTHOR("ipclab");

BT_PLUGIN_SINK_COMPONENT_CLASS(analyze, analyze_consume);
BT_PLUGIN_SINK_COMPONENT_CLASS_DESCRIPTION(analyze,
	"Pair ipclab events and summarise latencies as JSON (and TSV files).");
BT_PLUGIN_SINK_COMPONENT_CLASS_HELP(analyze,
	"Parameters:\n"
	"  output=\"FILE\"   write the JSON result to FILE (default: standard output)\n"
	"  tsv-dir=\"DIR\"   also write one TSV file per analysis into DIR (created if missing)\n"
	"The result says \"complete\": false when the trace reports discarded events or packets.\n"
	"Compose with filter.utils.trimmer (or the CLI's --begin/--end) to analyse a time range.");

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

/* Field specs: "name" (required integer), "$name" (required string), "?name" optional
 * integer; "a|b" accepts either name (the first present wins). */
static const struct spec {
	const char *event;
	enum kind kind;
	const char *fields[MAX_FIELDS];
} specs[] = {
	{ "ipclab_run:run_begin", K_RUN_BEGIN, { "$experiment", "$variant", "mode", "repeat", "iterations", "warmup" } },
	{ "ipclab_run:run_end", K_RUN_END, { "$experiment", "$variant", "repeat", "status" } },
	{ "ipclab_run:probe", K_PROBE, { 0 } },
	{ "ipclab_msg:msg_send", K_MSG_SEND, { "$transport", "chan", "seq" } },
	{ "ipclab_msg:msg_recv", K_MSG_RECV, { "$transport", "chan", "seq", "?t_send", "?t_recv" } },
	{ "ipclab_sig:sig_send", K_SIG_SEND, { "signo", "seq", "target" } },
	{ "ipclab_sig:sig_receive", K_SIG_RECV, { "signo", "seq", "$method", "?t_send", "?t_recv" } },
	{ "ipclab_sig:bus_state", K_BUS_STATE, { "$role", "$state" } },
	{ "ipclab_sig:child_reap", K_CHILD_REAP, { "pid", "seq" } },
	{ "ipclab_lock:lock_request", K_LOCK_REQUEST, { "lock|lock_id|id", "$kind" } },
	{ "ipclab_lock:lock_acquire", K_LOCK_ACQUIRE, { "lock|lock_id|id", "$kind", "?t_begin", "?t_acquire" } },
	{ "ipclab_lock:lock_release", K_LOCK_RELEASE, { "lock|lock_id|id", "$kind" } },
	{ "ipclab_lock:race_read", K_RACE_READ, { "worker", "value" } },
	{ "ipclab_lock:race_write", K_RACE_WRITE, { "worker", "value" } },
	{ "ipclab_task:task_spawn", K_TASK_SPAWN, { "seq" } },
	{ "ipclab_task:task_start", K_TASK_START, { "seq", "?tid|pid", "?proxy" } },
	{ "ipclab_task:task_exit", K_TASK_EXIT, { "seq", "?tid|pid", "?proxy" } },
	{ "ipclab_task:task_reaped", K_TASK_REAPED, { "seq", "?tid|pid" } },
};

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
};

/* ---------------------------------------------------------------- field access */

static inline int64_t get_int(const bt_field *s, const struct slot *sl)
{
	if (!s || sl->type == T_ABSENT || sl->type == T_STRING)
		return 0;
	const bt_field *f = bt_field_structure_borrow_member_field_by_index_const(s, sl->idx);
	return sl->type == T_UNSIGNED ? (int64_t)bt_field_integer_unsigned_get_value(f)
				      : bt_field_integer_signed_get_value(f);
}

static inline const char *get_str(const bt_field *s, const struct slot *sl)
{
	if (!s || sl->type != T_STRING)
		return NULL;
	return bt_field_string_get_value(bt_field_structure_borrow_member_field_by_index_const(s, sl->idx));
}

/* Finds member `name` of structure field class fc: its index and type. */
static struct slot find_member(const bt_field_class *fc, const char *name, size_t len)
{
	struct slot s = { 0, T_ABSENT };
	if (!fc || bt_field_class_get_type(fc) != BT_FIELD_CLASS_TYPE_STRUCTURE)
		return s;
	uint64_t n = bt_field_class_structure_get_member_count(fc);
	for (uint64_t i = 0; i < n; i++) {
		const bt_field_class_structure_member *m = bt_field_class_structure_borrow_member_by_index_const(fc, i);
		const char *mn = bt_field_class_structure_member_get_name(m);
		if (strlen(mn) != len || strncmp(mn, name, len) != 0)
			continue;
		bt_field_class_type t = bt_field_class_get_type(bt_field_class_structure_member_borrow_field_class_const(m));
		s.idx = i;
		if (bt_field_class_type_is(t, BT_FIELD_CLASS_TYPE_UNSIGNED_INTEGER))
			s.type = T_UNSIGNED;
		else if (bt_field_class_type_is(t, BT_FIELD_CLASS_TYPE_SIGNED_INTEGER))
			s.type = T_SIGNED;
		else if (t == BT_FIELD_CLASS_TYPE_STRING)
			s.type = T_STRING;
		return s;
	}
	return s;
}

/* Resolves one spec entry ("$a|b", "?a", "a") against the payload class. */
static struct slot resolve(const bt_field_class *payload, const char *spec, int *ok)
{
	int want_string = spec[0] == '$', optional = spec[0] == '?';
	const char *p = spec + (want_string || optional);
	struct slot s = { 0, T_ABSENT };
	while (*p) {
		size_t len = strcspn(p, "|");
		s = find_member(payload, p, len);
		if (s.type != T_ABSENT)
			break;
		p += len + (p[len] == '|');
	}
	int good = want_string ? s.type == T_STRING : (s.type == T_UNSIGNED || s.type == T_SIGNED);
	if (!good) {
		s.type = T_ABSENT;
		if (!optional)
			*ok = 0;
	}
	return s;
}

/* Looks up (or builds) the descriptor of an event class; NULL only when out of memory. */
static struct evc *evc_get(struct comp *c, const bt_event_class *cls)
{
	unsigned h = (unsigned)(((uintptr_t)cls >> 4) ^ ((uintptr_t)cls >> 12)) & (CACHE_SLOTS - 1);
	struct evc *e = c->cache[h];
	if (e && e->cls == cls)
		return e;
	for (size_t i = 0; i < c->nevc; i++) {
		if (c->evc[i].cls == cls) {
			c->cache[h] = &c->evc[i];
			return &c->evc[i];
		}
	}
	if (c->nevc == c->evc_cap) {
		/* the cache holds pointers into the array: rebuild it after a move */
		size_t nc = c->evc_cap ? c->evc_cap * 2 : 32;
		struct evc *n = realloc(c->evc, nc * sizeof(*n));
		if (!n)
			return NULL;
		c->evc = n;
		c->evc_cap = nc;
		memset(c->cache, 0, sizeof(c->cache));
	}
	e = &c->evc[c->nevc];
	memset(e, 0, sizeof(*e));
	const char *name = bt_event_class_get_name(cls);
	e->name = strdup(name ? name : "(unnamed)");
	if (!e->name)
		return NULL;
	e->cls = cls;
	bt_event_class_get_ref(cls);
	c->nevc++;
	const bt_stream_class *sc = bt_event_class_borrow_stream_class_const(cls);
	const bt_clock_class *cc = bt_stream_class_borrow_default_clock_class_const(sc);
	e->has_clock = cc != NULL;
	/* LTTng's clock counts CLOCK_MONOTONIC ns (1 GHz), the experiments' clock */
	if (cc && bt_clock_class_cycles_to_ns_from_origin(cc, 0, &e->origin) != BT_CLOCK_CLASS_CYCLES_TO_NS_FROM_ORIGIN_STATUS_OK)
		e->origin = 0;
	const bt_field_class *ctx = bt_stream_class_borrow_event_common_context_field_class_const(sc);
	e->vpid = find_member(ctx, "vpid", 4);
	e->vtid = find_member(ctx, "vtid", 4);
	if (e->vpid.type == T_STRING)
		e->vpid.type = T_ABSENT;
	if (e->vtid.type == T_STRING)
		e->vtid.type = T_ABSENT;
	for (size_t s = 0; s < sizeof(specs) / sizeof(specs[0]); s++) {
		if (strcmp(specs[s].event, e->name) != 0)
			continue;
		const bt_field_class *payload = bt_event_class_borrow_payload_field_class_const(cls);
		int ok = 1;
		for (int i = 0; i < MAX_FIELDS && specs[s].fields[i]; i++)
			e->f[i] = resolve(payload, specs[s].fields[i], &ok);
		if (ok) {
			e->kind = specs[s].kind;
			if (e->kind >= K_LOCK_REQUEST && e->kind <= K_LOCK_RELEASE && e->vtid.type == T_ABSENT)
				ana_warn(c->ana, "event %s has no vtid context: its per-thread lock statistics "
					 "are merged (record with scripts/ipclab-trace)", e->name);
			if (e->kind == K_BUS_STATE && e->vpid.type == T_ABSENT)
				ana_warn(c->ana, "event %s has no vpid context: bus roles of different runs are merged",
					 e->name);
		} else {
			ana_warn(c->ana, "event %s does not have the fields this analysis expects: not analysed",
				 e->name);
		}
		break;
	}
	c->cache[h] = e;
	return e;
}

/* ---------------------------------------------------------------- messages */

/* The event's time in ns from its clock's origin (0 without a clock). */
static inline int64_t event_time(const struct evc *e, const bt_message *msg)
{
	int64_t ts = 0;
	if (e->has_clock)
		(void)bt_clock_snapshot_get_ns_from_origin(bt_message_event_borrow_default_clock_snapshot_const(msg),
							   &ts);
	return ts;
}

/* Times the last event message of a batch (messages come in time order): with the first
 * event's time, the trace's time range, without a clock read per unanalysed event. */
static void time_batch_end(struct comp *c, bt_message_array_const msgs, uint64_t n)
{
	for (uint64_t i = n; i-- > 0;) {
		if (bt_message_get_type(msgs[i]) != BT_MESSAGE_TYPE_EVENT)
			continue;
		struct evc *e = evc_get(c, bt_event_borrow_class_const(bt_message_event_borrow_event_const(msgs[i])));
		if (e)
			ana_event_time(c->ana, event_time(e, msgs[i]));
		return;
	}
}

/* Analyses one event of class e at time ts (analysed kinds only). */
static void analyse_event(struct comp *c, const bt_event *ev, const struct evc *e, int64_t ts);

static void handle_event(struct comp *c, const bt_message *msg)
{
	const bt_event *ev = bt_message_event_borrow_event_const(msg);
	struct evc *e = evc_get(c, bt_event_borrow_class_const(ev));
	if (!e)
		return;
	e->count++;
	if (e->kind == K_OTHER || e->kind == K_PROBE) {
		/* not analysed: its time matters only as the trace's first (the last event of
		 * each batch is timed by the caller) */
		if (!c->timed) {
			c->timed = 1;
			ana_event_time(c->ana, event_time(e, msg));
		}
		return;
	}
	int64_t ts = event_time(e, msg);
	c->timed = 1;
	ana_event_time(c->ana, ts);
	analyse_event(c, ev, e, ts);
}

/* An experiment stamp (CLOCK_MONOTONIC ns, 0: none) in the trace's time. */
static inline uint64_t stamp(const bt_field *p, const struct evc *e, const struct slot *sl)
{
	uint64_t v = (uint64_t)get_int(p, sl);
	return v ? v + (uint64_t)e->origin : 0;
}

static void analyse_event(struct comp *c, const bt_event *ev, const struct evc *e, int64_t ts)
{
	const bt_field *p = bt_event_borrow_payload_field_const(ev);
	const bt_field *cx = (e->vpid.type || e->vtid.type) ? bt_event_borrow_common_context_field_const(ev) : NULL;
	const struct slot *f = e->f;
	struct ana *a = c->ana;
	switch (e->kind) {
	case K_RUN_BEGIN:
		ana_run_begin(a, ts, get_int(cx, &e->vpid), get_str(p, &f[0]), get_str(p, &f[1]), get_int(p, &f[2]),
			      (uint64_t)get_int(p, &f[3]), (uint64_t)get_int(p, &f[4]), (uint64_t)get_int(p, &f[5]));
		break;
	case K_RUN_END:
		ana_run_end(a, ts, get_int(cx, &e->vpid), get_str(p, &f[0]), get_str(p, &f[1]),
			    (uint64_t)get_int(p, &f[2]), get_int(p, &f[3]));
		break;
	case K_MSG_SEND:
		ana_msg_send(a, ts, get_str(p, &f[0]), (uint32_t)get_int(p, &f[1]), (uint64_t)get_int(p, &f[2]));
		break;
	case K_MSG_RECV:
		ana_msg_recv(a, ts, get_str(p, &f[0]), (uint32_t)get_int(p, &f[1]), (uint64_t)get_int(p, &f[2]),
			     stamp(p, e, &f[3]), stamp(p, e, &f[4]));
		break;
	case K_SIG_SEND:
		ana_sig_send(a, ts, get_int(p, &f[0]), (uint64_t)get_int(p, &f[1]), get_int(p, &f[2]));
		break;
	case K_SIG_RECV:
		ana_sig_recv(a, ts, get_int(p, &f[0]), (uint64_t)get_int(p, &f[1]), get_str(p, &f[2]), stamp(p, e, &f[3]),
			     stamp(p, e, &f[4]));
		break;
	case K_BUS_STATE:
		ana_bus_state(a, ts, get_int(cx, &e->vpid), get_str(p, &f[0]), get_str(p, &f[1]));
		break;
	case K_CHILD_REAP:
		ana_child_reap(a, ts, get_int(p, &f[0]), (uint64_t)get_int(p, &f[1]));
		break;
	case K_LOCK_REQUEST:
	case K_LOCK_ACQUIRE:
	case K_LOCK_RELEASE:
		ana_lock(a, (enum ana_lock_op)(e->kind - K_LOCK_REQUEST), ts, (uint32_t)get_int(p, &f[0]),
			 get_str(p, &f[1]), get_int(cx, &e->vtid), stamp(p, e, &f[2]), stamp(p, e, &f[3]));
		break;
	case K_RACE_READ:
	case K_RACE_WRITE:
		ana_race(a, e->kind == K_RACE_WRITE, ts, (uint32_t)get_int(p, &f[0]), (uint64_t)get_int(p, &f[1]));
		break;
	case K_TASK_SPAWN:
	case K_TASK_START:
	case K_TASK_EXIT:
	case K_TASK_REAPED:
		ana_task(a, (enum ana_task_stage)(e->kind - K_TASK_SPAWN), ts, (uint64_t)get_int(p, &f[0]),
			 get_int(p, &f[1]), get_int(p, &f[2]) != 0);
		break;
	default:
		break;
	}
}

/* Counts a discarded-events or discarded-packets message; other non-event messages
 * carry nothing the analyses use. */
static void handle_other(struct comp *c, const bt_message *msg, bt_message_type type)
{
	uint64_t n = 0;
	if (type == BT_MESSAGE_TYPE_DISCARDED_EVENTS) {
		bt_property_availability av = bt_message_discarded_events_get_count(msg, &n);
		ana_discarded_events(c->ana, n, av == BT_PROPERTY_AVAILABILITY_AVAILABLE);
	} else if (type == BT_MESSAGE_TYPE_DISCARDED_PACKETS) {
		bt_property_availability av = bt_message_discarded_packets_get_count(msg, &n);
		ana_discarded_packets(c->ana, n, av == BT_PROPERTY_AVAILABILITY_AVAILABLE);
	}
}

/* A damaged trace (integrity.h): the sink fails with the reason, as the muxer would. */
static int damaged(struct comp *c, const bt_message *msg)
{
	char why[600];
	if (integ_check(c->integ, msg, why, sizeof(why)) == 0)
		return 0;
	BT_CURRENT_THREAD_ERROR_APPEND_CAUSE_FROM_COMPONENT(c->self, "ipclab analysis: damaged trace: %s; no result written",
							    why);
	return -1;
}

static void handle(struct comp *c, const bt_message *msg)
{
	bt_message_type type = bt_message_get_type(msg);
	if (type == BT_MESSAGE_TYPE_EVENT)
		handle_event(c, msg);
	else
		handle_other(c, msg, type);
}

static int evc_by_name(const void *x, const void *y)
{
	return strcmp((*(const struct evc *const *)x)->name, (*(const struct evc *const *)y)->name);
}

/* The {"total", "ipclab", "by_name"} object: event counts per name over all classes,
 * names in order (not in the order classes were met, which depends on the graph). */
static json_t *event_counts(struct comp *c)
{
	json_t *by = json_object();
	json_int_t total = 0, ours = 0;
	struct evc **order = malloc((c->nevc ? c->nevc : 1) * sizeof(*order));
	if (!by || !order) {
		json_decref(by);
		free(order);
		return NULL;
	}
	for (size_t i = 0; i < c->nevc; i++)
		order[i] = &c->evc[i];
	qsort(order, c->nevc, sizeof(*order), evc_by_name);
	for (size_t i = 0; i < c->nevc; i++) {
		struct evc *e = order[i];
		json_int_t n = (json_int_t)e->count;
		if (n == 0)
			continue;
		json_t *old = json_object_get(by, e->name);
		(void)json_object_set_new(by, e->name, json_integer(n + (old ? json_integer_value(old) : 0)));
		total += n;
		if (strncmp(e->name, "ipclab_", 7) == 0)
			ours += n;
	}
	free(order);
	return json_pack("{sI sI so}", "total", total, "ipclab", ours, "by_name", by);
}

/* ---------------------------------------------------------------- methods */

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

static void note_incomplete(void *arg, const char *path, const char *reason)
{
	ana_incomplete(arg, path, reason);
}

/* All inputs ended: the result. */
static bt_component_class_sink_consume_method_status finish(struct comp *c)
{
	char err[512];
	integ_incomplete(c->integ, note_incomplete, c->ana);
	json_t *events = event_counts(c);
	c->done = 1;
	if (!events || ana_finish(c->ana, events, c->output, err, sizeof(err)) < 0) {
		BT_CURRENT_THREAD_ERROR_APPEND_CAUSE_FROM_COMPONENT(c->self, "ipclab analysis: %s",
								    events ? err : "out of memory");
		return BT_COMPONENT_CLASS_SINK_CONSUME_METHOD_STATUS_ERROR;
	}
	return BT_COMPONENT_CLASS_SINK_CONSUME_METHOD_STATUS_END;
}

/* One input (the CLI's muxer in front, or a single stream): messages arrive in time
 * order, so they are analysed as they come. */
static bt_component_class_sink_consume_method_status consume_one(struct comp *c)
{
	struct input *in = &c->in[0];
	enum pull p = pull(c, in);
	if (p == PULL_END)
		return finish(c);
	if (p != PULL_OK)
		return pull_status(p);
	for (uint64_t i = 0; i < in->n; i++) {
		if (damaged(c, in->msgs[i])) {
			in->pos = 0; /* comp_free puts the batch */
			return BT_COMPONENT_CLASS_SINK_CONSUME_METHOD_STATUS_ERROR;
		}
		handle(c, in->msgs[i]);
	}
	time_batch_end(c, in->msgs, in->n);
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
	struct evc *e = evc_get(c, bt_event_borrow_class_const(bt_message_event_borrow_event_const(m)));
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
	if (damaged(c, m))
		return -1;
	if (e) {
		e->count++;
		if (in->head_timed) {
			ana_event_time(c->ana, in->head_ts);
			c->timed = 1;
		}
		if (e->kind != K_OTHER && e->kind != K_PROBE)
			analyse_event(c, bt_message_event_borrow_event_const(m), e, in->head_ts);
	} else if (bt_message_get_type(m) != BT_MESSAGE_TYPE_EVENT) {
		handle_other(c, m, bt_message_get_type(m));
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
static bt_component_class_sink_consume_method_status consume_merge(struct comp *c)
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
			return finish(c);
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

static bt_component_class_sink_consume_method_status analyze_consume(bt_self_component_sink *self)
{
	struct comp *c = bt_self_component_get_data(bt_self_component_sink_as_self_component(self));
	return c->nin == 1 ? consume_one(c) : consume_merge(c);
}

/* Each connected input port gets a successor ("in", then "in1", "in2"...), so any number
 * of upstream ports (one per stream of source.ctf.fs) can be connected, as with
 * filter.utils.muxer. */
static bt_component_class_port_connected_method_status analyze_port_connected(bt_self_component_sink *self,
									      bt_self_component_port_input *port,
									      const bt_port_output *other)
{
	(void)port;
	(void)other;
	char name[32];
	(void)snprintf(name, sizeof(name), "in%" PRIu64, bt_component_sink_get_input_port_count(
								 bt_self_component_sink_as_component_sink(self)));
	switch (bt_self_component_sink_add_input_port(self, name, NULL, NULL)) {
	case BT_SELF_COMPONENT_ADD_PORT_STATUS_OK:
		return BT_COMPONENT_CLASS_PORT_CONNECTED_METHOD_STATUS_OK;
	case BT_SELF_COMPONENT_ADD_PORT_STATUS_MEMORY_ERROR:
		return BT_COMPONENT_CLASS_PORT_CONNECTED_METHOD_STATUS_MEMORY_ERROR;
	default:
		return BT_COMPONENT_CLASS_PORT_CONNECTED_METHOD_STATUS_ERROR;
	}
}

static bt_component_class_sink_graph_is_configured_method_status analyze_configured(bt_self_component_sink *self)
{
	struct comp *c = bt_self_component_get_data(bt_self_component_sink_as_self_component(self));
	uint64_t nports = bt_component_sink_get_input_port_count(bt_self_component_sink_as_component_sink(self));
	c->in = calloc(nports ? nports : 1, sizeof(*c->in));
	if (!c->in)
		return BT_COMPONENT_CLASS_SINK_GRAPH_IS_CONFIGURED_METHOD_STATUS_MEMORY_ERROR;
	for (uint64_t i = 0; i < nports; i++) {
		bt_self_component_port_input *port = bt_self_component_sink_borrow_input_port_by_index(self, i);
		if (!bt_port_is_connected(bt_port_input_as_port_const(
			    bt_self_component_port_input_as_port_input(port))))
			continue; /* the spare port */
		if (bt_message_iterator_create_from_sink_component(self, port, &c->in[c->nin].it) !=
		    BT_MESSAGE_ITERATOR_CREATE_FROM_SINK_COMPONENT_STATUS_OK) {
			BT_CURRENT_THREAD_ERROR_APPEND_CAUSE_FROM_COMPONENT(c->self,
									    "cannot create the input message iterator");
			return BT_COMPONENT_CLASS_SINK_GRAPH_IS_CONFIGURED_METHOD_STATUS_ERROR;
		}
		c->nin++;
	}
	if (c->nin == 0) {
		BT_CURRENT_THREAD_ERROR_APPEND_CAUSE_FROM_COMPONENT(c->self, "no input port is connected");
		return BT_COMPONENT_CLASS_SINK_GRAPH_IS_CONFIGURED_METHOD_STATUS_ERROR;
	}
	return BT_COMPONENT_CLASS_SINK_GRAPH_IS_CONFIGURED_METHOD_STATUS_OK;
}

struct param_check {
	char key[128];
	int bad; /* 1: unknown key, 2: not a string */
};

/* Notes the first bad parameter (no error cause here: a foreach callback returning
 * OK must leave the thread's error empty), interrupting the iteration. */
static bt_value_map_foreach_entry_const_func_status check_param(const char *key, const bt_value *v, void *arg)
{
	struct param_check *pc = arg;
	if (strcmp(key, "output") != 0 && strcmp(key, "tsv-dir") != 0)
		pc->bad = 1;
	else if (!bt_value_is_string(v))
		pc->bad = 2;
	else
		return BT_VALUE_MAP_FOREACH_ENTRY_CONST_FUNC_STATUS_OK;
	(void)snprintf(pc->key, sizeof(pc->key), "%s", key);
	return BT_VALUE_MAP_FOREACH_ENTRY_CONST_FUNC_STATUS_INTERRUPT;
}

static void comp_free(struct comp *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->nin; i++) {
		struct input *in = &c->in[i];
		for (uint64_t j = in->pos; j < in->n; j++)
			bt_message_put_ref(in->msgs[j]); /* a batch left unread (error, interruption) */
		bt_message_iterator_put_ref(in->it);
	}
	free(c->in);
	for (size_t i = 0; i < c->nevc; i++) {
		bt_event_class_put_ref(c->evc[i].cls);
		free(c->evc[i].name);
	}
	free(c->evc);
	ana_free(c->ana);
	integ_free(c->integ);
	free(c->output);
	free(c);
}

static bt_component_class_initialize_method_status analyze_init(bt_self_component_sink *self,
								  bt_self_component_sink_configuration *config,
								  const bt_value *params, void *init_data)
{
	(void)config;
	(void)init_data;
	bt_self_component *sc = bt_self_component_sink_as_self_component(self);
	struct param_check pc = { "", 0 };
	const char *tsv = NULL;
	char err[512];

	if (params && bt_value_is_map(params)) {
		(void)bt_value_map_foreach_entry_const(params, check_param, &pc);
		if (pc.bad == 1)
			BT_CURRENT_THREAD_ERROR_APPEND_CAUSE_FROM_COMPONENT(
				sc, "unknown parameter '%s' (known: output, tsv-dir)", pc.key);
		else if (pc.bad == 2)
			BT_CURRENT_THREAD_ERROR_APPEND_CAUSE_FROM_COMPONENT(sc, "parameter '%s' must be a string",
									    pc.key);
		if (pc.bad)
			return BT_COMPONENT_CLASS_INITIALIZE_METHOD_STATUS_ERROR;
	}
	struct comp *c = calloc(1, sizeof(*c));
	if (!c)
		return BT_COMPONENT_CLASS_INITIALIZE_METHOD_STATUS_MEMORY_ERROR;
	c->self = sc;
	if (params && bt_value_is_map(params)) {
		const bt_value *v = bt_value_map_borrow_entry_value_const(params, "output");
		if (v && !(c->output = strdup(bt_value_string_get(v))))
			goto oom;
		v = bt_value_map_borrow_entry_value_const(params, "tsv-dir");
		if (v)
			tsv = bt_value_string_get(v);
	}
	if (c->output && *c->output == 0) {
		BT_CURRENT_THREAD_ERROR_APPEND_CAUSE_FROM_COMPONENT(sc, "parameter 'output' is empty");
		goto fail;
	}
	if (c->output && strcmp(c->output, "-") != 0) {
		/* fail now, not after reading the whole trace */
		char probe[4096];
		(void)snprintf(probe, sizeof(probe), "%s.tmp%d", c->output, (int)getpid());
		FILE *f = fopen(probe, "we");
		if (!f) {
			BT_CURRENT_THREAD_ERROR_APPEND_CAUSE_FROM_COMPONENT(sc, "cannot write the output file %s",
									    c->output);
			goto fail;
		}
		(void)fclose(f);
		(void)unlink(probe);
	}
	if (!(c->integ = integ_new()))
		goto oom;
	c->ana = ana_new(tsv, err, sizeof(err));
	if (!c->ana) {
		BT_CURRENT_THREAD_ERROR_APPEND_CAUSE_FROM_COMPONENT(sc, "%s", err);
		goto fail;
	}
	if (bt_self_component_sink_add_input_port(self, "in", NULL, NULL) != BT_SELF_COMPONENT_ADD_PORT_STATUS_OK)
		goto oom;
	bt_self_component_set_data(sc, c);
	return BT_COMPONENT_CLASS_INITIALIZE_METHOD_STATUS_OK;
oom:
	comp_free(c);
	return BT_COMPONENT_CLASS_INITIALIZE_METHOD_STATUS_MEMORY_ERROR;
fail:
	comp_free(c);
	return BT_COMPONENT_CLASS_INITIALIZE_METHOD_STATUS_ERROR;
}

static void analyze_finalize(bt_self_component_sink *self)
{
	comp_free(bt_self_component_get_data(bt_self_component_sink_as_self_component(self)));
}

BT_PLUGIN_SINK_COMPONENT_CLASS_INITIALIZE_METHOD(analyze, analyze_init);
BT_PLUGIN_SINK_COMPONENT_CLASS_FINALIZE_METHOD(analyze, analyze_finalize);
BT_PLUGIN_SINK_COMPONENT_CLASS_GRAPH_IS_CONFIGURED_METHOD(analyze, analyze_configured);
BT_PLUGIN_SINK_COMPONENT_CLASS_INPUT_PORT_CONNECTED_METHOD(analyze, analyze_port_connected);
