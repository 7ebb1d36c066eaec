/* spawn.c - "ipclab task spawn": what it costs to create a task that does nothing and wait
 * for it, by creation method: fork, vfork, posix_spawn (exec of a tiny static helper or of
 * ipclab itself), clone(CLONE_VM), pthread, detached pthread. Three latencies from the
 * creator's stamp just before the creation call (CLOCK_MONOTONIC):
 *   to_return  the creation call returned in the creator;
 *   to_start   the task's own first stamp, written into shared memory first thing (an
 *              exec'd helper writes it to a pipe: it shares no memory with us);
 *   to_reaped  waitpid / pthread_join / the completion semaphore (detached) returned.
 * --touch-mb M grows the creator's resident memory first (every page written): fork copies
 * page tables, so its cost grows with M, while a thread's stays flat; --hugepages backs the
 * memory with huge pages (MAP_HUGETLB, else THP madvise) so there are 512x fewer entries.
 * Also "ipclab task nop": the do-nothing program "--exec self" runs. */
#include "task.h"
#include "../core/cleanup.h"
#include "../core/clock.h"
#include "../core/experiment.h"
#include "../core/log.h"
#include "../core/result.h"
#include "../core/spawn.h"
#include "../core/tp.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define HIST_MAX_NS (60ull * 1000 * 1000 * 1000)
#define CLONE_STACK (64u * 1024)
#define NOP_MAGIC 0x6e6f7021u /* "nop!" */
#define NOP_FD 3
#define MIB (1024u * 1024u)
#define HUGE_2M (2u * MIB)

/* What an exec'd task writes to fd 3 (also the layout src/task/helper/nop.c writes). */
struct nop_msg {
	uint64_t t_start;
	int32_t pid;
	uint32_t magic;
};

/* Written by the new task (MAP_SHARED, so a forked child's writes are seen). */
struct slot {
	volatile uint64_t t_start;
	volatile int32_t pid, tid;
	uint64_t seq;
	sem_t done; /* detached threads post it as their last act */
};

/* ---------------------------------------------------------------- the tasks */

/* A forked child: stamp first, trace itself, exit. */
static __attribute__((noreturn)) void fork_child(struct slot *s)
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
 * runs on our stack with our memory until it exits, so it only stamps (the creator traces
 * for it). *t0 is stamped just before the call. */
static __attribute__((noinline)) pid_t vfork_child(struct slot *s, uint64_t *t0)
{
	*t0 = il_now_ns();
	pid_t pid = vfork();
	if (pid == 0) {
		s->t_start = il_now_ns();
		_exit(0);
	}
	return pid;
}

/* A clone(CLONE_VM) child: it shares our memory and our TLS, so it only stamps (the
 * creator traces for it) and returns, which makes glibc's clone exit the task. */
static int clone_child(void *arg)
{
	struct slot *s = arg;
	s->t_start = il_now_ns();
	return 0;
}

/* A thread: stamp first, trace itself, return. */
static void *thread_child(void *arg)
{
	struct slot *s = arg;
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
	struct slot *s = arg;
	uint64_t t = il_now_ns();
	pid_t tid = gettid();
	s->t_start = t;
	s->tid = tid;
	tk_tp_start(s->seq, getpid(), tid, t, false);
	tk_tp_exit(s->seq, getpid(), tid, 0, false);
	(void)sem_post(&s->done);
	return NULL;
}

/* waitpid without EINTR; returns the pid or -1. */
static pid_t wait_child(pid_t pid, int *st)
{
	pid_t r;
	while ((r = waitpid(pid, st, 0)) < 0 && errno == EINTR)
		;
	return r;
}

/* ---------------------------------------------------------------- helper paths */

/* The directory of our own binary (build/bin), from /proc/self/exe. */
static int exe_path(char *buf, size_t len)
{
	ssize_t n = readlink("/proc/self/exe", buf, len - 1);
	if (n <= 0 || (size_t)n >= len - 1)
		return -1;
	buf[n] = 0;
	return 0;
}

static int nop_path(char *buf, size_t len)
{
	char exe[PATH_MAX];
	if (exe_path(exe, sizeof(exe)) < 0)
		return -1;
	char *slash = strrchr(exe, '/');
	if (!slash)
		return -1;
	*slash = 0;
	if ((size_t)snprintf(buf, len, "%s/ipclab-nop", exe) >= len)
		return -1;
	return 0;
}

/* 1 if the ELF file has no PT_INTERP (statically linked), 0 if dynamic, -1 unknown. */
static int elf_is_static(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	Elf64_Ehdr eh;
	int res = -1;
	if (pread(fd, &eh, sizeof(eh), 0) == (ssize_t)sizeof(eh) && !memcmp(eh.e_ident, ELFMAG, SELFMAG) &&
	    eh.e_ident[EI_CLASS] == ELFCLASS64 && eh.e_phentsize == sizeof(Elf64_Phdr)) {
		res = 1;
		for (unsigned i = 0; i < eh.e_phnum; i++) {
			Elf64_Phdr ph;
			if (pread(fd, &ph, sizeof(ph), (off_t)(eh.e_phoff + i * sizeof(ph))) != (ssize_t)sizeof(ph)) {
				res = -1;
				break;
			}
			if (ph.p_type == PT_INTERP) {
				res = 0;
				break;
			}
		}
	}
	(void)close(fd);
	return res;
}

/* ---------------------------------------------------------------- one measurement */

static bool is_thread_method(int m)
{
	return m == TK_PTHREAD || m == TK_PTHREAD_DETACHED;
}

void tk_spawn_res_free(struct tk_spawn_res *res)
{
	free(res->to_return);
	free(res->to_start);
	free(res->to_reaped);
	res->to_return = res->to_start = res->to_reaped = NULL;
}

int tk_spawn_measure(const struct tk_spawn_cfg *cfg, struct tk_spawn_res *res)
{
	memset(res, 0, sizeof(*res));
	res->to_return = tk_hist_new(HIST_MAX_NS);
	res->to_start = tk_hist_new(HIST_MAX_NS);
	res->to_reaped = tk_hist_new(HIST_MAX_NS);
	struct slot *sl = il_shared_alloc(sizeof(*sl));
	if (!res->to_return || !res->to_start || !res->to_reaped || !sl) {
		(void)snprintf(res->why, sizeof(res->why), "out of memory");
		il_shared_free(sl, sizeof(*sl));
		return IL_NORES;
	}
	const int m = cfg->method;
	const char *name = tk_method_names[m];
	int rc = IL_OK;
	int pfd[2] = { -1, -1 };
	char path[PATH_MAX] = "";
	char *sargv[6] = { NULL };
	posix_spawn_file_actions_t fa;
	bool fa_init = false, attr_init = false, sem_init_done = false;
	pthread_attr_t dattr;
	void *stack = NULL;
	int threads_before = -1;

	/* Per-method set-up, outside the timed loop. */
	if (m == TK_POSIX_SPAWN) {
		int p[2];
		if (pipe2(p, O_CLOEXEC) < 0) {
			(void)snprintf(res->why, sizeof(res->why), "pipe: %s", strerror(errno));
			rc = il_exit_for_errno(errno);
			goto out;
		}
		/* keep both ends above fd 3, so the dup2 onto 3 is a real dup (it clears
		 * CLOEXEC). F_DUPFD fails with EINVAL when no fd above 3 is under RLIMIT_NOFILE
		 * (fcntl(2)) and EMFILE when none is free there: both are a limit, exit 3. */
		pfd[0] = fcntl(p[0], F_DUPFD_CLOEXEC, NOP_FD + 1);
		int e = errno;
		if (pfd[0] >= 0) {
			pfd[1] = fcntl(p[1], F_DUPFD_CLOEXEC, NOP_FD + 1);
			e = errno;
		}
		(void)close(p[0]);
		(void)close(p[1]);
		if (pfd[0] < 0 || pfd[1] < 0) {
			struct rlimit rl = { 0, 0 };
			(void)getrlimit(RLIMIT_NOFILE, &rl);
			(void)snprintf(res->why, sizeof(res->why), "no two free file descriptors above %d for the result "
				       "pipe: %s (RLIMIT_NOFILE %llu)", NOP_FD, strerror(e), (unsigned long long)rl.rlim_cur);
			rc = IL_NORES;
			goto out;
		}
		if (fcntl(pfd[0], F_SETFL, O_NONBLOCK) < 0) {
			(void)snprintf(res->why, sizeof(res->why), "fcntl on the result pipe: %s", strerror(errno));
			rc = il_exit_for_errno(errno);
			goto out;
		}
		if (cfg->exec == TK_EXEC_SELF) {
			if (exe_path(path, sizeof(path)) < 0) {
				(void)snprintf(res->why, sizeof(res->why), "cannot resolve /proc/self/exe");
				rc = IL_UNSUP;
				goto out;
			}
			sargv[0] = (char *)"ipclab";
			sargv[1] = (char *)"task";
			sargv[2] = (char *)"nop";
			sargv[3] = (char *)"--fd=3";
		} else {
			if (nop_path(path, sizeof(path)) < 0 || access(path, X_OK) < 0) {
				(void)snprintf(res->why, sizeof(res->why), "helper %s not found or not executable "
					       "(make builds it next to ipclab)", *path ? path : "ipclab-nop");
				rc = IL_UNSUP;
				goto out;
			}
			sargv[0] = (char *)"ipclab-nop";
		}
		e = posix_spawn_file_actions_init(&fa);
		if (!e)
			e = posix_spawn_file_actions_adddup2(&fa, pfd[1], NOP_FD);
		if (e) {
			(void)snprintf(res->why, sizeof(res->why), "posix_spawn_file_actions: %s", strerror(e));
			rc = IL_NORES;
			goto out;
		}
		fa_init = true;
	} else if (m == TK_CLONE) {
		stack = mmap(NULL, CLONE_STACK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
		if (stack == MAP_FAILED) {
			stack = NULL;
			(void)snprintf(res->why, sizeof(res->why), "mmap of the clone stack: %s", strerror(errno));
			rc = IL_NORES;
			goto out;
		}
	} else if (m == TK_PTHREAD_DETACHED) {
		if (pthread_attr_init(&dattr) || pthread_attr_setdetachstate(&dattr, PTHREAD_CREATE_DETACHED)) {
			(void)snprintf(res->why, sizeof(res->why), "pthread_attr: cannot make detached threads");
			rc = IL_NORES;
			goto out;
		}
		attr_init = true;
		if (sem_init(&sl->done, 0, 0) < 0) {
			(void)snprintf(res->why, sizeof(res->why), "sem_init: %s", strerror(errno));
			rc = IL_NORES;
			goto out;
		}
		sem_init_done = true;
		threads_before = tk_thread_count();
	}

	sigset_t all, old;
	sigfillset(&all);
	(void)fflush(NULL); /* no stdio buffer is duplicated into a child */
	const uint64_t total = cfg->warmup + cfg->iterations;
	uint64_t t_measure = 0;
	for (uint64_t i = 0; i < total && rc == IL_OK; i++) {
		const bool measure = i >= cfg->warmup;
		if (measure) {
			uint64_t now = il_now_ns();
			if (!t_measure)
				t_measure = now;
			else if (cfg->budget_ns && res->measured >= 3 && now - t_measure > cfg->budget_ns)
				break;
		}
		sl->t_start = 0;
		sl->pid = sl->tid = 0;
		const uint64_t seq = tk_next_seq();
		sl->seq = seq;
		uint64_t t0 = 0, t1 = 0, t2 = 0;
		pid_t pid = -1;
		int st = 0, err = 0;
		bool proxy = false, reaped = false;
		tk_tp_spawn(name, seq);
		switch (m) {
		case TK_FORK:
			t0 = il_now_ns();
			pid = fork();
			if (pid == 0)
				fork_child(sl);
			t1 = il_now_ns();
			if (pid < 0) {
				err = errno;
				break;
			}
			reaped = wait_child(pid, &st) == pid;
			t2 = il_now_ns();
			break;
		case TK_VFORK:
			/* The child borrows our memory, stack and signal handlers until it exits:
			 * block every signal so no handler of ours runs in it (as posix_spawn does). */
			(void)pthread_sigmask(SIG_SETMASK, &all, &old);
			pid = vfork_child(sl, &t0);
			t1 = il_now_ns();
			err = pid < 0 ? errno : 0;
			if (pid > 0)
				reaped = wait_child(pid, &st) == pid;
			t2 = il_now_ns();
			(void)pthread_sigmask(SIG_SETMASK, &old, NULL);
			proxy = true;
			break;
		case TK_CLONE:
			(void)pthread_sigmask(SIG_SETMASK, &all, &old);
			t0 = il_now_ns();
			pid = clone(clone_child, (char *)stack + CLONE_STACK, CLONE_VM | SIGCHLD, sl);
			t1 = il_now_ns();
			err = pid < 0 ? errno : 0;
			if (pid > 0)
				reaped = wait_child(pid, &st) == pid;
			t2 = il_now_ns();
			(void)pthread_sigmask(SIG_SETMASK, &old, NULL);
			proxy = true;
			break;
		case TK_POSIX_SPAWN: {
			t0 = il_now_ns();
			int e = posix_spawn(&pid, path, &fa, NULL, sargv, environ);
			t1 = il_now_ns();
			if (e) {
				err = e;
				pid = -1;
				break;
			}
			reaped = wait_child(pid, &st) == pid;
			t2 = il_now_ns();
			struct nop_msg msg;
			ssize_t n;
			while ((n = read(pfd[0], &msg, sizeof(msg))) < 0 && errno == EINTR)
				;
			if (n == (ssize_t)sizeof(msg) && msg.magic == NOP_MAGIC && msg.pid == pid)
				sl->t_start = msg.t_start;
			proxy = true;
			break;
		}
		case TK_PTHREAD: {
			pthread_t th;
			t0 = il_now_ns();
			int e = pthread_create(&th, NULL, thread_child, sl);
			t1 = il_now_ns();
			if (e) {
				err = e;
				break;
			}
			pid = getpid();
			reaped = pthread_join(th, NULL) == 0;
			t2 = il_now_ns();
			break;
		}
		case TK_PTHREAD_DETACHED: {
			pthread_t th;
			t0 = il_now_ns();
			int e = pthread_create(&th, &dattr, detached_child, sl);
			t1 = il_now_ns();
			if (e) {
				err = e;
				break;
			}
			pid = getpid();
			while (sem_wait(&sl->done) < 0 && errno == EINTR)
				;
			reaped = true;
			t2 = il_now_ns();
			break;
		}
		default:
			err = EINVAL;
			break;
		}
		if (err) {
			(void)snprintf(res->why, sizeof(res->why), "%s of task %" PRIu64 " failed: %s (errno %d)", name,
				       i + 1, strerror(err), err);
			rc = il_exit_for_errno(err);
			break;
		}
		res->spawned++;
		if (!is_thread_method(m)) {
			sl->pid = pid;
			sl->tid = pid;
		}
		if (proxy) {
			tk_tp_start(seq, pid, pid, sl->t_start, true);
			tk_tp_exit(seq, pid, pid, WIFEXITED(st) ? WEXITSTATUS(st) : -1, true);
		}
		if (!reaped) {
			(void)snprintf(res->why, sizeof(res->why), "%s: task %" PRIu64 " (pid %d) could not be waited for: %s",
				       name, i + 1, (int)pid, strerror(errno));
			rc = IL_FAIL;
			break;
		}
		res->reaped++;
		tk_tp_reaped(seq, sl->pid, sl->tid, st, t2 - t0);
		bool ok_exit = is_thread_method(m) || (WIFEXITED(st) && WEXITSTATUS(st) == 0);
		if (ok_exit)
			res->exited_ok++;
		uint64_t ts = sl->t_start;
		if (ts)
			res->started++;
		if (!ok_exit || !ts) {
			char ws[64];
			(void)snprintf(res->why, sizeof(res->why), "%s: task %" PRIu64 " (pid %d) %s%s", name, i + 1, (int)pid,
				       tk_wait_str(st, ws, sizeof(ws)), ts ? "" : " without stamping its start");
			rc = IL_FAIL;
			break;
		}
		if (measure) {
			res->measured++;
			il_hist_add(res->to_return, t1 - t0);
			il_hist_add(res->to_start, ts >= t0 ? ts - t0 : 0);
			il_hist_add(res->to_reaped, t2 - t0);
		}
	}
	if (m == TK_PTHREAD_DETACHED && threads_before > 0) {
		/* A detached thread still runs for a moment after its last sem_post: wait until the
		 * thread count is back, so nothing of ours (the semaphore) is used after we return. */
		uint64_t deadline = il_now_ns() + 5000000000ull;
		while (tk_thread_count() > threads_before && il_now_ns() < deadline)
			(void)sched_yield();
		if (tk_thread_count() > threads_before && rc == IL_OK) {
			(void)snprintf(res->why, sizeof(res->why), "detached threads still running 5 s after their last post");
			rc = IL_FAIL;
		}
	}
out:
	if (sem_init_done)
		(void)sem_destroy(&sl->done);
	if (attr_init)
		(void)pthread_attr_destroy(&dattr);
	if (fa_init)
		(void)posix_spawn_file_actions_destroy(&fa);
	if (pfd[0] >= 0)
		(void)close(pfd[0]);
	if (pfd[1] >= 0)
		(void)close(pfd[1]);
	if (stack)
		(void)munmap(stack, CLONE_STACK);
	il_shared_free(sl, sizeof(*sl));
	return rc;
}

json_t *tk_spawn_res_json(const struct tk_spawn_res *r)
{
	json_t *o = json_object();
	il_jset(o, "spawned", json_integer((json_int_t)r->spawned));
	il_jset(o, "started", json_integer((json_int_t)r->started));
	il_jset(o, "exited_ok", json_integer((json_int_t)r->exited_ok));
	il_jset(o, "reaped", json_integer((json_int_t)r->reaped));
	il_jset(o, "measured", json_integer((json_int_t)r->measured));
	il_jset(o, "to_return", il_json_summary(r->to_return));
	il_jset(o, "to_start", il_json_summary(r->to_start));
	il_jset(o, "to_reaped", il_json_summary(r->to_reaped));
	return o;
}

/* ---------------------------------------------------------------- touched memory */

struct region {
	void *map;
	size_t maplen;
	uint64_t mb;
	const char *backing; /* "none", "4k", "hugetlb", "thp" */
	int64_t anon_huge_kb, hugetlb_kb;
};

static void region_free(struct region *r)
{
	if (r->map)
		(void)munmap(r->map, r->maplen);
	r->map = NULL;
}

/* True if /sys/kernel/mm/transparent_hugepage/enabled allows madvise'd THP. */
static bool thp_available(void)
{
	char buf[128] = "";
	int fd = open("/sys/kernel/mm/transparent_hugepage/enabled", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	(void)close(fd);
	buf[n > 0 ? n : 0] = 0;
	return strstr(buf, "[always]") || strstr(buf, "[madvise]");
}

/* Maps mb MiB and writes every page, so it is resident before the fork. huge: huge pages
 * (hugetlb pool if it has room, else THP); IL_UNSUP with why when neither gives any. */
static int region_make(uint64_t mb, bool huge, struct region *r, char *why, size_t wl)
{
	memset(r, 0, sizeof(*r));
	r->mb = mb;
	r->backing = "none";
	if (!mb)
		return IL_OK;
	size_t len = (size_t)mb * MIB;
	if (huge) {
		len = (len + HUGE_2M - 1) & ~(size_t)(HUGE_2M - 1);
		int64_t hp_free = tk_meminfo_kb("HugePages_Free"), hp_size = tk_meminfo_kb("Hugepagesize");
		if (hp_free > 0 && hp_size == 2048 && (uint64_t)hp_free * 2048 * 1024 >= len) {
			void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
				       MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | (21 << MAP_HUGE_SHIFT), -1, 0);
			if (p != MAP_FAILED) {
				r->map = p;
				r->maplen = len;
				r->backing = "hugetlb";
			}
		}
		if (!r->map) {
			if (!thp_available()) {
				(void)snprintf(why, wl, "no huge pages: the hugetlb pool has %" PRId64 " free and "
					       "transparent huge pages are disabled", hp_free < 0 ? 0 : hp_free);
				return IL_UNSUP;
			}
			/* over-map by 2 MiB and align, so the region is made of whole huge pages */
			size_t ml = len + HUGE_2M;
			char *p = mmap(NULL, ml, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (p == MAP_FAILED)
				goto nomem;
			r->map = p;
			r->maplen = ml;
			char *a = (char *)(((uintptr_t)p + HUGE_2M - 1) & ~(uintptr_t)(HUGE_2M - 1));
			if (madvise(a, len, MADV_HUGEPAGE) < 0) {
				(void)snprintf(why, wl, "madvise(MADV_HUGEPAGE): %s", strerror(errno));
				region_free(r);
				return IL_UNSUP;
			}
			r->backing = "thp";
			for (size_t off = 0; off < len; off += 4096)
				a[off] = 1;
		}
	} else {
		void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			goto nomem;
		r->map = p;
		r->maplen = len;
		(void)madvise(p, len, MADV_NOHUGEPAGE); /* 4 KiB pages even under THP "always" */
		r->backing = "4k";
	}
	if (strcmp(r->backing, "thp")) {
		char *a = r->map;
		for (size_t off = 0; off < r->maplen; off += 4096)
			a[off] = 1;
	}
	struct tk_mem mem;
	if (tk_read_mem(0, &mem) == 0)
		r->anon_huge_kb = mem.anon_huge_kb;
	if (!strcmp(r->backing, "hugetlb"))
		r->hugetlb_kb = (int64_t)(len / 1024);
	if (!strcmp(r->backing, "thp") && r->anon_huge_kb <= 0) {
		(void)snprintf(why, wl, "transparent huge pages were requested (madvise) but none were "
			       "allocated (AnonHugePages 0 kB: fragmented memory?)");
		region_free(r);
		return IL_UNSUP;
	}
	return IL_OK;
nomem:
	(void)snprintf(why, wl, "cannot map %" PRIu64 " MiB: %s; MemAvailable %" PRId64 " MiB", mb,
		       strerror(errno), tk_meminfo_kb("MemAvailable") / 1024);
	return IL_NORES;
}

/* ---------------------------------------------------------------- the experiment */

static const char *const exec_names[] = { "nop", "self", NULL };
static const uint64_t sweep_mb[] = { 1, 4, 16, 64, 256, 1024 };
#define N_SWEEP (sizeof(sweep_mb) / sizeof(sweep_mb[0]))

/* Measures one variant (cfg's method on region reg); returns its JSON, or NULL with *rc
 * set and the reason reported. */
static json_t *measure_variant(const struct tk_spawn_cfg *cfg, const struct region *reg, int *rc)
{
	struct tk_spawn_res res;
	*rc = tk_spawn_measure(cfg, &res);
	json_t *o = NULL;
	if (*rc == IL_OK) {
		o = tk_spawn_res_json(&res);
		struct tk_mem mem;
		bool memok = tk_read_mem(0, &mem) == 0;
		il_jset(o, "method", json_string(tk_method_names[cfg->method]));
		il_jset(o, "backing", json_string(reg->backing));
		il_jset(o, "touch_mb", json_integer((json_int_t)reg->mb));
		il_jset(o, "parent_rss_kb", memok ? json_integer(mem.rss_kb) : json_null());
		il_jset(o, "parent_pte_kb", memok ? json_integer(mem.pte_kb) : json_null());
		il_jset(o, "anon_huge_kb", json_integer(reg->anon_huge_kb));
		il_jset(o, "hugetlb_kb", json_integer(reg->hugetlb_kb));
	} else if (*rc == IL_FAIL) {
		il_fail("%s", res.why);
	} else {
		il_err("%s", res.why);
	}
	tk_spawn_res_free(&res);
	return o;
}

/* The count checks of one variant: every task spawned was started, exited 0, reaped. */
static bool variant_checks(json_t *checks, const char *prefix, json_t *v, uint64_t want)
{
	json_int_t sp = json_integer_value(json_object_get(v, "spawned"));
	json_int_t st = json_integer_value(json_object_get(v, "started"));
	json_int_t ex = json_integer_value(json_object_get(v, "exited_ok"));
	json_int_t re = json_integer_value(json_object_get(v, "reaped"));
	char name[96];
	bool ok = true;
	if (want) {
		(void)snprintf(name, sizeof(name), "%sspawned", prefix);
		ok &= tk_check(checks, name, json_integer((json_int_t)want), json_integer(sp), sp == (json_int_t)want);
	}
	(void)snprintf(name, sizeof(name), "%sstarted_eq_spawned", prefix);
	ok &= tk_check(checks, name, json_integer(sp), json_integer(st), st == sp);
	(void)snprintf(name, sizeof(name), "%sexited_ok_eq_spawned", prefix);
	ok &= tk_check(checks, name, json_integer(sp), json_integer(ex), ex == sp);
	(void)snprintf(name, sizeof(name), "%sreaped_eq_spawned", prefix);
	ok &= tk_check(checks, name, json_integer(sp), json_integer(re), re == sp);
	return ok;
}

static json_int_t jsum(json_t *v, const char *hist, const char *key)
{
	return json_integer_value(json_object_get(json_object_get(v, hist), key));
}

/* Human rendering of one variant of a sweep. */
static void sweep_row(json_t *v)
{
	char label[48];
	(void)snprintf(label, sizeof(label), "%s/%s", json_string_value(json_object_get(v, "method")),
		       json_string_value(json_object_get(v, "backing")));
	printf("%8" JSON_INTEGER_FORMAT "  %-24s %6" JSON_INTEGER_FORMAT " %9.1f %11" JSON_INTEGER_FORMAT
	       " %11" JSON_INTEGER_FORMAT " %11" JSON_INTEGER_FORMAT "\n",
	       json_integer_value(json_object_get(v, "touch_mb")), label,
	       json_integer_value(json_object_get(v, "measured")),
	       (double)json_integer_value(json_object_get(v, "parent_rss_kb")) / 1024.0,
	       jsum(v, "to_start", "p50"), jsum(v, "to_reaped", "p50"), jsum(v, "to_reaped", "p99"));
}

static void hrow(const char *label, json_t *s)
{
	printf("  %-10s %8" JSON_INTEGER_FORMAT " %9" JSON_INTEGER_FORMAT " %9" JSON_INTEGER_FORMAT " %9" JSON_INTEGER_FORMAT
	       " %9" JSON_INTEGER_FORMAT " %10" JSON_INTEGER_FORMAT " %10.0f\n", label,
	       json_integer_value(json_object_get(s, "count")), json_integer_value(json_object_get(s, "min")),
	       json_integer_value(json_object_get(s, "p50")), json_integer_value(json_object_get(s, "p90")),
	       json_integer_value(json_object_get(s, "p99")), json_integer_value(json_object_get(s, "max")),
	       json_real_value(json_object_get(s, "mean")));
}

/* A usage error found after parsing: one line, no JSON on stdout. */
static int late_usage(struct il_ctx *x, const char *msg)
{
	return il_ctx_usage(x, "%s; see 'ipclab %s --help'", msg, x->experiment);
}

static int spawn_single(struct il_ctx *x, struct tk_spawn_cfg *cfg, uint64_t touch_mb, bool huge)
{
	const struct il_common *c = &x->c;
	char why[256] = "";
	struct region reg;
	int rc = IL_OK;
	if (touch_mb) {
		int64_t avail = tk_meminfo_kb("MemAvailable");
		if (avail >= 0 && touch_mb * 1024 > (uint64_t)avail / 2) {
			il_err("--touch-mb %" PRIu64 " needs %" PRIu64 " MiB resident, but MemAvailable is %" PRId64
			       " MiB (at most half is used: %" PRId64 " MiB)", touch_mb, touch_mb, avail / 1024, avail / 2048);
			il_jset(x->results, "mem_available_kb", json_integer(avail));
			return il_ctx_finish(x, IL_NORES);
		}
	}
	rc = region_make(touch_mb, huge, &reg, why, sizeof(why));
	if (rc != IL_OK) {
		il_err("%s", why);
		il_jset(x->results, "mem_available_kb", json_integer(tk_meminfo_kb("MemAvailable")));
		il_jset(x->results, rc == IL_UNSUP ? "unsupported" : "error", json_string(why));
		return il_ctx_finish(x, rc);
	}
	json_t *v = measure_variant(cfg, &reg, &rc);
	region_free(&reg);
	if (!v)
		return il_ctx_finish(x, rc);
	(void)json_object_update(x->results, v);
	json_decref(v);
	json_t *checks = json_array();
	bool ok = variant_checks(checks, "", x->results, c->iterations + c->warmup);
	il_jset(x->results, "checks", checks);
	if (!ok)
		rc = IL_FAIL;
	if (!c->json || c->json_file) {
		json_t *r = x->results;
		printf("task spawn: %s%s%s, %" PRIu64 " iterations (+%" PRIu64 " warm-up), touched %" PRIu64 " MiB (%s), "
		       "parent RSS %.1f MiB%s\n", tk_method_names[cfg->method],
		       cfg->method == TK_POSIX_SPAWN ? " exec " : "", cfg->method == TK_POSIX_SPAWN ? exec_names[cfg->exec] : "",
		       c->iterations, c->warmup, touch_mb, json_string_value(json_object_get(r, "backing")),
		       (double)json_integer_value(json_object_get(r, "parent_rss_kb")) / 1024.0,
		       il_trace_loaded() ? ", traced" : "");
		printf("  spawned %" JSON_INTEGER_FORMAT ", started %" JSON_INTEGER_FORMAT ", exited 0 %" JSON_INTEGER_FORMAT
		       ", reaped %" JSON_INTEGER_FORMAT "\n", json_integer_value(json_object_get(r, "spawned")),
		       json_integer_value(json_object_get(r, "started")), json_integer_value(json_object_get(r, "exited_ok")),
		       json_integer_value(json_object_get(r, "reaped")));
		printf("  %-10s %8s %9s %9s %9s %9s %10s %10s\n", "ns", "count", "min", "p50", "p90", "p99", "max", "mean");
		hrow("to return", json_object_get(r, "to_return"));
		hrow("to start", json_object_get(r, "to_start"));
		hrow("to reaped", json_object_get(r, "to_reaped"));
	}
	return il_ctx_finish(x, rc);
}

static int spawn_sweep(struct il_ctx *x, struct tk_spawn_cfg *cfg, bool huge)
{
	const struct il_common *c = &x->c;
	int rc = IL_OK;
	bool ok = true;
	int64_t avail = tk_meminfo_kb("MemAvailable");
	uint64_t cap_mb = avail > 0 ? (uint64_t)avail / 2048 : 1024;
	json_t *points = json_array(), *skipped = json_array(), *checks = json_array();
	il_jset(x->results, "mem_available_kb", json_integer(avail));
	il_jset(x->results, "cap_mb", json_integer((json_int_t)cap_mb));
	bool human = !c->json || c->json_file;
	if (human) {
		printf("task spawn --sweep: %s vs pthread as the parent's resident memory grows "
		       "(%" PRIu64 " iterations or %" PRIu64 " ms per variant)\n", tk_method_names[cfg->method],
		       c->iterations, cfg->budget_ns / 1000000);
		printf("%8s  %-24s %6s %9s %11s %11s %11s\n", "touch_mb", "variant", "n", "rss_MiB", "start_p50",
		       "reaped_p50", "reaped_p99");
	}
	for (size_t i = 0; i < N_SWEEP && rc == IL_OK; i++) {
		uint64_t mb = sweep_mb[i];
		if (mb > cap_mb) {
			(void)json_array_append_new(skipped, json_pack("{sI ss}", "touch_mb", (json_int_t)mb, "reason",
								       "above MemAvailable/2"));
			il_ctx_warn(x, "skipped %" PRIu64 " MiB: MemAvailable is %" PRId64 " MiB", mb, avail / 1024);
			continue;
		}
		il_info("%" PRIu64 " MiB", mb);
		json_t *pt = json_pack("{sI}", "touch_mb", (json_int_t)mb), *vars = json_array();
		char why[256] = "";
		struct region reg;
		rc = region_make(mb, false, &reg, why, sizeof(why));
		if (rc != IL_OK) {
			il_err("%s", why);
			json_decref(pt);
			json_decref(vars);
			break;
		}
		int methods[2] = { cfg->method, TK_PTHREAD };
		int nm = is_thread_method(cfg->method) ? 1 : 2;
		for (int k = 0; k < nm && rc == IL_OK; k++) {
			struct tk_spawn_cfg vc = *cfg;
			vc.method = methods[k];
			json_t *v = measure_variant(&vc, &reg, &rc);
			if (v) {
				char pre[64];
				(void)snprintf(pre, sizeof(pre), "%" PRIu64 "mb_%s_4k_", mb, tk_method_names[vc.method]);
				ok &= variant_checks(checks, pre, v, 0);
				if (human)
					sweep_row(v);
				(void)json_array_append_new(vars, v);
			}
		}
		region_free(&reg);
		if (rc == IL_OK && huge) {
			int hrc = region_make(mb, true, &reg, why, sizeof(why));
			if (hrc == IL_UNSUP) {
				il_jset(pt, "huge_unsupported", json_string(why));
				il_ctx_warn(x, "%" PRIu64 " MiB with huge pages: %s", mb, why);
			} else if (hrc != IL_OK) {
				il_err("%s", why);
				rc = hrc;
			} else {
				json_t *v = measure_variant(cfg, &reg, &rc);
				if (v) {
					char pre[64];
					(void)snprintf(pre, sizeof(pre), "%" PRIu64 "mb_%s_%s_", mb,
						       tk_method_names[cfg->method], reg.backing);
					ok &= variant_checks(checks, pre, v, 0);
					if (human)
						sweep_row(v);
					(void)json_array_append_new(vars, v);
				}
				region_free(&reg);
			}
		}
		il_jset(pt, "variants", vars);
		(void)json_array_append_new(points, pt);
	}
	/* growth: each variant's creation-to-reaped median at the largest point over its
	 * smallest median at any point (the smallest rather than the first point: one noisy
	 * point must not make a flat variant look like it grew) */
	size_t np = json_array_size(points);
	if (np >= 2) {
		json_t *growth = json_object();
		json_t *last = json_object_get(json_array_get(points, np - 1), "variants");
		for (size_t k = 0; k < json_array_size(last); k++) {
			json_t *b = json_array_get(last, k);
			const char *bm = json_string_value(json_object_get(b, "method"));
			const char *bb = json_string_value(json_object_get(b, "backing"));
			double lo = 0;
			for (size_t i = 0; i < np; i++) {
				json_t *vs = json_object_get(json_array_get(points, i), "variants");
				for (size_t j = 0; j < json_array_size(vs); j++) {
					json_t *a = json_array_get(vs, j);
					if (strcmp(json_string_value(json_object_get(a, "method")), bm) ||
					    strcmp(json_string_value(json_object_get(a, "backing")), bb))
						continue;
					double p50 = (double)jsum(a, "to_reaped", "p50");
					if (p50 > 0 && (lo == 0 || p50 < lo))
						lo = p50;
				}
			}
			char key[64];
			(void)snprintf(key, sizeof(key), "%s_%s", bm, bb);
			il_jset(growth, key, json_real(lo > 0 ? (double)jsum(b, "to_reaped", "p50") / lo : 0));
		}
		il_jset(x->results, "reaped_p50_growth", growth);
		if (human) {
			printf("creation-to-reaped median at %" JSON_INTEGER_FORMAT " MiB over the smallest median of the sweep:",
			       json_integer_value(json_object_get(json_array_get(points, np - 1), "touch_mb")));
			const char *k;
			json_t *val;
			json_object_foreach(growth, k, val)
				printf(" %s x%.1f", k, json_real_value(val));
			printf("\n");
		}
	}
	il_jset(x->results, "points", points);
	il_jset(x->results, "skipped", skipped);
	il_jset(x->results, "checks", checks);
	if (rc == IL_OK && !ok)
		rc = IL_FAIL;
	return il_ctx_finish(x, rc);
}

static int spawn_run(int argc, char **argv)
{
	int method = TK_FORK, exec = TK_EXEC_NOP;
	uint64_t touch_mb = 0, budget_ms = 1000;
	bool sweep = false, huge = false;
	const struct il_opt opts[] = {
		{ "method", IL_OPT_CHOICE, "M", "how the task is created (default fork)", 0, 0, tk_method_names, &method },
		{ "exec", IL_OPT_CHOICE, "WHAT", "posix_spawn only: exec the static helper ipclab-nop, or ipclab "
		  "itself ('task nop') (default nop)", 0, 0, exec_names, &exec },
		{ "touch-mb", IL_OPT_U64, "M", "first map and write M MiB in the creator (its resident memory)", 1, 1024, NULL, &touch_mb },
		{ "sweep", IL_OPT_FLAG, NULL, "measure at 1,4,16,64,256,1024 MiB (capped by MemAvailable/2), "
		  "the method and pthread at each", 0, 0, NULL, &sweep },
		{ "hugepages", IL_OPT_FLAG, NULL, "with --touch-mb/--sweep: back the memory with huge pages "
		  "(MAP_HUGETLB, else THP madvise; exit 4 or a per-point note if neither)", 0, 0, NULL, &huge },
		{ "budget-ms", IL_OPT_U64, "MS", "--sweep: stop a variant after MS ms of measuring (at least 3 "
		  "samples; default 1000)", 10, 600000, NULL, &budget_ms },
		{ 0 },
	};
	struct il_ctx x;
	il_ctx_begin(&x, argv[0], argc, argv);
	x.c.iterations = 1000;
	x.c.warmup = 100;
	int prc = il_ctx_parse(&x, "Create a task that does nothing and wait for it: creation call to return, to the\n"
			       "task's first stamp (shared memory) and to reaped, by method (fork, vfork,\n"
			       "posix_spawn of a static helper or of ipclab, clone(CLONE_VM), pthread, detached\n"
			       "pthread). --touch-mb/--sweep: fork cost as the creator's resident memory grows.",
			       IL_C_ITER | IL_C_WARMUP, opts);
	if (prc != IL_RUN)
		return prc;
	if (il_ctx_given(&x, "exec") && method != TK_POSIX_SPAWN)
		return late_usage(&x, "--exec applies to --method posix_spawn only");
	if (sweep && touch_mb)
		return late_usage(&x, "--sweep and --touch-mb exclude each other");
	if (huge && !sweep && !touch_mb)
		return late_usage(&x, "--hugepages needs --touch-mb or --sweep");
	if (il_ctx_given(&x, "budget-ms") && !sweep)
		return late_usage(&x, "--budget-ms applies to --sweep only");
	il_jset(x.params, "method", json_string(tk_method_names[method]));
	il_jset(x.params, "exec", method == TK_POSIX_SPAWN ? json_string(exec_names[exec]) : json_null());
	il_jset(x.params, "touch_mb", json_integer((json_int_t)touch_mb));
	il_jset(x.params, "sweep", json_boolean(sweep));
	il_jset(x.params, "hugepages", json_boolean(huge));
	il_jset(x.params, "budget_ms", sweep ? json_integer((json_int_t)budget_ms) : json_null());
	if (method == TK_POSIX_SPAWN) {
		char p[PATH_MAX];
		if (exec == TK_EXEC_NOP && nop_path(p, sizeof(p)) == 0) {
			il_jset(x.results, "exec_path", json_string(p));
			int s = elf_is_static(p);
			il_jset(x.results, "exec_static", s < 0 ? json_null() : json_boolean(s == 1));
		} else if (exec == TK_EXEC_SELF && exe_path(p, sizeof(p)) == 0) {
			il_jset(x.results, "exec_path", json_string(p));
			int s = elf_is_static(p);
			il_jset(x.results, "exec_static", s < 0 ? json_null() : json_boolean(s == 1));
		}
	}
	il_jset(x.results, "clock_read_ns", json_integer((json_int_t)il_clock_read_cost_ns()));
	il_jset(x.results, "traced", json_boolean(il_trace_loaded()));
	il_guard_install((unsigned)x.c.timeout_s);
	struct tk_spawn_cfg cfg = { .method = method, .exec = exec, .iterations = x.c.iterations,
				    .warmup = x.c.warmup, .budget_ns = sweep ? budget_ms * 1000000ull : 0 };
	int rc = sweep ? spawn_sweep(&x, &cfg, huge) : spawn_single(&x, &cfg, touch_mb, huge);
	il_guard_disarm();
	return rc;
}

const struct il_experiment il_exp_task_spawn = {
	.group = "task",
	.name = "spawn",
	.summary = "creation-to-start/-reaped cost: fork, vfork, posix_spawn, clone, pthread; fork vs memory",
	.run = spawn_run,
};

/* ---------------------------------------------------------------- task nop */

static int nop_run(int argc, char **argv)
{
	uint64_t t = il_now_ns(); /* first thing: the exec cost ends here */
	uint64_t fd = 0;
	const struct il_opt opts[] = {
		{ "fd", IL_OPT_U64, "N", "write the 16-byte start record to fd N (what 'task spawn --exec self' "
		  "reads); nothing is printed then", 3, 1023, NULL, &fd },
		{ 0 },
	};
	struct il_ctx x;
	il_ctx_begin(&x, argv[0], argc, argv);
	int prc = il_ctx_parse(&x, "The do-nothing task that 'task spawn --method posix_spawn --exec self' executes:\n"
			       "stamps CLOCK_MONOTONIC first thing and reports it (with --fd, as a binary record).",
			       0, opts);
	if (prc != IL_RUN)
		return prc;
	il_jset(x.params, "fd", fd ? json_integer((json_int_t)fd) : json_null());
	il_jset(x.results, "t_start_ns", json_integer((json_int_t)t));
	il_jset(x.results, "pid", json_integer(getpid()));
	if (fd) {
		struct nop_msg msg = { .t_start = t, .pid = getpid(), .magic = NOP_MAGIC };
		if (write((int)fd, &msg, sizeof(msg)) != (ssize_t)sizeof(msg)) {
			il_errno("cannot write the start record to fd %" PRIu64, fd);
			return il_ctx_finish(&x, IL_FAIL);
		}
	} else if (!x.c.json || x.c.json_file) {
		printf("task nop: pid %d started at %" PRIu64 " ns (CLOCK_MONOTONIC)\n", (int)getpid(), t);
	}
	return il_ctx_finish(&x, IL_OK);
}

const struct il_experiment il_exp_task_nop = {
	.group = "task",
	.name = "nop",
	.summary = "(internal) the do-nothing task that 'task spawn --exec self' executes",
	.run = nop_run,
	.flags = IL_EXP_HIDDEN,
};
