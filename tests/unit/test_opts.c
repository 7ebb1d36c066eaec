/* test_opts.c - unit tests for src/core/opts.c: strict number parsing, CPU lists and
 * il_parse() over the common options and an experiment's own table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "core/opts.h"

#define ARGC(a) ((int)(sizeof(a) / sizeof((a)[0])) - 1)

/* opts_u64_accepts_valid: plain decimal integers, including both range ends. */
static void opts_u64_accepts_valid(void **state)
{
	(void)state;
	uint64_t v = 0;
	assert_int_equal(il_parse_u64("5", 1, 10, &v), 0);
	assert_int_equal(v, 5);
	assert_int_equal(il_parse_u64("1", 1, 10, &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(il_parse_u64("10", 1, 10, &v), 0);
	assert_int_equal(v, 10);
	assert_int_equal(il_parse_u64("0", 0, 10, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(il_parse_u64("007", 0, 10, &v), 0); /* leading zeros are decimal, not octal */
	assert_int_equal(v, 7);
	assert_int_equal(il_parse_u64("18446744073709551615", 0, UINT64_MAX, &v), 0);
	assert_true(v == UINT64_MAX);
}

/* opts_u64_rejects_invalid: out of range, signs, blanks, trailing text, empty, NULL,
 * overflow, other bases; the output is left untouched and errno says why. */
static void opts_u64_rejects_invalid(void **state)
{
	(void)state;
	static const char *const bad[] = { "", " 5", "5 ", "-1", "+5", "5x", "x5", "1e3", "0x10", "1.0",
					   "1,000", "\t5", "5\n", "--5" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint64_t v = 12345;
		errno = 0;
		if (il_parse_u64(bad[i], 0, UINT64_MAX, &v) != -1)
			fail_msg("'%s' was accepted as %llu", bad[i], (unsigned long long)v);
		assert_int_equal(v, 12345);
		assert_int_equal(errno, EINVAL);
	}
	uint64_t v = 12345;
	assert_int_equal(il_parse_u64(NULL, 0, 10, &v), -1);
	errno = 0;
	assert_int_equal(il_parse_u64("0", 1, 10, &v), -1); /* below min */
	assert_int_equal(errno, ERANGE);
	errno = 0;
	assert_int_equal(il_parse_u64("11", 1, 10, &v), -1); /* above max */
	assert_int_equal(errno, ERANGE);
	errno = 0;
	assert_int_equal(il_parse_u64("99999999999999999999", 0, UINT64_MAX, &v), -1);
	assert_int_equal(errno, ERANGE);
	errno = 0;
	assert_int_equal(il_parse_u64("18446744073709551616", 0, UINT64_MAX, &v), -1);
	assert_int_equal(errno, ERANGE);
	assert_int_equal(v, 12345);
}

/* opts_size_suffixes: binary K/M/G suffixes, upper or lower case, optionally followed by
 * "B" or "iB"; plain numbers are bytes; range ends inclusive. */
static void opts_size_suffixes(void **state)
{
	(void)state;
	const struct { const char *s; uint64_t want; } good[] = {
		{ "0", 0 }, { "16", 16 }, { "1K", 1024 }, { "4k", 4096 }, { "2KiB", 2048 }, { "3KB", 3072 },
		{ "1M", 1u << 20 }, { "1MiB", 1u << 20 }, { "5m", 5u << 20 }, { "1G", 1u << 30 },
		{ "2GiB", 2ull << 30 }, { "16777216G", 1ull << 54 },
	};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		uint64_t v = 0;
		if (il_parse_size(good[i].s, 0, UINT64_MAX, &v) != 0)
			fail_msg("'%s' rejected", good[i].s);
		if (v != good[i].want)
			fail_msg("'%s' = %llu, want %llu", good[i].s, (unsigned long long)v,
				 (unsigned long long)good[i].want);
	}
	uint64_t v = 0;
	assert_int_equal(il_parse_size("16", 16, 1u << 20, &v), 0);
	assert_int_equal(il_parse_size("1M", 16, 1u << 20, &v), 0);
	assert_int_equal(v, 1u << 20);
}

/* opts_size_rejects_invalid: unknown suffixes, junk after the suffix, signs, blanks,
 * fractions, a bare suffix, overflow before or after scaling, out of range. */
static void opts_size_rejects_invalid(void **state)
{
	(void)state;
	static const char *const bad[] = { "", "K", "-1", "-1K", " 1K", "1K ", "1 K", "1T", "1KK", "1Ki",
					   "1KiBx", "1iB", "1.5K", "1e3", "0x10", "1b", "5x" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint64_t v = 777;
		if (il_parse_size(bad[i], 0, UINT64_MAX, &v) != -1)
			fail_msg("'%s' was accepted as %llu", bad[i], (unsigned long long)v);
		assert_int_equal(v, 777);
	}
	uint64_t v = 777;
	errno = 0;
	assert_int_equal(il_parse_size("99999999999999999999", 0, UINT64_MAX, &v), -1);
	assert_int_equal(errno, ERANGE);
	errno = 0;
	assert_int_equal(il_parse_size("17179869184G", 0, UINT64_MAX, &v), -1); /* 2^64 */
	assert_int_equal(errno, ERANGE);
	errno = 0;
	assert_int_equal(il_parse_size("15", 16, 1u << 20, &v), -1);
	assert_int_equal(errno, ERANGE);
	errno = 0;
	assert_int_equal(il_parse_size("1025K", 16, 1u << 20, &v), -1);
	assert_int_equal(errno, ERANGE);
	assert_int_equal(v, 777);
}

/* opts_cpus_parse: "A" pins both peers to A, "A,B" each to its own; CPUs past the last
 * configured one, empty items, extra items, signs and junk are rejected. */
static void opts_cpus_parse(void **state)
{
	(void)state;
	long ncpu = sysconf(_SC_NPROCESSORS_CONF);
	assert_true(ncpu >= 1);
	int cpu[IL_MAX_PEERS] = { -1, -1 };
	assert_int_equal(il_parse_cpus("0", cpu), 0);
	assert_int_equal(cpu[0], 0);
	assert_int_equal(cpu[1], 0);
	char last[32];
	(void)snprintf(last, sizeof(last), "%ld", ncpu - 1);
	assert_int_equal(il_parse_cpus(last, cpu), 0);
	assert_int_equal(cpu[0], ncpu - 1);
	assert_int_equal(cpu[1], ncpu - 1);
	if (ncpu >= 2) {
		assert_int_equal(il_parse_cpus("0,1", cpu), 0);
		assert_int_equal(cpu[0], 0);
		assert_int_equal(cpu[1], 1);
		assert_int_equal(il_parse_cpus("1,0", cpu), 0);
		assert_int_equal(cpu[0], 1);
		assert_int_equal(cpu[1], 0);
	}
	char past[32], past2[48];
	(void)snprintf(past, sizeof(past), "%ld", ncpu);
	(void)snprintf(past2, sizeof(past2), "0,%ld", ncpu);
	const char *const bad[] = { "", ",", "0,", ",0", "0,,0", "0,0,0", "-1", " 0", "0 ", "a", "0,a",
				    "99999999999999999999", past, past2, "1024", "0;1" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int c[IL_MAX_PEERS] = { -1, -1 };
		if (il_parse_cpus(bad[i], c) != -1)
			fail_msg("cpu list '%s' was accepted as %d,%d", bad[i], c[0], c[1]);
	}
	assert_int_equal(il_parse_cpus(NULL, cpu), -1);
	/* a list longer than any valid one is rejected, not truncated */
	char longlist[200];
	memset(longlist, '0', sizeof(longlist) - 1);
	longlist[sizeof(longlist) - 1] = 0;
	assert_int_equal(il_parse_cpus(longlist, cpu), -1);
}

/* opts_defaults: the documented defaults before any option is parsed. */
static void opts_defaults(void **state)
{
	(void)state;
	struct il_common c;
	memset(&c, 0xa5, sizeof(c));
	il_common_defaults(&c);
	assert_int_equal(c.iterations, 10000);
	assert_int_equal(c.warmup, 1000);
	assert_int_equal(c.repeat, 1);
	assert_int_equal(c.timeout_s, 300);
	assert_int_equal(c.mode, IL_MODE_PROCESS);
	assert_int_equal(c.cpu[0], -1);
	assert_int_equal(c.cpu[1], -1);
	assert_false(c.json);
	assert_null(c.json_file);
	assert_false(c.hist);
	assert_null(c.hist_file);
	assert_false(c.quiet);
}

#define ALL (IL_C_ITER | IL_C_WARMUP | IL_C_REPEAT | IL_C_MODE | IL_C_CPU | IL_C_HIST)

/* Runs il_parse over a NULL-terminated argument list (argv[0] = "test exp"). */
static int parse(unsigned mask, const struct il_opt *extra, struct il_common *c, const char *const *args)
{
	char *argv[32];
	int argc = 0;
	argv[argc++] = (char *)"test exp";
	for (; *args; args++)
		argv[argc++] = (char *)*args;
	argv[argc] = NULL;
	il_common_defaults(c);
	/* the usage messages il_parse prints go to /dev/null, cmocka's own stay visible */
	(void)fflush(stderr);
	int saved = dup(STDERR_FILENO), null = open("/dev/null", O_WRONLY | O_CLOEXEC);
	assert_true(saved >= 0 && null >= 0);
	assert_true(dup2(null, STDERR_FILENO) >= 0);
	int rc = il_parse("test exp", "a test", mask, extra, argc, argv, c, NULL);
	(void)fflush(stderr);
	assert_true(dup2(saved, STDERR_FILENO) >= 0);
	(void)close(saved);
	(void)close(null);
	return rc;
}

#define PARSE(mask, extra, c, ...) parse(mask, extra, c, (const char *const[]){ __VA_ARGS__, NULL })

/* opts_parse_common_values: every common option sets its field, "--opt=V" and "--opt V"
 * alike; nothing given leaves the defaults. */
static void opts_parse_common_values(void **state)
{
	(void)state;
	struct il_common c;
	assert_int_equal(parse(ALL, NULL, &c, (const char *const[]){ NULL }), 0);
	assert_int_equal(c.iterations, 10000);
	assert_false(c.json);

	assert_int_equal(PARSE(ALL, NULL, &c, "--iterations", "50", "--warmup=0", "--repeat", "3",
			       "--mode", "thread", "--timeout=7", "--quiet"), 0);
	assert_int_equal(c.iterations, 50);
	assert_int_equal(c.warmup, 0);
	assert_int_equal(c.repeat, 3);
	assert_int_equal(c.mode, IL_MODE_THREAD);
	assert_int_equal(c.timeout_s, 7);
	assert_true(c.quiet);
	il_log_set_quiet(false);

	assert_int_equal(PARSE(ALL, NULL, &c, "--mode=process"), 0);
	assert_int_equal(c.mode, IL_MODE_PROCESS);

	assert_int_equal(PARSE(ALL, NULL, &c, "--cpu", "0"), 0);
	assert_int_equal(c.cpu[0], 0);
	assert_int_equal(c.cpu[1], 0);
	if (sysconf(_SC_NPROCESSORS_CONF) >= 2) {
		assert_int_equal(PARSE(ALL, NULL, &c, "--cpu=0,1"), 0);
		assert_int_equal(c.cpu[0], 0);
		assert_int_equal(c.cpu[1], 1);
	}
	/* range ends of the common numeric options */
	assert_int_equal(PARSE(ALL, NULL, &c, "--iterations=100000000", "--repeat=1000", "--warmup=10000000"), 0);
	assert_int_equal(c.iterations, 100000000);
	assert_int_equal(PARSE(ALL, NULL, &c, "--iterations=1", "--repeat=1", "--timeout=86400"), 0);
	assert_int_equal(c.timeout_s, 86400);
}

/* opts_parse_json_hist: --json alone means stdout (no file), --json=FILE names a file;
 * the same for --hist; both on stdout is a usage error, one on a file is fine. */
static void opts_parse_json_hist(void **state)
{
	(void)state;
	struct il_common c;
	assert_int_equal(PARSE(ALL, NULL, &c, "--json"), 0);
	assert_true(c.json);
	assert_null(c.json_file);
	assert_int_equal(PARSE(ALL, NULL, &c, "--json=/tmp/x.json"), 0);
	assert_true(c.json);
	assert_string_equal(c.json_file, "/tmp/x.json");
	assert_int_equal(PARSE(ALL, NULL, &c, "--hist=h.tsv"), 0);
	assert_true(c.hist);
	assert_string_equal(c.hist_file, "h.tsv");
	assert_int_equal(PARSE(ALL, NULL, &c, "--hist"), 0);
	assert_true(c.hist);
	assert_null(c.hist_file);
	assert_int_equal(PARSE(ALL, NULL, &c, "--json", "--hist"), IL_USAGE);
	assert_int_equal(PARSE(ALL, NULL, &c, "--json", "--hist=h.tsv"), 0);
	assert_int_equal(PARSE(ALL, NULL, &c, "--json=r.json", "--hist"), 0);
	/* an optional argument is only taken with '=': "--json FILE" is a stray argument */
	assert_int_equal(PARSE(ALL, NULL, &c, "--json", "r.json"), IL_USAGE);
}

/* opts_parse_usage_errors: unknown options, missing values, bad values, values given to
 * flags, options the mask does not enable, and positional arguments all give IL_USAGE. */
static void opts_parse_usage_errors(void **state)
{
	(void)state;
	struct il_common c;
	assert_int_equal(PARSE(ALL, NULL, &c, "--bogus"), IL_USAGE);
	assert_int_equal(PARSE(ALL, NULL, &c, "-x"), IL_USAGE);
	assert_int_equal(PARSE(ALL, NULL, &c, "--iterations"), IL_USAGE);
	assert_int_equal(PARSE(ALL, NULL, &c, "--cpu"), IL_USAGE);
	assert_int_equal(PARSE(ALL, NULL, &c, "--iterations", "0"), IL_USAGE);
	assert_int_equal(PARSE(ALL, NULL, &c, "--iterations", "-1"), IL_USAGE);
	assert_int_equal(PARSE(ALL, NULL, &c, "--iterations", "abc"), IL_USAGE);
	assert_int_equal(PARSE(ALL, NULL, &c, "--iterations", "1e3"), IL_USAGE);
	assert_int_equal(PARSE(ALL, NULL, &c, "--iterations", "99999999999999999999"), IL_USAGE);
	assert_int_equal(PARSE(ALL, NULL, &c, "--iterations", "100000001"), IL_USAGE);
	assert_int_equal(PARSE(ALL, NULL, &c, "--repeat=0"), IL_USAGE);
	assert_int_equal(PARSE(ALL, NULL, &c, "--repeat=1001"), IL_USAGE);
	assert_int_equal(PARSE(ALL, NULL, &c, "--warmup=10000001"), IL_USAGE);
	assert_int_equal(PARSE(ALL, NULL, &c, "--timeout=0"), IL_USAGE);
	assert_int_equal(PARSE(ALL, NULL, &c, "--mode", "bogus"), IL_USAGE);
	assert_int_equal(PARSE(ALL, NULL, &c, "--mode="), IL_USAGE);
	assert_int_equal(PARSE(ALL, NULL, &c, "--cpu", "99999"), IL_USAGE);
	assert_int_equal(PARSE(ALL, NULL, &c, "--quiet=yes"), IL_USAGE);
	assert_int_equal(PARSE(ALL, NULL, &c, "extra"), IL_USAGE);
	assert_int_equal(PARSE(ALL, NULL, &c, "--iterations", "5", "extra"), IL_USAGE);
	/* "+" ordering: nothing is parsed after the first positional argument */
	assert_int_equal(PARSE(ALL, NULL, &c, "extra", "--iterations", "5"), IL_USAGE);
	/* options outside the experiment's mask are unknown to it */
	assert_int_equal(PARSE(0, NULL, &c, "--iterations", "5"), IL_USAGE);
	assert_int_equal(PARSE(IL_C_ITER, NULL, &c, "--mode", "thread"), IL_USAGE);
	assert_int_equal(PARSE(IL_C_ITER, NULL, &c, "--hist"), IL_USAGE);
	/* a bad value leaves the default in place */
	assert_int_equal(PARSE(ALL, NULL, &c, "--iterations", "0"), IL_USAGE);
	assert_int_equal(c.iterations, 10000);
}

/* opts_parse_help: --help prints the help and returns -1 (exit 0 without running), even
 * after other options, and is not shadowed by a later bad one. */
static void opts_parse_help(void **state)
{
	(void)state;
	struct il_common c;
	FILE *saved = stdout;
	stdout = fopen("/dev/null", "w");
	assert_non_null(stdout);
	int r1 = PARSE(ALL, NULL, &c, "--help");
	int r2 = PARSE(ALL, NULL, &c, "--iterations", "5", "--help");
	int r3 = PARSE(0, NULL, &c, "--help");
	(void)fclose(stdout);
	stdout = saved;
	assert_int_equal(r1, -1);
	assert_int_equal(r2, -1);
	assert_int_equal(r3, -1);
}

/* opts_parse_help_text: the help names the common options enabled by the mask (and only
 * those), the experiment's own options with their ranges/choices, and --json. */
static void opts_parse_help_text(void **state)
{
	(void)state;
	static const char *const colours[] = { "red", "green", NULL };
	int colour = 0;
	uint64_t depth = 0;
	const struct il_opt extra[] = {
		{ "depth", IL_OPT_U64, "N", "how deep", 2, 9, NULL, &depth },
		{ "colour", IL_OPT_CHOICE, "C", "which colour", 0, 0, colours, &colour },
		{ 0 },
	};
	struct il_common d;
	il_common_defaults(&d);
	char *buf = NULL;
	size_t len = 0;
	FILE *saved = stdout;
	stdout = open_memstream(&buf, &len);
	assert_non_null(stdout);
	il_print_help("test exp", "a test", IL_C_ITER, extra, &d);
	(void)fclose(stdout);
	stdout = saved;
	assert_non_null(strstr(buf, "ipclab test exp"));
	assert_non_null(strstr(buf, "--iterations"));
	assert_null(strstr(buf, "--mode"));
	assert_null(strstr(buf, "--cpu"));
	assert_non_null(strstr(buf, "--json"));
	assert_non_null(strstr(buf, "--depth"));
	assert_non_null(strstr(buf, "2..9"));
	assert_non_null(strstr(buf, "red|green"));
	free(buf);
}

/* opts_parse_extra_table: an experiment's own options: U64 with its range, CHOICE as an
 * index, FLAG, SIZE with suffixes, STR; bad values and unknown choices give IL_USAGE. */
/* il_opt_given: which of the experiment's options were on the command line, whatever
 * the spelling getopt accepted (--name V, --name=V, an unambiguous abbreviation) */
static void opts_given(void **state)
{
	(void)state;
	uint64_t depth = 0, size = 0;
	bool verbose = false;
	const struct il_opt extra[] = {
		{ "depth", IL_OPT_U64, "N", "how deep", 2, 9, NULL, &depth },
		{ "verbose", IL_OPT_FLAG, NULL, "say more", 0, 0, NULL, &verbose },
		{ "size", IL_OPT_SIZE, "BYTES", "message size", 16, 1u << 20, NULL, &size },
		{ 0 },
	};
	struct il_common c;
	assert_int_equal(PARSE(ALL, extra, &c, "--iterations", "3"), 0);
	assert_false(il_opt_given(&c, extra, "depth"));
	assert_false(il_opt_given(&c, extra, "verbose"));
	assert_false(il_opt_given(&c, extra, "size"));
	assert_false(il_opt_given(&c, extra, "iterations")); /* common options are not in the table */
	assert_int_equal(PARSE(ALL, extra, &c, "--dep", "4", "--si=64"), 0); /* abbreviations */
	assert_true(il_opt_given(&c, extra, "depth"));
	assert_false(il_opt_given(&c, extra, "verbose"));
	assert_true(il_opt_given(&c, extra, "size"));
	assert_int_equal(size, 64);
	assert_int_equal(PARSE(ALL, extra, &c, "--verbose", "--size", "16"), 0);
	assert_false(il_opt_given(&c, extra, "depth")); /* a new parse starts from the defaults */
	assert_true(il_opt_given(&c, extra, "verbose"));
	assert_false(il_opt_given(&c, extra, "no-such-option"));
	assert_false(il_opt_given(&c, NULL, "depth"));
}

static void opts_parse_extra_table(void **state)
{
	(void)state;
	static const char *const colours[] = { "red", "green", "blue", NULL };
	uint64_t depth = 0, size = 0;
	int colour = -1;
	bool verbose = false;
	const char *label = NULL;
	const struct il_opt extra[] = {
		{ "depth", IL_OPT_U64, "N", "how deep", 2, 9, NULL, &depth },
		{ "colour", IL_OPT_CHOICE, "C", "which colour", 0, 0, colours, &colour },
		{ "verbose", IL_OPT_FLAG, NULL, "say more", 0, 0, NULL, &verbose },
		{ "size", IL_OPT_SIZE, "BYTES", "message size", 16, 1u << 20, NULL, &size },
		{ "label", IL_OPT_STR, "S", "a label", 0, 0, NULL, &label },
		{ 0 },
	};
	struct il_common c;
	assert_int_equal(PARSE(ALL, extra, &c, "--depth", "9", "--colour=blue", "--verbose", "--size", "4K",
			       "--label", "hello", "--iterations", "3"), 0);
	assert_int_equal(depth, 9);
	assert_int_equal(colour, 2);
	assert_true(verbose);
	assert_int_equal(size, 4096);
	assert_string_equal(label, "hello");
	assert_int_equal(c.iterations, 3);

	assert_int_equal(PARSE(ALL, extra, &c, "--depth=2", "--colour", "red", "--size=1MiB"), 0);
	assert_int_equal(depth, 2);
	assert_int_equal(colour, 0);
	assert_int_equal(size, 1u << 20);

	depth = 5;
	colour = 1;
	size = 100;
	assert_int_equal(PARSE(ALL, extra, &c, "--depth", "1"), IL_USAGE);
	assert_int_equal(PARSE(ALL, extra, &c, "--depth", "10"), IL_USAGE);
	assert_int_equal(PARSE(ALL, extra, &c, "--depth", "x"), IL_USAGE);
	assert_int_equal(PARSE(ALL, extra, &c, "--colour", "purple"), IL_USAGE);
	assert_int_equal(PARSE(ALL, extra, &c, "--colour", "Red"), IL_USAGE);
	assert_int_equal(PARSE(ALL, extra, &c, "--colour="), IL_USAGE);
	assert_int_equal(PARSE(ALL, extra, &c, "--verbose=1"), IL_USAGE);
	assert_int_equal(PARSE(ALL, extra, &c, "--size", "15"), IL_USAGE);
	assert_int_equal(PARSE(ALL, extra, &c, "--size", "2M"), IL_USAGE);
	assert_int_equal(PARSE(ALL, extra, &c, "--size", "1T"), IL_USAGE);
	assert_int_equal(PARSE(ALL, extra, &c, "--depth"), IL_USAGE);
	assert_int_equal(depth, 5);
	assert_int_equal(colour, 1);
	assert_int_equal(size, 100);
}

/* opts_parse_repeatable: il_parse can be called again after a failed parse (getopt's state
 * is reset), e.g. after a short-option cluster was rejected mid-way. */
static void opts_parse_repeatable(void **state)
{
	(void)state;
	struct il_common c;
	assert_int_equal(PARSE(ALL, NULL, &c, "-xyz"), IL_USAGE);
	assert_int_equal(PARSE(ALL, NULL, &c, "--iterations", "42"), 0);
	assert_int_equal(c.iterations, 42);
	assert_int_equal(PARSE(ALL, NULL, &c, "--iterations"), IL_USAGE);
	assert_int_equal(PARSE(ALL, NULL, &c, "--repeat=4"), 0);
	assert_int_equal(c.repeat, 4);
	assert_int_equal(c.iterations, 10000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(opts_u64_accepts_valid),
		cmocka_unit_test(opts_u64_rejects_invalid),
		cmocka_unit_test(opts_size_suffixes),
		cmocka_unit_test(opts_size_rejects_invalid),
		cmocka_unit_test(opts_cpus_parse),
		cmocka_unit_test(opts_defaults),
		cmocka_unit_test(opts_parse_common_values),
		cmocka_unit_test(opts_parse_json_hist),
		cmocka_unit_test(opts_parse_usage_errors),
		cmocka_unit_test(opts_parse_help),
		cmocka_unit_test(opts_parse_help_text),
		cmocka_unit_test(opts_parse_extra_table),
		cmocka_unit_test(opts_parse_repeatable),
		cmocka_unit_test(opts_given),
	};
	return cmocka_run_group_tests_name("opts", tests, NULL, NULL);
}
