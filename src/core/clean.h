/* clean.h - "ipclab clean": what runs killed with SIGKILL left behind (clean.c). */
#ifndef IPCLAB_CLEAN_H
#define IPCLAB_CLEAN_H

#include <sys/types.h>

/* argv[0] is "clean". Returns the exit code: 0, 2 usage, 3 when something could not be
 * removed. */
int il_clean_main(int argc, char **argv);
/* The creator pid in an object name "ipclab-<tag>-<pid>-<rest>" (also "sem.ipclab-..."),
 * -1 when the name is not one of ours. */
pid_t il_clean_name_pid(const char *name);

#endif
