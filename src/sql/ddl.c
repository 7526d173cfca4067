/* src/sql/ddl.c — DDL: CREATE TABLE / CREATE INDEX / DROP TABLE statements from metadata, and
 * the foreign-key dependency order create_all and drop_all follow.
 *
 * Every statement is idempotent (IF NOT EXISTS / IF EXISTS), so create_all can run on a
 * database that already has some of the tables. Column types and autoincrement clauses come
 * from the dialect; constraints are written at table level, one line, in declaration order:
 * columns, PRIMARY KEY, UNIQUE, CHECK, FOREIGN KEY.
 */
#include <stdlib.h>
#include <string.h>
#include "dialect.h"

static uvsql_core_stmt_t *ddl_new(uvsql_table_t *t, uvsql__ddl_t kind, size_t i, const char *fn) {
  uvsql_core_stmt_t *s = uvsql__stmt_new(UVSQL__S_DDL);
  if (!s)
    return NULL;
  s->table = t;
  s->ddl = kind;
  s->ddl_index = i;
  if (!t)
    uvsql__fail(s, UVSQL_EINVALID_ARGUMENT, "%s: table is NULL", fn);
  else if (t->md->err.code)
    uvsql__fail(s, t->md->err.code, "%s", t->md->err.message);
  else if (kind == UVSQL__DDL_CREATE_INDEX && i >= t->indexes.n)
    uvsql__fail(s, UVSQL_EINVALID_ARGUMENT,
                "%s: table %s has %u index(es), so no index %zu (indexes count "
                "from 0 in declaration order)",
                fn, t->name, t->indexes.n, i);
  return s;
}

uvsql_core_stmt_t *uvsql_create_table(uvsql_table_t *t) {
  return ddl_new(t, UVSQL__DDL_CREATE_TABLE, 0, "uvsql_create_table");
}
uvsql_core_stmt_t *uvsql_create_index(uvsql_table_t *t, size_t i) {
  return ddl_new(t, UVSQL__DDL_CREATE_INDEX, i, "uvsql_create_index");
}
uvsql_core_stmt_t *uvsql_drop_table(uvsql_table_t *t) {
  return ddl_new(t, UVSQL__DDL_DROP_TABLE, 0, "uvsql_drop_table");
}

size_t uvsql__index_count(const uvsql_table_t *t) {
  return t->indexes.n;
}

static void name_list(uvsql__compiler_t *c, const uvsql_table_t *t, const char *const *names,
                      size_t n) {
  uvsql__c_putn(c, "(", 1);
  for (size_t i = 0; i < n; i++) {
    if (t && !uvsql_table_column(t, names[i]))
      uvsql__c_fail(c, UVSQL_EINVALID_ARGUMENT, "table %s has no column %s", t->name, names[i]);
    if (i)
      uvsql__c_putn(c, ", ", 2);
    uvsql__c_ident(c, names[i]);
  }
  uvsql__c_putn(c, ")", 1);
}

static void constraint_name(uvsql__compiler_t *c, const char *name) {
  if (name) {
    uvsql__c_puts(c, "CONSTRAINT ");
    uvsql__c_ident(c, name);
    uvsql__c_putn(c, " ", 1);
  }
}

static const char *action(uvsql_fk_action_t a) {
  switch (a) {
  case UVSQL_FK_RESTRICT:
    return "RESTRICT";
  case UVSQL_FK_CASCADE:
    return "CASCADE";
  case UVSQL_FK_SET_NULL:
    return "SET NULL";
  case UVSQL_FK_SET_DEFAULT:
    return "SET DEFAULT";
  default:
    return NULL;
  }
}

static void foreign_key(uvsql__compiler_t *c, const uvsql_table_t *t, const uvsql__fk_t *fk) {
  const uvsql_table_t *ref = uvsql_metadata_table(t->md, fk->reftable);
  if (!ref) {
    uvsql__c_fail(c, UVSQL_EINVALID_ARGUMENT,
                  "a foreign key of %s references table %s, which the metadata does not have",
                  t->name, fk->reftable);
    return;
  }
  const char *pk[16];
  const char *const *refcols = (const char *const *)fk->refcols;
  if (!refcols) {
    if (ref->pk.n != fk->ncols || ref->pk.n > 16) {
      uvsql__c_fail(c, UVSQL_EINVALID_ARGUMENT,
                    "a foreign key of %s has %zu columns but %s's primary key has %u: name the "
                    "referenced columns",
                    t->name, fk->ncols, ref->name, ref->pk.n);
      return;
    }
    for (uint32_t i = 0; i < ref->pk.n; i++)
      pk[i] = ((uvsql_column_t *)ref->pk.items[i])->name;
    refcols = pk;
  }
  uvsql__c_putn(c, ", ", 2);
  constraint_name(c, fk->name);
  uvsql__c_puts(c, "FOREIGN KEY ");
  name_list(c, t, (const char *const *)fk->cols, fk->ncols);
  uvsql__c_puts(c, " REFERENCES ");
  uvsql__c_ident(c, ref->name);
  uvsql__c_putn(c, " ", 1);
  name_list(c, ref, refcols, fk->ncols);
  if (action(fk->on_delete)) {
    uvsql__c_puts(c, " ON DELETE ");
    uvsql__c_puts(c, action(fk->on_delete));
  }
  if (action(fk->on_update)) {
    uvsql__c_puts(c, " ON UPDATE ");
    uvsql__c_puts(c, action(fk->on_update));
  }
}

static void create_table(uvsql__compiler_t *c, const uvsql_table_t *t) {
  if (!t->columns.n) {
    uvsql__c_fail(c, UVSQL_EINVALID_ARGUMENT,
                  "table %s has no columns: declare them with uvsql_column", t->name);
    return;
  }
  uvsql__c_puts(c, "CREATE TABLE IF NOT EXISTS ");
  uvsql__c_ident(c, t->name);
  uvsql__c_puts(c, " (");
  int pk_inline = 0;
  for (uint32_t i = 0; i < t->columns.n; i++) {
    const uvsql_column_t *col = t->columns.items[i];
    if (i)
      uvsql__c_putn(c, ", ", 2);
    uvsql__c_ident(c, col->name);
    uvsql__c_putn(c, " ", 1);
    if (uvsql__column_autoinc(col))
      c->d->autoinc(c, col, &pk_inline);
    else
      c->d->type(c, col->type, UVSQL__TYPE_DDL);
    if (col->flags & UVSQL_NOT_NULL)
      uvsql__c_puts(c, " NOT NULL");
    if (col->server_default) {
      uvsql__c_puts(c, " DEFAULT ");
      uvsql__c_puts(c, col->server_default);
    }
  }
  if (t->pk.n && !pk_inline) {
    uvsql__c_puts(c, ", PRIMARY KEY (");
    for (uint32_t i = 0; i < t->pk.n; i++) {
      if (i)
        uvsql__c_putn(c, ", ", 2);
      uvsql__c_ident(c, ((uvsql_column_t *)t->pk.items[i])->name);
    }
    uvsql__c_putn(c, ")", 1);
  }
  for (uint32_t i = 0; i < t->uniques.n; i++) {
    const uvsql__constraint_t *k = t->uniques.items[i];
    uvsql__c_putn(c, ", ", 2);
    constraint_name(c, k->name);
    uvsql__c_puts(c, "UNIQUE ");
    name_list(c, t, (const char *const *)k->cols, k->ncols);
  }
  for (uint32_t i = 0; i < t->checks.n; i++) {
    const uvsql__constraint_t *k = t->checks.items[i];
    uvsql__c_putn(c, ", ", 2);
    constraint_name(c, k->name);
    uvsql__c_puts(c, "CHECK (");
    uvsql__c_puts(c, k->check);
    uvsql__c_putn(c, ")", 1);
  }
  for (uint32_t i = 0; i < t->fks.n; i++)
    foreign_key(c, t, t->fks.items[i]);
  uvsql__c_putn(c, ")", 1);
}

void uvsql__c_ddl(uvsql__compiler_t *c, uvsql_core_stmt_t *s) {
  const uvsql_table_t *t = s->table;
  switch (s->ddl) {
  case UVSQL__DDL_CREATE_TABLE:
    create_table(c, t);
    return;
  case UVSQL__DDL_CREATE_INDEX: {
    const uvsql__constraint_t *k = t->indexes.items[s->ddl_index];
    uvsql__c_puts(c,
                  k->unique ? "CREATE UNIQUE INDEX IF NOT EXISTS " : "CREATE INDEX IF NOT EXISTS ");
    uvsql__c_ident(c, k->name);
    uvsql__c_puts(c, " ON ");
    uvsql__c_ident(c, t->name);
    uvsql__c_putn(c, " ", 1);
    name_list(c, t, (const char *const *)k->cols, k->ncols);
    return;
  }
  case UVSQL__DDL_DROP_TABLE:
    uvsql__c_puts(c, "DROP TABLE IF EXISTS ");
    uvsql__c_ident(c, t->name);
    return;
  }
}

/* Depth-first: a table is placed after every table it references. state: 0 new, 1 on the
 * path, 2 placed. */
static int visit(uvsql_metadata_t *md, uvsql_table_t *t, unsigned char *state, uvsql_table_t **out,
                 size_t *n, uvsql_error_t *err) {
  size_t i = 0;
  while (md->tables.items[i] != t)
    i++;
  if (state[i] == 2)
    return 0;
  if (state[i] == 1)
    return uvsql__error_set(err, UVSQL_ENOT_SUPPORTED,
                            "the foreign keys of table %s form a cycle: create_all cannot order "
                            "it (drop one of the foreign keys, or create it with ALTER TABLE)",
                            t->name);
  state[i] = 1;
  for (uint32_t k = 0; k < t->fks.n; k++) {
    const uvsql__fk_t *fk = t->fks.items[k];
    uvsql_table_t *ref = uvsql_metadata_table(md, fk->reftable);
    if (ref && ref != t) {
      int rc = visit(md, ref, state, out, n, err);
      if (rc)
        return rc;
    }
  }
  state[i] = 2;
  out[(*n)++] = t;
  return 0;
}

int uvsql__sort_tables(uvsql_metadata_t *md, uvsql_table_t ***out, size_t *n, uvsql_error_t *err) {
  size_t nt = md->tables.n;
  uvsql_table_t **sorted = malloc((nt ? nt : 1) * sizeof *sorted);
  unsigned char *state = calloc(nt ? nt : 1, 1);
  int rc = 0;
  *n = 0;
  if (!sorted || !state) {
    rc = uvsql__error_set(err, UVSQL_ENOMEM, "out of memory");
  } else {
    for (size_t i = 0; i < nt && !rc; i++)
      rc = visit(md, md->tables.items[i], state, sorted, n, err);
  }
  free(state);
  if (rc) {
    free(sorted);
    return rc;
  }
  *out = sorted;
  return 0;
}
