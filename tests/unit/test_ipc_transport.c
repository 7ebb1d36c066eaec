/* test_ipc_transport.c - unit tests for the transport registry (src/ipc/transport.c):
 * the names in transports.def (the option choices) are the descriptors' own names, in
 * the same order, and the lookups agree with each other. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "ipc/transport/transport.h"

/* ipc_transport_names_match: choice i is descriptor i's name; the list ends in NULL. */
static void ipc_transport_names_match(void **state)
{
	(void)state;
	size_t n;
	const struct il_transport *const *all = il_transport_all(&n);
	assert_true(n >= 12);
	for (size_t i = 0; i < n; i++) {
		assert_non_null(il_transport_choices[i]);
		assert_string_equal(il_transport_choices[i], all[i]->name);
	}
	assert_null(il_transport_choices[n]);
}

/* ipc_transport_lookups: index, at and find agree; unknown names and indexes give -1/NULL. */
static void ipc_transport_lookups(void **state)
{
	(void)state;
	size_t n;
	const struct il_transport *const *all = il_transport_all(&n);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(il_transport_index(all[i]->name), (int)i);
		assert_ptr_equal(il_transport_at((int)i), all[i]);
		assert_ptr_equal(il_transport_find(all[i]->name), all[i]);
	}
	assert_int_equal(il_transport_index("no-such"), -1);
	assert_null(il_transport_find("no-such"));
	assert_null(il_transport_at(-1));
	assert_null(il_transport_at((int)n));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ipc_transport_names_match),
		cmocka_unit_test(ipc_transport_lookups),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
