/* sigchld.h - "ipclab signal sigchld" inside: one run's record (sigchld.c runs the
 * children) and its verdict and result (sigchld_result.c). */
#ifndef IPCLAB_SIGNAL_SIGCHLD_H
#define IPCLAB_SIGNAL_SIGCHLD_H

#include "../core/hist.h"
#include "../core/result.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

enum sigchld_policy { POL_DEFAULT, POL_IGNORE, POL_HANDLER };

/* Written by each child just before _exit() (MAP_SHARED). */
struct sigchld_slot {
	pid_t pid;
	uint64_t t_exit;
};

/* Zombies seen in /proc over the run. */
struct sigchld_samples {
	unsigned zmax;
	bool proc_ok;
};

/* Counts the processes whose parent is us in /proc, and those in state Z. 0 or -1. */
int sigchld_count(unsigned *zombies, unsigned *total);
/* Counts the zombies now, keeping the maximum; 0 (and proc_ok false) if /proc failed. */
unsigned sigchld_sample(struct sigchld_samples *s);

/* One run, as recorded. */
struct sigchld_run {
	pid_t *pids;
	uint32_t spawned, reaped, calls, empty_calls, unknown, statuses_ok;
	uint32_t killed;        /* children that ended by a signal (someone killed them) */
	uint32_t killed_first;  /* the first of them (index), and its wait status */
	int killed_status;
	struct sigchld_samples ss;
	unsigned z_all_exited, z_zombified, z_after, left;
	int echild;             /* ignore: waitpid(-1) failed with ECHILD (1), not (0), -1 not tried */
	bool echild_got_child;  /* ignore: waitpid(-1) returned a child instead */
	uint64_t t_start, t_forked, t_done, t_echild;
	struct il_hist latency;
};

/* Fills x->results; if the run went through (ran), checks it first, one FAIL line per
 * broken promise. IL_OK, IL_FAIL, or IL_UNSUP (one line) when the effect did not show. */
int sigchld_verdict(struct il_ctx *x, const struct sigchld_run *r, int policy, uint32_t requested, bool ran);

#endif
