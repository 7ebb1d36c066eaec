/* log.h - one-line messages and the semantic exit codes every program uses.
 *
 * ERROR CONVENTION, per layer (each failure is reported exactly once, where it is
 * understood):
 *   1. Syscall-level helpers (src/core/sys.h, clock, hist, parse_*): return -errno (or
 *      -1/NULL for a pure computation), never log, never exit.
 *   2. Mechanism ops on the hot path (transports, lock/event ops): -1 with errno set, as
 *      the system calls they wrap; no logging (the caller knows the iteration).
 *   3. Experiment-level functions (params, measure and the helpers that decide the
 *      outcome of a run): log once with il_err/il_errno (could not run) or il_fail (the
 *      system broke a promise), and return an enum il_exit; callers pass the code up
 *      without logging again. Map a set-up errno with il_exit_for_errno().
 *   4. Core (run.c) turns the code into the exit status and the JSON "exit_code".
 * No "char why[256]" out-buffers: log at the point of failure instead. A forked peer
 * logs through the same functions (stderr is shared) and returns its il_exit code as
 * its exit status. */
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

/* Messages are one line each: control characters in them are escaped (\n, \xHH).
 * One failure, one line: once an error (il_err, il_errno) was said in this run, by us or
 * a forked peer, FAIL lines are dropped (the failures it caused are not news); after
 * il_log_final() nothing but warnings and info is said. */
/* The line just written (the watchdog's) is the run's last word. */
void il_log_final(void);

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
