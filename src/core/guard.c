/* guard.c - the peer registry and the guard: signal handlers and the watchdog thread
 * that kill and reap every child and remove the registered objects (cleanup.c).
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
#include <sched.h>
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

#define MAX_PEERS 256

static volatile pid_t peers[MAX_PEERS];

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

pid_t il_peer_ended(void)
{
	for (int i = 0; i < MAX_PEERS; i++) {
		pid_t p = peers[i];
		if (p <= 0)
			continue;
		if (il_child_ended(p, false) == p)
			return p;
	}
	return 0;
}

static volatile pid_t kill_pgid;

void il_guard_set_pgid(pid_t pgid)
{
	kill_pgid = pgid;
}

/* Appends the decimal digits of v to p; returns the end. Async-signal-safe. */
static char *put_uint(char *p, unsigned long v)
{
	char rev[24];
	int n = 0;
	do {
		rev[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		*p++ = rev[--n];
	return p;
}

/* SIGKILLs every pid listed in /proc/self/task/<tid>/children (children forked by
 * that thread). Uses only open/read/close/kill. */
static void kill_children_of(const char *tid)
{
	char path[64] = "/proc/self/task/", buf[4096];
	char *p = path + strlen(path);
	for (const char *t = tid; *t && p < path + 40; t++)
		*p++ = *t;
	memcpy(p, "/children", 10);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	(void)close(fd);
	long pid = 0;
	for (ssize_t i = 0; i < n; i++) {
		if (buf[i] >= '0' && buf[i] <= '9') {
			pid = pid * 10 + (buf[i] - '0');
		} else {
			if (pid > 0)
				(void)kill((pid_t)pid, SIGKILL);
			pid = 0;
		}
	}
	if (pid > 0)
		(void)kill((pid_t)pid, SIGKILL);
}

/* Walks /proc/self/task with getdents64 (no opendir: it allocates). */
static void kill_all_children(void)
{
	int dfd = open("/proc/self/task", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return;
	char buf[4096];
	long n;
	while ((n = syscall(SYS_getdents64, dfd, buf, sizeof(buf))) > 0) {
		for (long off = 0; off < n;) {
			struct linux_dirent64 {
				uint64_t ino;
				int64_t off;
				unsigned short reclen;
				unsigned char type;
				char name[];
			} *d = (void *)(buf + off);
			if (d->name[0] != '.')
				kill_children_of(d->name);
			off += d->reclen;
		}
	}
	(void)close(dfd);
}

void il_peers_kill_all(void)
{
	pid_t g = kill_pgid;
	if (g > 0)
		(void)kill(-g, SIGKILL);
	for (int i = 0; i < MAX_PEERS; i++)
		if (peers[i] > 0)
			(void)kill(peers[i], SIGKILL);
	kill_all_children();
	/* Reap them all: on a machine whose init does not reap orphans, anything we left
	 * would stay a zombie. Every child was SIGKILLed, so this ends with ECHILD. */
	(void)il_reap_all();
	for (int i = 0; i < MAX_PEERS; i++)
		peers[i] = 0;
}

/* Writes a message with write(2): safe in a signal handler. */
static void say(const char *a, const char *b)
{
	(void)!write(STDERR_FILENO, a, strlen(a));
	(void)!write(STDERR_FILENO, b, strlen(b));
}

/* The signals the guard turns into "kill peers, remove names, die of the same signal":
 * the termination requests, and the faults (a SIGBUS on a full /dev/shm, a crash). */
static const int guarded[] = { SIGINT, SIGTERM, SIGHUP, SIGBUS, SIGSEGV, SIGFPE, SIGILL, SIGABRT };
#define N_GUARDED (sizeof(guarded) / sizeof(guarded[0]))
static volatile pid_t guard_pid; /* the process whose guard this is (not a raw fork of it) */

static void on_fatal_signal(int sig)
{
	int saved = errno;
	if (getpid() == guard_pid) {
		il_peers_kill_all();
		il_cleanup_run();
	}
	/* A fault re-executes the faulting instruction with the default action; a request
	 * (or raise/kill of a fault signal) is delivered again on return, unblocked. */
	signal(sig, SIG_DFL);
	errno = saved;
	(void)raise(sig);
}

/* The watchdog is a thread with every signal blocked, not alarm(2): experiments are free
 * to use SIGALRM and the process's signals are not disturbed by it. */
static pthread_mutex_t wd_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wd_cond;
static bool wd_armed, wd_running, wd_started;
static pthread_t wd_thread;
static unsigned wd_timeout;

static void *watchdog_main(void *arg)
{
	/* A private copy of the file-descriptor table, so the measuring thread's stays
	 * unshared: while a table has more than one user, every read(2)/write(2) takes and
	 * drops a reference on its file (two atomic operations per system call, the kernel's
	 * __fget_light); with one user it does not. That was 3-4 % of a same-CPU pipe round
	 * trip against perf bench sched pipe, whose processes have one thread. The copy holds
	 * what was open at this point (stdio; the experiment's own objects come later, so a
	 * killed peer's end of a pipe still reads EOF), and the watchdog uses only stderr. */
	(void)unshare(CLONE_FILES);
	struct timespec deadline;
	(void)clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += wd_timeout;
	(void)pthread_mutex_lock(&wd_lock);
	wd_started = true; /* past the thread's start-up: il_guard_install may return */
	(void)pthread_cond_broadcast(&wd_cond);
	int e = 0;
	while (wd_armed && e != ETIMEDOUT)
		e = pthread_cond_timedwait(&wd_cond, &wd_lock, &deadline);
	bool fire = wd_armed;
	(void)pthread_mutex_unlock(&wd_lock);
	if (fire) {
		il_log_final(); /* what the peers killed next would report is not news */
		char num[24];
		*put_uint(num, wd_timeout) = 0;
		say("ipclab: FAIL: watchdog expired after ", num);
		say(" s (--timeout); children killed and reaped, objects removed\n", "");
		il_peers_kill_all(); /* the main thread may report the killed peer: this line came first */
		il_cleanup_run();
		_exit(IL_FAIL);
	}
	return arg;
}

/* The handlers for the guarded signals. */
static void install_handlers(void)
{
	struct sigaction sa, old;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_fatal_signal;
	sigfillset(&sa.sa_mask);
	guard_pid = getpid();
	for (size_t i = 0; i < N_GUARDED; i++) {
		/* keep a handler someone else installed for a fault (a sanitizer, a debugger) */
		if (i >= 3 && sigaction(guarded[i], NULL, &old) == 0 && old.sa_handler != SIG_DFL &&
		    old.sa_handler != on_fatal_signal)
			continue;
		(void)sigaction(guarded[i], &sa, NULL);
	}
}

void il_guard_install(unsigned timeout_s)
{
	install_handlers();
	if (!timeout_s || wd_running)
		return;
	pthread_condattr_t ca;
	(void)pthread_condattr_init(&ca);
	(void)pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	(void)pthread_cond_init(&wd_cond, &ca);
	(void)pthread_condattr_destroy(&ca);
	wd_timeout = timeout_s;
	wd_armed = true;
	sigset_t all, old;
	sigfillset(&all);
	(void)pthread_sigmask(SIG_SETMASK, &all, &old);
	wd_running = pthread_create(&wd_thread, NULL, watchdog_main, NULL) == 0;
	(void)pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!wd_running) {
		il_warn("cannot start the watchdog thread; --timeout is not enforced");
		return;
	}
	/* Return only once the thread runs its own code, where it allocates nothing: a
	 * thread's start-up allocates (AddressSanitizer's does, in pthread_getattr_np), and
	 * a fork(2) by the main thread meanwhile copies an allocator lock held by a thread
	 * that does not exist in the child, whose next allocation then waits for ever (seen:
	 * ipc latency --mode process in the ASan build, the child's lifeline watcher stuck in
	 * the allocator). glibc's malloc is fork-safe; AddressSanitizer's, in gcc 12, is not. */
	(void)pthread_mutex_lock(&wd_lock);
	while (!wd_started)
		(void)pthread_cond_wait(&wd_cond, &wd_lock);
	(void)pthread_mutex_unlock(&wd_lock);
}

void il_guard_disarm(void)
{
	if (!wd_running)
		return;
	(void)pthread_mutex_lock(&wd_lock);
	wd_armed = false;
	(void)pthread_cond_signal(&wd_cond);
	(void)pthread_mutex_unlock(&wd_lock);
	(void)pthread_join(wd_thread, NULL);
	wd_running = wd_started = false;
}

void il_guard_child(void)
{
	/* Forget the parent's peers and objects: they are not ours to remove. */
	for (int i = 0; i < MAX_PEERS; i++)
		peers[i] = 0;
	wd_running = wd_started = false; /* the watchdog thread was not forked with us */
	guard_pid = 0;
	struct sigaction old;
	for (size_t i = 0; i < N_GUARDED; i++)
		if (sigaction(guarded[i], NULL, &old) == 0 && old.sa_handler == on_fatal_signal)
			signal(guarded[i], SIG_DFL);
	(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
}
