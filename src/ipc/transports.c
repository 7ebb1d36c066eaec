/* transports.c - "ipclab ipc transports": every registered transport, whether it is usable here. */
#include "transport/transport.h"
#include "../core/experiment.h"
#include "../core/log.h"
#include "../core/result.h"

#include <stdio.h>

static int transports_measure(struct il_ctx *x, void *cfg)
{
	(void)cfg;
	size_t n;
	const struct il_transport *const *all = il_transport_all(&n);
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++) {
		const char *why = all[i]->unsupported ? all[i]->unsupported() : NULL;
		(void)json_array_append_new(arr, json_pack("{ss ss sb ss*}", "name", all[i]->name, "summary",
							   all[i]->summary, "supported", why == NULL, "reason", why));
	}
	il_jset(x->results, "transports", arr);
	return IL_OK;
}

static const char *str(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "";
}

static void transports_print(const struct il_ctx *x, const void *cfg)
{
	(void)cfg;
	size_t i;
	json_t *t;
	json_array_foreach(json_object_get(x->results, "transports"), i, t) {
		bool ok = json_is_true(json_object_get(t, "supported"));
		printf("  %-14s %s%s%s%s\n", str(t, "name"), str(t, "summary"), ok ? "" : " [unsupported: ",
		       ok ? "" : str(t, "reason"), ok ? "" : "]");
	}
}

const struct il_experiment il_exp_ipc_transports = {
	.group = "ipc",
	.name = "transports",
	.summary = "list the IPC transports and whether each is usable here",
	.help = "List the IPC transports, with a one-line summary and whether each works here.",
	.measure = transports_measure,
	.print = transports_print,
};
