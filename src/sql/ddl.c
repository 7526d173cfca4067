/* src/sql/ddl.c — DDL: CREATE TABLE / CREATE INDEX / DROP TABLE statements from metadata, the
 * ALTER TABLE statements of use_alter foreign keys, and the foreign-key dependency order
 * create_all and drop_all follow.
 *
 * Every statement is idempotent (IF NOT EXISTS / IF EXISTS), so create_all can run on a
 * database that already has some of the tables. Column types and autoincrement clauses come
 * from the dialect; constraints are written at table level, one line, in declaration order:
 * columns, PRIMARY KEY, UNIQUE, CHECK, FOREIGN KEY.
 *
 * A use_alter foreign key is left out of CREATE TABLE and of the table order where the dialect
 * can ALTER TABLE ADD a constraint (UVSQL__D_ALTER_FK): PostgreSQL drops it if it exists and
 * adds it in one ALTER TABLE, MariaDB adds it IF NOT EXISTS. On SQLite it stays in CREATE
 * TABLE (SQLite accepts a reference to a table made later) and only the order ignores it.
 */
#include <stdio.h>
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
uvsql_core_stmt_t *uvsql__enum_type_ddl(uvsql_table_t *t, size_t col, int create) {
  return ddl_new(t, create ? UVSQL__DDL_CREATE_TYPE : UVSQL__DDL_DROP_TYPE, col,
                 "uvsql__enum_type_ddl");
}
uvsql_core_stmt_t *uvsql__alter_fk(uvsql_table_t *t, size_t i, int add) {
  return ddl_new(t, add ? UVSQL__DDL_ADD_FK : UVSQL__DDL_DROP_FK, i, "uvsql__alter_fk");
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

/* The name of a use_alter foreign key: its own, else fk_<table>_<col>[_<col>...], shortened
 * past 60 characters to 51 and an FNV-1a hash of the whole (identifiers end at 63/64). */
static void fk_name(const uvsql_table_t *t, const uvsql__fk_t *fk, char out[64]) {
  if (fk->name) {
    snprintf(out, 64, "%s", fk->name);
    return;
  }
  char full[512];
  size_t n = (size_t)snprintf(full, sizeof full, "fk_%s", t->name);
  for (size_t i = 0; i < fk->ncols && n < sizeof full; i++)
    n += (size_t)snprintf(full + n, sizeof full - n, "_%s", fk->cols[i]);
  size_t len = strlen(full);
  if (len <= 60) {
    memcpy(out, full, len + 1);
    return;
  }
  uint32_t h = 2166136261u;
  for (const char *p = full; *p; p++)
    h = (h ^ (unsigned char)*p) * 16777619u;
  snprintf(out, 64, "%.51s_%08x", full, (unsigned)h);
}

/* Writes [CONSTRAINT name] FOREIGN KEY [IF NOT EXISTS] (cols) REFERENCES ref (cols) [ON ...]. */
static void fk_clause(uvsql__compiler_t *c, const uvsql_table_t *t, const uvsql__fk_t *fk,
                      const char *name, int if_not_exists) {
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
  constraint_name(c, name);
  uvsql__c_puts(c, if_not_exists ? "FOREIGN KEY IF NOT EXISTS " : "FOREIGN KEY ");
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

/* Whether fk is created apart from its table (after every table) in this dialect. */
static int fk_apart(uvsql__compiler_t *c, const uvsql__fk_t *fk) {
  return fk->use_alter && (c->d->features & UVSQL__D_ALTER_FK);
}

static void alter_fk(uvsql__compiler_t *c, const uvsql_table_t *t, size_t i, int add) {
  const uvsql__fk_t *fk = t->fks.items[i];
  char name[64];
  fk_name(t, fk, name);
  int my = strcmp(c->d->name, "mariadb") == 0;
  if (!fk_apart(c, fk)) {
    uvsql__c_fail(c, UVSQL_ENOT_SUPPORTED,
                  "foreign key %s of %s: the %s dialect cannot ALTER TABLE it (only a use_alter "
                  "key on PostgreSQL or MariaDB is)",
                  name, t->name, c->d->name);
    return;
  }
  uvsql__c_puts(c, add ? "ALTER TABLE " : "ALTER TABLE IF EXISTS ");
  uvsql__c_ident(c, t->name);
  if (!add) {
    uvsql__c_puts(c, my ? " DROP FOREIGN KEY IF EXISTS " : " DROP CONSTRAINT IF EXISTS ");
    uvsql__c_ident(c, name);
    return;
  }
  if (!my) { /* PostgreSQL has no ADD CONSTRAINT IF NOT EXISTS: drop and add in one statement */
    uvsql__c_puts(c, " DROP CONSTRAINT IF EXISTS ");
    uvsql__c_ident(c, name);
    uvsql__c_putn(c, ",", 1);
  }
  uvsql__c_puts(c, " ADD ");
  fk_clause(c, t, fk, name, my);
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
    if (col->type.kind == UVSQL_SQLT_ENUM && (c->d->features & UVSQL__D_ENUM_CHECK)) {
      uvsql__c_puts(c, " CHECK (");
      uvsql__c_ident(c, col->name);
      uvsql__c_puts(c, " IN ");
      uvsql__c_enum_labels(c, col->type.enum_type, 0);
      uvsql__c_putn(c, ")", 1);
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
  for (uint32_t i = 0; i < t->fks.n; i++) {
    const uvsql__fk_t *fk = t->fks.items[i];
    if (fk_apart(c, fk))
      continue;
    uvsql__c_putn(c, ", ", 2);
    fk_clause(c, t, fk, fk->name, 0);
  }
  uvsql__c_putn(c, ")", 1);
}

/* PostgreSQL's CREATE TYPE has no IF NOT EXISTS: a DO block creates the type and ignores
 * duplicate_object, so create_all stays idempotent (an existing type is kept as it is, as
 * SQLAlchemy's checkfirst does). The labels are string literals inside the $uvsql$ body. */
static void enum_type(uvsql__compiler_t *c, const uvsql_table_t *t, size_t i, int create) {
  const uvsql_column_t *col = i < t->columns.n ? t->columns.items[i] : NULL;
  const uvsql_enum_type_t *e = col ? col->type.enum_type : NULL;
  if (!col || col->type.kind != UVSQL_SQLT_ENUM || !e || !e->name || !*e->name) {
    uvsql__c_fail(c, UVSQL_EINVALID_ARGUMENT,
                  "table %s: column %zu is not an ENUM with a named uvsql_enum_type_t", t->name, i);
    return;
  }
  if (!(c->d->features & UVSQL__D_ENUM_TYPE)) {
    uvsql__c_fail(c, UVSQL_ENOT_SUPPORTED, "the %s dialect has no CREATE TYPE for ENUM %s",
                  c->d->name, e->name);
    return;
  }
  if (!create) {
    uvsql__c_puts(c, "DROP TYPE IF EXISTS ");
    uvsql__c_ident(c, e->name);
    return;
  }
  for (size_t k = 0; k < e->nlabels; k++)
    if (e->labels && e->labels[k] && strstr(e->labels[k], "$uvsql$")) {
      uvsql__c_fail(c, UVSQL_EINVALID_ARGUMENT,
                    "enum type %s: label %zu holds \"$uvsql$\", which create_all's DO block "
                    "cannot quote",
                    e->name, k);
      return;
    }
  uvsql__c_puts(c, "DO $uvsql$ BEGIN CREATE TYPE ");
  uvsql__c_ident(c, e->name);
  uvsql__c_puts(c, " AS ENUM ");
  uvsql__c_enum_labels(c, e, 0);
  uvsql__c_puts(c, "; EXCEPTION WHEN duplicate_object THEN NULL; END $uvsql$");
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
  case UVSQL__DDL_ADD_FK:
  case UVSQL__DDL_DROP_FK:
    alter_fk(c, t, s->ddl_index, s->ddl == UVSQL__DDL_ADD_FK);
    return;
  case UVSQL__DDL_CREATE_TYPE:
  case UVSQL__DDL_DROP_TYPE:
    enum_type(c, t, s->ddl_index, s->ddl == UVSQL__DDL_CREATE_TYPE);
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
                            "it (declare one of the foreign keys of the cycle with "
                            "uvsql_column_references_use_alter, created by ALTER TABLE after "
                            "the tables)",
                            t->name);
  state[i] = 1;
  for (uint32_t k = 0; k < t->fks.n; k++) {
    const uvsql__fk_t *fk = t->fks.items[k];
    uvsql_table_t *ref = fk->use_alter ? NULL : uvsql_metadata_table(md, fk->reftable);
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
