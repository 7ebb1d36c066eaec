/* log.h - one-line messages and the semantic exit codes every program uses. */
#ifndef IPCLAB_LOG_H
#define IPCLAB_LOG_H

#include <stdbool.h>

/* Exit codes shared by every experiment (see README "Exit codes"). */
enum il_exit {
	IL_OK = 0,      /* ran and every check held */
	IL_FAIL = 1,    /* a check failed: lost payload, wrong order, dead peer, timeout */
	IL_USAGE = 2,   /* bad command line */
	IL_NORES = 3,   /* no resource: limits, permissions, memory */
	IL_UNSUP = 4,   /* unsupported here: a SKIP, not a failure */
};

/* Sets the "ipclab: <what>: " prefix used by every message. */
void il_log_set_prefix(const char *what);
/* Suppresses il_info() output (--quiet). */
void il_log_set_quiet(bool quiet);
bool il_log_quiet(void);

/* Could not run: "ipclab: pipe: <msg>". */
void il_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Same with ": <strerror> (errno N)" appended, using the errno saved on entry. */
void il_errno(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The system broke a promise (a check failed): "ipclab: pipe: FAIL: <msg>". */
void il_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void il_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Progress/information on stderr, unless --quiet. */
void il_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Maps an errno from a failed set-up call to an exit code (limits -> 3, ENOSYS -> 4, else 1). */
int il_exit_for_errno(int e);

#endif
