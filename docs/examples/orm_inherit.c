/* docs/examples/orm_inherit.c — the tutorial's "Single-table inheritance" section: employees
 * and engineers on one table with a discriminator; a select of the base returns each row as
 * the class its discriminator names. It checks what it shows and exits 1 when something
 * differs.
 *
 * Usage: orm_inherit [URL]   (default sqlite:///orm_inherit.db)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uvsql.h>

// clang-format off
/* snippet:orm_inherit.1 */
#define EMPLOYEE_FIELDS(X) X(id, INT64, UVSQL_PRIMARY_KEY) X(name, TEXT, 0) X(type, STRING(20), 0)
UVSQL_MODEL(employee_t, "employee", EMPLOYEE_FIELDS)
#define ENGINEER_FIELDS(X) X(engineer_info, TEXT, 0)
UVSQL_MODEL_INHERITS(engineer_t, employee_t, "employee", EMPLOYEE_FIELDS, ENGINEER_FIELDS)
/* end snippet */
// clang-format on

static void *wait_ok(uvsql_future_t *f, const char *what) {
  if (uvsql_future_wait(f) != 0) {
    const uvsql_error_t *e = uvsql_future_error(f);
    fprintf(stderr, "%s: %s: %s\n", what, uvsql_err_name(e->code), e->message);
    exit(1);
  }
  return uvsql_future_value(f);
}

static void run(uvsql_future_t *f, const char *what) {
  wait_ok(f, what);
  uvsql_future_unref(f);
}

static void check(int ok, const char *what) {
  if (!ok) {
    fprintf(stderr, "unexpected: %s\n", what);
    exit(1);
  }
}

int main(int argc, char **argv) {
  const char *url = argc > 1 ? argv[1] : "sqlite:///orm_inherit.db";
  uv_loop_t *loop = uv_default_loop();
  uvsql_engine_options_t opt = UVSQL_ENGINE_OPTIONS_INIT;
  uvsql_engine_t *engine;
  uvsql_error_t err;
  if (uvsql_engine_new(&engine, loop, url, &opt, &err)) {
    fprintf(stderr, "%s\n", err.message);
    return 1;
  }
  uvsql_registry_t *reg = uvsql_registry_new(NULL);

  /* snippet:orm_inherit.2 */
  uvsql_mapper_t *emps = uvsql_registry_map(reg, employee_t_model(), &err);
  uvsql_mapper_t *engs = uvsql_registry_map(reg, engineer_t_model(), &err); /* same table */
  uvsql_mapper_polymorphic_on(emps, "type", &err);
  uvsql_mapper_inherits(engs, emps, "engineer", &err);
  /* end snippet */

  check(emps && uvsql_mapper_inherits(engs, emps, "x", &err) == NULL, "declared once");
  run(uvsql_metadata_drop_all(uvsql_registry_metadata(reg), engine, NULL, NULL), "drop_all");
  run(uvsql_metadata_create_all(uvsql_registry_metadata(reg), engine, NULL, NULL), "create_all");
  uvsql_session_t *session;
  check(uvsql_session_new(&session, engine, reg, NULL) == 0, "session");
  employee_t *ann = uvsql_orm_new(emps);
  ann->id = 1;
  uvsql_orm_set_text(ann, &ann->name, "ann");
  uvsql_orm_set_text(ann, &ann->type, "employee");
  engineer_t *cy = uvsql_orm_new(engs);
  cy->base.id = 2;
  uvsql_orm_set_text(cy, &cy->base.name, "cy");
  uvsql_orm_set_text(cy, &cy->engineer_info, "compilers");
  uvsql_session_add(session, ann);
  uvsql_session_add(session, cy);
  run(uvsql_session_commit(session, NULL, NULL), "commit");
  run(uvsql_session_close(session, NULL, NULL), "close");

  check(uvsql_session_new(&session, engine, reg, NULL) == 0, "session");
  uvsql_core_stmt_t *sel = uvsql_orm_select(emps);
  uvsql_select_order_by(sel, uvsql_mapper_col(emps, "id"));
  uvsql_future_t *f = uvsql_session_execute(session, emps, sel, NULL, 0, NULL, NULL);
  uvsql_orm_result_t *r = wait_ok(f, "select");
  for (size_t i = 0; i < uvsql_orm_result_count(r); i++) {
    employee_t *e = uvsql_orm_result_at(r, i);
    if (uvsql_orm_mapper(e) == engs)
      printf("%s: an engineer (%s)\n", e->name, ((engineer_t *)e)->engineer_info);
    else
      printf("%s: an employee\n", e->name);
  }
  check(uvsql_orm_result_count(r) == 2 && uvsql_orm_mapper(uvsql_orm_result_at(r, 1)) == engs,
        "a select of the base returns the engineer as an engineer");
  uvsql_future_unref(f);
  uvsql_core_stmt_free(sel);
  run(uvsql_session_close(session, NULL, NULL), "close");
  run(uvsql_metadata_drop_all(uvsql_registry_metadata(reg), engine, NULL, NULL), "drop_all");
  uvsql_registry_free(reg);
  run(uvsql_engine_dispose(engine, NULL, NULL), "dispose");
  uv_loop_close(loop);
  return 0;
}
