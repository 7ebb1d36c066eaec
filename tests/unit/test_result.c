/* test_result.c - unit tests for src/core/result.c: the JSON envelope written by
 * il_ctx_finish, the latency summary object and the escaping of the command line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/hist.h"
#include "core/log.h"
#include "core/opts.h"
#include "core/result.h"

struct fixture {
	char dir[64];
	char path[128];
};

/* A private temporary directory for the JSON file of each test. */
static int setup_tmp(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	if (!f)
		return -1;
	(void)snprintf(f->dir, sizeof(f->dir), "/tmp/ipclab-test-result.XXXXXX");
	if (!mkdtemp(f->dir)) {
		free(f);
		return -1;
	}
	(void)snprintf(f->path, sizeof(f->path), "%s/r.json", f->dir);
	*state = f;
	return 0;
}

static int teardown_tmp(void **state)
{
	struct fixture *f = *state;
	(void)unlink(f->path);
	(void)rmdir(f->dir);
	free(f);
	return 0;
}

/* True if s looks like "YYYY-MM-DDTHH:MM:SS.uuuuuuZ" (ISO 8601 UTC). */
static int is_iso_utc(const char *s)
{
	static const char pat[] = "dddd-dd-ddTdd:dd:dd";
	for (size_t i = 0; i < sizeof(pat) - 1; i++) {
		if (pat[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != pat[i])
			return 0;
	}
	size_t n = strlen(s);
	return n >= sizeof(pat) && s[n - 1] == 'Z';
}

/* Runs begin/parse/(fill)/finish for argv with --json=FILE appended; returns the parsed file. */
static json_t *run_ctx(struct fixture *f, const char *experiment, int argc, char **argv, int code,
		       int *ret)
{
	struct il_ctx x;
	memset(&x, 0, sizeof(x));
	il_ctx_begin(&x, experiment, argc, argv);
	assert_int_equal(il_ctx_parse(&x, "unit test", IL_C_ITER | IL_C_REPEAT | IL_C_MODE | IL_C_CPU, NULL),
			 IL_RUN);
	assert_true(x.c.json);
	assert_string_equal(x.c.json_file, f->path);
	il_jset(x.results, "answer", json_integer(42));
	*ret = il_ctx_finish(&x, code);
	json_error_t err;
	json_t *doc = json_load_file(f->path, 0, &err);
	if (!doc)
		fail_msg("%s: line %d: %s", f->path, err.line, err.text);
	return doc;
}

/* result_envelope_keys: the file written for --json=FILE holds every envelope key with the
 * right type: schema, experiment, cmdline = ["ipclab", group, name, options...] (the command
 * as typed: argv[0] is "group name"), ISO start/end times,
 * sysinfo (kernel, cpu_model, nproc_online, clocksource), params, results, warnings and
 * the exit code passed to il_ctx_finish (which is also returned). */
static void result_envelope_keys(void **state)
{
	struct fixture *f = *state;
	char json_opt[160];
	(void)snprintf(json_opt, sizeof(json_opt), "--json=%s", f->path);
	char *argv[] = { (char *)"test exp", (char *)"--iterations", (char *)"7", (char *)"--mode=thread",
			 (char *)"--cpu", (char *)"0", json_opt, NULL };
	int argc = 7, ret = -1;
	json_t *doc = run_ctx(f, "test exp", argc, argv, IL_NORES, &ret);
	assert_int_equal(ret, IL_NORES);
	assert_true(json_is_object(doc));

	assert_string_equal(json_string_value(json_object_get(doc, "schema")), IL_SCHEMA);
	assert_string_equal(json_string_value(json_object_get(doc, "experiment")), "test exp");

	json_t *cmd = json_object_get(doc, "cmdline");
	assert_true(json_is_array(cmd));
	assert_int_equal(json_array_size(cmd), (size_t)argc + 2);
	assert_string_equal(json_string_value(json_array_get(cmd, 0)), "ipclab");
	assert_string_equal(json_string_value(json_array_get(cmd, 1)), "test");
	assert_string_equal(json_string_value(json_array_get(cmd, 2)), "exp");
	for (int i = 1; i < argc; i++)
		assert_string_equal(json_string_value(json_array_get(cmd, (size_t)i + 2)), argv[i]);

	const char *t0 = json_string_value(json_object_get(doc, "start_time"));
	const char *t1 = json_string_value(json_object_get(doc, "end_time"));
	assert_non_null(t0);
	assert_non_null(t1);
	if (!is_iso_utc(t0) || !is_iso_utc(t1))
		fail_msg("times not ISO 8601 UTC: '%s' '%s'", t0, t1);
	assert_true(strcmp(t0, t1) <= 0); /* same format: string order is time order */

	json_t *si = json_object_get(doc, "sysinfo");
	assert_true(json_is_object(si));
	assert_true(json_is_string(json_object_get(si, "kernel")));
	assert_true(strlen(json_string_value(json_object_get(si, "kernel"))) > 0);
	assert_true(json_is_string(json_object_get(si, "cpu_model")));
	assert_true(json_is_integer(json_object_get(si, "nproc_online")));
	assert_true(json_integer_value(json_object_get(si, "nproc_online")) >= 1);
	assert_true(json_is_string(json_object_get(si, "clocksource")));

	json_t *params = json_object_get(doc, "params");
	assert_true(json_is_object(params));
	assert_int_equal(json_integer_value(json_object_get(params, "iterations")), 7);
	assert_string_equal(json_string_value(json_object_get(params, "mode")), "thread");
	json_t *cpu = json_object_get(params, "cpu");
	assert_true(json_is_array(cpu));
	assert_int_equal(json_integer_value(json_array_get(cpu, 0)), 0);
	assert_int_equal(json_integer_value(json_array_get(cpu, 1)), 0);
	assert_string_equal(json_string_value(json_object_get(params, "placement")), "same-cpu");
	assert_true(json_is_integer(json_object_get(params, "repeat")));
	assert_null(json_object_get(params, "warmup")); /* not in the mask */

	json_t *res = json_object_get(doc, "results");
	assert_true(json_is_object(res));
	assert_int_equal(json_integer_value(json_object_get(res, "answer")), 42);
	assert_true(json_is_array(json_object_get(doc, "warnings")));
	assert_int_equal(json_array_size(json_object_get(doc, "warnings")), 0);
	assert_true(json_is_integer(json_object_get(doc, "exit_code")));
	assert_int_equal(json_integer_value(json_object_get(doc, "exit_code")), IL_NORES);
	json_decref(doc);
}

/* result_exit_code_recorded: exit codes 0 and 4 round-trip through the file too, and
 * unpinned runs record cpu null and placement "unpinned". */
static void result_exit_code_recorded(void **state)
{
	struct fixture *f = *state;
	char json_opt[160];
	(void)snprintf(json_opt, sizeof(json_opt), "--json=%s", f->path);
	const int codes[] = { IL_OK, IL_UNSUP };
	for (size_t k = 0; k < 2; k++) {
		char *argv[] = { (char *)"test exp", json_opt, NULL };
		int ret = -1;
		json_t *doc = run_ctx(f, "test exp", 2, argv, codes[k], &ret);
		assert_int_equal(ret, codes[k]);
		assert_int_equal(json_integer_value(json_object_get(doc, "exit_code")), codes[k]);
		json_t *params = json_object_get(doc, "params");
		assert_true(json_is_null(json_object_get(params, "cpu")));
		assert_string_equal(json_string_value(json_object_get(params, "placement")), "unpinned");
		json_decref(doc);
	}
}

/* result_warnings_recorded: il_ctx_warn appends formatted strings to "warnings". */
static void result_warnings_recorded(void **state)
{
	struct fixture *f = *state;
	char json_opt[160];
	(void)snprintf(json_opt, sizeof(json_opt), "--json=%s", f->path);
	char *argv[] = { (char *)"test exp", json_opt, (char *)"--quiet", NULL };
	struct il_ctx x;
	il_ctx_begin(&x, "test exp", 3, argv);
	assert_int_equal(il_ctx_parse(&x, "unit test", 0, NULL), IL_RUN);
	il_ctx_warn(&x, "%d things went %s", 3, "sideways");
	assert_int_equal(il_ctx_finish(&x, IL_OK), IL_OK);
	il_log_set_quiet(false);
	json_t *doc = json_load_file(f->path, 0, NULL);
	assert_non_null(doc);
	json_t *w = json_object_get(doc, "warnings");
	assert_int_equal(json_array_size(w), 1);
	assert_string_equal(json_string_value(json_array_get(w, 0)), "3 things went sideways");
	json_decref(doc);
}

/* result_unwritable_file_fails: a --json FILE that can never be written is refused by
 * il_ctx_parse (IL_USAGE, before the run); one that breaks during the run (its folder
 * removed) turns exit 0 into IL_NORES at il_ctx_finish and leaves a non-zero code alone. */
static void result_unwritable_file_fails(void **state)
{
	(void)state;
	char dir[] = "/tmp/ipclab-test-unwritable.XXXXXX", arg[96];
	assert_non_null(mkdtemp(dir));
	(void)snprintf(arg, sizeof(arg), "--json=%s/r.json", dir);
	char *bad[] = { (char *)"test exp", (char *)"--json=/nonexistent-ipclab-dir/r.json", NULL };
	char *argv[] = { (char *)"test exp", arg, NULL };
	int saved = dup(STDERR_FILENO), null = open("/dev/null", O_WRONLY);
	assert_true(saved >= 0 && null >= 0);
	(void)fflush(stderr);
	(void)dup2(null, STDERR_FILENO);
	struct il_ctx x;
	il_ctx_begin(&x, "test exp", 2, bad);
	int p0 = il_ctx_parse(&x, "unit test", 0, NULL);
	il_ctx_begin(&x, "test exp", 2, argv);
	int p = il_ctx_parse(&x, "unit test", 0, NULL);
	(void)rmdir(dir);
	int r1 = il_ctx_finish(&x, IL_OK);
	il_ctx_begin(&x, "test exp", 2, argv);
	x.c.json = true;
	x.c.json_file = arg + 7;
	int r2 = il_ctx_finish(&x, IL_FAIL);
	(void)fflush(stderr);
	(void)dup2(saved, STDERR_FILENO);
	(void)close(saved);
	(void)close(null);
	assert_int_equal(p0, IL_USAGE);
	assert_int_equal(p, IL_RUN);
	assert_int_equal(r1, IL_NORES);
	assert_int_equal(r2, IL_FAIL);
}

/* result_parse_usage_frees: il_ctx_parse returns IL_USAGE on a bad option and IL_OK after
 * --help, without needing il_ctx_finish. */
static void result_parse_usage_frees(void **state)
{
	(void)state;
	int saved_err = dup(STDERR_FILENO), saved_out = dup(STDOUT_FILENO), null = open("/dev/null", O_WRONLY);
	assert_true(saved_err >= 0 && saved_out >= 0 && null >= 0);
	(void)fflush(NULL);
	(void)dup2(null, STDERR_FILENO);
	(void)dup2(null, STDOUT_FILENO);
	char *bad[] = { (char *)"test exp", (char *)"--bogus", NULL };
	char *help[] = { (char *)"test exp", (char *)"--help", NULL };
	struct il_ctx x;
	il_ctx_begin(&x, "test exp", 2, bad);
	int r1 = il_ctx_parse(&x, "unit test", 0, NULL);
	il_ctx_begin(&x, "test exp", 2, help);
	int r2 = il_ctx_parse(&x, "unit test", 0, NULL);
	(void)fflush(NULL);
	(void)dup2(saved_err, STDERR_FILENO);
	(void)dup2(saved_out, STDOUT_FILENO);
	(void)close(saved_err);
	(void)close(saved_out);
	(void)close(null);
	assert_int_equal(r1, IL_USAGE);
	assert_int_equal(r2, IL_OK);
	assert_null(x.params);
	assert_null(x.results);
}

/* result_summary_keys: il_json_summary has exactly count min mean stddev p50 p90 p99 p999
 * max overflow, integers except mean/stddev (reals), with the histogram's values. */
static void result_summary_keys(void **state)
{
	(void)state;
	static const char *const keys[] = { "count", "min", "mean", "stddev", "p50", "p90",
					    "p99", "p999", "max", "overflow" };
	struct il_hist *h = malloc(sizeof(*h));
	assert_non_null(h);
	il_hist_init(h, 100000);
	for (uint64_t i = 1; i <= 1000; i++)
		il_hist_add(h, i * 10);
	il_hist_add(h, 200000);
	json_t *s = il_json_summary(h);
	assert_non_null(s);
	assert_int_equal(json_object_size(s), sizeof(keys) / sizeof(keys[0]));
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		json_t *v = json_object_get(s, keys[i]);
		if (!v)
			fail_msg("summary lacks '%s'", keys[i]);
		if (!strcmp(keys[i], "mean") || !strcmp(keys[i], "stddev"))
			assert_true(json_is_real(v));
		else
			assert_true(json_is_integer(v));
	}
	struct il_summary sm;
	il_hist_summary(h, &sm);
	assert_int_equal(json_integer_value(json_object_get(s, "count")), 1001);
	assert_int_equal(json_integer_value(json_object_get(s, "min")), 10);
	assert_int_equal(json_integer_value(json_object_get(s, "max")), 200000);
	assert_int_equal(json_integer_value(json_object_get(s, "overflow")), 1);
	assert_int_equal(json_integer_value(json_object_get(s, "p50")), sm.p50);
	assert_int_equal(json_integer_value(json_object_get(s, "p999")), sm.p999);
	assert_true(json_real_value(json_object_get(s, "mean")) == sm.mean);
	json_decref(s);

	/* an empty histogram gives zeros, not UINT64_MAX */
	il_hist_init(h, 0);
	s = il_json_summary(h);
	assert_non_null(s);
	assert_int_equal(json_integer_value(json_object_get(s, "count")), 0);
	assert_int_equal(json_integer_value(json_object_get(s, "min")), 0);
	assert_int_equal(json_integer_value(json_object_get(s, "max")), 0);
	json_decref(s);
	free(h);
}

/* result_cmdline_escaping: arguments with quotes, backslashes, newlines, tabs, control
 * characters and non-ASCII UTF-8 come back from the file byte for byte. */
static void result_cmdline_escaping(void **state)
{
	struct fixture *f = *state;
	char json_opt[160];
	(void)snprintf(json_opt, sizeof(json_opt), "--json=%s", f->path);
	static char nasty[] = "a \"quoted\" \\back\\slash\nnew line\ttab \x01 caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac "
			      "\xf0\x9f\x98\x80 </script>";
	/* the nasty argument travels as an (ignored) extra STR option value */
	const char *label = NULL;
	const struct il_opt extra[] = { { "label", IL_OPT_STR, "S", "a label", 0, 0, NULL, &label }, { 0 } };
	char *argv[] = { (char *)"test exp", (char *)"--label", nasty, json_opt, NULL };
	struct il_ctx x;
	il_ctx_begin(&x, "test exp", 4, argv);
	assert_int_equal(il_ctx_parse(&x, "unit test", 0, extra), IL_RUN);
	assert_ptr_equal(label, nasty);
	il_jset(x.params, "label", json_string(label));
	assert_int_equal(il_ctx_finish(&x, IL_OK), IL_OK);

	json_t *doc = json_load_file(f->path, 0, NULL);
	assert_non_null(doc);
	json_t *cmd = json_object_get(doc, "cmdline");
	assert_int_equal(json_array_size(cmd), 6);
	const char *back = json_string_value(json_array_get(cmd, 4));
	assert_non_null(back);
	assert_int_equal(json_string_length(json_array_get(cmd, 4)), strlen(nasty));
	assert_memory_equal(back, nasty, strlen(nasty));
	assert_string_equal(json_string_value(json_object_get(json_object_get(doc, "params"), "label")), nasty);
	json_decref(doc);

	/* and the raw file contains no literal newline inside a string: it is escaped */
	FILE *fp = fopen(f->path, "r");
	assert_non_null(fp);
	char line[4096];
	int found_escaped = 0;
	while (fgets(line, sizeof(line), fp))
		if (strstr(line, "new line") && strstr(line, "\\n"))
			found_escaped = 1;
	(void)fclose(fp);
	assert_true(found_escaped);
}

/* result_sysinfo_standalone: il_sysinfo_json works outside a context and reports the
 * tracing state as untraced in a plain test process. */
static void result_sysinfo_standalone(void **state)
{
	(void)state;
	(void)unsetenv("IPCLAB_TRACE_STATUS");
	json_t *si = il_sysinfo_json();
	assert_non_null(si);
	assert_true(json_is_string(json_object_get(si, "kernel")));
	assert_true(json_is_string(json_object_get(si, "libc")));
	assert_true(json_is_false(json_object_get(si, "tracing_loaded")));
	assert_string_equal(json_string_value(json_object_get(si, "trace_status")), "untraced");
	json_decref(si);
}

/* result_cmdline_invalid_utf8: an argument that is not valid UTF-8 is kept, with every
 * non-ASCII byte replaced by U+FFFD, instead of vanishing from the cmdline. */
static void result_cmdline_invalid_utf8(void **state)
{
	(void)state;
	json_t *j = il_json_string_lossy("a\xff\xfe" "b");
	assert_non_null(j);
	assert_string_equal(json_string_value(j), "a\xef\xbf\xbd\xef\xbf\xbd" "b");
	json_decref(j);
	j = il_json_string_lossy("caf\xc3\xa9");
	assert_string_equal(json_string_value(j), "caf\xc3\xa9");
	json_decref(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(result_envelope_keys, setup_tmp, teardown_tmp),
		cmocka_unit_test_setup_teardown(result_exit_code_recorded, setup_tmp, teardown_tmp),
		cmocka_unit_test_setup_teardown(result_warnings_recorded, setup_tmp, teardown_tmp),
		cmocka_unit_test(result_unwritable_file_fails),
		cmocka_unit_test(result_parse_usage_frees),
		cmocka_unit_test(result_summary_keys),
		cmocka_unit_test(result_cmdline_invalid_utf8),
		cmocka_unit_test_setup_teardown(result_cmdline_escaping, setup_tmp, teardown_tmp),
		cmocka_unit_test(result_sysinfo_standalone),
	};
	return cmocka_run_group_tests_name("result", tests, NULL, NULL);
}
