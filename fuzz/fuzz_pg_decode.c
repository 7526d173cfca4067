/* fuzz/fuzz_pg_decode.c — libFuzzer target: the PostgreSQL value decoders (text and binary
 * formats) fed hostile server bytes, without a server: the input becomes a PGresult made with
 * libpq's PQmakeEmptyPGresult/PQsetResultAttrs/PQsetvalue, decoded by uvsql__pg_decode_append
 * (streaming) and uvsql__pg_decode, then every cell is read back.
 * Input: byte 0: columns (1-4); then per column a type byte (an OID of the list below) and a
 * format byte (odd: binary); then cells row by row: a length byte (255: NULL) and the bytes. */
#include <stdlib.h>
#include <string.h>
#include "dialects/postgresql/pg.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static const Oid oids[] = {16,   17,   18,   19,   20,   21,   23,   25,   26,   114,  700,
                           701,  705,  1042, 1043, 1082, 1083, 1114, 1184, 1186, 1266, 1700,
                           2950, 3802, 1000, 1001, 1007, 1009, 1016, 1022, 1185, 1187, 2951};

static void read_back(const uvsql_result_t *r) {
  for (size_t row = 0; row < uvsql_result_nrows(r); row++)
    for (size_t col = 0; col < uvsql_result_ncols(r); col++) {
      const uvsql_value_t *v = uvsql_result_value(r, row, col);
      const char *s;
      const void *b;
      size_t len;
      int64_t i;
      double d;
      int flag;
      if (v && (v->type == UVSQL_TYPE_TEXT || v->type == UVSQL_TYPE_BYTES) && v->u.s.len) {
        volatile char first = v->u.s.ptr[0], last = v->u.s.ptr[v->u.s.len - 1];
        (void)first;
        (void)last;
      }
      (void)uvsql_result_text(r, row, col, &s, &len);
      (void)uvsql_result_bytes(r, row, col, &b, &len);
      (void)uvsql_result_int64(r, row, col, &i);
      (void)uvsql_result_double(r, row, col, &d);
      (void)uvsql_result_bool(r, row, col, &flag);
      (void)uvsql_result_timestamp(r, row, col, &i);
      uvsql_interval_t iv;
      (void)uvsql_result_interval(r, row, col, &iv);
      const uvsql_value_t *items;
      if (uvsql_result_array(r, row, col, &items, &len) == 0)
        for (size_t k = 0; k < len; k++) /* the items and their text are the result's */
          if ((items[k].type == UVSQL_TYPE_TEXT || items[k].type == UVSQL_TYPE_BYTES) &&
              items[k].u.s.len) {
            volatile char first = items[k].u.s.ptr[0],
                          last = items[k].u.s.ptr[items[k].u.s.len - 1];
            (void)first;
            (void)last;
          }
    }
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
  if (size < 1)
    return 0;
  int ncols = 1 + data[0] % 4;
  size_t pos = 1;
  if (size < pos + 2 * (size_t)ncols)
    return 0;
  PGresAttDesc attrs[4];
  char names[4][4];
  for (int c = 0; c < ncols; c++) {
    names[c][0] = 'c';
    names[c][1] = (char)('0' + c);
    names[c][2] = 0;
    memset(&attrs[c], 0, sizeof attrs[c]);
    attrs[c].name = names[c];
    attrs[c].typid = oids[data[pos++] % (sizeof oids / sizeof oids[0])];
    attrs[c].format = data[pos++] & 1;
    attrs[c].typlen = -1;
    attrs[c].atttypmod = -1;
  }
  PGresult *res = PQmakeEmptyPGresult(NULL, PGRES_TUPLES_OK);
  if (!res || !PQsetResultAttrs(res, ncols, attrs)) {
    PQclear(res);
    return 0;
  }
  int rows = 0;
  for (int col = 0; pos < size && rows < 16;) {
    size_t len = data[pos++];
    if (len == 255) {
      PQsetvalue(res, rows, col, NULL, -1);
    } else {
      if (len > size - pos)
        len = size - pos;
      /* PQsetvalue copies: a heap copy of exactly len bytes lets ASan see an overread */
      char *cell = malloc(len ? len : 1);
      memcpy(cell, data + pos, len);
      PQsetvalue(res, rows, col, cell, (int)len);
      free(cell);
      pos += len;
    }
    if (++col == ncols) {
      col = 0;
      rows++;
    }
  }
  uvsql_error_t err;
  uvsql_result_t *batch = NULL;
  for (int row = 0; row < PQntuples(res); row++)
    if (uvsql__pg_decode_append(res, row, &batch, (size_t)PQntuples(res), &err) != 0)
      break;
  if (batch)
    read_back(batch);
  uvsql_result_free(batch);
  uvsql_result_t *out = NULL;
  if (uvsql__pg_decode(res, &out, &err) == 0) /* takes res */
    read_back(out);
  uvsql_result_free(out);
  return 0;
}
