/* test_ipc_transport.c - unit tests for the transport registry (src/ipc/transport.c):
 * the names in transports.def (the option choices) are the descriptors' own names, in
 * the same order, and the lookups agree with each other; the udp transport reports a
 * peer whose socket is gone as EPIPE, also when the kernel says ECONNREFUSED. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <poll.h>
#include <string.h>

#include "core/opts.h"
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

/* ipc_udp_refused_is_epipe: side 1's socket closes (as when its process is killed);
 * side 0's next datagram comes back as an ICMP port unreachable, pending on side 0's
 * socket as ECONNREFUSED; side 0's receive must report the dead peer (EPIPE). The ICMP
 * may be dropped by the kernel's global ICMP rate limit, so a datagram is sent again
 * until the error is pending (a retransmission, not a wait for time to pass). */
static void ipc_udp_refused_is_epipe(void **state)
{
	(void)state;
	const struct il_transport *t = il_transport_find("udp");
	assert_non_null(t);
	if (t->unsupported && t->unsupported()) {
		skip();
		return;
	}
	struct il_link l;
	unsigned char buf[64] = { 0 };
	assert_int_equal(il_link_init(&l, t, IL_MODE_THREAD, sizeof(buf)), 0);
	assert_int_equal(il_link_attach(&l, 0), 0);
	assert_int_equal(il_link_attach(&l, 1), 0);
	il_fd_close(&l.fd[1][0]);
	struct pollfd p = { .fd = l.fd[0][0], .events = POLLIN };
	for (int tries = 0; tries < 20 && !(p.revents & POLLERR); tries++) {
		if (t->send(&l, 0, buf) < 0) { /* the error came after the poll: this send took it */
			assert_int_equal(errno, EPIPE);
			continue;
		}
		assert_true(poll(&p, 1, 1000) >= 0);
	}
	assert_true(p.revents & POLLERR);
	errno = 0;
	assert_int_equal(t->recv(&l, 0, buf), -1);
	assert_int_equal(errno, EPIPE);
	il_link_free(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ipc_transport_names_match),
		cmocka_unit_test(ipc_transport_lookups),
		cmocka_unit_test(ipc_udp_refused_is_epipe),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
