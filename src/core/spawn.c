/* spawn.c - one worker, two ways to run it. */
#include "spawn.h"
#include "cleanup.h"
#include "clock.h"
#include "log.h"
#include "opts.h"
#include "sys.h"
#include "tp.h"

#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

void *il_shared_alloc(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

void il_shared_free(void *p, size_t size)
{
	if (p)
		(void)munmap(p, size);
}

int il_pin_self(int cpu)
{
	if (cpu < 0)
		return 0;
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	int e = pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	return -e;
}

int il_pin_main(int cpu, const char *who)
{
	int e = il_pin_self(cpu);
	if (!e)
		return IL_OK;
	errno = -e;
	il_errno("cannot pin %s to CPU %d", who, cpu);
	return IL_NORES;
}

int il_cpu_now(void)
{
	return sched_getcpu();
}

void il_set_task_name(const char *name)
{
	(void)prctl(PR_SET_NAME, name, 0, 0, 0);
}

/* Thread entry: pin, register with the tracer, run the worker. */
static void *thread_main(void *arg)
{
	struct il_peer *p = arg;
	il_trace_init_thread();
	int e = il_pin_self(p->cpu);
	if (e) {
		errno = -e;
		il_errno("cannot pin thread to CPU %d", p->cpu);
		p->ret = IL_NORES;
		return NULL;
	}
	p->ret = p->fn(p->arg);
	return NULL;
}

int il_spawn(struct il_peer *p, int mode, int cpu, il_worker_fn fn, void *arg)
{
	memset(p, 0, sizeof(*p));
	p->mode = mode;
	p->fn = fn;
	p->arg = arg;
	p->cpu = cpu;
	if (mode == IL_MODE_THREAD) {
		int e = pthread_create(&p->thread, NULL, thread_main, p);
		if (e) {
			errno = e;
			il_errno("pthread_create failed");
			return il_exit_for_errno(e);
		}
		p->running = true;
		return 0;
	}
	pid_t parent = getpid();
	(void)fflush(NULL); /* no duplicated stdio buffers in the child */
	pid_t pid = fork();
	if (pid < 0) {
		il_errno("fork failed");
		return il_exit_for_errno(errno);
	}
	if (pid == 0) {
		il_guard_child();
		if (getppid() != parent) /* the parent died before PDEATHSIG was set */
			_exit(IL_FAIL);
		int e = il_pin_self(cpu);
		if (e) {
			errno = -e;
			il_errno("cannot pin process to CPU %d", cpu);
			_exit(IL_NORES);
		}
		_exit(fn(arg));
	}
	il_peer_track(pid);
	p->pid = pid;
	p->running = true;
	return 0;
}

int il_join(struct il_peer *p, char *how, size_t howlen)
{
	if (how && howlen)
		how[0] = 0;
	if (!p->running)
		return 0;
	p->running = false;
	if (p->mode == IL_MODE_THREAD) {
		(void)pthread_join(p->thread, NULL);
		return p->ret;
	}
	int st;
	pid_t r = il_waitpid(p->pid, &st, 0);
	il_peer_untrack(p->pid);
	if (r < 0) {
		errno = -r;
		il_errno("waitpid(%d) failed", (int)p->pid);
		return IL_FAIL;
	}
	p->wstatus = st;
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	if (how && howlen)
		(void)il_wait_status_text(st, how, howlen);
	return IL_FAIL;
}

void il_peer_abort(struct il_peer *p)
{
	if (!p->running)
		return;
	if (p->mode == IL_MODE_PROCESS) {
		(void)kill(p->pid, SIGKILL);
		(void)il_join(p, NULL, 0);
	} else {
		/* A thread cannot be killed alone; the caller unblocks it (closes its fds). */
		(void)il_join(p, NULL, 0);
	}
}

/* The testing aid's environment variable, read once per process. */
static int test_peer_exit = -1;

int il_barrier_init(struct il_barrier *b, unsigned count)
{
	if (count == 0)
		return -EINVAL;
	if (test_peer_exit < 0)
		test_peer_exit = getenv("IPCLAB_TEST_PEER_EXIT_BEFORE_BARRIER") != NULL;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	*b = (struct il_barrier){ .count = count, .owner = (int32_t)getpid(),
				  .spin = ncpu > 0 && count <= (unsigned long)ncpu,
				  .test_exit = (uint32_t)test_peer_exit };
	return 0;
}

void il_barrier_abort(struct il_barrier *b)
{
	__atomic_store_n(&b->aborted, 1, __ATOMIC_RELEASE);
	(void)__atomic_add_fetch(&b->gen, 1, __ATOMIC_ACQ_REL);
	(void)il_futex_wake(&b->gen, INT_MAX, true);
}

/* Polls b->gen until it leaves gen or b->poll_ns passed; true if it left. */
static bool poll_released(const struct il_barrier *b, uint32_t gen)
{
	uint64_t t0 = il_now_ns();
	for (unsigned polls = 1;; polls++) {
		if (__atomic_load_n(&b->gen, __ATOMIC_ACQUIRE) != gen)
			return true;
		if ((polls & 63u) == 0 && il_now_ns() - t0 > b->poll_ns)
			return false;
		if (b->spin)
			il_cpu_relax();
		else
			(void)sched_yield();
	}
}

#define BARRIER_SLICE_NS (50 * 1000 * 1000) /* how often a waiting owner checks its peers */

/* Sleeps until the generation leaves gen: 0, or -1 when a peer process of the owner
 * ended first (one line on stderr). */
static int sleep_released(const struct il_barrier *b, uint32_t gen, bool owner)
{
	const struct timespec slice = { 0, BARRIER_SLICE_NS };
	while (__atomic_load_n(&b->gen, __ATOMIC_ACQUIRE) == gen) {
		/* shared futex: the word may be in MAP_SHARED memory */
		(void)il_futex_wait((uint32_t *)&b->gen, gen, &slice, true);
		if (__atomic_load_n(&b->gen, __ATOMIC_ACQUIRE) != gen)
			break;
		pid_t dead = owner ? il_peer_ended() : 0;
		if (dead > 0) {
			il_fail("peer process %d ended before the start barrier: giving up the run", (int)dead);
			return -1;
		}
	}
	return 0;
}

int il_barrier_wait(struct il_barrier *b)
{
	bool owner = (pid_t)b->owner == getpid();
	if (!owner && b->test_exit)
		_exit(IL_FAIL); /* testing aid: a peer that never arrives */
	uint32_t gen = __atomic_load_n(&b->gen, __ATOMIC_ACQUIRE);
	if (__atomic_load_n(&b->aborted, __ATOMIC_ACQUIRE))
		return -1;
	if (__atomic_add_fetch(&b->arrived, 1, __ATOMIC_ACQ_REL) == b->count) {
		__atomic_store_n(&b->arrived, 0, __ATOMIC_RELAXED);
		b->t_release = il_now_ns();
		__atomic_store_n(&b->gen, gen + 1, __ATOMIC_RELEASE);
		(void)il_futex_wake(&b->gen, INT_MAX, true);
		return 0;
	}
	if (!(b->poll_ns && poll_released(b, gen)) && sleep_released(b, gen, owner) < 0) {
		il_barrier_abort(b);
		return -1;
	}
	return __atomic_load_n(&b->aborted, __ATOMIC_ACQUIRE) ? -1 : 0;
}

void il_barrier_destroy(struct il_barrier *b)
{
	memset(b, 0, sizeof(*b));
}
