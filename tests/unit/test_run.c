/* test_run.c - unit tests for src/core/run.c: the one experiment life cycle driven by a
 * descriptor (parse into the config struct, params, measure, print-or-JSON once) and
 * il_experiment_call (measure as a function, no argv, log state untouched). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/experiment.h"
#include "core/log.h"

struct demo_cfg {
	uint64_t times;
	int color;
	bool loud;
	const char *tag;
};

static const struct demo_cfg demo_defaults = { .times = 3, .color = 1 };
static const char *const colors[] = { "red", "green", "blue", NULL };
static const struct il_opt demo_opts[] = {
	{ .name = "times", .type = IL_OPT_U64, .metavar = "N", .help = "how many", .min = 1, .max = 100,
	  .off = IL_CFG(struct demo_cfg, times, uint64_t), .param = "times" },
	{ .name = "color", .type = IL_OPT_CHOICE, .metavar = "C", .help = "which", .choices = colors,
	  .off = IL_CFG(struct demo_cfg, color, int), .param = "color" },
	{ .name = "loud", .type = IL_OPT_FLAG, .help = "louder", .off = IL_CFG(struct demo_cfg, loud, bool) },
	{ .name = "tag", .type = IL_OPT_STR, .metavar = "S", .help = "a tag",
	  .off = IL_CFG(struct demo_cfg, tag, const char *), .param = "tag" },
	{ 0 },
};

static int n_params, n_measure, n_print, measure_rc;

static int demo_params(struct il_ctx *x, void *cfg)
{
	const struct demo_cfg *d = cfg;
	n_params++;
	if (d->loud && d->times > 10) {
		il_err("--loud allows at most 10 --times");
		return IL_USAGE;
	}
	return IL_OK;
}

static int demo_measure(struct il_ctx *x, void *cfg)
{
	const struct demo_cfg *d = cfg;
	n_measure++;
	il_jset(x->results, "sum", json_integer((json_int_t)(d->times * 10 + (uint64_t)d->color)));
	il_jset(x->results, "iterations", json_integer((json_int_t)x->c.iterations));
	il_ctx_warn(x, "demo warning");
	struct il_hist h;
	il_hist_init(&h, 0);
	il_hist_add(&h, d->times);
	il_ctx_hist(x, "demo", &h);
	return measure_rc;
}

static void demo_print(const struct il_ctx *x, const void *cfg)
{
	n_print++;
}

static const struct il_experiment demo = {
	.group = "demo", .name = "exp", .summary = "a demo", .help = "A demo experiment.",
	.common = IL_C_ITER | IL_C_HIST, .defaults = { .iterations = 77 },
	.opts = demo_opts, .cfg_size = sizeof(struct demo_cfg), .cfg_defaults = &demo_defaults,
	.params = demo_params, .measure = demo_measure, .print = demo_print,
	.flags = IL_EXP_TRACED | IL_EXP_HIDDEN,
};

static void reset(int rc)
{
	n_params = n_measure = n_print = 0;
	measure_rc = rc;
}

/* Runs demo with the given options (argv[0] added), --json=FILE into a temp file;
 * returns the exit code and the parsed file (NULL if none was written). */
static int run_demo(json_t **out, int n, const char *const *args)
{
	char path[] = "/tmp/ipclab-test-run.XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	(void)close(fd);
	(void)unlink(path);
	char jarg[64];
	(void)snprintf(jarg, sizeof(jarg), "--json=%s", path);
	char *argv[16] = { (char *)"demo exp" };
	for (int i = 0; i < n; i++)
		argv[1 + i] = (char *)args[i];
	argv[1 + n] = jarg;
	argv[2 + n] = (char *)"--quiet";
	int rc = il_experiment_main(&demo, n + 3, argv);
	json_error_t err;
	*out = json_load_file(path, 0, &err);
	(void)unlink(path);
	return rc;
}

/* run_options_into_cfg: own options land in the config struct at their offsets, .param
 * ones are recorded in the JSON params, descriptor defaults apply, measure and print run
 * once each, and IL_EXP_TRACED adds results.traced. */
static void run_options_into_cfg(void **state)
{
	reset(IL_OK);
	json_t *d;
	const char *args[] = { "--times", "5", "--color", "blue", "--tag", "x" };
	assert_int_equal(run_demo(&d, 6, args), IL_OK);
	assert_non_null(d);
	json_t *p = json_object_get(d, "params"), *r = json_object_get(d, "results");
	assert_int_equal(json_integer_value(json_object_get(p, "times")), 5);
	assert_string_equal(json_string_value(json_object_get(p, "color")), "blue");
	assert_string_equal(json_string_value(json_object_get(p, "tag")), "x");
	assert_null(json_object_get(p, "loud"));
	assert_int_equal(json_integer_value(json_object_get(p, "iterations")), 77);
	assert_int_equal(json_integer_value(json_object_get(r, "sum")), 52);
	assert_true(json_is_boolean(json_object_get(r, "traced")));
	assert_int_equal(json_array_size(json_object_get(d, "warnings")), 1);
	assert_int_equal(n_params + n_measure + n_print, 3);
	json_decref(d);
}

/* run_params_usage_no_json: a usage error from params exits 2 without measuring and
 * without writing a JSON result, as a bad option does. */
static void run_params_usage_no_json(void **state)
{
	reset(IL_OK);
	json_t *d;
	const char *args[] = { "--times", "50", "--loud" };
	assert_int_equal(run_demo(&d, 3, args), IL_USAGE);
	assert_null(d);
	assert_int_equal(n_measure, 0);
	assert_int_equal(n_print, 0);
}

/* run_bad_option_no_measure: a bad value never reaches params or measure. */
static void run_bad_option_no_measure(void **state)
{
	reset(IL_OK);
	json_t *d;
	const char *args[] = { "--color", "pink" };
	assert_int_equal(run_demo(&d, 2, args), IL_USAGE);
	assert_null(d);
	assert_int_equal(n_params + n_measure + n_print, 0);
}

/* run_failure_no_table: after measure fails the table is not printed (no
 * IL_EXP_PRINT_ON_FAIL) but the JSON is written with the exit code. */
static void run_failure_no_table(void **state)
{
	reset(IL_FAIL);
	json_t *d;
	assert_int_equal(run_demo(&d, 0, NULL), IL_FAIL);
	assert_non_null(d);
	assert_int_equal(json_integer_value(json_object_get(d, "exit_code")), IL_FAIL);
	assert_int_equal(n_print, 0);
	json_decref(d);
}

/* run_call_as_function: il_experiment_call runs params + measure with a config struct,
 * returns the results, forwards the warnings prefixed, prints nothing, and leaves the
 * caller's log state as it was. */
static void run_call_as_function(void **state)
{
	reset(IL_OK);
	il_log_set_quiet(true);
	struct il_ctx x;
	il_ctx_init(&x, "demo caller");
	struct demo_cfg cfg = demo_defaults;
	cfg.times = 9;
	json_t *res;
	assert_int_equal(il_experiment_call(&x, &demo, NULL, &cfg, &res), IL_OK);
	assert_int_equal(json_integer_value(json_object_get(res, "sum")), 91);
	assert_int_equal(json_integer_value(json_object_get(res, "iterations")), 77);
	assert_int_equal(n_print, 0);
	assert_true(il_log_quiet());
	assert_string_equal(json_string_value(json_array_get(x.warnings, 0)), "demo exp: demo warning");
	json_decref(res);
	/* common settings given by the caller win */
	struct il_common c;
	il_common_defaults(&c);
	c.iterations = 5;
	assert_int_equal(il_experiment_call(&x, &demo, &c, NULL, &res), IL_OK);
	assert_int_equal(json_integer_value(json_object_get(res, "iterations")), 5);
	assert_int_equal(json_integer_value(json_object_get(res, "sum")), 31);
	json_decref(res);
	(void)il_ctx_finish(&x, IL_OK);
	il_log_set_quiet(false);
}

/* run_hist_written: a histogram registered by measure is written by core to --hist=FILE
 * after the run, as a gnuplot block; not at all when measure failed. */
static void run_hist_written(void **state)
{
	char path[] = "/tmp/ipclab-test-run-hist.XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	(void)close(fd);
	char harg[64];
	(void)snprintf(harg, sizeof(harg), "--hist=%s", path);
	const char *args[] = { harg };
	json_t *d;
	reset(IL_OK);
	assert_int_equal(run_demo(&d, 1, args), IL_OK);
	json_decref(d);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	char line[256];
	assert_non_null(fgets(line, sizeof(line), f));
	assert_int_equal(line[0], '#');
	(void)fclose(f);
	assert_int_equal(unlink(path), 0);
	reset(IL_FAIL);
	assert_int_equal(run_demo(&d, 1, args), IL_FAIL);
	json_decref(d);
	assert_int_equal(access(path, F_OK), -1);
}

/* run_hidden_not_listed: IL_EXP_HIDDEN is the one thing that hides an experiment. */
static void run_hidden_not_listed(void **state)
{
	struct il_experiment e = demo;
	assert_false(il_experiment_listed(&e));
	e.flags = 0;
	assert_true(il_experiment_listed(&e));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(run_options_into_cfg),
		cmocka_unit_test(run_params_usage_no_json),
		cmocka_unit_test(run_bad_option_no_measure),
		cmocka_unit_test(run_failure_no_table),
		cmocka_unit_test(run_call_as_function),
		cmocka_unit_test(run_hist_written),
		cmocka_unit_test(run_hidden_not_listed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
