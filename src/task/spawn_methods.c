/* spawn_methods.c - the creation methods of "task spawn" (spawn_loop.c times them): fork,
 * vfork, posix_spawn (exec of the static helper ipclab-nop or of ipclab itself, which
 * write their start record to a pipe), clone(CLONE_VM), pthread, detached pthread. Each
 * is an optional set-up outside the timed loop and one create-and-wait step. A task that
 * shares our memory and TLS (vfork, clone) or is exec'd cannot trace itself, and a forked
 * child traced by itself would first re-register with the tracer: the creator emits their
 * task_start/task_exit from the stamp they left ("proxy"); --child-trace self makes a
 * forked child trace itself, to measure what that costs. */
#include "spawn.h"
#include "task.h"
#include "../core/clock.h"
#include "../core/log.h"
#include "../core/tp.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;


/* ---------------------------------------------------------------- the tasks */

/* A forked child: stamp first, trace itself, exit. */
static __attribute__((noreturn)) void fork_child(struct tk_slot *s)
{
	uint64_t t = il_now_ns();
	pid_t me = getpid();
	s->t_start = t;
	s->pid = me;
	s->tid = me;
	tk_tp_start(s->seq, me, me, t, false);
	tk_tp_exit(s->seq, me, me, 0, false);
	_exit(0);
}

/* vfork in a function of its own (locals of a vfork caller may be clobbered): the child
 * runs on our stack with our memory until it exits, so it only stamps. *t0 is stamped
 * just before the call. */
static __attribute__((noinline)) pid_t vfork_child(struct tk_slot *s, uint64_t *t0)
{
	*t0 = il_now_ns();
	pid_t pid = vfork();
	if (pid == 0) {
		s->t_start = il_now_ns();
		_exit(0);
	}
	return pid;
}

/* A clone(CLONE_VM) child shares our memory and TLS: it only stamps and returns, which
 * makes glibc's clone exit the task. */
static int clone_child(void *arg)
{
	struct tk_slot *s = arg;
	s->t_start = il_now_ns();
	return 0;
}

/* A thread: stamp first, trace itself, return. */
static void *thread_child(void *arg)
{
	struct tk_slot *s = arg;
	uint64_t t = il_now_ns();
	pid_t tid = gettid();
	s->t_start = t;
	s->tid = tid;
	tk_tp_start(s->seq, getpid(), tid, t, false);
	tk_tp_exit(s->seq, getpid(), tid, 0, false);
	return NULL;
}

/* A detached thread: as above, then posts the completion semaphore (nobody can join it). */
static void *detached_child(void *arg)
{
	struct tk_slot *s = arg;
	(void)thread_child(s);
	(void)sem_post(&s->done);
	return NULL;
}

/* ---------------------------------------------------------------- helper paths */

int tk_exec_path(int exec, char *buf, size_t len)
{
	ssize_t n = readlink("/proc/self/exe", buf, len - 1);
	if (n <= 0 || (size_t)n >= len - 1)
		return -1;
	buf[n] = 0;
	if (exec == TK_EXEC_SELF)
		return 0;
	char *slash = strrchr(buf, '/');
	if (!slash || (size_t)(slash - buf) + sizeof("/ipclab-nop") > len)
		return -1;
	(void)strcpy(slash, "/ipclab-nop");
	return 0;
}

int tk_elf_is_static(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	Elf64_Ehdr eh;
	int res = -1;
	if (pread(fd, &eh, sizeof(eh), 0) == (ssize_t)sizeof(eh) && !memcmp(eh.e_ident, ELFMAG, SELFMAG) &&
	    eh.e_ident[EI_CLASS] == ELFCLASS64 && eh.e_phentsize == sizeof(Elf64_Phdr)) {
		res = 1;
		for (unsigned i = 0; i < eh.e_phnum && res == 1; i++) {
			Elf64_Phdr ph;
			if (pread(fd, &ph, sizeof(ph), (off_t)(eh.e_phoff + i * sizeof(ph))) != (ssize_t)sizeof(ph))
				res = -1;
			else if (ph.p_type == PT_INTERP)
				res = 0;
		}
	}
	(void)close(fd);
	return res;
}

/* ---------------------------------------------------------------- set-ups */

/* The start-record pipe, kept above fd 3 so the dup2 onto 3 is a real dup (it clears
 * CLOEXEC). F_DUPFD fails with EINVAL when no fd above 3 is under RLIMIT_NOFILE
 * (fcntl(2)) and EMFILE when none is free there: both are a limit, exit 3. */
static int setup_pipe(struct tk_loop *l)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0) {
		int rc = il_exit_for_errno(errno);
		il_errno("pipe");
		return rc;
	}
	l->pfd[0] = fcntl(p[0], F_DUPFD_CLOEXEC, NOP_FD + 1);
	int e = errno;
	if (l->pfd[0] >= 0) {
		l->pfd[1] = fcntl(p[1], F_DUPFD_CLOEXEC, NOP_FD + 1);
		e = errno;
	}
	(void)close(p[0]);
	(void)close(p[1]);
	if (l->pfd[0] < 0 || l->pfd[1] < 0) {
		struct rlimit rl = { 0, 0 };
		(void)getrlimit(RLIMIT_NOFILE, &rl);
		il_err("no two free file descriptors above %d for the result pipe: %s (RLIMIT_NOFILE %llu)", NOP_FD,
		       strerror(e), (unsigned long long)rl.rlim_cur);
		return IL_NORES;
	}
	if (fcntl(l->pfd[0], F_SETFL, O_NONBLOCK) < 0) {
		int rc = il_exit_for_errno(errno);
		il_errno("fcntl on the result pipe");
		return rc;
	}
	return IL_OK;
}

static int setup_posix_spawn(struct tk_loop *l)
{
	int rc = setup_pipe(l);
	if (rc != IL_OK)
		return rc;
	if (tk_exec_path(l->exec, l->path, sizeof(l->path)) < 0 ||
	    (l->exec == TK_EXEC_NOP && access(l->path, X_OK) < 0)) {
		if (l->exec == TK_EXEC_SELF)
			il_err("cannot resolve /proc/self/exe");
		else
			il_err("helper %s not found or not executable (make builds it next to ipclab)",
			       *l->path ? l->path : "ipclab-nop");
		return IL_UNSUP;
	}
	static char *const self_argv[] = { (char *)"ipclab", (char *)"task", (char *)"nop", (char *)"--fd=3", NULL };
	static char *const nop_argv[] = { (char *)"ipclab-nop", NULL };
	memcpy(l->argv, l->exec == TK_EXEC_SELF ? self_argv : nop_argv,
	       l->exec == TK_EXEC_SELF ? sizeof(self_argv) : sizeof(nop_argv));
	int e = posix_spawn_file_actions_init(&l->fa);
	if (!e) {
		l->fa_init = true;
		e = posix_spawn_file_actions_adddup2(&l->fa, l->pfd[1], NOP_FD);
	}
	if (e) {
		il_err("posix_spawn_file_actions: %s", strerror(e));
		return IL_NORES;
	}
	return IL_OK;
}

static int setup_clone(struct tk_loop *l)
{
	void *st = mmap(NULL, TK_CLONE_STACK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	if (st == MAP_FAILED) {
		il_errno("mmap of the clone stack");
		return IL_NORES;
	}
	l->stack = st;
	return IL_OK;
}

static int setup_detached(struct tk_loop *l)
{
	if (pthread_attr_init(&l->dattr)) {
		il_err("pthread_attr: cannot make detached threads");
		return IL_NORES;
	}
	l->attr_init = true;
	if (pthread_attr_setdetachstate(&l->dattr, PTHREAD_CREATE_DETACHED)) {
		il_err("pthread_attr: cannot make detached threads");
		return IL_NORES;
	}
	if (sem_init(&l->sl->done, 0, 0) < 0) {
		il_errno("sem_init");
		return IL_NORES;
	}
	l->sem_init = true;
	return IL_OK;
}

/* ---------------------------------------------------------------- create and wait */

/* Proxy (the default): the child only stamps, forked without the tracer's fork hooks
 * (il_fork_untraced: traced, a child that traces itself first re-registers with the
 * session daemon, milliseconds that would be measured as fork); the creator emits its
 * task_start/task_exit. Self: fork() as the program calls it, the child traces itself. */
static void create_fork(struct tk_loop *l, struct tk_one *o)
{
	o->t0 = il_now_ns();
	o->pid = l->self_trace ? fork() : il_fork_untraced();
	if (o->pid == 0) {
		if (l->self_trace)
			fork_child(l->sl);
		l->sl->t_start = il_now_ns();
		_exit(0);
	}
	o->t1 = il_now_ns();
	o->proxy = !l->self_trace;
	if (o->pid < 0) {
		o->err = errno;
		return;
	}
	pid_t w = il_waitpid(o->pid, &o->st, 0);
	o->reaped = w == o->pid;
	o->werr = w < 0 ? (int)-w : 0;
	o->t2 = il_now_ns();
}

/* After the creation call of a task that borrows our memory (vfork, clone): the call's
 * outcome, the wait, the stamps; the creator traces for the task. */
static void wait_borrower(struct tk_one *o)
{
	o->t1 = il_now_ns();
	o->err = o->pid < 0 ? errno : 0;
	if (o->pid > 0) {
		pid_t w = il_waitpid(o->pid, &o->st, 0);
		o->reaped = w == o->pid;
		o->werr = w < 0 ? (int)-w : 0;
	}
	o->t2 = il_now_ns();
	o->proxy = true;
}

/* The child borrows our memory, stack and signal handlers until it exits: every signal
 * is blocked meanwhile so no handler of ours runs in it (as posix_spawn does). */
static void create_vfork(struct tk_loop *l, struct tk_one *o)
{
	sigset_t old;
	(void)pthread_sigmask(SIG_SETMASK, &l->all, &old);
	o->pid = vfork_child(l->sl, &o->t0);
	wait_borrower(o);
	(void)pthread_sigmask(SIG_SETMASK, &old, NULL);
}

static void create_clone(struct tk_loop *l, struct tk_one *o)
{
	sigset_t old;
	(void)pthread_sigmask(SIG_SETMASK, &l->all, &old);
	o->t0 = il_now_ns();
	o->pid = clone(clone_child, (char *)l->stack + TK_CLONE_STACK, CLONE_VM | SIGCHLD, l->sl);
	wait_borrower(o);
	(void)pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* The exec'd task writes its start record to the pipe (struct nop_msg). */
static void create_posix_spawn(struct tk_loop *l, struct tk_one *o)
{
	o->t0 = il_now_ns();
	int e = posix_spawn(&o->pid, l->path, &l->fa, NULL, l->argv, environ);
	o->t1 = il_now_ns();
	o->proxy = true;
	if (e) {
		o->err = e;
		o->pid = -1;
		return;
	}
	pid_t w = il_waitpid(o->pid, &o->st, 0);
	o->reaped = w == o->pid;
	o->werr = w < 0 ? (int)-w : 0;
	o->t2 = il_now_ns();
	struct nop_msg msg;
	if (il_read_full(l->pfd[0], &msg, sizeof(msg)) == 0 && msg.magic == NOP_MAGIC &&
	    msg.pid == o->pid)
		l->sl->t_start = msg.t_start;
}

static void create_pthread(struct tk_loop *l, struct tk_one *o)
{
	pthread_t th;
	o->t0 = il_now_ns();
	int e = pthread_create(&th, NULL, thread_child, l->sl);
	o->t1 = il_now_ns();
	if (e) {
		o->err = e;
		return;
	}
	o->pid = getpid();
	o->werr = pthread_join(th, NULL);
	o->reaped = o->werr == 0;
	o->t2 = il_now_ns();
}

static void create_detached(struct tk_loop *l, struct tk_one *o)
{
	pthread_t th;
	o->t0 = il_now_ns();
	int e = pthread_create(&th, &l->dattr, detached_child, l->sl);
	o->t1 = il_now_ns();
	if (e) {
		o->err = e;
		return;
	}
	o->pid = getpid();
	while (sem_wait(&l->sl->done) < 0 && errno == EINTR)
		;
	o->reaped = true;
	o->t2 = il_now_ns();
}

const struct tk_method_ops tk_methods[TK_NMETHODS] = {
	[TK_FORK] = { NULL, create_fork },
	[TK_VFORK] = { NULL, create_vfork },
	[TK_POSIX_SPAWN] = { setup_posix_spawn, create_posix_spawn },
	[TK_CLONE] = { setup_clone, create_clone },
	[TK_PTHREAD] = { NULL, create_pthread },
	[TK_PTHREAD_DETACHED] = { setup_detached, create_detached },
};

