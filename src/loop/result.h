/* src/loop/result.h — building a uvsql_result_t (src/loop/result.c), the result type every
 * layer reads: drivers fill results with this API, the engine and the ORM read them through
 * the public getters (uvsql/engine.h). Ground floor: depends on nothing but loop/internal.h.
 */
#ifndef UVSQL_LOOP_RESULT_H
#define UVSQL_LOOP_RESULT_H

#include <stddef.h>
#include <stdint.h>
#include "uvsql/engine.h" /* uvsql_result_t, uvsql_value_t */
#include "internal.h"

/* How a driver builds a uvsql_result_t. Cells are row-major; text and bytes point into the
 * result's arena or into a backing object (e.g. a PGresult) that is freed with the result.
 * Text cells must be NUL-terminated at ptr[len]. */
uvsql_result_t *uvsql__result_new(size_t ncols);
/* name is copied. */
int uvsql__result_set_column(uvsql_result_t *r, size_t col, const char *name, uvsql_type_t type);
/* Appends a row of ncols NULL cells and returns it for filling, or NULL on OOM. */
uvsql_value_t *uvsql__result_add_row(uvsql_result_t *r);
/* Appends n rows and returns their first cell (row-major), or NULL on OOM or n == 0. The cells
 * are NOT initialised: the caller fills every one of them (NULL cells included) before the
 * result is read or freed. For decoders that know their row count. */
uvsql_value_t *uvsql__result_add_rows(uvsql_result_t *r, size_t n);
int uvsql__result_reserve(uvsql_result_t *r, size_t nrows);
void *uvsql__result_alloc(uvsql_result_t *r, size_t size);                 /* arena, freed with r */
char *uvsql__result_strndup(uvsql_result_t *r, const char *s, size_t len); /* NUL added */
void uvsql__result_set_backing(uvsql_result_t *r, void *backing, void (*free_fn)(void *));
void uvsql__result_set_rows_affected(uvsql_result_t *r, int64_t n);

/* For getters kept outside result.c (result_kinds.c): the cell at (row, col) or an error code
 * with last_error written (out of range, NULL); a type mismatch; any other message. */
int uvsql__result_cell(const uvsql_result_t *r, size_t row, size_t col, const uvsql_value_t **out);
int uvsql__result_mismatch(const uvsql_result_t *r, size_t col, const uvsql_value_t *v,
                           const char *wanted);
int uvsql__result_fail(const uvsql_result_t *r, int code, const char *fmt, ...) UVSQL__PRINTF(3, 4);

/* The ncols cells of row `row` (row-major), or NULL when r is NULL or row is out of range: for a
 * reader that walks whole rows (the ORM's loader) without a getter call per cell. */
const uvsql_value_t *uvsql__result_row(const uvsql_result_t *r, size_t row);

/* Large blocks (bigblock.c), for a result's cells and string chunks past 1 MB: 2 MB-aligned
 * huge-page mappings, and a bounded process-wide cache of freed ones that the next large result
 * reuses. get: a block of at least min bytes (*size: its size; not zeroed). grow: the block p
 * of old bytes, used of them kept, made at least min bytes (may move; NULL on failure, p then
 * unchanged). put: back to the cache (advised MADV_FREE) or the system. trim: empty the cache,
 * returning the bytes unmapped; trim_idle: unmap only the blocks cached for idle_ms or longer.
 * idle_due: milliseconds from now until trim_idle(idle_ms) has something to do (0: now), or
 * UINT64_MAX when no big block is mapped (or idle_ms is 0). cached: the cache's bytes. Any
 * thread. */
void *uvsql__big_get(size_t min, size_t *size);
void *uvsql__big_grow(void *p, size_t old, size_t used, size_t min, size_t *size);
void uvsql__big_put(void *p, size_t size);
size_t uvsql__big_trim(void);
size_t uvsql__big_trim_idle(uint64_t idle_ms);
uint64_t uvsql__big_idle_due(uint64_t idle_ms);
size_t uvsql__big_cached(void);

#endif
