/* src/orm/slab.c — the memory of the objects of one large load (loader.c's uvsql__session_load):
 * slabs carved from big blocks (loop/bigblock.c), instead of one malloc per object.
 *
 * Why: a load of 500,000 rows made 500,000 mallocs of ~220 bytes (the object with its snapshot),
 * and the session close freed them, after which glibc gave the pages back, so that the next
 * load faulted 100 MB of fresh pages again (bench/README.md, issue 16). A slab is a big block:
 * taken from, and given back to, the process-wide cache of freed big blocks, so that a second
 * large load finds its pages already there, and carving an object is a few instructions.
 *
 * What stays as it was (orm.h's promises): each object is still freed on its own (expunge +
 * uvsql_orm_free, session close, a rollback): a slab goes back when its last object has gone
 * and its load is over. Only the header, the struct and the snapshot live in the slab; TEXT,
 * BYTES, JSON and ARRAY fields stay malloc'd one by one, which programs may free() and replace.
 * Small loads (a get, a batch of a stream) still malloc each object: a slab is worth it only
 * from SLAB_MIN_BYTES of objects on.
 *
 * Invariants:
 *  1. An object carved from a slab has h->slab = its offset from the slab's start in SLAB_UNIT
 *     units (never 0: the slab's own header is there); a malloc'd object has h->slab == 0.
 *  2. live counts the slab's objects not yet released; a slab is given back (uvsql__big_put)
 *     exactly when live is 0 and it is closed (its load took its last object from it).
 *  3. Under AddressSanitizer and valgrind (where big blocks are plain malloc) the parts of a
 *     slab that are no object's are poisoned: the free tail, a SLAB_UNIT gap after each object,
 *     and every released object, so that a use after uvsql_orm_free or an overflow into a
 *     sibling is reported as for malloc'd objects.
 *  4. Only the loop thread uses slabs (as every ORM object): no locks.
 */
#include <stdlib.h>
#include <string.h>
#include "internal.h"
#include "../loop/result.h" /* uvsql__big_get / uvsql__big_put */

#if defined(__SANITIZE_ADDRESS__)
#define SLAB_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SLAB_ASAN 1
#endif
#endif
#if defined(SLAB_ASAN)
#include <sanitizer/asan_interface.h>
#define POISON(p, n)   ASAN_POISON_MEMORY_REGION((p), (n))
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#define SLAB_GAP       SLAB_UNIT
#else
#if defined(__has_include)
#if __has_include(<valgrind/memcheck.h>)
#include <valgrind/memcheck.h>
#endif
#endif
#if defined(VALGRIND_MAKE_MEM_NOACCESS)
#define POISON(p, n)   ((void)VALGRIND_MAKE_MEM_NOACCESS((p), (n)))
#define UNPOISON(p, n) ((void)VALGRIND_MAKE_MEM_UNDEFINED((p), (n)))
#define SLAB_GAP       (RUNNING_ON_VALGRIND ? SLAB_UNIT : 0)
#else
#define POISON(p, n)   ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#define SLAB_GAP       0
#endif
#endif

#define SLAB_UNIT      ((size_t)alignof(max_align_t))
#define SLAB_MIN_BYTES ((size_t)1 << 20)  /* a load of fewer bytes of objects mallocs them */
#define SLAB_MAX_BYTES ((size_t)32 << 20) /* one slab at most: what one live object can pin */

struct uvsql__slab_s {
  size_t size; /* bytes of the block, this header included */
  size_t used; /* bytes carved (header included), a multiple of SLAB_UNIT */
  size_t last; /* offset of the object carved last (0: none) */
  size_t live; /* objects carved and not released (invariant 2) */
  int open;    /* its load may still carve from it */
};

#define HEAD (((sizeof(uvsql__slab_t) + SLAB_UNIT - 1) / SLAB_UNIT) * SLAB_UNIT)

static size_t round_unit(size_t n) {
  return (n + SLAB_UNIT - 1) / SLAB_UNIT * SLAB_UNIT;
}

static void slab_put(uvsql__slab_t *s) {
  size_t size = s->size;
  UNPOISON(s, size); /* the block goes back as it came */
  uvsql__big_put(s, size);
}

/* The load is done with s: given back now if nothing lives in it. */
static void slab_close(uvsql__slab_t *s) {
  s->open = 0;
  if (s->live == 0)
    slab_put(s);
}

void uvsql__slabs_begin(uvsql__slabs_t *a, size_t nrows) {
  a->cur = NULL;
  a->rows_left = nrows;
  a->off = 0;
}

void *uvsql__slabs_take(uvsql__slabs_t *a, size_t size, uint32_t *unit) {
  size_t rows = a->rows_left;
  if (a->rows_left)
    a->rows_left--;
  if (a->off)
    return NULL;
  size = round_unit(size) + SLAB_GAP;
  uvsql__slab_t *s = a->cur;
  if (!s || s->size - s->used < size) {
    /* Room for the rows left, an eighth more for longer strings, at most SLAB_MAX_BYTES. */
    size_t want = rows > (SLAB_MAX_BYTES - HEAD) / size ? SLAB_MAX_BYTES
                                                        : HEAD + rows * size + rows * size / 8;
    if (!s && want < SLAB_MIN_BYTES) { /* a small load: malloc'd objects */
      a->off = 1;
      return NULL;
    }
    if (want < HEAD + size)
      want = HEAD + size;
    size_t got = 0;
    uvsql__slab_t *n = size > SLAB_MAX_BYTES / 4 ? NULL : uvsql__big_get(want, &got);
    if (!n) /* out of memory, or an object too big for a slab: malloc it */
      return NULL;
    if (s)
      slab_close(s);
    n->size = got;
    n->used = HEAD;
    n->last = 0;
    n->live = 0;
    n->open = 1;
    POISON((unsigned char *)n + HEAD, got - HEAD);
    a->cur = s = n;
  }
  /* [gap, holding the object's size under the tools][the object] */
  unsigned char *p = (unsigned char *)s + s->used;
  if (SLAB_GAP) {
    UNPOISON(p, sizeof(size_t));
    memcpy(p, &size, sizeof size);
    POISON(p, SLAB_GAP);
  }
  UNPOISON(p + SLAB_GAP, size - SLAB_GAP);
  s->last = s->used + SLAB_GAP;
  s->used += size;
  s->live++;
  *unit = (uint32_t)(s->last / SLAB_UNIT);
  return p + SLAB_GAP;
}

void uvsql__slabs_end(uvsql__slabs_t *a) {
  if (a->cur)
    slab_close(a->cur);
  a->cur = NULL;
}

void uvsql__slab_release(uvsql__obj_t *h) {
  size_t at = (size_t)h->slab * SLAB_UNIT;
  uvsql__slab_t *s = (uvsql__slab_t *)(void *)((unsigned char *)h - at);
  size_t size = SLAB_UNIT; /* without the tools only the room of the last object is needed */
  if (SLAB_GAP) {
    unsigned char *gap = (unsigned char *)h - SLAB_GAP;
    UNPOISON(gap, sizeof(size_t));
    memcpy(&size, gap, sizeof size);
    POISON(gap, SLAB_GAP);
    POISON(h, size - SLAB_GAP);
  }
  if (s->open && at == s->last) { /* the object carved last: its room is carved again */
    s->used = at - SLAB_GAP;
    s->last = 0;
  }
  if (--s->live == 0 && !s->open)
    slab_put(s);
}
