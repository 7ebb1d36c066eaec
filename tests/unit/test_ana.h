/* test_ana.h - what the analysis unit tests (test_ana_*.c) share: a fresh analysis
 * without TSV, its result document, and values read from it by path
 * ("messages.by_direction.0.latency.count": members, and array indexes). The layer is
 * babeltrace-free: the tests call ana_* and pairtab directly. */
#ifndef IPCLAB_TEST_ANA_H
#define IPCLAB_TEST_ANA_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "analyze/ana_int.h"

static inline struct ana *new_ana(void)
{
	char err[256];
	struct ana *a = ana_new(NULL, err, sizeof(err));
	if (!a)
		fail_msg("ana_new: %s", err);
	return a;
}

/* The result document (it ends the analysis). */
static inline json_t *result(struct ana *a)
{
	json_t *r = ana_result(a, json_pack("{sI sI s{}}", "total", (json_int_t)0, "ipclab", (json_int_t)0, "by_name"));
	assert_non_null(r);
	return r;
}

/* The value at path in j (NULL if absent). */
static inline json_t *at(json_t *j, const char *path)
{
	char buf[256], *save = NULL;
	(void)snprintf(buf, sizeof(buf), "%s", path);
	for (char *p = strtok_r(buf, ".", &save); p && j; p = strtok_r(NULL, ".", &save))
		j = json_is_array(j) ? json_array_get(j, strtoull(p, NULL, 10)) : json_object_get(j, p);
	return j;
}

/* The integer at path (the test fails if it is not one). */
static inline json_int_t iat(json_t *j, const char *path)
{
	json_t *v = at(j, path);
	if (!json_is_integer(v))
		fail_msg("%s: not an integer", path);
	return json_integer_value(v);
}

/* The string at path (the test fails if it is not one). */
static inline const char *sat(json_t *j, const char *path)
{
	json_t *v = at(j, path);
	if (!json_is_string(v))
		fail_msg("%s: not a string", path);
	return json_string_value(v);
}

/* True if some warning contains s. */
static inline int warned(json_t *r, const char *s)
{
	size_t i;
	json_t *w;
	json_array_foreach(json_object_get(r, "warnings"), i, w)
		if (strstr(json_string_value(w), s))
			return 1;
	return 0;
}

#endif
