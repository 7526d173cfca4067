/* src/orm/object.c — ORM objects: allocation with the hidden header, field access by kind,
 * snapshots (for dirty tracking and rollback), links of foreign-key fields to parent objects,
 * and the object-from-row constructor the loaders call (uvsql__obj_load: the values of one
 * row and its snapshot in one allocation; the identity map is identity_map.c's, turning
 * result rows into session objects the loaders').
 *
 * Invariants:
 *  1. Every TEXT/BYTES pointer in an object or a snapshot is owned by it (malloc'd), or NULL.
 *     A snapshot is one block: the struct followed by its strings. It is its own allocation,
 *     or, made by uvsql__obj_load, lies inside its object's allocation after the body and is
 *     never written again; uvsql__snap_free releases either kind (only the first is freed).
 *  2. A field is NULL iff its bit in uvsql_nulls is set, or (TEXT/BYTES) its pointer is NULL.
 *  3. The autoflush check's plan (uvsql__mapper_plan) is exact: bitwise-equal words are equal
 *     fields, so a bitwise difference falls back to the field-by-field comparison.
 *  4. An object's allocation (header, struct, and a loaded object's snapshot) is malloc'd
 *     (h->slab == 0) or carved from a large load's slab (slab.c); uvsql__obj_destroy gives
 *     either back. Its TEXT/BYTES/JSON/ARRAY data is malloc'd in both cases (invariant 1).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"
#include "../loop/result.h" /* uvsql__result_row */

/* An object of m with `extra` bytes after its body; malloc and two memsets, not calloc (nor one
 * memset, which compilers turn into calloc): glibc's calloc skips the thread cache. */
static uvsql__obj_t *obj_alloc(const uvsql_mapper_t *m, size_t extra, uvsql__slabs_t *slabs) {
  size_t size = sizeof(uvsql__obj_t) + m->model->size + extra;
  uint32_t unit = 0;
  uvsql__obj_t *h = slabs ? uvsql__slabs_take(slabs, size, &unit) : NULL;
  if (!h && !(h = malloc(size)))
    return NULL;
  memset(h, 0, sizeof *h);
  h->slab = unit;
  memset(h->body, 0, m->model->size);
  h->magic = UVSQL__ORM_MAGIC;
  h->mapper = m;
  h->state = UVSQL_OBJ_TRANSIENT;
  return h;
}

/* Where a snapshot made by uvsql__obj_load sits: after the body, in the object's allocation. */
static size_t snap_at(const uvsql_mapper_t *m) {
  size_t a = alignof(max_align_t);
  return (m->model->size + a - 1) / a * a;
}

void uvsql__snap_free(const uvsql__obj_t *h, void *snap) {
  if (snap && !(h && (unsigned char *)snap == h->body + snap_at(h->mapper)))
    free(snap);
}

uvsql__obj_t *uvsql__obj_alloc(const uvsql_mapper_t *m) {
  return obj_alloc(m, 0, NULL);
}

void *uvsql_orm_new(const uvsql_mapper_t *m) {
  uvsql__obj_t *h = m ? uvsql__obj_alloc(m) : NULL;
  if (h && m->inherits && uvsql__poly_init(m, h->body)) { /* the discriminator (inherit.c) */
    uvsql__obj_destroy(h);
    return NULL;
  }
  return h ? uvsql__body(h) : NULL;
}

uvsql__obj_t *uvsql__obj_check(const void *obj) {
  if (!obj)
    return NULL;
  uvsql__obj_t *h = uvsql__hdr(obj);
  return h->magic == UVSQL__ORM_MAGIC ? h : NULL;
}

void uvsql__obj_destroy(uvsql__obj_t *h) {
  if (!h)
    return;
  uvsql__struct_free_strings(h->mapper, uvsql__body(h));
  if (h->mapper->nrels)
    uvsql__obj_free_rels(h);
  uvsql__snap_free(h, h->snap);
  free(h->links);
  h->magic = 0;
  if (h->slab)
    uvsql__slab_release(h);
  else
    free(h);
}

void uvsql_orm_free(void *obj) {
  uvsql__obj_t *h = uvsql__obj_check(obj);
  if (h && !h->session)
    uvsql__obj_destroy(h);
}

uvsql_obj_state_t uvsql_orm_state(const void *obj) {
  uvsql__obj_t *h = uvsql__obj_check(obj);
  return h ? (uvsql_obj_state_t)h->state : UVSQL_OBJ_TRANSIENT;
}

const char *uvsql_orm_state_name(uvsql_obj_state_t state) {
  static const char *names[] = {"transient", "pending", "persistent", "deleted", "detached"};
  return (unsigned)state < 5 ? names[state] : "unknown";
}

const uvsql_mapper_t *uvsql_orm_mapper(const void *obj) {
  uvsql__obj_t *h = uvsql__obj_check(obj);
  return h ? h->mapper : NULL;
}

/* ------------------------------------------------------------------ fields */

static inline void *fptr(const uvsql_mapper_t *m, const void *st, size_t i) {
  return (unsigned char *)st + m->model->fields[i].offset;
}
static inline uint64_t *nulls(const uvsql_mapper_t *m, const void *st) {
  return (uint64_t *)((unsigned char *)st + m->model->nulls_offset);
}
/* TEXT and JSON fields are a char * the object owns; BYTES a uvsql_bytes_t it owns; ARRAY a
 * uvsql_array_t whose block it owns (array_field.c). All three are "blobs": out-of-line data a
 * snapshot copies after its struct. */
static inline int is_text(uvsql_field_kind_t k) {
  return k == UVSQL_FIELD_TEXT || k == UVSQL_FIELD_JSON;
}
static inline int is_blob(uvsql_field_kind_t k) {
  return is_text(k) || k == UVSQL_FIELD_BYTES || k == UVSQL_FIELD_ARRAY;
}
static inline size_t blob_size(uvsql_field_kind_t k) { /* the bytes of the field in the struct */
  return is_text(k)               ? sizeof(char *)
         : k == UVSQL_FIELD_BYTES ? sizeof(uvsql_bytes_t)
                                  : sizeof(uvsql_array_t);
}
/* An array's block inside a snapshot starts at an address aligned for its values. */
#define ARR_ALIGN alignof(uvsql_value_t)
static inline unsigned char *arr_align(unsigned char *p) {
  return (unsigned char *)(((uintptr_t)p + ARR_ALIGN - 1) & ~(uintptr_t)(ARR_ALIGN - 1));
}

int uvsql__field_is_null(const uvsql_mapper_t *m, const void *st, size_t i) {
  if (*nulls(m, st) & (UINT64_C(1) << i))
    return 1;
  uvsql_field_kind_t k = m->model->fields[i].kind;
  if (is_text(k))
    return *(char **)fptr(m, st, i) == NULL;
  if (k == UVSQL_FIELD_BYTES)
    return ((uvsql_bytes_t *)fptr(m, st, i))->ptr == NULL;
  if (k == UVSQL_FIELD_ARRAY)
    return ((uvsql_array_t *)fptr(m, st, i))->items == NULL;
  return 0;
}

void uvsql__field_set_null(const uvsql_mapper_t *m, void *st, size_t i, int is_null) {
  if (is_null)
    *nulls(m, st) |= UINT64_C(1) << i;
  else
    *nulls(m, st) &= ~(UINT64_C(1) << i);
}

uvsql_value_t uvsql__field_value(const uvsql_mapper_t *m, const void *st, size_t i) {
  if (uvsql__field_is_null(m, st, i))
    return UVSQL_V_NULL();
  void *p = fptr(m, st, i);
  switch (m->model->fields[i].kind) {
  case UVSQL_FIELD_INT64:
    return UVSQL_V_INT64(*(int64_t *)p);
  case UVSQL_FIELD_DOUBLE:
    return UVSQL_V_DOUBLE(*(double *)p);
  case UVSQL_FIELD_BOOL:
    return UVSQL_V_BOOL(*(int *)p);
  case UVSQL_FIELD_TEXT:
    return UVSQL_V_TEXT(*(char **)p);
  case UVSQL_FIELD_BYTES:
    return UVSQL_V_BYTES(((uvsql_bytes_t *)p)->ptr, ((uvsql_bytes_t *)p)->len);
  case UVSQL_FIELD_DATE:
    return UVSQL_V_DATE(*(int64_t *)p);
  case UVSQL_FIELD_TIME:
    return UVSQL_V_TIME(*(int64_t *)p);
  case UVSQL_FIELD_TIMESTAMP:
    return UVSQL_V_TIMESTAMP(*(int64_t *)p);
  case UVSQL_FIELD_TIMESTAMPTZ:
    return UVSQL_V_TIMESTAMPTZ(*(int64_t *)p);
  case UVSQL_FIELD_NUMERIC: /* the fixed-size form: the engine writes its text (loop/internal.h) */
    return uvsql__v_numeric_bin((const uvsql_numeric_t *)p);
  case UVSQL_FIELD_ENUM: { /* the label; an index out of range sends a label no server takes */
    const uvsql_enum_type_t *e = m->model->fields[i].type_info;
    int x = *(int *)p;
    return uvsql_v_enum(x >= 0 && (size_t)x < e->nlabels ? e->labels[x] : "(invalid enum index)");
  }
  case UVSQL_FIELD_INTERVAL: {
    const uvsql_interval_t *iv = p;
    return uvsql_v_interval(iv->months, iv->days, iv->us);
  }
  case UVSQL_FIELD_UUID:
    return uvsql_v_uuid((const uvsql_uuid_t *)p);
  case UVSQL_FIELD_JSON:
    return uvsql_v_json(*(char **)p);
  case UVSQL_FIELD_ARRAY: {
    const uvsql_array_t *a = p;
    return uvsql_v_array(uvsql__array_elem_type(&m->model->fields[i]), a->items, a->n);
  }
  }
  return UVSQL_V_NULL();
}

static void free_field(const uvsql_mapper_t *m, void *st, size_t i) {
  void *p = fptr(m, st, i);
  if (is_text(m->model->fields[i].kind)) {
    free(*(char **)p);
    *(char **)p = NULL;
  } else if (m->model->fields[i].kind == UVSQL_FIELD_BYTES) {
    free(((uvsql_bytes_t *)p)->ptr);
    memset(p, 0, sizeof(uvsql_bytes_t));
  } else if (m->model->fields[i].kind == UVSQL_FIELD_ARRAY) {
    free(((uvsql_array_t *)p)->items);
    memset(p, 0, sizeof(uvsql_array_t));
  }
}

#define NOT_SCALAR 1 /* not an error code: those are negative */

/* Reads a fixed-size field (every kind but TEXT and BYTES) from a non-NULL cell into p:
 * the getter's code (negative), or NOT_SCALAR for TEXT and BYTES (the caller's to load). */
static int load_scalar(uvsql_field_kind_t kind, const uvsql_result_t *r, size_t row, size_t col,
                       void *p) {
  switch (kind) {
  case UVSQL_FIELD_INT64:
    return uvsql_result_int64(r, row, col, p);
  case UVSQL_FIELD_DOUBLE:
    return uvsql_result_double(r, row, col, p);
  case UVSQL_FIELD_BOOL:
    return uvsql_result_bool(r, row, col, p);
  case UVSQL_FIELD_DATE:
    return uvsql_result_date(r, row, col, p);
  case UVSQL_FIELD_TIME:
    return uvsql_result_time(r, row, col, p);
  case UVSQL_FIELD_TIMESTAMP:
  case UVSQL_FIELD_TIMESTAMPTZ:
    return uvsql_result_timestamp(r, row, col, p);
  case UVSQL_FIELD_NUMERIC:
    return uvsql_result_numeric(r, row, col, p);
  case UVSQL_FIELD_UUID:
    return uvsql_result_uuid(r, row, col, p);
  case UVSQL_FIELD_INTERVAL:
    return uvsql_result_interval(r, row, col, p);
  default: /* ENUM too: it needs the field's labels (uvsql__field_load) */
    return NOT_SCALAR;
  }
}

const char *uvsql__field_kind_name(const uvsql_field_t *f, char *buf, size_t len) {
  static const char *const names[] = {"?",       "INT64", "DOUBLE", "BOOL",      "TEXT",
                                      "BYTES",   "DATE",  "TIME",   "TIMESTAMP", "TIMESTAMPTZ",
                                      "NUMERIC", "UUID",  "JSON",   "ENUM",      "INTERVAL"};
  if (f->kind == UVSQL_FIELD_TEXT && f->length > 0)
    snprintf(buf, len, "STRING(%d)", f->length);
  else if (f->kind == UVSQL_FIELD_NUMERIC)
    snprintf(buf, len, "NUMERIC(%d, %d)", f->length, f->scale);
  else if (f->kind == UVSQL_FIELD_ARRAY)
    uvsql__array_kind_name(f, buf, len);
  else
    snprintf(buf, len, "%s",
             (unsigned)f->kind < sizeof names / sizeof names[0] ? names[f->kind] : "?");
  return buf;
}

/* The field kind that takes what the server sends as type t (for the hint of a mismatch). */
static const char *kind_for(uvsql_type_t t) {
  switch (t) {
  case UVSQL_TYPE_BOOL:
    return "BOOL";
  case UVSQL_TYPE_INT64:
    return "INT64";
  case UVSQL_TYPE_DOUBLE:
    return "DOUBLE";
  case UVSQL_TYPE_TEXT:
    return "TEXT";
  case UVSQL_TYPE_BYTES:
    return "BYTES";
  case UVSQL_TYPE_DATE:
    return "DATE";
  case UVSQL_TYPE_TIME:
    return "TIME";
  case UVSQL_TYPE_NUMERIC:
    return "NUMERIC(p, s)";
  case UVSQL_TYPE_INTERVAL:
    return "INTERVAL";
  case UVSQL_TYPE_ENUM:
    return "ENUM";
  case UVSQL_TYPE_ARRAY:
    return "ARRAY of its elements' kind";
  default:
    return "TIMESTAMP";
  }
}

/* A cell that cannot go into field i: UVSQL_EDATA naming the column, the field, the server's
 * type and the field's kind (an out-of-range cell keeps the getter's own code and words). */
static int load_error(const uvsql_mapper_t *m, size_t i, const uvsql_result_t *r, size_t row,
                      size_t col, uvsql_error_t *err) {
  const uvsql_field_t *f = &m->model->fields[i];
  const uvsql_value_t *v = uvsql_result_value(r, row, col);
  const char *colname = uvsql_result_colname(r, col);
  char kind[32];
  uvsql__field_kind_name(f, kind, sizeof kind);
  if (!v)
    return uvsql__error_set(err, UVSQL_EINVALID_ARGUMENT, "cannot load field %s.%s: %s",
                            m->model->type_name, f->name, uvsql_result_last_error(r));
  if ((v->type == UVSQL_TYPE_TEXT &&
       (f->kind == UVSQL_FIELD_DATE || f->kind == UVSQL_FIELD_TIME ||
        f->kind == UVSQL_FIELD_TIMESTAMP || f->kind == UVSQL_FIELD_INTERVAL)) ||
      (f->kind == UVSQL_FIELD_ENUM && (v->type == UVSQL_TYPE_TEXT || v->type == UVSQL_TYPE_ENUM)))
    return uvsql__error_set(err, UVSQL_EDATA,
                            "cannot load column \"%s\" (server type %s) into field %s.%s of kind "
                            "%s: %s",
                            colname ? colname : f->name, uvsql_type_name(v->type),
                            m->model->type_name, f->name, kind, uvsql_result_last_error(r));
  return uvsql__error_set(err, UVSQL_EDATA,
                          "cannot load column \"%s\" (server type %s) into field %s.%s of kind "
                          "%s: declare the field as %s, or convert the column in the query "
                          "(CAST)",
                          colname ? colname : f->name, uvsql_type_name(v->type),
                          m->model->type_name, f->name, kind, kind_for(v->type));
}

int uvsql__field_load(const uvsql_mapper_t *m, void *st, size_t i, const uvsql_result_t *r,
                      size_t row, size_t col, uvsql_error_t *err) {
  void *p = fptr(m, st, i);
  const uvsql_field_t *f = &m->model->fields[i];
  free_field(m, st, i);
  if (uvsql_result_is_null(r, row, col)) {
    uvsql__field_set_null(m, st, i, 1);
    return 0;
  }
  uvsql__field_set_null(m, st, i, 0);
  int rc = 0;
  switch (f->kind) {
  case UVSQL_FIELD_TEXT:
  case UVSQL_FIELD_JSON:
  case UVSQL_FIELD_BYTES: {
    const void *src;
    size_t len;
    rc = is_text(f->kind) ? uvsql_result_text(r, row, col, (const char **)&src, &len)
                          : uvsql_result_bytes(r, row, col, &src, &len);
    if (rc)
      break;
    char *copy = malloc(len + 1);
    if (!copy)
      return uvsql__error_set(err, UVSQL_ENOMEM, "out of memory loading %s", f->name);
    memcpy(copy, src, len);
    copy[len] = '\0';
    if (is_text(f->kind)) {
      *(char **)p = copy;
    } else {
      ((uvsql_bytes_t *)p)->ptr = copy;
      ((uvsql_bytes_t *)p)->len = len;
    }
    break;
  }
  case UVSQL_FIELD_ENUM:
    rc = uvsql_result_enum(r, row, col, f->type_info, p);
    break;
  case UVSQL_FIELD_ARRAY:
    rc = uvsql__array_load(m, i, p, r, row, col, err);
    if (rc == UVSQL_EDATA || rc == UVSQL_ENOMEM)
      return rc; /* err says which element */
    break;
  default:
    rc = load_scalar(f->kind, r, row, col, p);
    if (rc == NOT_SCALAR)
      rc = 0; /* no other kinds: mappers are validated when they are made */
  }
  if (rc)
    return load_error(m, i, r, row, col, err);
  return 0;
}

void uvsql__struct_free_strings(const uvsql_mapper_t *m, void *st) {
  for (size_t i = 0; i < m->model->nfields; i++)
    if (is_blob(m->model->fields[i].kind))
      free_field(m, st, i);
}

/* The lengths of st's strings, len[k] for m->blobs[k] (SIZE_MAX: NULL); returns the bytes
 * they take with their NULs. */
static size_t blob_lengths(const uvsql_mapper_t *m, const void *st, size_t *len) {
  size_t extra = 0;
  uint64_t nl = *nulls(m, st);
  const uvsql_field_t *f = m->model->fields;
  for (size_t k = 0; k < m->nblobs; k++) {
    size_t i = m->blobs[k];
    const void *p = (const unsigned char *)st + f[i].offset;
    if (is_text(f[i].kind)) {
      const char *t = *(char *const *)p;
      len[k] = (nl & (UINT64_C(1) << i)) || !t ? SIZE_MAX : strlen(t);
    } else if (f[i].kind == UVSQL_FIELD_BYTES) {
      const uvsql_bytes_t *b = p;
      len[k] = (nl & (UINT64_C(1) << i)) || !b->ptr ? SIZE_MAX : b->len;
    } else {
      const uvsql_array_t *a = p;
      len[k] =
          (nl & (UINT64_C(1) << i)) || !a->items ? SIZE_MAX : uvsql__array_bytes(a->items, a->n);
      if (len[k] != SIZE_MAX)
        extra += ARR_ALIGN - 1; /* copy_into aligns the block */
    }
    if (len[k] != SIZE_MAX)
      extra += len[k] + 1;
  }
  return extra;
}

/* Copies st into copy: the struct, then its strings (lengths from blob_lengths) after it. */
static void copy_into(const uvsql_mapper_t *m, const void *st, unsigned char *copy,
                      const size_t *len) {
  const uvsql_field_t *f = m->model->fields;
  memcpy(copy, st, m->model->size);
  unsigned char *tail = copy + m->model->size;
  for (size_t k = 0; k < m->nblobs; k++) {
    size_t i = m->blobs[k];
    void *p = copy + f[i].offset;
    if (len[k] == SIZE_MAX) {
      memset(p, 0, blob_size(f[i].kind));
      continue;
    }
    if (f[i].kind == UVSQL_FIELD_ARRAY) {
      uvsql_array_t *a = p;
      tail = arr_align(tail);
      *a = uvsql__array_copy_to(a->items, a->n, tail);
      tail += len[k] + 1;
      continue;
    }
    if (is_text(f[i].kind)) {
      memcpy(tail, *(char **)p, len[k]);
      *(char **)p = (char *)tail;
    } else {
      memcpy(tail, ((uvsql_bytes_t *)p)->ptr, len[k]);
      ((uvsql_bytes_t *)p)->ptr = tail;
    }
    tail[len[k]] = '\0';
    tail += len[k] + 1;
  }
}

void *uvsql__struct_copy(const uvsql_mapper_t *m, const void *st) {
  size_t len[64];
  size_t extra = blob_lengths(m, st, len);
  unsigned char *copy = malloc(m->model->size + extra);
  if (copy)
    copy_into(m, st, copy, len);
  return copy;
}

/* Copies len bytes of text and a NUL into a new malloc'd string; NULL when out of memory. */
static char *text_copy(const char *src, size_t len) {
  char *copy = malloc(len + 1);
  if (copy) {
    memcpy(copy, src, len);
    copy[len] = '\0';
  }
  return copy;
}

/* The cells are read in place (uvsql__result_row): a cell of the type a field's getter takes at
 * once (INT64 into INT64, TEXT or JSON into TEXT, ...) is stored as that getter would store it;
 * any other cell (SQLite's timestamps as text, a NUMERIC into TEXT, an error) goes through
 * uvsql__field_load, i.e. the getters, so that values and messages are the getters'. */
int uvsql__obj_load_fields(const uvsql_mapper_t *m, void *st, const uvsql_result_t *r, size_t row,
                           size_t col0, uvsql_error_t *err) {
  const uvsql_field_t *f = m->model->fields;
  uint64_t *nl = nulls(m, st);
  const uvsql_value_t *cells = uvsql__result_row(r, row);
  size_t ncols = uvsql_result_ncols(r);
  for (size_t i = 0, n = m->model->nfields; i < n; i++) {
    void *p = (unsigned char *)st + f[i].offset;
    size_t col = col0 + (m->colmap ? m->colmap[i] : i); /* colmap: a subclass (inherit.c) */
    const uvsql_value_t *v = cells && col < ncols ? &cells[col] : NULL;
    int rc = 1; /* 1: not read here */
    if (v) {
      uvsql_type_t t = v->type;
      if (t == UVSQL_TYPE_NULL) {
        *nl |= UINT64_C(1) << i;
        continue;
      }
      switch (f[i].kind) {
      case UVSQL_FIELD_INT64:
        if (t == UVSQL_TYPE_INT64)
          *(int64_t *)p = v->u.i64, rc = 0;
        break;
      case UVSQL_FIELD_DOUBLE:
        if (t == UVSQL_TYPE_DOUBLE)
          *(double *)p = v->u.f64, rc = 0;
        break;
      case UVSQL_FIELD_BOOL:
        if (t == UVSQL_TYPE_BOOL)
          *(int *)p = v->u.b, rc = 0;
        break;
      case UVSQL_FIELD_TIMESTAMP:
      case UVSQL_FIELD_TIMESTAMPTZ:
        if (t == UVSQL_TYPE_TIMESTAMP || t == UVSQL_TYPE_TIMESTAMPTZ)
          *(int64_t *)p = v->u.i64, rc = 0;
        else if (t == UVSQL_TYPE_TEXT) /* SQLite's: parsed by the getter (an error: again) */
          rc = uvsql_result_timestamp(r, row, col, p) ? 1 : 0;
        break;
      case UVSQL_FIELD_TEXT:
      case UVSQL_FIELD_JSON:
        if (t == UVSQL_TYPE_TEXT || t == UVSQL_TYPE_JSON) {
          if (!(*(char **)p = text_copy(v->u.s.ptr, v->u.s.len)))
            return uvsql__error_set(err, UVSQL_ENOMEM, "out of memory loading %s", f[i].name);
          rc = 0;
        }
        break;
      default:
        break;
      }
    }
    if (rc && (rc = uvsql__field_load(m, st, i, r, row, col, err)) != 0)
      return rc; /* field_load says what went wrong */
  }
  return 0;
}

int uvsql__obj_load(const uvsql_mapper_t *m, const uvsql_result_t *r, size_t row, size_t col0,
                    uvsql__obj_t **out, uvsql_error_t *err) {
  return uvsql__obj_load_in(m, r, row, col0, NULL, out, err);
}

int uvsql__obj_load_in(const uvsql_mapper_t *m, const uvsql_result_t *r, size_t row, size_t col0,
                       uvsql__slabs_t *slabs, uvsql__obj_t **out, uvsql_error_t *err) {
  const uvsql_field_t *f = m->model->fields;
  size_t room = 0, len[64]; /* room: the snapshot's strings, as the result has them */
  const uvsql_value_t *cells = uvsql__result_row(r, row);
  size_t ncols = uvsql_result_ncols(r);
  for (size_t k = 0; k < m->nblobs; k++) {
    size_t i = m->blobs[k], col = col0 + (m->colmap ? m->colmap[i] : i), n;
    const void *src;
    const uvsql_value_t *v = cells && col < ncols ? &cells[col] : NULL;
    if (v && (v->type == UVSQL_TYPE_TEXT || v->type == UVSQL_TYPE_JSON) && is_text(f[i].kind)) {
      room += v->u.s.len + 1; /* what uvsql_result_text reads, without the call */
      continue;
    }
    if (uvsql_result_is_null(r, row, col))
      continue;
    if (f[i].kind == UVSQL_FIELD_ARRAY) {
      const uvsql_value_t *items;
      if (uvsql_result_array(r, row, col, &items, &n) == 0)
        room += uvsql__array_bytes(items, n) + 1 + ARR_ALIGN - 1;
      continue;
    }
    if ((is_text(f[i].kind) ? uvsql_result_text(r, row, col, (const char **)&src, &n)
                            : uvsql_result_bytes(r, row, col, &src, &n)) == 0)
      room += n + 1;
  }
  size_t at = snap_at(m);
  uvsql__obj_t *h = obj_alloc(m, at + room, slabs); /* the snapshot after the body */
  *out = NULL;
  if (!h)
    return uvsql__error_set(err, UVSQL_ENOMEM, "out of memory loading a row of %s",
                            m->model->type_name);
  int rc = uvsql__obj_load_fields(m, h->body, r, row, col0, err);
  if (rc == 0 && blob_lengths(m, h->body, len) <= room) {
    h->snap = h->body + at;
    copy_into(m, h->body, h->snap, len);
  } else if (rc == 0 && uvsql__obj_snapshot(h)) {
    rc = uvsql__error_set(err, UVSQL_ENOMEM, "out of memory loading a row of %s",
                          m->model->type_name);
  }
  if (rc) {
    uvsql__obj_destroy(h);
    return rc;
  }
  *out = h;
  return 0;
}

int uvsql__struct_assign(const uvsql_mapper_t *m, void *dst, const void *src) {
  void *copy = uvsql__struct_copy(m, src); /* strings of src, in one block */
  if (!copy)
    return UVSQL_ENOMEM;
  uvsql__struct_free_strings(m, dst);
  /* the columns and uvsql_nulls only: relationship fields after them stay (UVSQL_MODEL_REL) */
  memcpy(dst, copy, m->model->nulls_offset + sizeof(uint64_t));
  if (m->inherits) /* a subclass's own fields (every level's) follow its root struct */
    memcpy((unsigned char *)dst + m->root->model->size,
           (unsigned char *)copy + m->root->model->size, m->model->size - m->root->model->size);
  /* dst must own each string separately: duplicate them out of the block. */
  int rc = 0;
  for (size_t i = 0; i < m->model->nfields; i++) {
    if (!is_blob(m->model->fields[i].kind) || uvsql__field_is_null(m, copy, i))
      continue;
    if (m->model->fields[i].kind == UVSQL_FIELD_ARRAY) {
      uvsql_array_t *a = fptr(m, dst, i); /* points into copy: give it its own block */
      if (uvsql__array_dup(a->items, a->n, a) != 0) {
        rc = UVSQL_ENOMEM;
        memset(a, 0, sizeof *a);
      }
      continue;
    }
    uvsql_value_t v = uvsql__field_value(m, copy, i);
    char *s = malloc(v.u.s.len + 1);
    if (!s) {
      rc = UVSQL_ENOMEM;
      v.u.s.len = 0;
    } else {
      memcpy(s, v.u.s.ptr, v.u.s.len);
      s[v.u.s.len] = '\0';
    }
    if (is_text(m->model->fields[i].kind))
      *(char **)fptr(m, dst, i) = s;
    else
      ((uvsql_bytes_t *)fptr(m, dst, i))->ptr = s;
  }
  free(copy);
  return rc;
}

int uvsql__obj_snapshot(uvsql__obj_t *h) {
  void *snap = uvsql__struct_copy(h->mapper, uvsql__body(h));
  if (!snap)
    return UVSQL_ENOMEM;
  uvsql__snap_free(h, h->snap);
  h->snap = snap;
  h->given = 0; /* "changed by the program" is relative to the snapshot from now on */
  return 0;
}

/* Whether field i (bit) differs between structs a and b, whose null words are na and nb. Two
 * NULLs are equal whatever the bytes under them; text and bytes compare by content. */
static inline int field_differs(const uvsql_field_t *f, uint64_t bit, uint64_t na, uint64_t nb,
                                const unsigned char *a, const unsigned char *b) {
  const unsigned char *pa = a + f->offset, *pb = b + f->offset;
  switch (f->kind) {
  case UVSQL_FIELD_TEXT:
  case UVSQL_FIELD_JSON: {
    const char *sa = (na & bit) ? NULL : *(char *const *)pa;
    const char *sb = (nb & bit) ? NULL : *(char *const *)pb;
    if (!sa || !sb)
      return sa != sb;
    return strcmp(sa, sb) != 0;
  }
  case UVSQL_FIELD_BYTES: {
    const uvsql_bytes_t *x = (const uvsql_bytes_t *)pa, *y = (const uvsql_bytes_t *)pb;
    int za = (na & bit) || !x->ptr, zb = (nb & bit) || !y->ptr;
    if (za || zb)
      return za != zb;
    return x->len != y->len || (x->len != 0 && memcmp(x->ptr, y->ptr, x->len) != 0);
  }
  case UVSQL_FIELD_ARRAY: {
    const uvsql_array_t *x = (const uvsql_array_t *)pa, *y = (const uvsql_array_t *)pb;
    int za = (na & bit) || !x->items, zb = (nb & bit) || !y->items;
    if (za || zb)
      return za != zb;
    return uvsql__array_differs(x->items, x->n, y->items, y->n);
  }
  default:
    if ((na ^ nb) & bit)
      return 1;
    if (na & bit)
      return 0;
    switch (f->kind) {
    case UVSQL_FIELD_DOUBLE: /* the same bits are the same value (a NaN stays unchanged) */
      return !(*(const double *)pa == *(const double *)pb) && memcmp(pa, pb, sizeof(double)) != 0;
    case UVSQL_FIELD_BOOL:
      return !*(const int *)pa != !*(const int *)pb;
    case UVSQL_FIELD_NUMERIC: { /* every field, not the padding: 1.0 and 1.00 differ (scale) */
      const uvsql_numeric_t *x = (const void *)pa, *y = (const void *)pb;
      return x->coef_hi != y->coef_hi || x->coef_lo != y->coef_lo || x->scale != y->scale ||
             !x->negative != !y->negative || x->special != y->special;
    }
    case UVSQL_FIELD_UUID:
      return memcmp(pa, pb, sizeof(uvsql_uuid_t)) != 0;
    case UVSQL_FIELD_ENUM:
      return *(const int *)pa != *(const int *)pb;
    case UVSQL_FIELD_INTERVAL: {
      const uvsql_interval_t *x = (const void *)pa, *y = (const void *)pb;
      return x->months != y->months || x->days != y->days || x->us != y->us;
    }
    default:
      return *(const int64_t *)pa != *(const int64_t *)pb;
    }
  }
}

uint64_t uvsql__obj_changes(const uvsql__obj_t *h) {
  const uvsql_mapper_t *m = h->mapper;
  size_t n = m->model->nfields;
  uint64_t all = n == 64 ? ~UINT64_C(0) : (UINT64_C(1) << n) - 1;
  if (!h->snap)
    return all;
  const unsigned char *a = h->body, *b = h->snap;
  uint64_t na = *nulls(m, a), nb = *nulls(m, b), mask = 0;
  const uvsql_field_t *f = m->model->fields;
  for (size_t i = 0; i < n; i++)
    if (field_differs(&f[i], UINT64_C(1) << i, na, nb, a, b))
      mask |= UINT64_C(1) << i;
  return mask;
}

void uvsql__mapper_plan(uvsql_mapper_t *m) {
  const uvsql_model_t *md = m->model;
  size_t prefix = md->nulls_offset + sizeof(uint64_t);
  if (m->colmap) /* a subclass (inherit.c): its own fields follow the base's uvsql_nulls */
    prefix = md->size;
  m->nblobs = 0;
  m->blob_text = 0;
  for (size_t i = 0; i < md->nfields; i++)
    if (is_blob(md->fields[i].kind)) {
      m->blob_off[m->nblobs] = (uint32_t)md->fields[i].offset;
      if (is_text(md->fields[i].kind))
        m->blob_text |= UINT64_C(1) << m->nblobs;
      m->blobs[m->nblobs++] = (uint8_t)i;
    }
  m->nwords = 0;
  m->tail_off = (uint32_t)(prefix & ~(size_t)7);
  m->tail_len = (uint32_t)(prefix & 7);
  for (size_t w = 0; w + 8 <= prefix; w += 8) {
    unsigned char keep[8] = {1, 1, 1, 1, 1, 1, 1, 1};
    for (size_t k = 0; k < m->nblobs; k++) { /* blob bytes inside this word are not compared */
      const uvsql_field_t *f = &md->fields[m->blobs[k]];
      size_t lo = f->offset, hi = lo + blob_size(f->kind);
      for (size_t byte = w; byte < w + 8; byte++)
        if (byte >= lo && byte < hi)
          keep[byte - w] = 0;
    }
    if (m->colmap) { /* a subclass: its root's relationship fields (after the root's
                        uvsql_nulls, up to its size) are not columns */
      size_t lo = m->root->model->nulls_offset + sizeof(uint64_t), hi = m->root->model->size;
      for (size_t byte = w; byte < w + 8; byte++)
        if (byte >= lo && byte < hi)
          keep[byte - w] = 0;
    }
    uint64_t mask;
    unsigned char bytes[8];
    for (size_t byte = 0; byte < 8; byte++)
      bytes[byte] = keep[byte] ? 0xff : 0;
    memcpy(&mask, bytes, 8);
    if (!mask)
      continue;
    if (m->nwords == sizeof m->word_off / sizeof m->word_off[0]) {
      m->nwords = SIZE_MAX;
      return;
    }
    m->word_off[m->nwords] = (uint32_t)w;
    m->word_mask[m->nwords++] = mask;
  }
}

/* Bitwise-equal fixed fields and null words are equal fields (field_differs agrees), so only
 * a bitwise difference needs the exact comparison (e.g. a BOOL of 2 against 1). */
int uvsql__obj_modified(const uvsql__obj_t *h) {
  const uvsql_mapper_t *m = h->mapper;
  const unsigned char *a = h->body, *b = h->snap;
  size_t nw = m->nwords, nb = m->nblobs; /* locals: the byte reads below may alias m */
  if (!b || nw == SIZE_MAX)
    return !b || uvsql__obj_changes(h) != 0;
  const uint32_t *off = m->word_off;
  const uint64_t *mask = m->word_mask;
  uint64_t acc = 0;
#pragma GCC unroll 4
  for (size_t w = 0; w < nw; w++) {
    uint64_t x, y;
    memcpy(&x, a + off[w], 8);
    memcpy(&y, b + off[w], 8);
    acc |= (x ^ y) & mask[w];
  }
  if (acc || (m->tail_len && memcmp(a + m->tail_off, b + m->tail_off, m->tail_len) != 0))
    return uvsql__obj_changes(h) != 0;
  uint64_t na = *nulls(m, a); /* == the snapshot's: it was compared */
  uint64_t text = m->blob_text;
  const uint8_t *blobs = m->blobs;
  const uint32_t *boff = m->blob_off;
  for (size_t k = 0; k < nb; k++) {
    if (na >> blobs[k] & 1)
      continue;          /* NULL in both */
    if (text >> k & 1) { /* the common case, without the field's descriptor */
      const char *x, *y;
      memcpy(&x, a + boff[k], sizeof x);
      memcpy(&y, b + boff[k], sizeof y);
      if (x && y ? strcmp(x, y) != 0 : x != y)
        return 1;
    } else if (field_differs(&m->model->fields[blobs[k]], UINT64_C(1) << blobs[k], na, na, a, b)) {
      return 1;
    }
  }
  return 0;
}

/* ------------------------------------------------------------------ public setters */

static long field_of(uvsql__obj_t *h, const void *obj, const void *field) {
  if (!h)
    return -1;
  size_t off = (size_t)((const unsigned char *)field - (const unsigned char *)obj);
  for (size_t i = 0; i < h->mapper->model->nfields; i++)
    if (h->mapper->model->fields[i].offset == off)
      return (long)i;
  return -1;
}

int uvsql_orm_set_text(void *obj, char **field, const char *text) {
  uvsql__obj_t *h = uvsql__obj_check(obj);
  long i = field_of(h, obj, field);
  if (i < 0 || !is_text(h->mapper->model->fields[i].kind))
    return UVSQL_EINVALID_ARGUMENT;
  char *copy = text ? strdup(text) : NULL;
  if (text && !copy)
    return UVSQL_ENOMEM;
  free(*field);
  *field = copy;
  uvsql__field_set_null(h->mapper, obj, (size_t)i, text == NULL);
  h->given |= UINT64_C(1) << i;
  return 0;
}

int uvsql_orm_set_json(void *obj, char **field, const char *doc, uvsql_error_t *err) {
  uvsql__obj_t *h = uvsql__obj_check(obj);
  long i = field_of(h, obj, field);
  if (i < 0 || h->mapper->model->fields[i].kind != UVSQL_FIELD_JSON)
    return uvsql__error_set(err, UVSQL_EINVALID_ARGUMENT,
                            "uvsql_orm_set_json: the field is not a JSON field of the object");
  if (doc) {
    uvsql_error_t e;
    if (uvsql_json_validate(doc, strlen(doc), &e) != 0)
      return uvsql__error_set(err, e.code, "%s.%s: %s", h->mapper->model->type_name,
                              h->mapper->model->fields[i].name, e.message);
  }
  int rc = uvsql_orm_set_text(obj, field, doc);
  return rc ? uvsql__error_set(err, rc, "out of memory setting a JSON field") : 0;
}

int uvsql_orm_set_uuid(void *obj, uvsql_uuid_t *field, const uvsql_uuid_t *value) {
  uvsql__obj_t *h = uvsql__obj_check(obj);
  long i = field_of(h, obj, field);
  if (i < 0 || h->mapper->model->fields[i].kind != UVSQL_FIELD_UUID || !value)
    return UVSQL_EINVALID_ARGUMENT;
  *field = *value;
  uvsql__field_set_null(h->mapper, obj, (size_t)i, 0);
  h->given |= UINT64_C(1) << i;
  return 0;
}

int uvsql_orm_set_bytes(void *obj, uvsql_bytes_t *field, const void *ptr, size_t len) {
  uvsql__obj_t *h = uvsql__obj_check(obj);
  long i = field_of(h, obj, field);
  if (i < 0 || h->mapper->model->fields[i].kind != UVSQL_FIELD_BYTES)
    return UVSQL_EINVALID_ARGUMENT;
  void *copy = NULL;
  if (ptr) {
    if (!(copy = malloc(len ? len : 1)))
      return UVSQL_ENOMEM;
    if (len) /* an empty but not NULL value */
      memcpy(copy, ptr, len);
  }
  free(field->ptr);
  field->ptr = copy;
  field->len = ptr ? len : 0;
  uvsql__field_set_null(h->mapper, obj, (size_t)i, ptr == NULL);
  h->given |= UINT64_C(1) << i;
  return 0;
}

int uvsql_orm_set_null(void *obj, const void *field, int is_null) {
  uvsql__obj_t *h = uvsql__obj_check(obj);
  long i = field_of(h, obj, field);
  if (i < 0)
    return UVSQL_EINVALID_ARGUMENT;
  if (is_null)
    free_field(h->mapper, obj, (size_t)i);
  uvsql__field_set_null(h->mapper, obj, (size_t)i, is_null);
  h->given |= UINT64_C(1) << i;
  return 0;
}

/* The field of obj at `field` if it has one of the kinds in `kinds` (bits 1 << kind). */
static long typed_field(uvsql__obj_t *h, const void *obj, const void *field, unsigned kinds) {
  long i = field_of(h, obj, field);
  if (i < 0 || !(kinds & (1u << h->mapper->model->fields[i].kind)))
    return -1;
  return i;
}

static void given(uvsql__obj_t *h, void *obj, long i) {
  uvsql__field_set_null(h->mapper, obj, (size_t)i, 0);
  h->given |= UINT64_C(1) << i;
}

int uvsql_orm_set_int64(void *obj, int64_t *field, int64_t value) {
  uvsql__obj_t *h = uvsql__obj_check(obj);
  long i = typed_field(h, obj, field,
                       1u << UVSQL_FIELD_INT64 | 1u << UVSQL_FIELD_DATE | 1u << UVSQL_FIELD_TIME |
                           1u << UVSQL_FIELD_TIMESTAMP | 1u << UVSQL_FIELD_TIMESTAMPTZ);
  if (i < 0)
    return UVSQL_EINVALID_ARGUMENT;
  *field = value;
  given(h, obj, i);
  return 0;
}

int uvsql_orm_set_double(void *obj, double *field, double value) {
  uvsql__obj_t *h = uvsql__obj_check(obj);
  long i = typed_field(h, obj, field, 1u << UVSQL_FIELD_DOUBLE);
  if (i < 0)
    return UVSQL_EINVALID_ARGUMENT;
  *field = value;
  given(h, obj, i);
  return 0;
}

int uvsql_orm_set_bool(void *obj, int *field, int value) {
  uvsql__obj_t *h = uvsql__obj_check(obj);
  long i = typed_field(h, obj, field, 1u << UVSQL_FIELD_BOOL);
  if (i < 0)
    return UVSQL_EINVALID_ARGUMENT;
  *field = value != 0;
  given(h, obj, i);
  return 0;
}

int uvsql__numeric_fit(const uvsql_field_t *f, uvsql_numeric_t *n) {
  if (n->special || f->length <= 0 || f->length > 38)
    return 0; /* NaN/Infinity: the server says (PostgreSQL takes them); no precision: any */
  uvsql_numeric_t x = *n;
  /* exactly: drop trailing zeros past the scale, then add zeros up to it */
  while (x.scale > f->scale && uvsql_numeric_rescale(&x, x.scale - 1) == 0)
    ;
  if (x.scale > f->scale || uvsql_numeric_rescale(&x, f->scale) != 0)
    return UVSQL_EDATA;
  /* at most p digits in all: |x| <= 99...9 (p nines) at scale s */
  static const char nines[] = "99999999999999999999999999999999999999";
  uvsql_numeric_t lim, ax = x;
  if (uvsql_numeric_parse(nines, (size_t)f->length, &lim) != 0)
    return UVSQL_EDATA;
  lim.scale = x.scale;
  ax.negative = 0;
  if (uvsql_numeric_cmp(&ax, &lim) > 0)
    return UVSQL_EDATA;
  *n = x;
  return 0;
}

int uvsql_orm_set_numeric(void *obj, uvsql_numeric_t *field, const uvsql_numeric_t *value) {
  uvsql__obj_t *h = uvsql__obj_check(obj);
  long i = typed_field(h, obj, field, 1u << UVSQL_FIELD_NUMERIC);
  if (i < 0 || !value)
    return UVSQL_EINVALID_ARGUMENT;
  uvsql_numeric_t n = *value;
  if (uvsql__numeric_fit(&h->mapper->model->fields[i], &n) != 0)
    return UVSQL_EDATA;
  *field = n;
  given(h, obj, i);
  return 0;
}

int uvsql_orm_set_enum(void *obj, int *field, int index) {
  uvsql__obj_t *h = uvsql__obj_check(obj);
  long i = typed_field(h, obj, field, 1u << UVSQL_FIELD_ENUM);
  if (i < 0)
    return UVSQL_EINVALID_ARGUMENT;
  const uvsql_enum_type_t *e = h->mapper->model->fields[i].type_info;
  if (index < 0 || (size_t)index >= e->nlabels)
    return UVSQL_EINVALID_ARGUMENT;
  *field = index;
  given(h, obj, i);
  return 0;
}

int uvsql_orm_set_interval(void *obj, uvsql_interval_t *field, uvsql_interval_t value) {
  uvsql__obj_t *h = uvsql__obj_check(obj);
  long i = typed_field(h, obj, field, 1u << UVSQL_FIELD_INTERVAL);
  if (i < 0)
    return UVSQL_EINVALID_ARGUMENT;
  *field = value;
  given(h, obj, i);
  return 0;
}

int uvsql_orm_mark_set(void *obj, const void *field) {
  uvsql__obj_t *h = uvsql__obj_check(obj);
  long i = field_of(h, obj, field);
  if (i < 0)
    return UVSQL_EINVALID_ARGUMENT;
  h->given |= UINT64_C(1) << i;
  return 0;
}

int uvsql_orm_unset(void *obj, const void *field) {
  uvsql__obj_t *h = uvsql__obj_check(obj);
  long i = field_of(h, obj, field);
  if (i < 0)
    return UVSQL_EINVALID_ARGUMENT;
  const uvsql_field_t *f = &h->mapper->model->fields[i];
  free_field(h->mapper, obj, (size_t)i);
  if (f->kind == UVSQL_FIELD_DOUBLE)
    memset((unsigned char *)obj + f->offset, 0, sizeof(double));
  else if (f->kind == UVSQL_FIELD_BOOL || f->kind == UVSQL_FIELD_ENUM)
    memset((unsigned char *)obj + f->offset, 0, sizeof(int));
  else if (f->kind == UVSQL_FIELD_NUMERIC)
    memset((unsigned char *)obj + f->offset, 0, sizeof(uvsql_numeric_t));
  else if (f->kind == UVSQL_FIELD_UUID)
    memset((unsigned char *)obj + f->offset, 0, sizeof(uvsql_uuid_t));
  else if (f->kind == UVSQL_FIELD_INTERVAL)
    memset((unsigned char *)obj + f->offset, 0, sizeof(uvsql_interval_t));
  else if (f->kind == UVSQL_FIELD_ENUM)
    memset((unsigned char *)obj + f->offset, 0, sizeof(int));
  else if (!is_blob(f->kind))
    memset((unsigned char *)obj + f->offset, 0, sizeof(int64_t));
  uvsql__field_set_null(h->mapper, obj, (size_t)i, 0);
  h->given &= ~(UINT64_C(1) << i);
  return 0;
}

int uvsql_orm_is_set(const void *obj, const void *field) {
  uvsql__obj_t *h = uvsql__obj_check(obj);
  long i = field_of(h, obj, field);
  return i < 0 ? -1 : uvsql__field_given(h, (size_t)i);
}

int uvsql__field_given(const uvsql__obj_t *h, size_t i) {
  const uvsql_mapper_t *m = h->mapper;
  const void *st = h->body;
  uint64_t bit = UINT64_C(1) << i;
  if ((h->given & bit) || (*nulls(m, st) & bit))
    return 1;
  const unsigned char *p = fptr(m, st, i);
  switch (m->model->fields[i].kind) {
  case UVSQL_FIELD_TEXT:
  case UVSQL_FIELD_JSON:
    return *(char *const *)p != NULL;
  case UVSQL_FIELD_UUID: {
    static const uvsql_uuid_t nil;
    return memcmp(p, &nil, sizeof nil) != 0;
  }
  case UVSQL_FIELD_BYTES:
    return ((const uvsql_bytes_t *)p)->ptr != NULL;
  case UVSQL_FIELD_ARRAY:
    return ((const uvsql_array_t *)p)->items != NULL;
  case UVSQL_FIELD_BOOL:
  case UVSQL_FIELD_ENUM: /* index 0 unset, as 0 of an INT64: set it with uvsql_orm_set_enum */
    return *(const int *)p != 0;
  case UVSQL_FIELD_INTERVAL: {
    const uvsql_interval_t *iv = (const void *)p;
    return iv->months != 0 || iv->days != 0 || iv->us != 0;
  }
  case UVSQL_FIELD_DOUBLE: { /* any bit: -0.0 was written on purpose */
    uint64_t x;
    memcpy(&x, p, sizeof x);
    return x != 0;
  }
  case UVSQL_FIELD_NUMERIC: { /* not zero: 0.00 (scale 2) was written on purpose too */
    const uvsql_numeric_t *n = (const void *)p;
    return (n->coef_hi | n->coef_lo) != 0 || n->scale != 0 || n->special != 0;
  }
  default:
    return *(const int64_t *)p != 0;
  }
}

int uvsql__field_set_value(const uvsql_mapper_t *m, void *st, size_t i, const uvsql_value_t *v) {
  const uvsql_field_t *f = &m->model->fields[i];
  void *p = fptr(m, st, i);
  uvsql_type_t t = v->type;
  if (t == UVSQL_TYPE_NULL) {
    free_field(m, st, i);
    uvsql__field_set_null(m, st, i, 1);
    return 0;
  }
  switch (f->kind) {
  case UVSQL_FIELD_INT64:
    if (t != UVSQL_TYPE_INT64 && t != UVSQL_TYPE_BOOL)
      return UVSQL_EINVALID_ARGUMENT;
    *(int64_t *)p = t == UVSQL_TYPE_BOOL ? (int64_t)v->u.b : v->u.i64;
    break;
  case UVSQL_FIELD_DOUBLE:
    if (t != UVSQL_TYPE_DOUBLE && t != UVSQL_TYPE_INT64)
      return UVSQL_EINVALID_ARGUMENT;
    *(double *)p = t == UVSQL_TYPE_INT64 ? (double)v->u.i64 : v->u.f64;
    break;
  case UVSQL_FIELD_BOOL:
    if (t != UVSQL_TYPE_BOOL && t != UVSQL_TYPE_INT64)
      return UVSQL_EINVALID_ARGUMENT;
    *(int *)p = t == UVSQL_TYPE_BOOL ? (v->u.b != 0) : (v->u.i64 != 0);
    break;
  case UVSQL_FIELD_TEXT:
  case UVSQL_FIELD_JSON:
  case UVSQL_FIELD_BYTES: {
    if (t != UVSQL_TYPE_TEXT && t != UVSQL_TYPE_JSON &&
        !(t == UVSQL_TYPE_BYTES && f->kind == UVSQL_FIELD_BYTES))
      return UVSQL_EINVALID_ARGUMENT;
    size_t len = v->u.s.len;
    char *copy = malloc(len + 1);
    if (!copy)
      return UVSQL_ENOMEM;
    if (len)
      memcpy(copy, v->u.s.ptr, len);
    copy[len] = '\0';
    free_field(m, st, i);
    if (is_text(f->kind)) {
      *(char **)p = copy;
    } else {
      ((uvsql_bytes_t *)p)->ptr = copy;
      ((uvsql_bytes_t *)p)->len = len;
    }
    break;
  }
  case UVSQL_FIELD_DATE:
  case UVSQL_FIELD_TIME:
  case UVSQL_FIELD_TIMESTAMP: {
    uvsql_type_t want = f->kind == UVSQL_FIELD_DATE   ? UVSQL_TYPE_DATE
                        : f->kind == UVSQL_FIELD_TIME ? UVSQL_TYPE_TIME
                                                      : UVSQL_TYPE_TIMESTAMP;
    if (t != want && !(want == UVSQL_TYPE_TIMESTAMP && t == UVSQL_TYPE_TIMESTAMPTZ))
      return UVSQL_EINVALID_ARGUMENT;
    *(int64_t *)p = v->u.i64;
    break;
  }
  case UVSQL_FIELD_TIMESTAMPTZ:
    if (t != UVSQL_TYPE_TIMESTAMPTZ && t != UVSQL_TYPE_TIMESTAMP)
      return UVSQL_EINVALID_ARGUMENT;
    *(int64_t *)p = v->u.i64;
    break;
  case UVSQL_FIELD_NUMERIC: {
    uvsql_numeric_t n;
    if ((t != UVSQL_TYPE_NUMERIC && t != UVSQL_TYPE_INT64) || uvsql__value_numeric(v, &n) != 0 ||
        uvsql__numeric_fit(f, &n) != 0)
      return UVSQL_EINVALID_ARGUMENT;
    *(uvsql_numeric_t *)p = n;
    break;
  }
  case UVSQL_FIELD_UUID:
    if (uvsql__uuid_of_value(v, (uvsql_uuid_t *)p) != 0)
      return UVSQL_EINVALID_ARGUMENT;
    break;
  case UVSQL_FIELD_ENUM: {
    int x;
    if (uvsql__enum_index(f->type_info, v, &x) != 0)
      return UVSQL_EINVALID_ARGUMENT;
    *(int *)p = x;
    break;
  }
  case UVSQL_FIELD_INTERVAL:
    if (t == UVSQL_TYPE_INTERVAL)
      *(uvsql_interval_t *)p = v->u.iv;
    else if (t != UVSQL_TYPE_TEXT || uvsql_parse_interval(v->u.s.ptr, v->u.s.len, p) != 0)
      return UVSQL_EINVALID_ARGUMENT;
    break;
  case UVSQL_FIELD_ARRAY: {
    int rc = uvsql__array_set_value(f, p, v);
    if (rc)
      return rc;
    break;
  }
    return UVSQL_EINVALID_ARGUMENT;
  }
  uvsql__field_set_null(m, st, i, 0);
  return 0;
}

int uvsql__enum_index(const uvsql_enum_type_t *e, const uvsql_value_t *v, int *index) {
  if (v->type == UVSQL_TYPE_INT64) {
    if (v->u.i64 < 0 || (uint64_t)v->u.i64 >= e->nlabels)
      return -1;
    *index = (int)v->u.i64;
    return 0;
  }
  if (v->type != UVSQL_TYPE_ENUM && v->type != UVSQL_TYPE_TEXT)
    return -1;
  for (size_t k = 0; k < e->nlabels; k++)
    if (strlen(e->labels[k]) == v->u.s.len && memcmp(e->labels[k], v->u.s.ptr, v->u.s.len) == 0) {
      *index = (int)k;
      return 0;
    }
  return -1;
}

int uvsql_orm_is_null(const void *obj, const void *field) {
  uvsql__obj_t *h = uvsql__obj_check(obj);
  long i = field_of(h, obj, field);
  return i >= 0 && uvsql__field_is_null(h->mapper, obj, (size_t)i);
}

int uvsql_orm_link(void *child, const void *fk_field, void *parent) {
  uvsql__obj_t *h = uvsql__obj_check(child);
  long i = field_of(h, child, fk_field);
  if (i < 0)
    return UVSQL_EINVALID_ARGUMENT;
  return uvsql__link_part(child, (size_t)i, parent, 0);
}

int uvsql__link_part(void *child, size_t i, void *parent, size_t pkpos) {
  uvsql__obj_t *h = uvsql__obj_check(child);
  if (!h || i >= h->mapper->model->nfields || (parent && !uvsql__obj_check(parent)))
    return UVSQL_EINVALID_ARGUMENT;
  for (size_t k = 0; k < h->nlinks; k++) {
    if (h->links[k].field != i)
      continue;
    if (parent) {
      h->links[k].parent = parent;
      h->links[k].pkpos = pkpos;
    } else {
      h->links[k] = h->links[--h->nlinks];
    }
    return 0;
  }
  if (!parent)
    return 0;
  uvsql__link_t *l = realloc(h->links, (h->nlinks + 1u) * sizeof *l);
  if (!l)
    return UVSQL_ENOMEM;
  h->links = l;
  l[h->nlinks].field = i;
  l[h->nlinks].parent = parent;
  l[h->nlinks].pkpos = pkpos;
  h->nlinks++;
  return 0;
}
