/* lifecycle.h - the task object of "task lifecycle": the course's Process and Thread
 * objects (name, pid / tid, start, is_alive, join([timeout]), exitcode) over fork() and
 * pthread_create(). lifecycle_obj.c implements it; lifecycle.c is the experiment. */
#ifndef IPCLAB_TASK_LIFECYCLE_H
#define IPCLAB_TASK_LIFECYCLE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define TK_OBJ_EXITCODE 7 /* what the task returns: not 0, so the value is visibly the task's */

enum tk_obj_kind { TK_OBJ_PROCESS, TK_OBJ_THREAD };

struct tk_obj {
	int kind;            /* enum tk_obj_kind */
	char name[16];       /* the name it gives itself (PR_SET_NAME: 15 bytes) */
	bool started, joined;
	pid_t pid, tid;      /* a process: pid == tid; a thread: our pid and its tid */
	int pidfd;           /* a process: pidfd_open(2), -1 if none */
	pthread_t th;
	int ready[2];        /* the task writes its tid when it runs */
	int release[2];      /* one byte lets it finish */
	int exitcode;        /* after join: exit status / return value */
	int wstatus;         /* a process: the raw wait status */
	uint64_t seq;        /* ipclab_task events */
	uint64_t t_spawn;    /* just before the creation call */
};

/* Process(name=...) / Thread(name=...): created, not started. */
void tk_obj_init(struct tk_obj *o, int kind, const char *name);
/* start(): creates the task and waits (a pipe, never a sleep) until it runs under its
 * name. 0, or -errno of the failed call. */
int tk_obj_start(struct tk_obj *o);
/* is_alive() as the kernel sees it: /proc/PID/stat (a process) or
 * /proc/self/task/TID/stat (a thread) exists and is not a zombie. *state: the letter,
 * 0 if gone. */
bool tk_obj_alive(const struct tk_obj *o, char *state);
/* The name the kernel shows: /proc/PID/comm or /proc/self/task/TID/comm, newline
 * stripped; "" if unreadable. */
void tk_obj_comm(const struct tk_obj *o, char *buf, size_t len);
/* Lets the task return (it blocks until then). 0 or -errno. */
int tk_obj_release(struct tk_obj *o);
/* join(timeout): 1 joined (exitcode set), 0 the timeout expired first (ms < 0: no
 * timeout), -errno on error. A process is waited for through its pidfd (poll, then
 * waitid), a thread with pthread_timedjoin_np. */
int tk_obj_join(struct tk_obj *o, int ms);
/* After join: a process's pid is gone (pidfd_send_signal ESRCH); a thread's
 * /proc/self/task/TID is gone. The kernel releases a joined thread moments after
 * pthread_join returned (join returns when the thread cleared its tid on the way out):
 * waits for that at most max_ns. True if gone; *waited_ns how long it took. */
bool tk_obj_gone(const struct tk_obj *o, uint64_t max_ns, uint64_t *waited_ns);
/* Kills (a process) and reaps whatever is left; closes everything. */
void tk_obj_free(struct tk_obj *o);

#endif
