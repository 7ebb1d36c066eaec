/* main.c - the ipclab command: "ipclab list", "ipclab help EXP", "ipclab GROUP EXP ...". */
#include <stdio.h>
#include <string.h>

#include "core/clean.h"
#include "core/experiment.h"
#include "core/log.h"

#define IL_EXPERIMENT(g, n) extern const struct il_experiment il_exp_##g##_##n;
#include "registry.def"
#undef IL_EXPERIMENT

static const struct il_experiment *const experiments[] = {
#define IL_EXPERIMENT(g, n) &il_exp_##g##_##n,
#include "registry.def"
#undef IL_EXPERIMENT
};
#define N_EXP (sizeof(experiments) / sizeof(experiments[0]))

static void usage(FILE *f)
{
	fprintf(f, "usage: ipclab list\n"
		   "       ipclab help GROUP EXPERIMENT\n"
		   "       ipclab clean [--dry-run] [--json]   (objects of killed runs)\n"
		   "       ipclab GROUP EXPERIMENT [options]   (--help for the options)\n\n"
		   "Instrumented experiments on Linux processes, threads, signals and IPC.\n"
		   "Run under scripts/ipclab-trace to record LTTng-UST traces.\n");
}

static void list(void)
{
	const char *group = "";
	for (size_t i = 0; i < N_EXP; i++) {
		const struct il_experiment *e = experiments[i];
		if (!il_experiment_listed(e))
			continue;
		if (strcmp(group, e->group)) {
			printf("%s%s:\n", i ? "\n" : "", e->group);
			group = e->group;
		}
		char full[64];
		(void)snprintf(full, sizeof(full), "%s %s", e->group, e->name);
		printf("  %-22s %s\n", full, e->summary);
	}
}

/* Finds GROUP EXPERIMENT (also accepts "GROUP/EXPERIMENT" as one word). */
static const struct il_experiment *find(const char *g, const char *n)
{
	for (size_t i = 0; i < N_EXP; i++)
		if (!strcmp(experiments[i]->group, g) && !strcmp(experiments[i]->name, n))
			return experiments[i];
	return NULL;
}

static int unknown(const char *g, const char *n)
{
	il_err("unknown experiment '%s%s%s'; 'ipclab list' shows them", g, n ? " " : "", n ? n : "");
	return IL_USAGE;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return IL_USAGE;
	}
	const char *cmd = argv[1];
	if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
		usage(stdout);
		return IL_OK;
	}
	if (!strcmp(cmd, "list")) {
		if (argc > 2) {
			il_err("'list' takes no arguments");
			return IL_USAGE;
		}
		list();
		return IL_OK;
	}
	if (!strcmp(cmd, "clean"))
		return il_clean_main(argc - 1, argv + 1);
	if (!strcmp(cmd, "help")) {
		if (argc != 4) {
			il_err("usage: ipclab help GROUP EXPERIMENT");
			return IL_USAGE;
		}
		const struct il_experiment *e = find(argv[2], argv[3]);
		if (!e)
			return unknown(argv[2], argv[3]);
		char name[64];
		(void)snprintf(name, sizeof(name), "%s %s", e->group, e->name);
		char *hargv[] = { name, (char *)"--help", NULL };
		return il_experiment_main(e, 2, hargv);
	}
	if (argc < 3 || argv[2][0] == '-')
		return unknown(cmd, argc >= 3 ? argv[2] : NULL);
	const struct il_experiment *e = find(argv[1], argv[2]);
	if (!e)
		return unknown(argv[1], argv[2]);
	char name[64];
	(void)snprintf(name, sizeof(name), "%s %s", e->group, e->name);
	argv[2] = name;
	return il_experiment_main(e, argc - 2, argv + 2);
}
