/* sysinfo.c - "ipclab core sysinfo": the environment every result records, on its own
 * (the same object as the "sysinfo" of every JSON envelope). */
#include "../core/experiment.h"
#include "../core/log.h"

#include <stdio.h>
#include <stdlib.h>

static int sysinfo_measure(struct il_ctx *x, void *cfg)
{
	return il_ctx_sysinfo(x) ? IL_OK : IL_NORES;
}

/* One "key value" line per field, values as JSON (strings quoted). */
static void sysinfo_print(const struct il_ctx *x, const void *cfg)
{
	const char *k;
	json_t *v;
	json_object_foreach(x->sysinfo, k, v) {
		char *s = json_dumps(v, JSON_ENCODE_ANY);
		printf("%-18s %s\n", k, s ? s : "?");
		free(s);
	}
}

const struct il_experiment il_exp_core_sysinfo = {
	.group = "core",
	.name = "sysinfo",
	.summary = "the environment recorded beside every result",
	.help = "Print the environment recorded beside every result (kernel, CPU, clocksource...).",
	.measure = sysinfo_measure,
	.print = sysinfo_print,
};
