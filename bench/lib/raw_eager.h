/* bench/lib/raw_eager.h — the object graph the raw sides of eager_load fill (the same shape on
 * every backend): malloc'd authors and books, strdup'd strings, each author a growable array
 * of pointers to its books, each book a pointer back to its author; authors found by id
 * through a small open-addressing hash (raw_amap_t). The graph owns everything it points to
 * and is freed with raw_authors_free. */
#ifndef UVSQL_BENCH_RAW_EAGER_H
#define UVSQL_BENCH_RAW_EAGER_H

#include <stddef.h>
#include <stdint.h>

typedef struct raw_book_s {
  int64_t id, author_id;
  char *title;
  struct raw_author_s *author;
} raw_book_t;

typedef struct raw_author_s {
  int64_t id;
  char *name;
  raw_book_t **books;
  size_t n, cap;
} raw_author_t;

typedef struct {
  int64_t *keys;
  raw_author_t **vals;
  size_t cap;
} raw_amap_t;

void raw_amap_init(raw_amap_t *m, size_t n); /* room for n authors */
void raw_amap_put(raw_amap_t *m, int64_t id, raw_author_t *a);
raw_author_t *raw_amap_get(const raw_amap_t *m, int64_t id); /* NULL if absent */
void raw_amap_free(raw_amap_t *m);

/* name/title are copied (len bytes, not NUL-terminated in the source). */
raw_author_t *raw_author_new(int64_t id, const char *name, size_t len);
raw_book_t *raw_book_new(int64_t id, const char *title, size_t len, int64_t author_id);
void raw_author_push(raw_author_t *a, raw_book_t *b); /* a owns b */
/* The eager_load checksum (bench.h): sum of author ids + book ids + title lengths. */
double raw_authors_checksum(raw_author_t *const *as, size_t n);
void raw_authors_free(raw_author_t **as, size_t n); /* and the array itself */

#endif
