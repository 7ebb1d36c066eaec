/* checksum.h - the payload checksum of verified streams ("ipc throughput"): fast enough
 * to run at memory speed on every message, position-dependent, fully mixed. Not
 * cryptographic: it catches transport faults (lost, stale, shifted or overwritten data),
 * not a forger. */
#ifndef IPCLAB_IPC_CHECKSUM_H
#define IPCLAB_IPC_CHECKSUM_H

#include <stddef.h>
#include <stdint.h>

/* Its name, recorded beside results ("fletcher64x8-mix"). */
extern const char il_csum_name[];

/* splitmix64's finaliser: a full-avalanche 64-bit mix. */
static inline uint64_t il_mix64(uint64_t z)
{
	z ^= z >> 30;
	z *= 0xbf58476d1ce4e5b9ull;
	z ^= z >> 27;
	z *= 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* The checksum of len bytes at p. */
uint64_t il_csum(const unsigned char *p, size_t len);

/* A header sum binding a sequence number to the checksum of its payload. */
static inline uint64_t il_csum_bind(uint64_t seq, uint64_t payload_sum)
{
	return il_mix64(seq ^ il_mix64(payload_sum + 0x9e3779b97f4a7c15ull));
}

/* Fills len bytes with pseudo-random words from seed (payloads that differ per seed). */
void il_payload_fill(unsigned char *p, size_t len, uint64_t seed);

#endif
