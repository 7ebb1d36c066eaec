/* plugin.c - babeltrace2 plugin "ipclab", sink component class "analyze":
 *
 *   babeltrace2 --plugin-path=build/lib/babeltrace2/plugins TRACE \
 *       -c sink.ipclab.analyze -p 'output="r.json",tsv-dir="tsv"'
 *
 * The component: its methods, parameters and input ports (one is added each time one is
 * connected), and its end (the result written by ana_finish). Events are decoded by
 * decode.c, the inputs pulled and merged by merge.c, damage found by integrity.c.
 * Discarded-events and discarded-packets messages are counted: the result then says
 * "complete": false. An upstream error (truncated or corrupt trace) makes the sink fail
 * with a cause on the error chain: babeltrace2 prints it and exits non-zero, and no
 * result is written. */
#include "sink.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
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
	"  summary=\"FILE\"  a summary line of the analysis so far every second, and a final one,\n"
	"                  to FILE (\"-\": standard error): for a live session (source.ctf.lttng-live)\n"
	"The result says \"complete\": false when the trace reports discarded events or packets.\n"
	"Compose with filter.utils.trimmer (or the CLI's --begin/--end) to analyse a time range.");

/* A damaged trace (integrity.h): the sink fails with the reason, as the muxer would. */
int sink_damaged(struct comp *c, const bt_message *msg)
{
	char why[600];
	if (integ_check(c->integ, msg, why, sizeof(why)) == 0)
		return 0;
	BT_CURRENT_THREAD_ERROR_APPEND_CAUSE_FROM_COMPONENT(c->self, "ipclab analysis: damaged trace: %s; no result written",
							    why);
	return -1;
}


static void note_incomplete(void *arg, const char *path, const char *reason)
{
	ana_incomplete(arg, path, reason);
}

/* All inputs ended: the result. */
bt_component_class_sink_consume_method_status sink_finish(struct comp *c)
{
	char err[512];
	integ_incomplete(c->integ, note_incomplete, c->ana);
	if (c->summary)
		ana_summary(c->ana, c->summary, 1);
	json_t *events = sink_event_counts(c);
	c->done = 1;
	if (!events || ana_finish(c->ana, events, c->output, err, sizeof(err)) < 0) {
		BT_CURRENT_THREAD_ERROR_APPEND_CAUSE_FROM_COMPONENT(c->self, "ipclab analysis: %s",
								    events ? err : "out of memory");
		return BT_COMPONENT_CLASS_SINK_CONSUME_METHOD_STATUS_ERROR;
	}
	return BT_COMPONENT_CLASS_SINK_CONSUME_METHOD_STATUS_END;
}


/* With a summary: one line of the analysis so far once a second (wall clock), checked
 * once per consume call (a batch of messages, or nothing new from a live source). */
static void summary_tick(struct comp *c)
{
	struct timespec ts;
	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	uint64_t now = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	if (c->next_summary && now >= c->next_summary)
		ana_summary(c->ana, c->summary, 0);
	if (!c->next_summary || now >= c->next_summary)
		c->next_summary = now + 1000000000u;
}

static bt_component_class_sink_consume_method_status analyze_consume(bt_self_component_sink *self)
{
	struct comp *c = bt_self_component_get_data(bt_self_component_sink_as_self_component(self));
	if (c->summary)
		summary_tick(c);
	return c->nin == 1 ? sink_consume_one(c) : sink_consume_merge(c);
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
	if (strcmp(key, "output") != 0 && strcmp(key, "tsv-dir") != 0 && strcmp(key, "summary") != 0)
		pc->bad = 1;
	else if (!bt_value_is_string(v))
		pc->bad = 2;
	else
		return BT_VALUE_MAP_FOREACH_ENTRY_CONST_FUNC_STATUS_OK;
	(void)snprintf(pc->key, sizeof(pc->key), "%s", key);
	return BT_VALUE_MAP_FOREACH_ENTRY_CONST_FUNC_STATUS_INTERRUPT;
}

/* The output parameter: not empty, and writable now, not after reading the whole trace. */
static int check_output(struct comp *c)
{
	if (c->output && *c->output == 0) {
		BT_CURRENT_THREAD_ERROR_APPEND_CAUSE_FROM_COMPONENT(c->self, "parameter 'output' is empty");
		return -1;
	}
	if (!c->output || strcmp(c->output, "-") == 0)
		return 0;
	char probe[4096];
	(void)snprintf(probe, sizeof(probe), "%s.tmp%d", c->output, (int)getpid());
	FILE *f = fopen(probe, "we");
	if (!f) {
		BT_CURRENT_THREAD_ERROR_APPEND_CAUSE_FROM_COMPONENT(c->self, "cannot write the output file %s", c->output);
		return -1;
	}
	(void)fclose(f);
	(void)unlink(probe);
	return 0;
}

/* The summary parameter (v, NULL if absent): "-" is standard error, else a file. */
static int open_summary(struct comp *c, const bt_value *v)
{
	if (!v)
		return 0;
	const char *path = bt_value_string_get(v);
	if (strcmp(path, "-") == 0)
		c->summary = stderr;
	else if (!*path || !(c->summary = fopen(path, "we"))) {
		BT_CURRENT_THREAD_ERROR_APPEND_CAUSE_FROM_COMPONENT(c->self, "cannot write the summary file '%s'", path);
		return -1;
	}
	return 0;
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
	if (c->summary && c->summary != stderr)
		(void)fclose(c->summary);
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
				sc, "unknown parameter '%s' (known: output, tsv-dir, summary)", pc.key);
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
		if (open_summary(c, bt_value_map_borrow_entry_value_const(params, "summary")) < 0)
			goto fail;
	}
	if (check_output(c) < 0)
		goto fail;
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
