/* cleanup.c - object registry, peer registry and the signal/watchdog guard.
 * Everything reachable from a signal handler uses fixed arrays and syscalls only. */
#include "cleanup.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/prctl.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_OBJ 64
#define MAX_PEERS 256

struct obj {
	volatile sig_atomic_t used;
	enum il_obj_kind kind;
	int id;
	pid_t owner;
	char name[128];
};

static struct obj objs[MAX_OBJ];
static volatile pid_t peers[MAX_PEERS];
static unsigned obj_seq;
static volatile sig_atomic_t registered_atexit;

static void remove_obj(struct obj *o)
{
	if (!o->used || o->owner != getpid())
		return;
	switch (o->kind) {
	case IL_OBJ_SHM: (void)shm_unlink(o->name); break;
	case IL_OBJ_MQ: (void)mq_unlink(o->name); break;
	case IL_OBJ_SEM: (void)sem_unlink(o->name); break;
	case IL_OBJ_FILE: (void)unlink(o->name); break;
	case IL_OBJ_DIR: (void)rmdir(o->name); break;
	case IL_OBJ_SYSV_MSG: (void)msgctl(o->id, IPC_RMID, NULL); break;
	case IL_OBJ_SYSV_SEM: (void)semctl(o->id, 0, IPC_RMID); break;
	case IL_OBJ_SYSV_SHM: (void)shmctl(o->id, IPC_RMID, NULL); break;
	}
	o->used = 0;
}

void il_cleanup_run(void)
{
	/* Files before directories: a FIFO lives inside our private directory. */
	for (int pass = 0; pass < 2; pass++)
		for (int i = MAX_OBJ - 1; i >= 0; i--)
			if (objs[i].used && ((objs[i].kind == IL_OBJ_DIR) == (pass == 1)))
				remove_obj(&objs[i]);
}

static void at_exit_cleanup(void)
{
	il_cleanup_run();
}

int il_cleanup_add(enum il_obj_kind kind, const char *name, int id)
{
	if (!registered_atexit) {
		registered_atexit = 1;
		(void)atexit(at_exit_cleanup);
	}
	for (int i = 0; i < MAX_OBJ; i++) {
		if (objs[i].used)
			continue;
		objs[i].kind = kind;
		objs[i].id = id;
		objs[i].owner = getpid();
		(void)snprintf(objs[i].name, sizeof(objs[i].name), "%s", name ? name : "");
		objs[i].used = 1;
		return i;
	}
	errno = ENOSPC;
	return -1;
}

void il_cleanup_remove(int h)
{
	if (h >= 0 && h < MAX_OBJ)
		remove_obj(&objs[h]);
}

void il_cleanup_forget(int h)
{
	if (h >= 0 && h < MAX_OBJ)
		objs[h].used = 0;
}

void il_object_name(char *buf, unsigned len, const char *tag)
{
	(void)snprintf(buf, len, "/ipclab-%s-%d-%u", tag, (int)getpid(), obj_seq++);
}

void il_peer_track(pid_t pid)
{
	for (int i = 0; i < MAX_PEERS; i++)
		if (peers[i] == 0) {
			peers[i] = pid;
			return;
		}
}

void il_peer_untrack(pid_t pid)
{
	for (int i = 0; i < MAX_PEERS; i++)
		if (peers[i] == pid)
			peers[i] = 0;
}

void il_peers_kill_all(void)
{
	for (int i = 0; i < MAX_PEERS; i++) {
		pid_t p = peers[i];
		if (p > 0) {
			(void)kill(p, SIGKILL);
			while (waitpid(p, NULL, 0) < 0 && errno == EINTR)
				;
			peers[i] = 0;
		}
	}
}

static unsigned guard_timeout;

/* Writes a constant-size message with write(2): safe in a signal handler. */
static void say(const char *a, const char *b)
{
	(void)!write(STDERR_FILENO, a, strlen(a));
	(void)!write(STDERR_FILENO, b, strlen(b));
}

static void on_fatal_signal(int sig)
{
	int saved = errno;
	il_peers_kill_all();
	il_cleanup_run();
	if (sig == SIGALRM) {
		char num[24];
		int n = 0;
		unsigned t = guard_timeout;
		char rev[24];
		do {
			rev[n++] = (char)('0' + t % 10);
			t /= 10;
		} while (t && n < 20);
		for (int i = 0; i < n; i++)
			num[i] = rev[n - 1 - i];
		num[n] = 0;
		say("ipclab: FAIL: watchdog expired after ", num);
		say(" s (--timeout); peers killed, objects removed\n", "");
		_exit(IL_FAIL);
	}
	signal(sig, SIG_DFL);
	errno = saved;
	(void)raise(sig);
}

void il_guard_install(unsigned timeout_s)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_fatal_signal;
	sigfillset(&sa.sa_mask);
	(void)sigaction(SIGINT, &sa, NULL);
	(void)sigaction(SIGTERM, &sa, NULL);
	(void)sigaction(SIGHUP, &sa, NULL);
	(void)sigaction(SIGALRM, &sa, NULL);
	guard_timeout = timeout_s;
	if (timeout_s)
		(void)alarm(timeout_s);
}

void il_guard_disarm(void)
{
	(void)alarm(0);
}

void il_guard_child(void)
{
	/* Forget the parent's peers and objects: they are not ours to remove. */
	for (int i = 0; i < MAX_PEERS; i++)
		peers[i] = 0;
	(void)alarm(0);
	signal(SIGALRM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
}
