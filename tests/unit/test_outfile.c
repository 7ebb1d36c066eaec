/* test_outfile.c - unit tests for src/core/outfile.c (result files checked before the run,
 * written atomically) and the name rule of src/core/clean.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/clean.h"
#include "core/log.h"
#include "core/outfile.h"

static char dir[64];

static int setup_dir(void **state)
{
	(void)snprintf(dir, sizeof(dir), "/tmp/ipclab-test-outfile.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown_dir(void **state)
{
	char cmd[128];
	(void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* Entries of dir, "." and ".." excluded. */
static int entries(void)
{
	DIR *d = opendir(dir);
	assert_non_null(d);
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	(void)closedir(d);
	return n;
}

/* outfile_check_never_works: paths no permission or space can fix are usage errors. */
static void outfile_check_never_works(void **state)
{
	char missing[128], longname[400];
	(void)snprintf(missing, sizeof(missing), "%s/no/r.json", dir);
	int n = snprintf(longname, sizeof(longname), "%s/", dir);
	memset(longname + n, 'x', 300);
	longname[n + 300] = 0;
	il_log_set_quiet(true);
	assert_int_equal(il_out_check("--json", ""), IL_USAGE);
	assert_int_equal(il_out_check("--json", dir), IL_USAGE);
	assert_int_equal(il_out_check("--json", missing), IL_USAGE);
	assert_int_equal(il_out_check("--json", "/proc/x/y"), IL_USAGE);
	assert_int_equal(il_out_check("--json", longname), IL_USAGE);
	assert_int_equal(il_out_check("--hist", "/dev/full"), IL_NORES);
	assert_int_equal(il_out_check("--hist", "/dev/null"), IL_OK);
	char ok[128];
	(void)snprintf(ok, sizeof(ok), "%s/r.json", dir);
	assert_int_equal(il_out_check("--json", ok), IL_OK);
	assert_int_equal(entries(), 0); /* the probe file is gone */
}

/* outfile_commit_replaces: the new content replaces the old at once, the old file's mode
 * is kept, nothing else is left in the folder. */
static void outfile_commit_replaces(void **state)
{
	char path[128];
	(void)snprintf(path, sizeof(path), "%s/r.json", dir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	(void)fputs("old", f);
	(void)fclose(f);
	assert_int_equal(chmod(path, 0640), 0);
	struct il_out o;
	assert_int_equal(il_out_open(&o, path), IL_OK);
	(void)fputs("new", o.f);
	f = fopen(path, "r"); /* not yet replaced */
	char buf[8] = "";
	assert_non_null(fgets(buf, sizeof(buf), f));
	(void)fclose(f);
	assert_string_equal(buf, "old");
	assert_int_equal(il_out_commit(&o), IL_OK);
	f = fopen(path, "r");
	assert_non_null(fgets(buf, sizeof(buf), f));
	(void)fclose(f);
	assert_string_equal(buf, "new");
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	assert_int_equal(entries(), 1);
	assert_int_equal(unlink(path), 0);
}

/* outfile_abort_leaves_nothing: giving up removes the temporary file. */
static void outfile_abort_leaves_nothing(void **state)
{
	char path[128];
	(void)snprintf(path, sizeof(path), "%s/r.json", dir);
	struct il_out o;
	assert_int_equal(il_out_open(&o, path), IL_OK);
	(void)fputs("partial", o.f);
	il_out_abort(&o);
	assert_int_equal(entries(), 0);
}

/* outfile_device_in_place: a device is written in place, never replaced by a file. */
static void outfile_device_in_place(void **state)
{
	struct il_out o;
	assert_int_equal(il_out_open(&o, "/dev/null"), IL_OK);
	assert_true(o.direct);
	(void)fputs("x", o.f);
	assert_int_equal(il_out_commit(&o), IL_OK);
	struct stat st;
	assert_int_equal(stat("/dev/null", &st), 0);
	assert_true(S_ISCHR(st.st_mode));
}

/* clean_name_pid: the creator pid of our names, -1 for anything else. */
static void clean_name_pid(void **state)
{
	assert_int_equal(il_clean_name_pid("ipclab-shm-1234-0123456789abcdef"), 1234);
	assert_int_equal(il_clean_name_pid("sem.ipclab-sem-77-00ff"), 77);
	assert_int_equal(il_clean_name_pid("ipclab-fifo-42-Ab3xYz"), 42);
	assert_int_equal(il_clean_name_pid("ipclab-shm-12x-0"), -1);
	assert_int_equal(il_clean_name_pid("ipclab-notours"), -1);
	assert_int_equal(il_clean_name_pid("ipclab--5"), -1);
	assert_int_equal(il_clean_name_pid("other-shm-1-2"), -1);
	assert_int_equal(il_clean_name_pid("ipclab-test-result.AbC123"), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(outfile_check_never_works, setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(outfile_commit_replaces, setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(outfile_abort_leaves_nothing, setup_dir, teardown_dir),
		cmocka_unit_test(outfile_device_in_place),
		cmocka_unit_test(clean_name_pid),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
