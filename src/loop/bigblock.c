/* src/loop/bigblock.c — large blocks for results (result.c): the cells and the string chunks of
 * a result past 1 MB; and for the ORM's slabs of objects (src/orm/slab.c).
 *
 * Why: reading a large result is writing memory the process has never touched. On the machines
 * measured (bench/README.md, "Where the time goes: SQLite and ORM hydration") every fresh 4 KB
 * page costs a fault of several microseconds, and glibc gives the pages of a freed result back
 * at once (munmap, or madvise on a thread's heap: a TLB shootdown each), so the next large
 * result faults them all again: for 500,000 rows that was three quarters of the time. Here a
 * block is an anonymous mapping, 2 MB-aligned and advised for transparent huge pages (one fault
 * per 2 MB), grown in place with mremap, and a freed block is kept in a small process-wide
 * cache (at most BIG_CACHE_MAX bytes, BIG_CACHE_SLOTS blocks) for the next large result, whose
 * pages are then already there.
 * The ORM carves the objects of a large load from big blocks too (src/orm/slab.c): 500,000
 * objects with their result are ~200 MB, hence a cache of 256 MB (it was 128 MB, with which the
 * second of two such loads still faulted a third of its pages).
 *
 * Giving the memory back: a block put in the cache is advised MADV_FREE (Linux 4.5+; where the
 * kernel refuses it with EINVAL, or transparent huge pages are off (the reuse would trap once
 * per 4 KB page), never asked and blocks are kept as they are): its pages
 * stay mapped and counted in the resident size, but the kernel may take them under memory
 * pressure instead of swapping; one not taken is reused without a fault (the write marks it
 * dirty again: tests/test_result_memory.c counts the faults), one taken comes back as a zero
 * page on its first touch. And a block that stays cached for an engine's memory_idle_timeout
 * (uvsql/engine.h, default 30 s) unused is unmapped by uvsql__big_trim_idle, which the engine's
 * pool housekeeping timer runs (src/engine/pool.c, invariant 6: no thread of its own, never keeps
 * the loop alive) when uvsql__big_idle_due says it is due; uvsql__big_trim (engine dispose,
 * uvsql_release_memory) unmaps them all at once.
 *
 * Invariants:
 *  1. Every block handed out is at least the size asked, a multiple of BIG_ALIGN (or, in the
 *     fallback, exactly the malloc'd size asked); its first bytes are NOT zeroed when it comes
 *     from the cache: callers write before they read (a page the kernel took back after
 *     MADV_FREE reads as zeros).
 *  2. The cache never holds more than BIG_CACHE_MAX bytes; one mutex guards it, taken only when
 *     a block is got, grown or put (a few times per large result) and when housekeeping trims,
 *     from any thread. Asking when the next trim is due takes no lock (the pool asks on every
 *     pump): it reads `mapped`, then `oldest_since`, which every change of the cache updates
 *     under the mutex.
 *  3. A block is advised MADV_FREE before it enters the cache, never after: once in the cache
 *     another thread may take it and write to it.
 *  4. cache.since[i] is when block i entered the cache (CLOCK_MONOTONIC ns); `mapped` counts the
 *     blocks mapped (cached or handed out): uvsql__big_idle_due answers "never" only when it
 *     is 0, so a block handed out now and put after the engine went quiet is still trimmed
 *     (the due time is then the idle period, polled: at most twice the period late).
 *  5. Under AddressSanitizer or valgrind, and off Linux, blocks are plain malloc/realloc/free,
 *     so that overflows and reads of unwritten memory are still found; nothing is cached.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "result.h"

#if defined(__SANITIZE_ADDRESS__)
#define BIG_PLAIN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define BIG_PLAIN 1
#endif
#endif
#if !defined(__linux__)
#define BIG_PLAIN 1
#endif

#if !defined(BIG_PLAIN)
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <time.h>
#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#endif
#endif
#ifndef RUNNING_ON_VALGRIND
#define RUNNING_ON_VALGRIND 0
#endif

#define BIG_ALIGN       ((size_t)2 << 20)
#define BIG_CACHE_MAX   ((size_t)256 << 20)
#define BIG_CACHE_SLOTS 32

static struct {
  pthread_mutex_t mu;
  void *p[BIG_CACHE_SLOTS];
  size_t size[BIG_CACHE_SLOTS];
  uint64_t since[BIG_CACHE_SLOTS]; /* invariant 4 */
  size_t n, bytes;
} cache = {PTHREAD_MUTEX_INITIALIZER, {0}, {0}, {0}, 0, 0};

static atomic_size_t mapped; /* blocks mapped, cached or handed out (invariant 4) */
/* The smallest cache.since[] (UINT64_MAX when the cache is empty), kept by cache_changed()
 * under the mutex and read without it: uvsql__big_idle_due runs on every pool pump. */
static _Atomic uint64_t oldest_since = UINT64_MAX;

/* With cache.mu held, after the cache changed. */
static void cache_changed(void) {
  uint64_t oldest = UINT64_MAX;
  for (size_t i = 0; i < cache.n; i++)
    oldest = cache.since[i] < oldest ? cache.since[i] : oldest;
  atomic_store_explicit(&oldest_since, oldest, memory_order_relaxed);
}
/* 0: not known yet; 1: advise MADV_FREE; 2: never (the kernel refused it, or transparent huge
 * pages are off, where rewriting an advised block costs a trap per 4 KB page: 200 MB took
 * 0.8-1.0 s to reuse against 33 ms unadvised, on a virtual machine). */
static atomic_int lazy_free_state;

/* 1 when /sys/kernel/mm/transparent_hugepage/enabled does not say [never]. */
static int huge_pages_on(void) {
  FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "re");
  char line[128] = "";
  if (!f)
    return 0;
  if (!fgets(line, sizeof line, f))
    line[0] = '\0';
  fclose(f);
  return line[0] && !strstr(line, "[never]");
}

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void unmap(void *p, size_t size) {
  munmap(p, size);
  atomic_fetch_sub_explicit(&mapped, 1, memory_order_relaxed);
}

/* Lets the kernel take the block's pages under memory pressure; they stay mapped (invariant 3).
 * EINVAL (a kernel before 4.5, or one built without it): blocks are kept as they are. */
static void lazy_free(void *p, size_t size) {
#if defined(MADV_FREE)
  int state = atomic_load_explicit(&lazy_free_state, memory_order_relaxed);
  if (state == 0) {
    state = huge_pages_on() ? 1 : 2;
    atomic_store_explicit(&lazy_free_state, state, memory_order_relaxed);
  }
  if (state != 1)
    return;
  if (madvise(p, size, MADV_FREE) != 0 && errno == EINVAL)
    atomic_store_explicit(&lazy_free_state, 2, memory_order_relaxed);
#else
  (void)p;
  (void)size;
#endif
}

static size_t round_up(size_t n) {
  return n > SIZE_MAX - BIG_ALIGN ? 0 : (n + BIG_ALIGN - 1) & ~(BIG_ALIGN - 1);
}

static void advise(void *p, size_t size) {
#if defined(MADV_HUGEPAGE)
  (void)madvise(p, size, MADV_HUGEPAGE); /* advice only: ignored where unsupported */
#else
  (void)p;
  (void)size;
#endif
}

/* A fresh mapping of size bytes (a multiple of BIG_ALIGN) starting on a BIG_ALIGN boundary, so
 * that all of it can be huge pages. NULL on failure. */
static void *map_aligned(size_t size) {
  if (size > SIZE_MAX - BIG_ALIGN)
    return NULL;
  size_t span = size + BIG_ALIGN;
  unsigned char *m = mmap(NULL, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED)
    return NULL;
  uintptr_t a = ((uintptr_t)m + BIG_ALIGN - 1) & ~(uintptr_t)(BIG_ALIGN - 1);
  unsigned char *p = (unsigned char *)a;
  if (p > m)
    munmap(m, (size_t)(p - m));
  if (m + span > p + size)
    munmap(p + size, (size_t)(m + span - (p + size)));
  advise(p, size);
  atomic_fetch_add_explicit(&mapped, 1, memory_order_relaxed);
  return p;
}

static int plain(void) {
  return RUNNING_ON_VALGRIND != 0;
}

/* The smallest cached block of at least min bytes, taken out of the cache; NULL if none. */
static void *cache_take(size_t min, size_t *size) {
  void *p = NULL;
  pthread_mutex_lock(&cache.mu);
  size_t best = SIZE_MAX;
  for (size_t i = 0; i < cache.n; i++)
    if (cache.size[i] >= min && (best == SIZE_MAX || cache.size[i] < cache.size[best]))
      best = i;
  if (best != SIZE_MAX) {
    p = cache.p[best];
    *size = cache.size[best];
    cache.bytes -= cache.size[best];
    cache.n--;
    cache.p[best] = cache.p[cache.n];
    cache.size[best] = cache.size[cache.n];
    cache.since[best] = cache.since[cache.n];
  }
  cache_changed();
  pthread_mutex_unlock(&cache.mu);
  return p;
}

void *uvsql__big_get(size_t min, size_t *size) {
  if (plain()) {
    void *p = malloc(min ? min : 1);
    if (p)
      *size = min;
    return p;
  }
  size_t want = round_up(min ? min : 1);
  if (!want)
    return NULL;
  void *p = cache_take(want, size);
  if (p)
    return p;
  p = map_aligned(want);
  if (p)
    *size = want;
  return p;
}

void *uvsql__big_grow(void *p, size_t old, size_t used, size_t min, size_t *size) {
  if (plain()) {
    void *q = realloc(p, min ? min : 1);
    if (q)
      *size = min;
    return q;
  }
  size_t want = round_up(min);
  if (!want)
    return NULL;
  if (want <= old) {
    *size = old;
    return p;
  }
  /* A cached block that is big enough: copying what is used costs less than faulting. */
  size_t got;
  void *q = cache_take(want, &got);
  if (q) {
    memcpy(q, p, used);
    uvsql__big_put(p, old);
    *size = got;
    return q;
  }
  q = mremap(p, old, want, MREMAP_MAYMOVE);
  if (q == MAP_FAILED)
    return NULL;
  advise(q, want);
  *size = want;
  return q;
}

void uvsql__big_put(void *p, size_t size) {
  if (!p)
    return;
  if (plain()) {
    free(p);
    return;
  }
  void *drop[BIG_CACHE_SLOTS + 1];
  size_t drop_size[BIG_CACHE_SLOTS + 1], ndrop = 0;
  if (size <= BIG_CACHE_MAX)
    lazy_free(p, size); /* before it is in the cache (invariant 3) */
  uint64_t now = now_ns();
  pthread_mutex_lock(&cache.mu);
  if (size <= BIG_CACHE_MAX) {
    /* Make room by dropping the smallest blocks (they are the cheapest to fault again). */
    while (cache.n > 0 && (cache.n == BIG_CACHE_SLOTS || cache.bytes + size > BIG_CACHE_MAX)) {
      size_t s = 0;
      for (size_t i = 1; i < cache.n; i++)
        if (cache.size[i] < cache.size[s])
          s = i;
      if (cache.size[s] >= size)
        break; /* the cache holds only bigger blocks: drop this one instead */
      drop[ndrop] = cache.p[s];
      drop_size[ndrop++] = cache.size[s];
      cache.bytes -= cache.size[s];
      cache.n--;
      cache.p[s] = cache.p[cache.n];
      cache.size[s] = cache.size[cache.n];
      cache.since[s] = cache.since[cache.n];
    }
    if (cache.n < BIG_CACHE_SLOTS && cache.bytes + size <= BIG_CACHE_MAX) {
      cache.p[cache.n] = p;
      cache.since[cache.n] = now;
      cache.size[cache.n++] = size;
      cache.bytes += size;
      p = NULL;
    }
  }
  cache_changed();
  pthread_mutex_unlock(&cache.mu);
  if (p)
    unmap(p, size);
  for (size_t i = 0; i < ndrop; i++)
    unmap(drop[i], drop_size[i]);
}

/* Unmaps the cached blocks that entered the cache at or before `before` (ns); the bytes. */
static size_t trim_before(uint64_t before) {
  void *drop[BIG_CACHE_SLOTS];
  size_t drop_size[BIG_CACHE_SLOTS], n = 0, bytes = 0;
  pthread_mutex_lock(&cache.mu);
  for (size_t i = 0; i < cache.n;) {
    if (cache.since[i] > before) {
      i++;
      continue;
    }
    drop[n] = cache.p[i];
    drop_size[n++] = cache.size[i];
    bytes += cache.size[i];
    cache.bytes -= cache.size[i];
    cache.n--;
    cache.p[i] = cache.p[cache.n];
    cache.size[i] = cache.size[cache.n];
    cache.since[i] = cache.since[cache.n];
  }
  cache_changed();
  pthread_mutex_unlock(&cache.mu);
  for (size_t i = 0; i < n; i++)
    unmap(drop[i], drop_size[i]);
  return bytes;
}

size_t uvsql__big_trim(void) {
  return plain() ? 0 : trim_before(UINT64_MAX);
}

size_t uvsql__big_trim_idle(uint64_t idle_ms) {
  if (plain() || !idle_ms || atomic_load_explicit(&mapped, memory_order_relaxed) == 0)
    return 0;
  uint64_t now = now_ns(), idle = idle_ms * 1000000u;
  return now < idle ? 0 : trim_before(now - idle);
}

uint64_t uvsql__big_idle_due(uint64_t idle_ms) {
  if (plain() || !idle_ms || atomic_load_explicit(&mapped, memory_order_relaxed) == 0)
    return UINT64_MAX;
  uint64_t oldest = atomic_load_explicit(&oldest_since, memory_order_relaxed);
  if (oldest == UINT64_MAX)
    return idle_ms; /* only blocks handed out: look again in a period (invariant 4) */
  uint64_t now = now_ns(), due = oldest + idle_ms * 1000000u;
  return due <= now ? 0 : (due - now + 999999u) / 1000000u;
}

size_t uvsql__big_cached(void) {
  if (plain())
    return 0;
  pthread_mutex_lock(&cache.mu);
  size_t b = cache.bytes;
  pthread_mutex_unlock(&cache.mu);
  return b;
}

#else /* BIG_PLAIN: malloc, realloc, free */

void *uvsql__big_get(size_t min, size_t *size) {
  void *p = malloc(min ? min : 1);
  if (p)
    *size = min;
  return p;
}

void *uvsql__big_grow(void *p, size_t old, size_t used, size_t min, size_t *size) {
  (void)old;
  (void)used;
  void *q = realloc(p, min ? min : 1);
  if (q)
    *size = min;
  return q;
}

void uvsql__big_put(void *p, size_t size) {
  (void)size;
  free(p);
}

size_t uvsql__big_trim(void) {
  return 0;
}

size_t uvsql__big_trim_idle(uint64_t idle_ms) {
  (void)idle_ms;
  return 0;
}

uint64_t uvsql__big_idle_due(uint64_t idle_ms) {
  (void)idle_ms;
  return UINT64_MAX;
}

size_t uvsql__big_cached(void) {
  return 0;
}

#endif
