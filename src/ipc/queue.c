/* queue.c - "ipclab ipc queue": the message-queue semantics a course teaches, shown and
 * CHECKED step by step on a POSIX queue (queue_posix.c) and a System V queue
 * (queue_sysv.c): capacity, put blocking/EAGAIN when full, get blocking/EAGAIN (SysV:
 * ENOMSG) when empty, the current size after every put and get, FIFO order, POSIX
 * priorities, oversized messages (EMSGSIZE; SysV E2BIG and MSG_NOERROR truncation),
 * unlink/IPC_RMID. Every step has an expected and an actual outcome; any mismatch exits 1.
 * Blocking calls that must really block run in a second thread; the main thread acts only
 * after it has seen that thread asleep (queue.h), never after a sleep. */
#include "queue.h"
#include "../core/experiment.h"
#include "../core/log.h"
#include "../core/result.h"

#include <inttypes.h>
#include <stdio.h>

static const char *const kind_names[] = { "posix", "sysv", "both", NULL };
enum { K_POSIX, K_SYSV, K_BOTH };

struct queue_cfg {
	int kind;
	uint64_t capacity, size;
};

static const struct queue_cfg queue_defaults = { .kind = K_BOTH, .capacity = 4, .size = 64 };

static const struct il_opt queue_opts[] = {
	{ .name = "kind", .type = IL_OPT_CHOICE, .metavar = "K",
	  .help = "queue kind: posix (mq_open), sysv (msgget) or both [default both]", .choices = kind_names,
	  .off = IL_CFG(struct queue_cfg, kind, int), .param = "kind" },
	{ .name = "capacity", .type = IL_OPT_U64, .metavar = "N",
	  .help = "messages the queue holds: POSIX mq_maxmsg, SysV msg_qbytes = N*S [default 4]", .min = 1, .max = 10,
	  .off = IL_CFG(struct queue_cfg, capacity, uint64_t), .param = "capacity" },
	{ .name = "size", .type = IL_OPT_SIZE, .metavar = "S",
	  .help = "message size in bytes (POSIX mq_msgsize) [default 64]", .min = 16, .max = 8192,
	  .off = IL_CFG(struct queue_cfg, size, uint64_t), .param = "size" },
	{ 0 },
};

static json_t *kind_result(const struct il_qlog *q, unsigned first)
{
	return json_pack("{sI sI sI sI}", "steps", (json_int_t)(q->n - first), "first_step", (json_int_t)(first + 1),
			 "passed", (json_int_t)q->passed, "failed", (json_int_t)q->failed);
}

static int queue_measure(struct il_ctx *x, void *cfg)
{
	const struct queue_cfg *qc = cfg;
	struct il_qlog q = { .steps = json_array() };
	json_t *kinds = json_object();
	unsigned passed = 0, failed = 0;
	int rc = IL_OK;
	int (*const run[2])(struct il_qlog *, unsigned, size_t) = { il_queue_posix, il_queue_sysv };
	for (int k = K_POSIX; k <= K_SYSV && rc == IL_OK; k++) {
		if (qc->kind != k && qc->kind != K_BOTH)
			continue;
		unsigned first = q.n;
		q.passed = q.failed = 0;
		rc = run[k](&q, (unsigned)qc->capacity, (size_t)qc->size);
		il_jset(kinds, kind_names[k], kind_result(&q, first));
		passed += q.passed;
		failed += q.failed;
	}
	il_jset(x->results, "steps", q.steps);
	il_jset(x->results, "passed", json_integer((json_int_t)passed));
	il_jset(x->results, "failed", json_integer((json_int_t)failed));
	il_jset(x->results, "kinds", kinds);
	return rc == IL_OK && failed ? IL_FAIL : rc;
}

static const char *str(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "";
}

static void queue_print(const struct il_ctx *x, const void *cfg)
{
	const struct queue_cfg *qc = cfg;
	printf("ipc queue: %s, capacity %" PRIu64 " messages of %" PRIu64 " bytes\n", kind_names[qc->kind], qc->capacity,
	       qc->size);
	printf("%3s %-5s %-42s %-36s %-36s %s\n", "#", "kind", "operation", "expected", "actual", "result");
	size_t i;
	json_t *st, *v;
	json_array_foreach(json_object_get(x->results, "steps"), i, st) {
		printf("%3" JSON_INTEGER_FORMAT " %-5s %-42s %-36s %-36s %s", json_integer_value(json_object_get(st, "n")),
		       str(st, "kind"), str(st, "op"), str(st, "expected"), str(st, "actual"),
		       json_is_true(json_object_get(st, "pass")) ? "ok" : "FAIL");
		if (json_is_string(json_object_get(st, "note")))
			printf("  (%s)", str(st, "note"));
		putchar('\n');
	}
	const char *k;
	json_object_foreach(json_object_get(x->results, "kinds"), k, v)
		printf("%s: %" JSON_INTEGER_FORMAT "/%" JSON_INTEGER_FORMAT " steps passed\n", k,
		       json_integer_value(json_object_get(v, "passed")), json_integer_value(json_object_get(v, "steps")));
}

const struct il_experiment il_exp_ipc_queue = {
	.group = "ipc",
	.name = "queue",
	.summary = "POSIX and SysV message-queue semantics step by step, every step checked",
	.help = "Message-queue semantics, step by step, each step checked: capacity, put blocking\n"
		"(timed: ETIMEDOUT; SysV: a blocked msgsnd released by a get) and EAGAIN when full,\n"
		"get blocking and EAGAIN/ENOMSG when empty, size after each put/get, FIFO order,\n"
		"POSIX priorities, oversized messages (EMSGSIZE, E2BIG, MSG_NOERROR), unlink/IPC_RMID.\n"
		"Any step that does not go as expected exits 1.",
	.opts = queue_opts,
	.cfg_size = sizeof(struct queue_cfg),
	.cfg_defaults = &queue_defaults,
	.measure = queue_measure,
	.print = queue_print,
	.flags = IL_EXP_GUARD | IL_EXP_PRINT_ON_FAIL,
};
