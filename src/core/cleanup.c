/* cleanup.c - the registry of named IPC objects (removed at exit and by the guard), their
 * unpredictable names, and the record of SysV objects "ipclab clean" reads.
 * Everything reachable from a signal handler uses fixed arrays and syscalls only. */
#include "cleanup.h"
#include "log.h"
#include "sys.h"

#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <mqueue.h>
#include <semaphore.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/mman.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_OBJ 64

struct obj {
	volatile sig_atomic_t used;
	enum il_obj_kind kind;
	int id;
	pid_t owner;
	char name[128];
};

static struct obj objs[MAX_OBJ];
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

static void sysv_record(enum il_obj_kind kind, int id);

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
		if (kind == IL_OBJ_SYSV_MSG || kind == IL_OBJ_SYSV_SEM || kind == IL_OBJ_SYSV_SHM)
			sysv_record(kind, id);
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
	uint64_t r;
	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r)) {
		/* no entropy yet (early boot): a clock in ns is still not guessable in advance */
		struct timespec ts;
		(void)clock_gettime(CLOCK_MONOTONIC, &ts);
		r = ((uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec) ^ ((uint64_t)obj_seq++ << 48);
	}
	(void)snprintf(buf, len, "/ipclab-%s-%d-%016" PRIx64, tag, (int)getpid(), r);
}

int il_object_create(char *buf, unsigned len, const char *tag, int (*create)(const char *name, void *arg),
		     void *arg)
{
	int r = -EEXIST;
	for (int i = 0; i < 8 && r == -EEXIST; i++) {
		il_object_name(buf, len, tag);
		r = create(buf, arg);
	}
	return r;
}

/* ---- SysV objects have no name: what a run creates is recorded, so that "ipclab clean"
 * can remove what a run killed with SIGKILL left (clean.c checks the owner and ctime). */
static int rec_fd = -1;
static pid_t rec_pid;

/* The creation time the kernel keeps for a SysV object (its ctime), -1 if unknown. */
static long sysv_ctime(enum il_obj_kind kind, int id)
{
	if (kind == IL_OBJ_SYSV_MSG) {
		struct msqid_ds d;
		return msgctl(id, IPC_STAT, &d) == 0 ? (long)d.msg_ctime : -1;
	}
	if (kind == IL_OBJ_SYSV_SEM) {
		struct semid_ds d;
		union { int val; struct semid_ds *buf; } arg = { .buf = &d };
		return semctl(id, 0, IPC_STAT, arg) == 0 ? (long)d.sem_ctime : -1;
	}
	struct shmid_ds d;
	return shmctl(id, IPC_STAT, &d) == 0 ? (long)d.shm_ctime : -1;
}

/* Appends "<msg|sem|shm> <id> <ctime>" to this process's record file
 * /dev/shm/ipclab-sysv-<pid>-<random> (0600, O_EXCL), made at the first SysV object and
 * removed with the objects. Best effort: without it the object is still removed at exit. */
static void sysv_record(enum il_obj_kind kind, int id)
{
	if (rec_pid != getpid()) { /* a forked child records its own objects in its own file */
		rec_fd = -1;
		char name[64], path[80];
		il_object_name(name, sizeof(name), "sysv");
		(void)snprintf(path, sizeof(path), "/dev/shm%s", name);
		rec_fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_APPEND | O_CLOEXEC, 0600);
		if (rec_fd < 0)
			return;
		rec_pid = getpid();
		(void)il_cleanup_add(IL_OBJ_FILE, path, -1);
	}
	const char *k = kind == IL_OBJ_SYSV_MSG ? "msg" : kind == IL_OBJ_SYSV_SEM ? "sem" : "shm";
	(void)dprintf(rec_fd, "%s %d %ld\n", k, id, sysv_ctime(kind, id));
}
