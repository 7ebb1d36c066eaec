/* cleanup.h - a registry of named IPC objects, removed on exit, error, SIGINT/SIGTERM
 * and watchdog expiry, so nothing is left in /dev/shm, /dev/mqueue or ipcs. Only the
 * process that registered an object removes it; forked peers never do. */
#ifndef IPCLAB_CLEANUP_H
#define IPCLAB_CLEANUP_H

#include <sys/types.h>

enum il_obj_kind { IL_OBJ_SHM, IL_OBJ_MQ, IL_OBJ_SEM, IL_OBJ_FILE, IL_OBJ_DIR,
		   IL_OBJ_SYSV_MSG, IL_OBJ_SYSV_SEM, IL_OBJ_SYSV_SHM };

/* Registers an object (name for POSIX/file kinds, id for SysV). Returns a handle >= 0 or -1. */
int il_cleanup_add(enum il_obj_kind kind, const char *name, int id);
/* Removes the object now and forgets it. */
void il_cleanup_remove(int handle);
/* Forgets it without removing (already removed by the caller). */
void il_cleanup_forget(int handle);
/* Removes every registered object (async-signal-safe syscalls only). */
void il_cleanup_run(void);

/* Makes an unpredictable object name "/ipclab-<tag>-<pid>-<16 hex digits from
 * getrandom>" in buf: nobody can create it first to make a run fail (use O_EXCL anyway).
 * The prefix and the creator's pid are what "ipclab clean" and the tests recognise. */
void il_object_name(char *buf, unsigned len, const char *tag);
/* Names and creates an object: create(name, arg) returns >= 0 or -errno; on -EEXIST a
 * fresh name is tried (up to 8 times). Returns create's last result; buf holds the name. */
int il_object_create(char *buf, unsigned len, const char *tag, int (*create)(const char *name, void *arg),
		     void *arg);

/* Peers (forked children) the signal/watchdog path must kill and reap. */
void il_peer_track(pid_t pid);
void il_peer_untrack(pid_t pid);
/* The pid of a tracked peer process that has ended (still unreaped: it is not reaped
 * here), or 0 if all are alive. */
pid_t il_peer_ended(void);
/* The guard's last word on children: SIGKILLs the process group set with
 * il_guard_set_pgid (if any), every tracked peer and every other child of any of our
 * threads (/proc/self/task/ * /children), then reaps until ECHILD, so nothing is left
 * as a zombie or an orphan. Async-signal-safe. */
void il_peers_kill_all(void);
/* A process group we created (e.g. with setpgid) to SIGKILL first; 0 clears it. */
void il_guard_set_pgid(pid_t pgid);

/* Installs handlers that kill peers, clean up and re-raise for SIGINT, SIGTERM, SIGHUP
 * and the faults SIGBUS, SIGSEGV, SIGFPE, SIGILL, SIGABRT (unless something else, e.g. a
 * sanitizer, already handles a fault), plus a watchdog thread (all signals blocked;
 * SIGALRM stays free for experiments) that does the same and exits 1 after timeout_s.
 * Only the installing process cleans up: a raw fork() of it just dies of the signal. */
void il_guard_install(unsigned timeout_s);
/* Cancels the watchdog and joins its thread. */
void il_guard_disarm(void);
/* In a forked peer: drop the parent's guard (default signal actions, no cleanup), die
 * with the parent (PR_SET_PDEATHSIG). */
void il_guard_child(void);

#endif
