/* outfile.h - result files (--json=FILE, --hist=FILE): checked before the run, written
 * atomically after it (a temporary file in the same folder, fsync, rename), so a full
 * disk or a killed run never leaves a half-written file. Experiment level (log.h): each
 * function logs its one line and returns an enum il_exit. */
#ifndef IPCLAB_OUTFILE_H
#define IPCLAB_OUTFILE_H

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>

/* Before measuring: can path receive option's output? IL_OK; IL_USAGE for a path that
 * can never work (empty, a directory, a missing folder, a name too long, inside /proc);
 * IL_NORES for permissions and space (read-only, /dev/full, a full file system). */
int il_out_check(const char *option, const char *path);

/* A result file being written. */
struct il_out {
	FILE *f;
	bool direct;            /* not a regular file (/dev/stdout, a FIFO): written in place */
	char path[PATH_MAX];    /* the destination, symbolic links resolved */
	char tmp[PATH_MAX + 32]; /* the temporary file renamed onto path */
	const char *shown;      /* the path as the user gave it, for messages */
};
/* Opens the temporary file for path (or path itself when it is not a regular file).
 * IL_OK, or IL_NORES after one line. */
int il_out_open(struct il_out *o, const char *path);
/* Flushes, fsyncs and renames the temporary onto the destination. IL_OK, or IL_NORES
 * after one line naming the path (the temporary removed, the old file untouched). */
int il_out_commit(struct il_out *o);
/* Gives up: closes and removes the temporary. */
void il_out_abort(struct il_out *o);

#endif
