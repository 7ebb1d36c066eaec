/* spawn.h - what the "task spawn" files share (not for other experiments: they call
 * il_exp_task_spawn with struct tk_spawn_cfg, task.h):
 *   spawn_methods.c  each creation method: its set-up and one timed create-and-wait;
 *   spawn_loop.c  the timed create -> start -> reaped loop, one creation method at a time;
 *   spawn_mem.c   the creator's touched memory (--touch-mb, --sweep, --hugepages);
 *   spawn.c       the experiment; nop.c the program "--exec self" runs. */
#ifndef IPCLAB_TASK_SPAWN_H
#define IPCLAB_TASK_SPAWN_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <spawn.h>
#include <sys/types.h>

#include <jansson.h>

#include "../core/hist.h"

/* What an exec'd task writes to fd NOP_FD first thing (src/task/helper/nop.c writes the
 * same 16 bytes). */
#define NOP_FD 3
#define NOP_MAGIC 0x6e6f7021u /* "nop!" */
struct nop_msg {
	uint64_t t_start;
	int32_t pid;
	uint32_t magic;
};

/* ---------------------------------------------------------------- the methods (spawn_methods.c) */

#define TK_CLONE_STACK (64u * 1024) /* the clone method's stack */

/* Written by the new task (MAP_SHARED, so a forked child's writes are seen). */
struct tk_slot {
	volatile uint64_t t_start;
	volatile int32_t pid, tid;
	uint64_t seq;
	sem_t done; /* detached threads post it as their last act */
};

/* What the loop holds for one method, set up outside the timed part. */
struct tk_loop {
	struct tk_slot *sl;
	int exec;                    /* posix_spawn: enum tk_exec */
	bool self_trace;             /* fork: the child traces itself (else the creator does) */
	int pfd[2];                  /* posix_spawn: the start-record pipe */
	char path[PATH_MAX];         /* posix_spawn: what is executed */
	char *argv[6];
	posix_spawn_file_actions_t fa;
	bool fa_init;
	pthread_attr_t dattr;        /* detached threads */
	bool attr_init, sem_init;
	void *stack;                 /* clone */
	sigset_t all;
};

/* One creation: stamps and outcome. */
struct tk_one {
	uint64_t t0, t1, t2;
	pid_t pid;
	int st;      /* wait status (processes) */
	int err;     /* errno of a failed creation, 0 if created */
	int werr;    /* errno of a failed wait */
	bool proxy;  /* the creator traces start and exit for the task */
	bool reaped;
};

/* Indexed by enum tk_method: the set-up outside the timed loop (NULL: none; else IL_OK
 * or an exit code after one message) and one timed create-and-wait. */
struct tk_method_ops {
	int (*setup)(struct tk_loop *l);
	void (*create)(struct tk_loop *l, struct tk_one *o);
};
extern const struct tk_method_ops tk_methods[];

/* ---------------------------------------------------------------- the timed loop (spawn_loop.c) */

/* warmup + iterations tasks created by method and waited for; after budget_ns of
 * measuring (0: no limit) the loop stops, once it has at least 3 samples. */
struct tk_loop_cfg {
	int method; /* enum tk_method */
	int exec;   /* enum tk_exec, posix_spawn only */
	int child_trace; /* enum tk_child_trace, fork only */
	uint64_t iterations, warmup, budget_ns;
};
struct tk_loop_res {
	uint64_t spawned, started, exited_ok, reaped, measured;
	struct il_hist *to_return, *to_start, *to_reaped; /* owned */
};
/* Runs the loop; logs the reason once and returns an exit code (enum il_exit). res's
 * histograms are allocated here: free them with tk_loop_res_free, also after a failure. */
int tk_spawn_loop(const struct tk_loop_cfg *cfg, struct tk_loop_res *res);
void tk_loop_res_free(struct tk_loop_res *res);
/* {spawned started exited_ok reaped measured to_return to_start to_reaped} */
json_t *tk_loop_res_json(const struct tk_loop_res *res);

/* What posix_spawn executes: build/bin/ipclab-nop (exec nop) or ipclab itself (exec
 * self). 0 or -1. */
int tk_exec_path(int exec, char *buf, size_t len);
/* 1 if the ELF file has no PT_INTERP (statically linked), 0 if dynamic, -1 unknown. */
int tk_elf_is_static(const char *path);

/* ---------------------------------------------------------------- touched memory */

struct tk_region {
	void *map;
	size_t maplen;
	uint64_t mb;
	const char *backing; /* "none", "4k", "hugetlb", "thp" */
	int64_t anon_huge_kb, hugetlb_kb;
};
/* Maps mb MiB (0: nothing) and writes every page, so it is resident before a fork. huge:
 * huge pages (the hugetlb pool if it has room, else THP). Returns an exit code: IL_UNSUP
 * when neither gives huge pages, IL_NORES when the memory cannot be had; then *reason is
 * a JSON string saying why (a new reference: the caller reports it, as a message or as
 * a note in the results), nothing is logged and nothing is left mapped. */
int tk_region_make(uint64_t mb, bool huge, struct tk_region *r, json_t **reason);
void tk_region_free(struct tk_region *r);

#endif
