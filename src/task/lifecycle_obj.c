/* lifecycle_obj.c - the Process / Thread object of "task lifecycle" (lifecycle.h). The task
 * itself: names itself first (prctl PR_SET_NAME names the calling thread, so /proc and
 * the trace's procname context show it), emits task_start, says it runs by writing its
 * tid to the ready pipe, blocks until one byte arrives on the release pipe, emits
 * task_exit and returns TK_OBJ_EXITCODE (a process: _exit; a thread: its return value). */
#include "lifecycle.h"
#include "task.h"
#include "../core/clock.h"
#include "../core/spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

void tk_obj_init(struct tk_obj *o, int kind, const char *name)
{
	memset(o, 0, sizeof(*o));
	o->kind = kind;
	(void)snprintf(o->name, sizeof(o->name), "%s", name);
	o->pidfd = o->ready[0] = o->ready[1] = o->release[0] = o->release[1] = -1;
}

/* The task's life, in the new process or thread. */
static int task_body(struct tk_obj *o)
{
	uint64_t t = il_now_ns();
	il_set_task_name(o->name);
	pid_t pid = getpid(), tid = gettid();
	tk_tp_start(o->seq, pid, tid, t, false);
	(void)il_write_full(o->ready[1], &tid, sizeof(tid));
	char ch;
	(void)il_read_full(o->release[0], &ch, 1); /* a byte, or end of file if we are abandoned */
	tk_tp_exit(o->seq, pid, tid, TK_OBJ_EXITCODE, false);
	return TK_OBJ_EXITCODE;
}

static void *thread_main(void *arg)
{
	return (void *)(intptr_t)task_body(arg);
}

/* Forks the process task: it dies with us (a process object is not left behind by a
 * failing run) and its pidfd lets join() wait with a timeout. 0 or -errno. */
static int start_process(struct tk_obj *o)
{
	pid_t parent = getpid();
	(void)fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
		tk_close(&o->ready[0]);
		tk_close(&o->release[1]);
		_exit(task_body(o));
	}
	if (pid < 0)
		return -errno;
	tk_close(&o->ready[1]); /* the child's now: its death before "ready" is end of file */
	tk_close(&o->release[0]);
	o->pid = pid;
	o->pidfd = pidfd_open(pid, 0);
	if (o->pidfd < 0) {
		int e = errno;
		(void)kill(pid, SIGKILL);
		(void)il_waitpid(pid, &o->wstatus, 0);
		o->pid = 0;
		return -e;
	}
	return 0;
}

int tk_obj_start(struct tk_obj *o)
{
	if (pipe2(o->ready, O_CLOEXEC) < 0 || pipe2(o->release, O_CLOEXEC) < 0)
		return -errno;
	o->seq = tk_next_seq();
	o->t_spawn = il_now_ns();
	tk_tp_spawn(o->kind == TK_OBJ_PROCESS ? "lifecycle-process" : "lifecycle-thread", o->seq);
	if (o->kind == TK_OBJ_PROCESS) {
		int e = start_process(o);
		if (e)
			return e;
	} else {
		int e = pthread_create(&o->th, NULL, thread_main, o);
		if (e)
			return -e;
		o->pid = getpid();
	}
	o->started = true;
	pid_t tid = 0;
	if (il_read_full(o->ready[0], &tid, sizeof(tid)) < 0)
		return -EPIPE; /* it ended before it said it runs */
	o->tid = tid;
	return 0;
}

/* /proc/PID/FILE for a process, /proc/self/task/TID/FILE for a thread. */
static void proc_path(const struct tk_obj *o, const char *file, char *buf, size_t len)
{
	if (o->kind == TK_OBJ_PROCESS)
		(void)snprintf(buf, len, "/proc/%d/%s", (int)o->pid, file);
	else
		(void)snprintf(buf, len, "/proc/self/task/%d/%s", (int)o->tid, file);
}

bool tk_obj_alive(const struct tk_obj *o, char *state)
{
	struct il_proc_stat ps;
	*state = 0;
	if (!o->started || (o->joined && o->kind == TK_OBJ_PROCESS))
		return false; /* never ran, or reaped: the pid may be someone else's by now */
	if (il_proc_stat(o->kind == TK_OBJ_PROCESS ? o->pid : o->tid, &ps) < 0)
		return false;
	*state = ps.state;
	return ps.state != 'Z' && ps.state != 'X';
}

void tk_obj_comm(const struct tk_obj *o, char *buf, size_t len)
{
	char path[64];
	proc_path(o, "comm", path, sizeof(path));
	if (il_read_file(path, buf, len) <= 0)
		buf[0] = 0;
	buf[strcspn(buf, "\n")] = 0;
}

int tk_obj_release(struct tk_obj *o)
{
	char ch = 'r';
	return il_write_full(o->release[1], &ch, 1);
}

/* A process: poll its pidfd (readable once it exited), then reap it. */
static int join_process(struct tk_obj *o, int ms)
{
	struct pollfd p = { o->pidfd, POLLIN, 0 };
	int r;
	while ((r = poll(&p, 1, ms)) < 0 && errno == EINTR)
		;
	if (r < 0)
		return -errno;
	if (r == 0)
		return 0;
	pid_t w = il_waitpid(o->pid, &o->wstatus, 0);
	if (w != o->pid)
		return w < 0 ? w : -ECHILD;
	o->exitcode = WIFEXITED(o->wstatus) ? WEXITSTATUS(o->wstatus) : -WTERMSIG(o->wstatus);
	return 1;
}

/* A thread: pthread_timedjoin_np (its deadline is on CLOCK_REALTIME). */
static int join_thread(struct tk_obj *o, int ms)
{
	void *ret = NULL;
	int e;
	if (ms < 0) {
		e = pthread_join(o->th, &ret);
	} else {
		struct timespec dl;
		(void)clock_gettime(CLOCK_REALTIME, &dl);
		dl.tv_sec += ms / 1000;
		dl.tv_nsec += (long)(ms % 1000) * 1000000;
		if (dl.tv_nsec >= 1000000000) {
			dl.tv_sec++;
			dl.tv_nsec -= 1000000000;
		}
		e = pthread_timedjoin_np(o->th, &ret, &dl);
	}
	if (e == ETIMEDOUT)
		return 0;
	if (e)
		return -e;
	o->exitcode = (int)(intptr_t)ret;
	return 1;
}

int tk_obj_join(struct tk_obj *o, int ms)
{
	if (!o->started || o->joined)
		return -EINVAL;
	int r = o->kind == TK_OBJ_PROCESS ? join_process(o, ms) : join_thread(o, ms);
	if (r == 1) {
		o->joined = true;
		tk_tp_reaped(o->seq, o->pid, o->tid, o->kind == TK_OBJ_PROCESS ? o->wstatus : o->exitcode,
			     il_now_ns() - o->t_spawn);
	}
	return r;
}

bool tk_obj_gone(const struct tk_obj *o, uint64_t max_ns, uint64_t *waited_ns)
{
	uint64_t t0 = il_now_ns();
	*waited_ns = 0;
	if (o->kind == TK_OBJ_PROCESS) /* reaped: the pidfd still names it, and says it is gone */
		return pidfd_send_signal(o->pidfd, 0, NULL, 0) < 0 && errno == ESRCH;
	char path[64];
	proc_path(o, "stat", path, sizeof(path));
	while (access(path, F_OK) == 0 && il_now_ns() - t0 < max_ns)
		(void)sched_yield();
	*waited_ns = il_now_ns() - t0;
	return access(path, F_OK) < 0;
}

void tk_obj_free(struct tk_obj *o)
{
	if (o->started && !o->joined) {
		if (o->kind == TK_OBJ_PROCESS)
			(void)kill(o->pid, SIGKILL);
		else
			(void)tk_obj_release(o);
		(void)tk_obj_join(o, -1);
	}
	tk_close(&o->pidfd);
	tk_close(&o->ready[0]);
	tk_close(&o->ready[1]);
	tk_close(&o->release[0]);
	tk_close(&o->release[1]);
}
