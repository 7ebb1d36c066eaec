/* decode.c - every event decoded for the analyses (ana.h) without allocating: each event
 * class is resolved once (kind, payload member indexes, context member indexes, clock)
 * and cached by its address; a reference on the class keeps the address from being
 * reused while the graph runs. The field names are those of trace/ipclab_*.h. */
#include "sink.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Field specs, the fields of trace/ipclab_*.h each analysis reads (checked against the
 * headers by tests/integration/analyze_schema.sh): "name" a required integer, "$name" a required string, "?name" an optional integer (the experiment
 * stamps, absent from traces recorded before they were added). */
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
	{ "ipclab_lock:lock_request", K_LOCK_REQUEST, { "lock", "$kind" } },
	{ "ipclab_lock:lock_acquire", K_LOCK_ACQUIRE, { "lock", "$kind", "?t_begin", "?t_acquire" } },
	{ "ipclab_lock:lock_release", K_LOCK_RELEASE, { "lock", "$kind" } },
	{ "ipclab_lock:race_read", K_RACE_READ, { "worker", "value" } },
	{ "ipclab_lock:race_write", K_RACE_WRITE, { "worker", "value" } },
	{ "ipclab_task:task_spawn", K_TASK_SPAWN, { "seq" } },
	{ "ipclab_task:task_start", K_TASK_START, { "seq", "tid", "proxy" } },
	{ "ipclab_task:task_exit", K_TASK_EXIT, { "seq", "tid", "proxy" } },
	{ "ipclab_task:task_reaped", K_TASK_REAPED, { "seq", "tid" } },
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

/* Resolves one spec entry ("$a", "?a", "a") against the payload class. */
static struct slot resolve(const bt_field_class *payload, const char *spec, int *ok)
{
	int want_string = spec[0] == '$', optional = spec[0] == '?';
	const char *p = spec + (want_string || optional);
	struct slot s = find_member(payload, p, strlen(p));
	int good = want_string ? s.type == T_STRING : (s.type == T_UNSIGNED || s.type == T_SIGNED);
	if (!good) {
		s.type = T_ABSENT;
		if (!optional)
			*ok = 0;
	}
	return s;
}

/* Looks up (or builds) the descriptor of an event class; NULL only when out of memory. */
struct evc *sink_evc(struct comp *c, const bt_event_class *cls)
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


/* Times the last event message of a batch (messages come in time order): with the first
 * event's time, the trace's time range, without a clock read per unanalysed event. */
void sink_time_batch_end(struct comp *c, bt_message_array_const msgs, uint64_t n)
{
	for (uint64_t i = n; i-- > 0;) {
		if (bt_message_get_type(msgs[i]) != BT_MESSAGE_TYPE_EVENT)
			continue;
		struct evc *e = sink_evc(c, bt_event_borrow_class_const(bt_message_event_borrow_event_const(msgs[i])));
		if (e)
			ana_event_time(c->ana, event_time(e, msgs[i]));
		return;
	}
}

/* Analyses one event of class e at time ts (analysed kinds only). */

static void handle_event(struct comp *c, const bt_message *msg)
{
	const bt_event *ev = bt_message_event_borrow_event_const(msg);
	struct evc *e = sink_evc(c, bt_event_borrow_class_const(ev));
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
	sink_analyse_event(c, ev, e, ts);
}

/* An experiment stamp (CLOCK_MONOTONIC ns, 0: none) in the trace's time. */
static inline uint64_t stamp(const bt_field *p, const struct evc *e, const struct slot *sl)
{
	uint64_t v = (uint64_t)get_int(p, sl);
	return v ? v + (uint64_t)e->origin : 0;
}

void sink_analyse_event(struct comp *c, const bt_event *ev, const struct evc *e, int64_t ts)
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
void sink_handle_other(struct comp *c, const bt_message *msg, bt_message_type type)
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

void sink_handle(struct comp *c, const bt_message *msg)
{
	bt_message_type type = bt_message_get_type(msg);
	if (type == BT_MESSAGE_TYPE_EVENT)
		handle_event(c, msg);
	else
		sink_handle_other(c, msg, type);
}

static int evc_by_name(const void *x, const void *y)
{
	return strcmp((*(const struct evc *const *)x)->name, (*(const struct evc *const *)y)->name);
}

/* The {"total", "ipclab", "by_name"} object: event counts per name over all classes,
 * names in order (not in the order classes were met, which depends on the graph). */
json_t *sink_event_counts(struct comp *c)
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

