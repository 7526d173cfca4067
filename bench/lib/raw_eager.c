/* bench/lib/raw_eager.c — the raw sides' eager_load object graph (raw_eager.h). */
#include "raw_eager.h"
#include <stdlib.h>
#include <string.h>

void raw_amap_init(raw_amap_t *m, size_t n) {
  m->cap = 64;
  while (m->cap < 2 * n)
    m->cap *= 2;
  m->keys = malloc(m->cap * sizeof *m->keys);
  m->vals = calloc(m->cap, sizeof *m->vals);
}

static size_t amap_slot(const raw_amap_t *m, int64_t k) {
  size_t j = (size_t)(((uint64_t)k * 0x9e3779b97f4a7c15u) >> 17) & (m->cap - 1);
  while (m->vals[j] && m->keys[j] != k)
    j = (j + 1) & (m->cap - 1);
  return j;
}

void raw_amap_put(raw_amap_t *m, int64_t k, raw_author_t *a) {
  size_t j = amap_slot(m, k);
  m->keys[j] = k;
  m->vals[j] = a;
}

raw_author_t *raw_amap_get(const raw_amap_t *m, int64_t k) {
  return m->vals[amap_slot(m, k)];
}

void raw_amap_free(raw_amap_t *m) {
  free(m->keys);
  free(m->vals);
}

static char *copy(const char *s, size_t len) {
  char *d = malloc(len + 1);
  memcpy(d, s, len);
  d[len] = '\0';
  return d;
}

raw_author_t *raw_author_new(int64_t id, const char *name, size_t len) {
  raw_author_t *a = calloc(1, sizeof *a);
  a->id = id;
  a->name = copy(name, len);
  return a;
}

raw_book_t *raw_book_new(int64_t id, const char *title, size_t len, int64_t author_id) {
  raw_book_t *b = calloc(1, sizeof *b);
  b->id = id;
  b->title = copy(title, len);
  b->author_id = author_id;
  return b;
}

void raw_author_push(raw_author_t *a, raw_book_t *b) {
  if (a->n == a->cap) {
    a->cap = a->cap ? a->cap * 2 : 4;
    a->books = realloc(a->books, a->cap * sizeof *a->books);
  }
  a->books[a->n++] = b;
  b->author = a;
}

double raw_authors_checksum(raw_author_t *const *as, size_t n) {
  double sum = 0;
  for (size_t i = 0; i < n; i++) {
    sum += (double)as[i]->id;
    for (size_t k = 0; k < as[i]->n; k++)
      sum += (double)as[i]->books[k]->id + (double)strlen(as[i]->books[k]->title);
  }
  return sum;
}

void raw_authors_free(raw_author_t **as, size_t n) {
  for (size_t i = 0; i < n; i++) {
    for (size_t k = 0; k < as[i]->n; k++) {
      free(as[i]->books[k]->title);
      free(as[i]->books[k]);
    }
    free(as[i]->books);
    free(as[i]->name);
    free(as[i]);
  }
  free(as);
}
