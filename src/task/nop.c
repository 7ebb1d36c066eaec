/* nop.c - "ipclab task nop": the do-nothing task that "task spawn --method posix_spawn
 * --exec self" executes. Its start is stamped by a constructor, the first code of ours
 * that runs after the exec (before main and the option parsing), and reported: with --fd
 * as the binary start record the spawner reads (struct nop_msg), else as a line. */
#include "spawn.h"
#include "../core/clock.h"
#include "../core/experiment.h"
#include "../core/log.h"
#include "../core/result.h"

#include <inttypes.h>
#include <stdio.h>
#include <unistd.h>

/* One clock read in every ipclab process: where an exec'd "task nop" starts. */
static uint64_t t_process_start;
__attribute__((constructor)) static void stamp_process_start(void)
{
	t_process_start = il_now_ns();
}

struct nop_cfg {
	uint64_t fd; /* 0: print instead */
};

static int nop_params(struct il_ctx *x, void *cfgv)
{
	const struct nop_cfg *cfg = cfgv;
	il_jset(x->params, "fd", cfg->fd ? json_integer((json_int_t)cfg->fd) : json_null());
	return IL_OK;
}

static int nop_measure(struct il_ctx *x, void *cfgv)
{
	const struct nop_cfg *cfg = cfgv;
	il_jset(x->results, "t_start_ns", json_integer((json_int_t)t_process_start));
	il_jset(x->results, "pid", json_integer(getpid()));
	if (!cfg->fd)
		return IL_OK;
	struct nop_msg msg = { .t_start = t_process_start, .pid = getpid(), .magic = NOP_MAGIC };
	if (write((int)cfg->fd, &msg, sizeof(msg)) != (ssize_t)sizeof(msg)) {
		il_errno("cannot write the start record to fd %" PRIu64, cfg->fd);
		return IL_FAIL;
	}
	return IL_OK;
}

static void nop_print(const struct il_ctx *x, const void *cfgv)
{
	const struct nop_cfg *cfg = cfgv;
	if (!cfg->fd)
		printf("task nop: pid %d started at %" PRIu64 " ns (CLOCK_MONOTONIC)\n", (int)getpid(), t_process_start);
}

static const struct il_opt nop_opts[] = {
	{ .name = "fd", .type = IL_OPT_U64, .metavar = "N", .help = "write the 16-byte start record to fd N (what "
	  "'task spawn --exec self' reads); nothing is printed then", .min = 3, .max = 1023,
	  .off = IL_CFG(struct nop_cfg, fd, uint64_t) },
	{ 0 },
};

const struct il_experiment il_exp_task_nop = {
	.group = "task",
	.name = "nop",
	.summary = "(internal) the do-nothing task that 'task spawn --exec self' executes",
	.help = "The do-nothing task that 'task spawn --method posix_spawn --exec self' executes:\n"
		"stamps CLOCK_MONOTONIC first thing and reports it (with --fd, as a binary record).",
	.opts = nop_opts,
	.cfg_size = sizeof(struct nop_cfg),
	.params = nop_params,
	.measure = nop_measure,
	.print = nop_print,
	.flags = IL_EXP_HIDDEN,
};
