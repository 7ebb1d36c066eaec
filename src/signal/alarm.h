/* alarm.h - "ipclab signal alarm" inside: the forked children of the checks
 * (alarm.c) and of the timer lateness (alarm_lateness.c), and the absolute schedule
 * lateness is measured against (unit-tested). */
#ifndef IPCLAB_SIGNAL_ALARM_H
#define IPCLAB_SIGNAL_ALARM_H

#include "../core/hist.h"
#include "../core/result.h"

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

enum timer_kind { T_ITIMER, T_POSIX_SIGNAL, T_POSIX_THREAD_ID, T_NANOSLEEP, N_TIMERS };
extern const char *const alarm_timer_names[N_TIMERS];

/* What a child reports back (MAP_SHARED). A child logs its own failures. */
struct alarm_shared {
	/* alarm semantics */
	unsigned a_first, a_replace, a_cancel, a_again;
	long itv_after_replace_ms, itv_after_cancel_us;
	/* pause */
	int p_ret, p_errno;
	volatile sig_atomic_t p_handled;
	uint64_t p_waited_ns;
	/* lateness */
	struct il_hist late;
	uint64_t signals, overruns, early, slack_ns;
	int cpu;
};

/* A child's settings. */
struct alarm_child {
	struct alarm_shared *sh;
	uint64_t period_ns, ticks;
	int kind;      /* enum timer_kind */
	bool restart;  /* pause check: SA_RESTART */
};

/* Runs fn(a) in a forked child pinned to cpu (-1: not), waits for it. With wstatus: its
 * raw wait status, IL_OK. Without: the child's exit code, or IL_FAIL after one line
 * naming the child (what: "the pause() child") if it was killed. An exit code (logged)
 * when it could not be run. */
int alarm_run_child(int cpu, int (*fn)(void *), struct alarm_child *a, int *wstatus, const char *what);

/* The lateness part: every timer kind in its own child; fills results.lateness and
 * results.timer_slack_ns, registers the histograms for --hist. An exit code, logged. */
int alarm_lateness(struct il_ctx *x, int cpu, uint64_t period_ns, uint64_t ticks);

/* Periodic-timer bookkeeping over an absolute schedule start + k * period. */
struct tsched {
	uint64_t start, period;  /* ns; expiry k is due at start + k * period, k >= 1 */
	uint64_t k;              /* index of the expiry the next observation belongs to */
	uint64_t early;          /* observations before their ideal time (clamped to 0) */
	uint64_t missed;         /* expirations skipped (overruns, counted or estimated) */
	uint64_t guessed;        /* of missed, how many the last estimate added */
};
void tsched_init(struct tsched *s, uint64_t start, uint64_t period);
/* Lateness of an observation at time t of expiry s->k; then advances s->k past this
 * expiry and the `overrun` further ones that merged into it (overrun < 0: estimate
 * them from t, for timers that keep no count, like ITIMER_REAL). */
uint64_t tsched_observe(struct tsched *s, uint64_t t, long overrun);

#endif
