/* isolation.h - what the two files of "task isolation" share: the scenarios' state,
 * the sacrificial children, the named checks. isolation.c: the experiment and the crash
 * scenarios; isolation_life.c: the lifetime scenarios (PDEATHSIG, detached thread,
 * orphan). */
#ifndef IPCLAB_TASK_ISOLATION_H
#define IPCLAB_TASK_ISOLATION_H

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

#include "task.h"

#define DEATH_WAIT_MS 10000

/* Shared with the sacrificial children (MAP_SHARED). */
struct iso_shared {
	volatile int thread_started, main_after_join;
	volatile pid_t grandchild;
	volatile pid_t dtid;
	volatile int d_started, d_finished;
};

/* The run: checks and outcomes (results), failed checks counted. */
struct iso {
	json_t *checks, *outcomes;
	struct iso_shared *sh;
	int failed;
};

/* A grandchild whose parent (a sacrificial child of ours) exits once the grandchild is
 * ready: what became of it. In: pdeathsig (0: none, a "non-daemon" child; else the
 * signal it asks for with PR_SET_PDEATHSIG, a "daemon" child) and its name. */
struct iso_gc {
	int pdeathsig;
	const char *name;
	int parent_st;          /* the parent's wait status */
	bool parent_reaped;
	pid_t g;                /* 0 if it was never forked */
	bool alive_after;       /* alive right after its parent was reaped (state not Z/X) */
	pid_t ppid_after;       /* its parent then (reparented: us, the subreaper) */
	bool died_unreleased;   /* a daemon: it died before we released it */
	int st;                 /* its wait status, reaped by us */
	bool reaped;
};
/* Runs it; IL_OK (gc says what happened) or an exit code after one message. */
int iso_grandchild(struct iso_shared *sh, struct iso_gc *gc);
/* gc's wait status in words, or "not reaped". */
json_t *iso_gc_status(const struct iso_gc *gc);

/* A sacrificial child whose detached ("daemon") thread blocks for ever while its main
 * thread calls exit(): what became of the thread. */
struct iso_dt {
	int st;          /* the process's wait status */
	bool reaped, started, finished, gone;
};
int iso_daemon_thread(struct iso_shared *sh, struct iso_dt *dt);

/* A scenario: IL_OK when it ran (its checks say what held), else an exit code after one
 * message. */
int iso_pdeathsig(struct iso *c);
int iso_detached_thread(struct iso *c);
int iso_orphan(struct iso *c);

/* Records a named check (tk_check) and counts it if it failed. */
void iso_check(struct iso *c, const char *name, json_t *expected, json_t *actual, bool pass);
/* Forks a sacrificial child in a new process group that the guard kills on Ctrl-C or
 * timeout; the child dies with us (PDEATHSIG). Returns the pid (0 in the child). */
pid_t iso_fork_sacrificial(const char *name);
/* The scenario is over: its group is gone, the guard forgets it. */
void iso_done_sacrificial(pid_t pid);
/* The failed call's errno as one message and an exit code. */
int iso_sys_error(const char *call);
/* waitpid (EINTR retried), *st 0 first; its result. */
pid_t iso_wait(pid_t pid, int *st);
/* The wait status in words, as a JSON string. */
json_t *iso_status(int st);
bool iso_killed_by(int st, int sig);
bool iso_exited_0(int st);
/* One "ready" byte: written; read (false on end of file). */
void iso_write_byte(int fd);
bool iso_read_byte(int fd);

#endif
