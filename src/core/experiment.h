/* experiment.h - what one experiment registers: "ipclab <group> <name> [options]". */
#ifndef IPCLAB_EXPERIMENT_H
#define IPCLAB_EXPERIMENT_H

#include <stdbool.h>

struct il_experiment {
	const char *group;    /* "ipc" */
	const char *name;     /* "latency" */
	const char *summary;  /* one line for "ipclab list" */
	/* argv[0] is "<group> <name>"; returns an exit code (enum il_exit). */
	int (*run)(int argc, char **argv);
	/* Internal helper (e.g. the task "ipclab task spawn --exec self" runs): runnable,
	 * but not listed by "ipclab list" nor run by the generic experiment tests. */
	bool hidden;
};

#endif
