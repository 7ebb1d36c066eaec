/* nop.c - ipclab-nop: the smallest task "ipclab task spawn --method posix_spawn" can
 * exec. Stamps CLOCK_MONOTONIC first thing and writes {stamp, pid, magic} (16 bytes, the
 * layout of struct nop_msg in src/task/spawn.c) to fd 3, then exits: 0 if written. Built
 * static when libc.a is available, so the exec cost has no dynamic loader in it. */
#include <stdint.h>
#include <time.h>
#include <unistd.h>

int main(void)
{
	struct timespec ts;
	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	struct {
		uint64_t t_start;
		int32_t pid;
		uint32_t magic;
	} msg = { (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec, (int32_t)getpid(), 0x6e6f7021u };
	return write(3, &msg, sizeof(msg)) == (ssize_t)sizeof(msg) ? 0 : 1;
}
