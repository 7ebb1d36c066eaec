/* footprint.c - "ipclab task footprint": the memory one more idle process costs against one
 * more idle thread. For n = 0, 1, 2, 4, .., max, n tasks are created and each blocks in a
 * read() of a pipe after saying it is ready; then Rss and Pss are read from
 * /proc/<pid>/smaps_rollup (summed over us and every child for processes; our own for
 * threads, which share our address space) with VmPTE (page tables) from /proc/<pid>/status.
 * Rss counts every page a task maps, shared or not, so n forked children count the
 * parent's pages n more times; Pss divides each page among its sharers, so its sum grows
 * only by what each task really adds (its copied-on-write pages). The per-task cost is the
 * least-squares slope over the points. The kernel's own per-task memory (a 16 KiB kernel
 * stack on x86-64, task_struct) is in neither; KernelStack from /proc/meminfo is reported
 * as a system-wide, noisy delta. */
#include "task.h"
#include "../core/cleanup.h"
#include "../core/clock.h"
#include "../core/experiment.h"
#include "../core/log.h"
#include "../core/result.h"
#include "../core/tp.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_TASKS 1024u
#define MAX_POINTS 16u

struct fp_ctx {
	int ready[2], release[2];
	uint64_t seq0;
};

struct fp_thread {
	struct fp_ctx *c;
	uint64_t seq;
	pid_t tid;
};

/* Says ready, then blocks until the release pipe reaches end of file. */
static void idle_until_released(struct fp_ctx *c)
{
	char ch = 'r';
	while (write(c->ready[1], &ch, 1) < 0 && errno == EINTR)
		;
	ssize_t r;
	while ((r = read(c->release[0], &ch, 1)) != 0 && (r > 0 || errno == EINTR))
		;
}

static void *fp_thread_main(void *arg)
{
	struct fp_thread *t = arg;
	uint64_t ts = il_now_ns();
	t->tid = gettid();
	tk_tp_start(t->seq, getpid(), t->tid, ts, false);
	idle_until_released(t->c);
	tk_tp_exit(t->seq, getpid(), t->tid, 0, false);
	return NULL;
}

/* Reads n ready bytes; -1 if the pipe ended first. */
static int wait_ready(struct fp_ctx *c, unsigned n)
{
	char buf[256];
	unsigned got = 0;
	while (got < n) {
		size_t want = n - got < sizeof(buf) ? n - got : sizeof(buf);
		ssize_t r = read(c->ready[0], buf, want);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		got += (unsigned)r;
	}
	return 0;
}

static void add_mem(struct tk_mem *a, const struct tk_mem *b)
{
	a->rss_kb += b->rss_kb;
	a->pss_kb += b->pss_kb;
	a->private_kb += b->private_kb;
	a->pte_kb += b->pte_kb;
	a->anon_huge_kb += b->anon_huge_kb;
}

static void close_pipe(int p[2])
{
	for (int i = 0; i < 2; i++)
		if (p[i] >= 0) {
			(void)close(p[i]);
			p[i] = -1;
		}
}

/* One point: n idle tasks of one kind; total memory into *m; kernel stack delta into *ks. */
static int measure_point(bool thread, unsigned n, struct tk_mem *m, int64_t *ks, char *why, size_t wl)
{
	struct fp_ctx c = { { -1, -1 }, { -1, -1 }, 0 };
	pid_t *pids = calloc(n ? n : 1, sizeof(pid_t));
	uint64_t *seqs = calloc(n ? n : 1, sizeof(uint64_t)), *t0s = calloc(n ? n : 1, sizeof(uint64_t));
	pthread_t *ths = calloc(n ? n : 1, sizeof(pthread_t));
	struct fp_thread *targs = calloc(n ? n : 1, sizeof(struct fp_thread));
	unsigned started = 0, bad = 0;
	int rc = IL_OK;
	memset(m, 0, sizeof(*m));
	if (!pids || !seqs || !t0s || !ths || !targs) {
		(void)snprintf(why, wl, "out of memory");
		rc = IL_NORES;
		goto out;
	}
	if (pipe2(c.ready, O_CLOEXEC) < 0 || pipe2(c.release, O_CLOEXEC) < 0) {
		(void)snprintf(why, wl, "pipe: %s", strerror(errno));
		rc = il_exit_for_errno(errno);
		goto out;
	}
	int64_t ks0 = tk_meminfo_kb("KernelStack");
	pid_t parent = getpid();
	(void)fflush(NULL);
	for (unsigned i = 0; i < n; i++) {
		seqs[i] = tk_next_seq();
		tk_tp_spawn(thread ? "footprint-thread" : "footprint-process", seqs[i]);
		t0s[i] = il_now_ns();
		if (thread) {
			targs[i] = (struct fp_thread){ &c, seqs[i], 0 };
			int e = pthread_create(&ths[i], NULL, fp_thread_main, &targs[i]);
			if (e) {
				(void)snprintf(why, wl, "pthread_create of thread %u: %s", i + 1, strerror(e));
				rc = il_exit_for_errno(e);
				break;
			}
		} else {
			pid_t pid = fork();
			if (pid < 0) {
				(void)snprintf(why, wl, "fork of process %u: %s", i + 1, strerror(errno));
				rc = il_exit_for_errno(errno);
				break;
			}
			if (pid == 0) {
				(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
				if (getppid() != parent)
					_exit(IL_FAIL);
				(void)close(c.release[1]); /* only the parent's copy may keep it open */
				uint64_t ts = il_now_ns();
				pid_t me = getpid();
				tk_tp_start(seqs[i], me, me, ts, false);
				idle_until_released(&c);
				tk_tp_exit(seqs[i], me, me, 0, false);
				_exit(0);
			}
			pids[i] = pid;
		}
		started++;
	}
	if (rc == IL_OK && wait_ready(&c, n) < 0) {
		(void)snprintf(why, wl, "the idle tasks did not all report ready");
		rc = IL_FAIL;
	}
	if (rc == IL_OK) {
		int64_t ks1 = tk_meminfo_kb("KernelStack");
		*ks = ks0 >= 0 && ks1 >= 0 ? ks1 - ks0 : 0;
		struct tk_mem mm;
		if (tk_read_mem(0, &mm) < 0) {
			(void)snprintf(why, wl, "cannot read /proc/self/smaps_rollup");
			rc = IL_UNSUP;
		} else {
			add_mem(m, &mm);
		}
		for (unsigned i = 0; rc == IL_OK && !thread && i < n; i++) {
			if (tk_read_mem(pids[i], &mm) < 0) {
				(void)snprintf(why, wl, "cannot read /proc/%d/smaps_rollup", (int)pids[i]);
				rc = IL_FAIL;
			} else {
				add_mem(m, &mm);
			}
		}
	}
	/* release: end of file on the pipe wakes every idle task; then reap/join each */
	close_pipe(c.release);
	for (unsigned i = 0; i < started; i++) {
		int st = 0;
		if (thread) {
			(void)pthread_join(ths[i], NULL);
			tk_tp_reaped(seqs[i], getpid(), targs[i].tid, 0, il_now_ns() - t0s[i]);
		} else {
			pid_t r;
			while ((r = waitpid(pids[i], &st, 0)) < 0 && errno == EINTR)
				;
			tk_tp_reaped(seqs[i], pids[i], pids[i], st, il_now_ns() - t0s[i]);
			if (r != pids[i] || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
				bad++;
		}
	}
	if (rc == IL_OK && bad) {
		(void)snprintf(why, wl, "%u of %u idle processes did not exit 0", bad, started);
		rc = IL_FAIL;
	}
out:
	close_pipe(c.ready);
	close_pipe(c.release);
	free(pids);
	free(seqs);
	free(t0s);
	free(ths);
	free(targs);
	return rc;
}

int tk_footprint_measure(unsigned max, struct tk_fp_point *pts, unsigned *npts, char *why, size_t whylen)
{
	unsigned ns[MAX_POINTS], k = 0;
	ns[k++] = 0;
	for (unsigned n = 1; n < max && k < MAX_POINTS - 1; n *= 2)
		ns[k++] = n;
	ns[k++] = max;
	*npts = 0;
	int64_t ks = 0;
	/* processes first, in increasing n; then threads, also increasing: glibc caches freed
	 * thread stacks, so going up, every point reuses only what the previous one made */
	for (int kind = 0; kind < 2; kind++)
		for (unsigned i = 0; i < k; i++) {
			pts[i].n = ns[i];
			struct tk_mem *m = kind ? &pts[i].thr : &pts[i].proc;
			int rc = measure_point(kind == 1, ns[i], m, &ks, why, whylen);
			if (rc != IL_OK)
				return rc;
			if (kind)
				pts[i].ks_thr_kb = ks;
			else
				pts[i].ks_proc_kb = ks;
		}
	*npts = k;
	return IL_OK;
}

void tk_footprint_slopes(const struct tk_fp_point *pts, unsigned n, bool thread, struct tk_fp_slope *s)
{
	double x[MAX_POINTS], rss[MAX_POINTS], pss[MAX_POINTS], prv[MAX_POINTS], pte[MAX_POINTS];
	for (unsigned i = 0; i < n && i < MAX_POINTS; i++) {
		const struct tk_mem *m = thread ? &pts[i].thr : &pts[i].proc;
		x[i] = pts[i].n;
		rss[i] = (double)m->rss_kb;
		pss[i] = (double)m->pss_kb;
		prv[i] = (double)m->private_kb;
		pte[i] = (double)m->pte_kb;
	}
	s->rss = tk_slope(x, rss, n);
	s->pss = tk_slope(x, pss, n);
	s->private_kb = tk_slope(x, prv, n);
	s->pte = tk_slope(x, pte, n);
}

static json_t *mem_json(const struct tk_mem *m, int64_t ks)
{
	return json_pack("{sI sI sI sI sI}", "rss_kb", (json_int_t)m->rss_kb, "pss_kb", (json_int_t)m->pss_kb,
			 "private_kb", (json_int_t)m->private_kb, "pte_kb", (json_int_t)m->pte_kb,
			 "kernel_stack_delta_kb", (json_int_t)ks);
}

static json_t *slope_json(const struct tk_fp_slope *s)
{
	return json_pack("{sf sf sf sf}", "rss_kb", s->rss, "pss_kb", s->pss, "private_kb", s->private_kb,
			 "pte_kb", s->pte);
}

static int footprint_run(int argc, char **argv)
{
	uint64_t max = 64;
	const struct il_opt opts[] = {
		{ "max", IL_OPT_U64, "N", "largest task count; points at 0,1,2,4,..,N (default 64)", 1, MAX_TASKS, NULL, &max },
		{ 0 },
	};
	struct il_ctx x;
	il_ctx_begin(&x, argv[0], argc, argv);
	int prc = il_ctx_parse(&x, "Resident (Rss) and proportional (Pss) memory per extra idle process vs per extra\n"
			       "idle thread, from /proc/<pid>/smaps_rollup, for 0,1,2,4,..,N tasks each blocked\n"
			       "on a pipe while measured; the per-task cost is the least-squares slope.", 0, opts);
	if (prc != IL_RUN)
		return prc;
	const struct il_common *c = &x.c;
	il_jset(x.params, "max", json_integer((json_int_t)max));
	il_jset(x.results, "traced", json_boolean(il_trace_loaded()));
	il_guard_install((unsigned)c->timeout_s);
	struct tk_fp_point pts[MAX_POINTS];
	unsigned np = 0;
	char why[256] = "";
	int rc = tk_footprint_measure((unsigned)max, pts, &np, why, sizeof(why));
	il_guard_disarm();
	if (rc != IL_OK) {
		if (rc == IL_FAIL)
			il_fail("%s", why);
		else
			il_err("%s", why);
		if (rc == IL_UNSUP)
			il_jset(x.results, "unsupported", json_string(why));
		return il_ctx_finish(&x, rc);
	}
	struct tk_fp_slope sp, st;
	tk_footprint_slopes(pts, np, false, &sp);
	tk_footprint_slopes(pts, np, true, &st);
	json_t *points = json_array();
	for (unsigned i = 0; i < np; i++)
		(void)json_array_append_new(points, json_pack("{sI so so}", "tasks", (json_int_t)pts[i].n,
			"process", mem_json(&pts[i].proc, pts[i].ks_proc_kb), "thread", mem_json(&pts[i].thr, pts[i].ks_thr_kb)));
	il_jset(x.results, "points", points);
	il_jset(x.results, "slope_kb_per_task", json_pack("{so so}", "process", slope_json(&sp), "thread", slope_json(&st)));
	il_jset(x.results, "pss_ratio_process_over_thread", st.pss > 0 ? json_real(sp.pss / st.pss) : json_null());
	il_jset(x.results, "not_counted", json_string("kernel memory per task: kernel stack (16 KiB on x86-64), "
						      "task_struct; page tables are pte_kb"));
	if (!c->json || c->json_file) {
		printf("task footprint: up to %" PRIu64 " idle tasks (totals in KiB: us + children for processes)\n", max);
		printf("%6s %10s %10s %10s %8s   %10s %10s %10s %8s\n", "tasks", "proc_rss", "proc_pss", "proc_priv",
		       "proc_pte", "thr_rss", "thr_pss", "thr_priv", "thr_pte");
		for (unsigned i = 0; i < np; i++)
			printf("%6u %10" PRId64 " %10" PRId64 " %10" PRId64 " %8" PRId64 "   %10" PRId64 " %10" PRId64
			       " %10" PRId64 " %8" PRId64 "\n", pts[i].n, pts[i].proc.rss_kb, pts[i].proc.pss_kb,
			       pts[i].proc.private_kb, pts[i].proc.pte_kb, pts[i].thr.rss_kb, pts[i].thr.pss_kb,
			       pts[i].thr.private_kb, pts[i].thr.pte_kb);
		printf("per extra task (slope, KiB): process Rss %.1f Pss %.1f private %.1f PTE %.1f; "
		       "thread Rss %.1f Pss %.1f private %.1f PTE %.1f\n", sp.rss, sp.pss, sp.private_kb, sp.pte, st.rss,
		       st.pss, st.private_kb, st.pte);
	}
	return il_ctx_finish(&x, IL_OK);
}

const struct il_experiment il_exp_task_footprint = {
	.group = "task",
	.name = "footprint",
	.summary = "resident/proportional memory per extra idle process vs per extra thread (smaps_rollup)",
	.run = footprint_run,
};
