/* test_ipc_transport.c - unit tests for the transport registry (src/ipc/transport.c):
 * the names in transports.def (the option choices) are the descriptors' own names, in
 * the same order, and the lookups agree with each other; the udp transport reports a
 * peer whose socket is gone as EPIPE, also when the kernel says ECONNREFUSED; shm-spin
 * delivers every message once and in order whatever the mix of bursts (ring order) and
 * answers (which start its ring again at slot 0), in the shared-line and the own-line
 * layouts. */
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

/* Sends burst messages from side `from` (numbered from *next), then receives them on
 * the other side, checking each one's number and its last byte. */
static void spin_burst(struct il_link *l, int from, unsigned burst, uint32_t *next)
{
	unsigned char out[64], in[64];
	for (unsigned i = 0; i < burst; i++) {
		uint32_t v = *next + i;
		memset(out, (int)(v & 0xff), l->size);
		memcpy(out, &v, sizeof(v));
		assert_int_equal(l->t->send(l, from, out), 0);
	}
	for (unsigned i = 0; i < burst; i++) {
		uint32_t v;
		memset(in, 0, sizeof(in));
		assert_int_equal(l->t->recv(l, 1 - from, in), 0);
		memcpy(&v, in, sizeof(v));
		assert_int_equal(v, *next + i);
		assert_int_equal(in[l->size - 1], (unsigned char)((*next + i) & 0xff));
	}
	*next += burst;
}

/* ipc_spin_bursts_and_answers: bursts of 1..16 messages (up to the ring's depth) in both
 * directions, alternating, so the ring goes round, wraps, and starts again at slot 0 after
 * answers; 16-byte (shared line) and 64-byte messages. One thread: nothing blocks. */
static void ipc_spin_bursts_and_answers(void **state)
{
	(void)state;
	const struct il_transport *t = il_transport_find("shm-spin");
	assert_non_null(t);
	const size_t sizes[] = { 16, 64 };
	for (size_t s = 0; s < 2; s++) {
		struct il_link l;
		uint32_t next = 0;
		assert_int_equal(il_link_init(&l, t, IL_MODE_THREAD, sizes[s]), 0);
		assert_int_equal(il_link_attach(&l, 0), 0);
		assert_int_equal(il_link_attach(&l, 1), 0);
		il_link_both_attached(&l);
		for (unsigned round = 0; round < 200; round++)
			spin_burst(&l, (int)(round & 1), 1 + (round * 7) % 16, &next);
		for (unsigned i = 0; i < 100; i++) /* a ping-pong */
			spin_burst(&l, (int)(i & 1), 1, &next);
		il_link_free(&l);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ipc_transport_names_match),
		cmocka_unit_test(ipc_transport_lookups),
		cmocka_unit_test(ipc_udp_refused_is_epipe),
		cmocka_unit_test(ipc_spin_bursts_and_answers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
