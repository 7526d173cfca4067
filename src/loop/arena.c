/* src/loop/arena.c — bump allocator: a chain of blocks, each filled front to back, all freed
 * together. Invariant: every pointer handed out is 8-byte aligned and lives until
 * uvsql__arena_free. Allocations larger than a block get a block of their own.
 */
#include <stdlib.h>
#include <string.h>
#include "internal.h"

struct uvsql__arena_block_s {
  uvsql__arena_block_t *next;
  size_t used, size;
  _Alignas(8) unsigned char data[];
};

void uvsql__arena_init(uvsql__arena_t *a, size_t block_size) {
  a->head = NULL;
  a->block_size = block_size ? block_size : 4096;
}

void *uvsql__arena_alloc(uvsql__arena_t *a, size_t size) {
  size = (size + 7) & ~(size_t)7;
  uvsql__arena_block_t *b = a->head;
  if (!b || b->size - b->used < size) {
    size_t cap = size > a->block_size ? size : a->block_size;
    b = malloc(sizeof *b + cap);
    if (!b)
      return NULL;
    b->used = 0;
    b->size = cap;
    if (a->head && cap > a->block_size) {
      /* A big one-off: keep the current head (it still has room) in front. */
      b->next = a->head->next;
      a->head->next = b;
      b->used = size;
      return b->data;
    }
    b->next = a->head;
    a->head = b;
  }
  void *p = b->data + b->used;
  b->used += size;
  return p;
}

char *uvsql__arena_strndup(uvsql__arena_t *a, const char *s, size_t len) {
  char *p = uvsql__arena_alloc(a, len + 1);
  if (!p)
    return NULL;
  if (len)
    memcpy(p, s, len);
  p[len] = '\0';
  return p;
}

void uvsql__arena_free(uvsql__arena_t *a) {
  uvsql__arena_block_t *b = a->head;
  while (b) {
    uvsql__arena_block_t *next = b->next;
    free(b);
    b = next;
  }
  a->head = NULL;
}
