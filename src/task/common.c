/* common.c - shared parts of the "task" experiments: tracepoints, /proc readers, checks. */
#include "task.h"
#include "../core/log.h"
#include "../core/tp.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
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

void tk_log_rc(int rc, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (rc == IL_FAIL)
		il_fail("%s", msg);
	else
		il_err("%s", msg);
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
