/* task.h - what the "task" experiments (process vs thread costs) share: the task life
 * cycle tracepoints, /proc readers, named checks, and the config structs of the
 * experiments that "task summary" calls in-process. Not an experiment itself. */
#ifndef IPCLAB_TASK_H
#define IPCLAB_TASK_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "../core/experiment.h"
#include "../core/hist.h"
#include "../core/sys.h"

/* ---------------------------------------------------------------- tracepoints */

/* The next task sequence number of this run (0, 1, ...); shared by every experiment. */
uint64_t tk_next_seq(void);
/* Exactly one of each per task (see trace/ipclab_task.h). */
void tk_tp_spawn(const char *method, uint64_t seq);
void tk_tp_start(uint64_t seq, pid_t pid, pid_t tid, uint64_t t_start, bool proxy);
void tk_tp_exit(uint64_t seq, pid_t pid, pid_t tid, int status, bool proxy);
void tk_tp_reaped(uint64_t seq, pid_t pid, pid_t tid, int status, uint64_t latency_ns);

/* ---------------------------------------------------------------- /proc (OS idioms: ../core/sys.h) */


/* Resident memory of a process from /proc/PID/smaps_rollup (pid 0: ourselves), in KiB. */
struct tk_mem {
	int64_t rss_kb, pss_kb, private_kb, anon_huge_kb;
	int64_t pte_kb; /* VmPTE from /proc/PID/status: page tables, not in Rss */
};
int tk_read_mem(pid_t pid, struct tk_mem *m);
/* A "Key:  N kB" line of /proc/meminfo, in KiB; -1 if missing. */
int64_t tk_meminfo_kb(const char *key);
/* "Threads:" of /proc/self/status; -1 on error. */
int tk_thread_count(void);
/* The first CPU we may run on (sched_getaffinity), 0 if unknown. */
int tk_first_allowed_cpu(void);
/* Counts the children of every thread of ours (/proc/self/task/TID/children); -1 on error. */
int tk_count_children(void);
/* Closes *fd if open and marks it closed (-1); both ends of a pipe. */
void tk_close(int *fd);
void tk_close_pair(int p[2]);
/* Waits at most ms for end of file on fd: the only task holding the write end died. */
bool tk_wait_eof(int fd, int ms);

/* ---------------------------------------------------------------- checks and output */

/* Appends {name, expected, actual, pass} to the checks array (steals expected/actual);
 * prints a FAIL line when it does not pass. Returns pass. */
bool tk_check(json_t *checks, const char *name, json_t *expected, json_t *actual, bool pass);
/* The one message of a failure with exit code rc: il_fail for IL_FAIL (a check), il_err
 * otherwise (could not run). */
void tk_log_rc(int rc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Least-squares slope of y over x (n points); 0 when n < 2 or x is constant. */
double tk_slope(const double *x, const double *y, size_t n);
/* A histogram on the heap (they are ~18 KiB), initialised; NULL on ENOMEM. */
struct il_hist *tk_hist_new(uint64_t max_ns);

/* ---------------------------------------------------------------- the experiments' configs
 * For composition (task summary): il_experiment_call(x, &il_exp_task_spawn, &common,
 * &cfg, &results) with the common options in struct il_common. */

enum tk_method { TK_FORK, TK_VFORK, TK_POSIX_SPAWN, TK_CLONE, TK_PTHREAD, TK_PTHREAD_DETACHED, TK_NMETHODS };
extern const char *const tk_method_names[];
enum tk_exec { TK_EXEC_NOP, TK_EXEC_SELF };
/* Who emits a forked child's task_start/task_exit: the creator (from the stamp the child
 * leaves in shared memory) or the child itself (it first re-registers with the tracer). */
enum tk_child_trace { TK_CHILD_PROXY, TK_CHILD_SELF };

/* task spawn: --iterations/--warmup tasks by method; or the memory sweep. */
struct tk_spawn_cfg {
	int method;         /* enum tk_method */
	int exec;           /* enum tk_exec, posix_spawn only */
	int child_trace;    /* enum tk_child_trace, fork only */
	uint64_t touch_mb;  /* 0: nothing touched */
	bool sweep, huge;
	uint64_t budget_ms; /* --sweep: per variant */
};
extern const struct il_experiment il_exp_task_spawn;

/* task ctxsw: --mode, --cpu (one), --iterations/--warmup/--repeat. */
struct tk_ctxsw_cfg {
	uint64_t ws_kb;
	bool sweep;
};
extern const struct il_experiment il_exp_task_ctxsw;

/* task footprint: points at 0,1,2,4,..,max idle tasks of each kind. */
struct tk_footprint_cfg {
	uint64_t max;
};
extern const struct il_experiment il_exp_task_footprint;

/* task isolation: no options (cfg NULL). */
extern const struct il_experiment il_exp_task_isolation;

/* Footprint's measurement, for its unit test: total Rss/Pss with n idle processes vs n
 * idle threads, for n = 0,1,2,4,..,max (max included); logs once, returns an exit code. */
struct tk_fp_point {
	unsigned n;
	struct tk_mem proc, thr; /* proc: sums over us + the n children */
	int64_t ks_proc_kb, ks_thr_kb; /* KernelStack delta (system-wide, noisy) */
};
int tk_footprint_measure(unsigned max, struct tk_fp_point *pts, unsigned *npts);
/* Slopes (KiB per extra task) over the points. */
struct tk_fp_slope {
	double rss, pss, private_kb, pte;
};
void tk_footprint_slopes(const struct tk_fp_point *pts, unsigned n, bool thread, struct tk_fp_slope *s);

#endif
