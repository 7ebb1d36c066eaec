/* spawn_mem.c - the creator's touched memory for "task spawn --touch-mb/--sweep": fork
 * copies the parent's page tables, so its cost grows with the resident memory, while a
 * thread's does not; --hugepages backs the memory with 2 MiB pages (MAP_HUGETLB from the
 * hugetlb pool if it has room, else transparent huge pages by madvise), 512x fewer
 * entries to copy. */
#include "spawn.h"
#include "task.h"
#include "../core/log.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define MIB (1024u * 1024u)
#define HUGE_2M (2u * MIB)
#define PAGE 4096u

void tk_region_free(struct tk_region *r)
{
	if (r->map)
		(void)munmap(r->map, r->maplen);
	r->map = NULL;
}

/* True if /sys/kernel/mm/transparent_hugepage/enabled allows madvise'd THP. */
static bool thp_available(void)
{
	char buf[128];
	if (il_read_file("/sys/kernel/mm/transparent_hugepage/enabled", buf, sizeof(buf)) <= 0)
		return false;
	return strstr(buf, "[always]") || strstr(buf, "[madvise]");
}

/* Writes one byte per 4 KiB page of [p, p + len): every page resident. */
static void touch_pages(char *p, size_t len)
{
	for (size_t off = 0; off < len; off += PAGE)
		p[off] = 1;
}

/* len bytes from the hugetlb pool, if it has room for them; false otherwise. */
static bool map_hugetlb(struct tk_region *r, size_t len)
{
	int64_t hp_free = tk_meminfo_kb("HugePages_Free"), hp_size = tk_meminfo_kb("Hugepagesize");
	if (hp_free <= 0 || hp_size != 2048 || (uint64_t)hp_free * 2048 * 1024 < len)
		return false;
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | (21 << MAP_HUGE_SHIFT),
		       -1, 0);
	if (p == MAP_FAILED)
		return false;
	r->map = p;
	r->maplen = len;
	r->backing = "hugetlb";
	r->hugetlb_kb = (int64_t)(len / 1024);
	touch_pages(p, len);
	return true;
}

/* len bytes of transparent huge pages: over-mapped by 2 MiB and aligned, so the region is
 * made of whole huge pages. An exit code; *reason set unless IL_OK. */
static int map_thp(struct tk_region *r, size_t len, json_t **reason)
{
	if (!thp_available()) {
		int64_t hp_free = tk_meminfo_kb("HugePages_Free");
		*reason = json_sprintf("no huge pages: the hugetlb pool has %" PRId64 " free and transparent huge "
				       "pages are disabled", hp_free < 0 ? 0 : hp_free);
		return IL_UNSUP;
	}
	size_t ml = len + HUGE_2M;
	char *p = mmap(NULL, ml, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return -errno;
	r->map = p;
	r->maplen = ml;
	char *a = (char *)(((uintptr_t)p + HUGE_2M - 1) & ~(uintptr_t)(HUGE_2M - 1));
	if (madvise(a, len, MADV_HUGEPAGE) < 0) {
		*reason = json_sprintf("madvise(MADV_HUGEPAGE): %s", strerror(errno));
		tk_region_free(r);
		return IL_UNSUP;
	}
	r->backing = "thp";
	touch_pages(a, len);
	return IL_OK;
}

/* len bytes of 4 KiB pages, even under THP "always". 0 or -errno. */
static int map_4k(struct tk_region *r, size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return -errno;
	r->map = p;
	r->maplen = len;
	(void)madvise(p, len, MADV_NOHUGEPAGE);
	r->backing = "4k";
	touch_pages(p, len);
	return 0;
}

int tk_region_make(uint64_t mb, bool huge, struct tk_region *r, json_t **reason)
{
	memset(r, 0, sizeof(*r));
	*reason = NULL;
	r->mb = mb;
	r->backing = "none";
	if (!mb)
		return IL_OK;
	size_t len = (size_t)mb * MIB;
	int rc = IL_OK;
	if (!huge)
		rc = map_4k(r, len);
	else if (!map_hugetlb(r, (len + HUGE_2M - 1) & ~(size_t)(HUGE_2M - 1)))
		rc = map_thp(r, (len + HUGE_2M - 1) & ~(size_t)(HUGE_2M - 1), reason);
	if (rc < 0) {
		*reason = json_sprintf("cannot map %" PRIu64 " MiB: %s; MemAvailable %" PRId64 " MiB", mb, strerror(-rc),
				       tk_meminfo_kb("MemAvailable") / 1024);
		return IL_NORES;
	}
	if (rc != IL_OK)
		return rc;
	struct tk_mem mem;
	if (tk_read_mem(0, &mem) == 0)
		r->anon_huge_kb = mem.anon_huge_kb;
	if (!strcmp(r->backing, "thp") && r->anon_huge_kb <= 0) {
		*reason = json_string("transparent huge pages were requested (madvise) but none were allocated "
				      "(AnonHugePages 0 kB: fragmented memory?)");
		tk_region_free(r);
		return IL_UNSUP;
	}
	return IL_OK;
}
