/* common.c - shared parts of the "task" experiments: tracepoints, /proc readers, checks. */
#include "task.h"
#include "../core/log.h"
#include "../core/tp.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

const char *const tk_method_names[] = { "fork", "vfork", "posix_spawn", "clone", "pthread",
					"pthread_detached", NULL };

static uint64_t seq_counter;

uint64_t tk_next_seq(void)
{
	return __atomic_fetch_add(&seq_counter, 1, __ATOMIC_RELAXED);
}

void tk_tp_spawn(const char *method, uint64_t seq)
{
	lttng_ust_tracepoint(ipclab_task, task_spawn, method, seq, (int)getpid(), (int)gettid());
}

void tk_tp_start(uint64_t seq, pid_t pid, pid_t tid, uint64_t t_start, bool proxy)
{
	lttng_ust_tracepoint(ipclab_task, task_start, seq, (int)pid, (int)tid, t_start, proxy ? 1 : 0);
}

void tk_tp_exit(uint64_t seq, pid_t pid, pid_t tid, int status, bool proxy)
{
	lttng_ust_tracepoint(ipclab_task, task_exit, seq, (int)pid, (int)tid, status, proxy ? 1 : 0);
}

void tk_tp_reaped(uint64_t seq, pid_t pid, pid_t tid, int status, uint64_t latency_ns)
{
	lttng_ust_tracepoint(ipclab_task, task_reaped, seq, (int)pid, (int)tid, status, latency_ns);
}

/* Reads a small /proc file into buf (NUL-terminated); returns its length or -1. */
static ssize_t read_small(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	size_t n = 0;
	while (n < len - 1) {
		ssize_t r = read(fd, buf + n, len - 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	(void)close(fd);
	buf[n] = 0;
	return (ssize_t)n;
}

/* The value of "Key:  N kB" in text, -1 if absent. */
static int64_t kb_field(const char *text, const char *key)
{
	size_t kl = strlen(key);
	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		if (!strncmp(p, key, kl) && p[kl] == ':')
			return strtoll(p + kl + 1, NULL, 10);
	}
	return -1;
}

int tk_read_mem(pid_t pid, struct tk_mem *m)
{
	char path[64], buf[4096];
	memset(m, 0, sizeof(*m));
	if (pid)
		(void)snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", (int)pid);
	else
		(void)snprintf(path, sizeof(path), "/proc/self/smaps_rollup");
	if (read_small(path, buf, sizeof(buf)) <= 0)
		return -1;
	m->rss_kb = kb_field(buf, "Rss");
	m->pss_kb = kb_field(buf, "Pss");
	int64_t pc = kb_field(buf, "Private_Clean"), pd = kb_field(buf, "Private_Dirty");
	m->private_kb = (pc < 0 ? 0 : pc) + (pd < 0 ? 0 : pd);
	m->anon_huge_kb = kb_field(buf, "AnonHugePages");
	if (m->rss_kb < 0 || m->pss_kb < 0)
		return -1;
	if (pid)
		(void)snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	else
		(void)snprintf(path, sizeof(path), "/proc/self/status");
	if (read_small(path, buf, sizeof(buf)) <= 0)
		return -1;
	m->pte_kb = kb_field(buf, "VmPTE");
	return 0;
}

int64_t tk_meminfo_kb(const char *key)
{
	char buf[8192];
	if (read_small("/proc/meminfo", buf, sizeof(buf)) <= 0)
		return -1;
	return kb_field(buf, key);
}

int tk_thread_count(void)
{
	char buf[4096];
	if (read_small("/proc/self/status", buf, sizeof(buf)) <= 0)
		return -1;
	const char *p = strstr(buf, "\nThreads:");
	return p ? atoi(p + 9) : -1;
}

int tk_first_allowed_cpu(void)
{
	cpu_set_t set;
	if (sched_getaffinity(0, sizeof(set), &set) == 0)
		for (int i = 0; i < CPU_SETSIZE; i++)
			if (CPU_ISSET(i, &set))
				return i;
	return 0;
}

bool tk_check(json_t *checks, const char *name, json_t *expected, json_t *actual, bool pass)
{
	if (!pass) {
		char *e = json_dumps(expected, JSON_ENCODE_ANY | JSON_COMPACT);
		char *a = json_dumps(actual, JSON_ENCODE_ANY | JSON_COMPACT);
		il_fail("%s: expected %s, got %s", name, e ? e : "?", a ? a : "?");
		free(e);
		free(a);
	}
	(void)json_array_append_new(checks, json_pack("{ss so so sb}", "name", name, "expected", expected,
						       "actual", actual, "pass", pass));
	return pass;
}

const char *tk_wait_str(int st, char *buf, size_t len)
{
	if (WIFEXITED(st))
		(void)snprintf(buf, len, "exited %d", WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		(void)snprintf(buf, len, "killed by SIG%s%s", sigabbrev_np(WTERMSIG(st)) ? sigabbrev_np(WTERMSIG(st)) : "?",
			       WCOREDUMP(st) ? " (core dumped)" : "");
	else
		(void)snprintf(buf, len, "wait status 0x%x", (unsigned)st);
	return buf;
}

double tk_slope(const double *x, const double *y, size_t n)
{
	if (n < 2)
		return 0;
	double mx = 0, my = 0;
	for (size_t i = 0; i < n; i++) {
		mx += x[i];
		my += y[i];
	}
	mx /= (double)n;
	my /= (double)n;
	double sxy = 0, sxx = 0;
	for (size_t i = 0; i < n; i++) {
		sxy += (x[i] - mx) * (y[i] - my);
		sxx += (x[i] - mx) * (x[i] - mx);
	}
	return sxx > 0 ? sxy / sxx : 0;
}

struct il_hist *tk_hist_new(uint64_t max_ns)
{
	struct il_hist *h = malloc(sizeof(*h));
	if (h)
		il_hist_init(h, max_ns);
	return h;
}
