/* transports.c - "ipclab ipc transports": every registered transport, whether it is usable here. */
#include "transport.h"
#include "../core/experiment.h"
#include "../core/log.h"
#include "../core/result.h"

#include <stdio.h>

static int transports_run(int argc, char **argv)
{
	struct il_ctx x;
	il_ctx_begin(&x, argv[0], argc, argv);
	int prc = il_ctx_parse(&x, "List the IPC transports, with a one-line summary and whether each works here.", 0, NULL);
	if (prc != IL_RUN)
		return prc;
	size_t n;
	const struct il_transport *const *all = il_transport_all(&n);
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++) {
		const char *why = all[i]->unsupported ? all[i]->unsupported() : NULL;
		(void)json_array_append_new(arr, json_pack("{ss ss sb ss*}", "name", all[i]->name, "summary",
							   all[i]->summary, "supported", why == NULL, "reason", why));
		if (!x.c.json || x.c.json_file)
			printf("  %-14s %s%s%s%s\n", all[i]->name, all[i]->summary, why ? " [unsupported: " : "",
			       why ? why : "", why ? "]" : "");
	}
	il_jset(x.results, "transports", arr);
	return il_ctx_finish(&x, IL_OK);
}

const struct il_experiment il_exp_ipc_transports = {
	.group = "ipc",
	.name = "transports",
	.summary = "list the IPC transports and whether each is usable here",
	.run = transports_run,
};
