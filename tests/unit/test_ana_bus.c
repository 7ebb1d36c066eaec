/* test_ana_bus.c - unit tests for src/analyze/bus.c: state durations per (role, state)
 * from consecutive bus_state events of one (vpid, role), the open final states. */
#include "test_ana.h"

/* bus_state_durations: driver waiting 1000 then driving 2000; conductor apart */
static void bus_state_durations(void **state)
{
	struct ana *a = new_ana();
	ana_bus_state(a, 0, 201, "driver", "waiting");
	ana_bus_state(a, 100, 202, "conductor", "selling");
	ana_bus_state(a, 1000, 201, "driver", "driving");
	ana_bus_state(a, 3000, 201, "driver", "off");
	ana_bus_state(a, 4100, 202, "conductor", "off");
	json_t *r = result(a);
	assert_int_equal(iat(r, "bus.transitions"), 5);
	assert_string_equal(sat(r, "bus.states.0.state"), "waiting");
	assert_int_equal(iat(r, "bus.states.0.total_ns"), 1000);
	assert_int_equal(iat(r, "bus.states.1.total_ns"), 2000);
	assert_string_equal(sat(r, "bus.states.2.role"), "conductor");
	assert_int_equal(iat(r, "bus.states.2.duration.max"), 4000);
	assert_int_equal(json_array_size(at(r, "bus.final_states")), 2);
	json_decref(r);
	ana_free(a);
}

/* bus_roles_of_other_runs_apart: the same role in two vpids is two timelines */
static void bus_roles_of_other_runs_apart(void **state)
{
	struct ana *a = new_ana();
	ana_bus_state(a, 0, 1, "driver", "waiting");
	ana_bus_state(a, 10, 2, "driver", "driving");
	ana_bus_state(a, 50, 1, "driver", "off");
	json_t *r = result(a);
	assert_int_equal(json_array_size(at(r, "bus.states")), 1);
	assert_int_equal(iat(r, "bus.states.0.total_ns"), 50);
	assert_int_equal(json_array_size(at(r, "bus.final_states")), 2);
	json_decref(r);
	ana_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(bus_state_durations),
		cmocka_unit_test(bus_roles_of_other_runs_apart),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
