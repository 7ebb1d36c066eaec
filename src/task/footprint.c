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
#include "../core/clock.h"
#include "../core/experiment.h"
#include "../core/log.h"
#include "../core/result.h"

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

/* One point's idle tasks: they say ready on one pipe and block on the other until its
 * end of file (our write end closed). */
struct fp_set {
	bool thread;
	unsigned n, started;
	int ready[2], release[2];
	pid_t *pids;
	uint64_t *seqs, *t0s;
	pthread_t *ths;
	struct fp_thread {
		struct fp_set *set;
		uint64_t seq;
		pid_t tid;
	} *targs;
};

/* Says ready, then blocks until the release pipe reaches end of file. */
static void idle_until_released(struct fp_set *c)
{
	char ch = 'r';
	(void)il_write_full(c->ready[1], &ch, 1);
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
	idle_until_released(t->set);
	tk_tp_exit(t->seq, getpid(), t->tid, 0, false);
	return NULL;
}

static __attribute__((noreturn)) void fp_process_main(struct fp_set *c, uint64_t seq, pid_t parent)
{
	(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(IL_FAIL);
	(void)close(c->release[1]); /* only the parent's copy may keep it open */
	uint64_t ts = il_now_ns();
	pid_t me = getpid();
	tk_tp_start(seq, me, me, ts, false);
	idle_until_released(c);
	tk_tp_exit(seq, me, me, 0, false);
	_exit(0);
}

static void add_mem(struct tk_mem *a, const struct tk_mem *b)
{
	a->rss_kb += b->rss_kb;
	a->pss_kb += b->pss_kb;
	a->private_kb += b->private_kb;
	a->pte_kb += b->pte_kb;
	a->anon_huge_kb += b->anon_huge_kb;
}

static void set_free(struct fp_set *c)
{
	tk_close_pair(c->ready);
	tk_close_pair(c->release);
	free(c->pids);
	free(c->seqs);
	free(c->t0s);
	free(c->ths);
	free(c->targs);
}

/* Starts n idle tasks of one kind and waits until each said ready. */
static int set_start(struct fp_set *c)
{
	size_t k = c->n ? c->n : 1;
	c->pids = calloc(k, sizeof(pid_t));
	c->seqs = calloc(k, sizeof(uint64_t));
	c->t0s = calloc(k, sizeof(uint64_t));
	c->ths = calloc(k, sizeof(pthread_t));
	c->targs = calloc(k, sizeof(struct fp_thread));
	if (!c->pids || !c->seqs || !c->t0s || !c->ths || !c->targs) {
		il_err("out of memory");
		return IL_NORES;
	}
	if (pipe2(c->ready, O_CLOEXEC) < 0 || pipe2(c->release, O_CLOEXEC) < 0) {
		int rc = il_exit_for_errno(errno);
		il_errno("pipe");
		return rc;
	}
	pid_t parent = getpid();
	(void)fflush(NULL);
	for (unsigned i = 0; i < c->n; i++, c->started++) {
		c->seqs[i] = tk_next_seq();
		tk_tp_spawn(c->thread ? "footprint-thread" : "footprint-process", c->seqs[i]);
		c->t0s[i] = il_now_ns();
		int e = 0;
		if (c->thread) {
			c->targs[i] = (struct fp_thread){ c, c->seqs[i], 0 };
			e = pthread_create(&c->ths[i], NULL, fp_thread_main, &c->targs[i]);
		} else if ((c->pids[i] = fork()) == 0) {
			fp_process_main(c, c->seqs[i], parent);
		} else if (c->pids[i] < 0) {
			e = errno;
		}
		if (e) {
			int rc = il_exit_for_errno(e);
			errno = e;
			il_errno("%s of %s %u", c->thread ? "pthread_create" : "fork", c->thread ? "thread" : "process", i + 1);
			return rc;
		}
	}
	char buf[256];
	for (unsigned got = 0; got < c->n;) {
		size_t want = c->n - got < sizeof(buf) ? c->n - got : sizeof(buf);
		if (il_read_full(c->ready[0], buf, want) < 0) {
			il_fail("the idle tasks did not all report ready");
			return IL_FAIL;
		}
		got += (unsigned)want;
	}
	return IL_OK;
}

/* Total memory now: ours, plus every child's for processes. */
static int set_mem(const struct fp_set *c, struct tk_mem *m)
{
	struct tk_mem mm;
	if (tk_read_mem(0, &mm) < 0) {
		il_err("cannot read /proc/self/smaps_rollup");
		return IL_UNSUP;
	}
	add_mem(m, &mm);
	for (unsigned i = 0; !c->thread && i < c->n; i++) {
		if (tk_read_mem(c->pids[i], &mm) < 0) {
			il_fail("cannot read /proc/%d/smaps_rollup", (int)c->pids[i]);
			return IL_FAIL;
		}
		add_mem(m, &mm);
	}
	return IL_OK;
}

/* End of file on the release pipe wakes every idle task; then each is reaped or joined.
 * Returns how many processes did not exit 0. */
static unsigned set_release(struct fp_set *c)
{
	unsigned bad = 0;
	tk_close_pair(c->release);
	for (unsigned i = 0; i < c->started; i++) {
		int st = 0;
		if (c->thread) {
			(void)pthread_join(c->ths[i], NULL);
			tk_tp_reaped(c->seqs[i], getpid(), c->targs[i].tid, 0, il_now_ns() - c->t0s[i]);
		} else {
			pid_t r = il_waitpid(c->pids[i], &st, 0);
			tk_tp_reaped(c->seqs[i], c->pids[i], c->pids[i], st, il_now_ns() - c->t0s[i]);
			bad += r != c->pids[i] || !WIFEXITED(st) || WEXITSTATUS(st) != 0;
		}
	}
	c->started = 0;
	return bad;
}

/* One point: n idle tasks of one kind; total memory into *m; kernel stack delta into *ks. */
static int measure_point(bool thread, unsigned n, struct tk_mem *m, int64_t *ks)
{
	struct fp_set c = { .thread = thread, .n = n, .ready = { -1, -1 }, .release = { -1, -1 } };
	memset(m, 0, sizeof(*m));
	int64_t ks0 = tk_meminfo_kb("KernelStack");
	int rc = set_start(&c);
	if (rc == IL_OK) {
		int64_t ks1 = tk_meminfo_kb("KernelStack");
		*ks = ks0 >= 0 && ks1 >= 0 ? ks1 - ks0 : 0;
		rc = set_mem(&c, m);
	}
	unsigned started = c.started, bad = set_release(&c);
	if (rc == IL_OK && bad) {
		il_fail("%u of %u idle processes did not exit 0", bad, started);
		rc = IL_FAIL;
	}
	set_free(&c);
	return rc;
}

int tk_footprint_measure(unsigned max, struct tk_fp_point *pts, unsigned *npts)
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
			int rc = measure_point(kind == 1, ns[i], m, &ks);
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

static int footprint_measure(struct il_ctx *x, void *cfgv)
{
	const struct tk_footprint_cfg *cfg = cfgv;
	struct tk_fp_point pts[MAX_POINTS];
	unsigned np = 0;
	int rc = tk_footprint_measure((unsigned)cfg->max, pts, &np);
	if (rc == IL_UNSUP)
		il_jset(x->results, "unsupported", json_string("cannot read /proc/self/smaps_rollup"));
	if (rc != IL_OK)
		return rc;
	struct tk_fp_slope sp, st;
	tk_footprint_slopes(pts, np, false, &sp);
	tk_footprint_slopes(pts, np, true, &st);
	json_t *points = json_array();
	for (unsigned i = 0; i < np; i++)
		(void)json_array_append_new(points, json_pack("{sI so so}", "tasks", (json_int_t)pts[i].n, "process",
			mem_json(&pts[i].proc, pts[i].ks_proc_kb), "thread", mem_json(&pts[i].thr, pts[i].ks_thr_kb)));
	il_jset(x->results, "points", points);
	il_jset(x->results, "slope_kb_per_task", json_pack("{so so}", "process", slope_json(&sp), "thread", slope_json(&st)));
	il_jset(x->results, "pss_ratio_process_over_thread", st.pss > 0 ? json_real(sp.pss / st.pss) : json_null());
	il_jset(x->results, "not_counted", json_string("kernel memory per task: kernel stack (16 KiB on x86-64), "
						       "task_struct; page tables are pte_kb"));
	return IL_OK;
}

static void footprint_print(const struct il_ctx *x, const void *cfgv)
{
	const struct tk_footprint_cfg *cfg = cfgv;
	const json_t *pt, *sl = json_object_get(x->results, "slope_kb_per_task");
	printf("task footprint: up to %" PRIu64 " idle tasks (totals in KiB: us + children for processes)\n", cfg->max);
	printf("%6s %10s %10s %10s %8s   %10s %10s %10s %8s\n", "tasks", "proc_rss", "proc_pss", "proc_priv", "proc_pte",
	       "thr_rss", "thr_pss", "thr_priv", "thr_pte");
	size_t i;
	json_array_foreach(json_object_get(x->results, "points"), i, pt) {
		const json_t *p = json_object_get(pt, "process"), *t = json_object_get(pt, "thread");
		printf("%6" JSON_INTEGER_FORMAT " %10" JSON_INTEGER_FORMAT " %10" JSON_INTEGER_FORMAT " %10" JSON_INTEGER_FORMAT
		       " %8" JSON_INTEGER_FORMAT "   %10" JSON_INTEGER_FORMAT " %10" JSON_INTEGER_FORMAT " %10" JSON_INTEGER_FORMAT
		       " %8" JSON_INTEGER_FORMAT "\n", il_jint(pt, "tasks"), il_jint(p, "rss_kb"), il_jint(p, "pss_kb"),
		       il_jint(p, "private_kb"), il_jint(p, "pte_kb"), il_jint(t, "rss_kb"), il_jint(t, "pss_kb"),
		       il_jint(t, "private_kb"), il_jint(t, "pte_kb"));
	}
	const json_t *sp = json_object_get(sl, "process"), *st = json_object_get(sl, "thread");
	printf("per extra task (slope, KiB): process Rss %.1f Pss %.1f private %.1f PTE %.1f; "
	       "thread Rss %.1f Pss %.1f private %.1f PTE %.1f\n", il_jnum(sp, "rss_kb"), il_jnum(sp, "pss_kb"),
	       il_jnum(sp, "private_kb"), il_jnum(sp, "pte_kb"), il_jnum(st, "rss_kb"), il_jnum(st, "pss_kb"),
	       il_jnum(st, "private_kb"), il_jnum(st, "pte_kb"));
}

static const struct tk_footprint_cfg footprint_defaults = { .max = 64 };

static const struct il_opt footprint_opts[] = {
	{ .name = "max", .type = IL_OPT_U64, .metavar = "N", .help = "largest task count; points at 0,1,2,4,..,N "
	  "(default 64)", .min = 1, .max = MAX_TASKS, .off = IL_CFG(struct tk_footprint_cfg, max, uint64_t),
	  .param = "max" },
	{ 0 },
};

const struct il_experiment il_exp_task_footprint = {
	.group = "task",
	.name = "footprint",
	.summary = "resident/proportional memory per extra idle process vs per extra thread (smaps_rollup)",
	.help = "Resident (Rss) and proportional (Pss) memory per extra idle process vs per extra\n"
		"idle thread, from /proc/<pid>/smaps_rollup, for 0,1,2,4,..,N tasks each blocked\n"
		"on a pipe while measured; the per-task cost is the least-squares slope.",
	.opts = footprint_opts,
	.cfg_size = sizeof(struct tk_footprint_cfg),
	.cfg_defaults = &footprint_defaults,
	.measure = footprint_measure,
	.print = footprint_print,
	.flags = IL_EXP_GUARD | IL_EXP_TRACED,
};
