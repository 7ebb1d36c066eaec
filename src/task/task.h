/* task.h - what the "task" experiments (process vs thread costs) share: the task life
 * cycle tracepoints, /proc readers, named checks, and the measurement entry points that
 * "task summary" calls in-process. Not an experiment itself. */
#ifndef IPCLAB_TASK_H
#define IPCLAB_TASK_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "../core/hist.h"

/* ---------------------------------------------------------------- tracepoints */

/* The next task sequence number of this run (0, 1, ...); shared by every experiment. */
uint64_t tk_next_seq(void);
/* Exactly one of each per task (see trace/ipclab_task.h). */
void tk_tp_spawn(const char *method, uint64_t seq);
void tk_tp_start(uint64_t seq, pid_t pid, pid_t tid, uint64_t t_start, bool proxy);
void tk_tp_exit(uint64_t seq, pid_t pid, pid_t tid, int status, bool proxy);
void tk_tp_reaped(uint64_t seq, pid_t pid, pid_t tid, int status, uint64_t latency_ns);

/* ---------------------------------------------------------------- /proc */

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

/* ---------------------------------------------------------------- checks and output */

/* Appends {name, expected, actual, pass} to the checks array (steals expected/actual);
 * prints a FAIL line when it does not pass. Returns pass. */
bool tk_check(json_t *checks, const char *name, json_t *expected, json_t *actual, bool pass);
/* Puts the wait status in words ("exited 0", "killed by SIGSEGV") into buf. */
const char *tk_wait_str(int st, char *buf, size_t len);
/* Least-squares slope of y over x (n points); 0 when n < 2 or x is constant. */
double tk_slope(const double *x, const double *y, size_t n);
/* A histogram on the heap (they are ~18 KiB), initialised; NULL on ENOMEM. */
struct il_hist *tk_hist_new(uint64_t max_ns);

/* ---------------------------------------------------------------- measurements */

enum tk_method { TK_FORK, TK_VFORK, TK_POSIX_SPAWN, TK_CLONE, TK_PTHREAD, TK_PTHREAD_DETACHED, TK_NMETHODS };
extern const char *const tk_method_names[];
enum tk_exec { TK_EXEC_NOP, TK_EXEC_SELF };

/* One spawn measurement: create a do-nothing task, wait for it, warmup + iterations times. */
struct tk_spawn_cfg {
	int method;          /* enum tk_method */
	int exec;            /* enum tk_exec, posix_spawn only */
	uint64_t iterations, warmup;
	uint64_t budget_ns;  /* 0: no limit; else stop measuring after this (at least 3 samples) */
};
struct tk_spawn_res {
	uint64_t spawned, started, exited_ok, reaped, measured;
	struct il_hist *to_return, *to_start, *to_reaped; /* owned */
	char why[256];       /* the failure, when the result is not IL_OK */
};
/* Returns an exit code; res histograms are allocated here (free with tk_spawn_res_free). */
int tk_spawn_measure(const struct tk_spawn_cfg *cfg, struct tk_spawn_res *res);
void tk_spawn_res_free(struct tk_spawn_res *res);
/* JSON of a measured variant: counts and the three summaries. */
json_t *tk_spawn_res_json(const struct tk_spawn_res *res);

/* One context-switch point: 2 tasks pinned on cpu passing a token over pipes. */
struct tk_ctxsw_res {
	double ctxsw_ns;         /* median over repeats of round_p50/2 - overhead_p50 */
	double ctxsw_mean_ns;    /* the same from means */
	double rel_stddev;       /* repeat-to-repeat, of ctxsw_ns */
	struct il_hist *round, *overhead; /* owned: merged over repeats */
	int cpu_seen[2];         /* CPU of each task at its end */
	char why[256];
};
int tk_ctxsw_measure(int mode, int cpu, uint64_t ws_kb, uint64_t iterations, uint64_t warmup,
		     uint64_t repeat, struct tk_ctxsw_res *res);
void tk_ctxsw_res_free(struct tk_ctxsw_res *res);

/* Footprint: total Rss/Pss with n idle processes vs n idle threads. */
struct tk_fp_point {
	unsigned n;
	struct tk_mem proc, thr; /* proc: sums over us + the n children */
	int64_t ks_proc_kb, ks_thr_kb; /* KernelStack delta (system-wide, noisy) */
};
/* Fills pts[0..npts) for n = 0,1,2,4,..,max (max included); returns an exit code. */
int tk_footprint_measure(unsigned max, struct tk_fp_point *pts, unsigned *npts, char *why, size_t whylen);
/* Slopes (KiB per extra task) over the points. */
struct tk_fp_slope {
	double rss, pss, private_kb, pte;
};
void tk_footprint_slopes(const struct tk_fp_point *pts, unsigned n, bool thread, struct tk_fp_slope *s);

/* Isolation: runs every check, appends them to checks; returns the number that failed
 * (or -exit code when the checks could not be run). */
int tk_isolation_run(json_t *checks, json_t *outcomes);

#endif
