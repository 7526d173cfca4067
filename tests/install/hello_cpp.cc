/* tests/install/hello_cpp.cc — a C++17 program on the installed uvsql (tests/install/run.sh
 * builds it with -std=c++17 -Wall -Wextra -Werror -pedantic through pkg-config, and runs it).
 * It uses, from C++, what C writes with compound literals, designated initialisers and
 * _Generic: the UVSQL_P_* / UVSQL_V_* macros, uvsql_session_get_int, UVSQL_MODEL,
 * uvsql_col on a table, UVSQL_EXPRS (through uvsql_and), UVSQL_NAMES, UVSQL_SQL_* types and
 * the loader option macros.
 *
 * Usage: hello_cpp URL   e.g. hello_cpp sqlite:///tmp/x/hello.db
 * Prints "uvsql <version> from C++: ..." (see the end of main) and exits 0, or says what
 * failed and exits 1.
 */
#include <uvsql.h>

#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#define ANSWER_FIELDS(X)                                                                           \
  X(id, INT64, UVSQL_PRIMARY_KEY)                                                                  \
  X(label, STRING(20), UVSQL_NOT_NULL)                                                             \
  X(n, INT64, 0)
UVSQL_MODEL(answer_t, "answers", ANSWER_FIELDS)

static void *await(uvsql_future_t *f, const char *what) {
  if (uvsql_future_wait(f) != 0) {
    const uvsql_error_t *e = uvsql_future_error(f);
    std::fprintf(stderr, "hello_cpp: %s: %s: %s\n", what, uvsql_err_name(e->code), e->message);
    std::exit(1);
  }
  return uvsql_future_value(f);
}

static void run(uvsql_future_t *f, const char *what) {
  await(f, what);
  uvsql_future_unref(f);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: hello_cpp URL\n");
    return 2;
  }
  if (uvsql_version() != UVSQL_VERSION_HEX ||
      std::strcmp(uvsql_version_string(), UVSQL_VERSION_STRING) != 0) {
    std::fprintf(stderr, "hello_cpp: compiled against %s, running with %s\n", UVSQL_VERSION_STRING,
                 uvsql_version_string());
    return 1;
  }
  uv_loop_t loop;
  uv_loop_init(&loop);
  uvsql_engine_options_t opt = UVSQL_ENGINE_OPTIONS_INIT;
  uvsql_engine_t *engine;
  uvsql_error_t err;
  if (uvsql_engine_new(&engine, &loop, argv[1], &opt, &err) != 0) {
    std::fprintf(stderr, "hello_cpp: %s\n", err.message);
    return 1;
  }

  // ORM: a model, its table (with an index through UVSQL_NAMES), objects added and committed.
  uvsql_registry_t *reg = uvsql_registry_new(nullptr);
  uvsql_mapper_t *answers = uvsql_registry_map(reg, answer_t_model(), &err);
  if (!answers) {
    std::fprintf(stderr, "hello_cpp: %s\n", err.message);
    return 1;
  }
  uvsql_metadata_t *md = uvsql_registry_metadata(reg);
  uvsql_table_t *table = uvsql_metadata_table(md, "answers");
  uvsql_index(table, "ix_answers_label_n", UVSQL_NAMES("label", "n"), 0);
  // A Core table beside it, with the UVSQL_SQL_* type constructors.
  uvsql_table_t *notes = uvsql_table(md, "notes");
  uvsql_column(notes, "id", UVSQL_SQL_INTEGER, UVSQL_PRIMARY_KEY);
  uvsql_column(notes, "body", UVSQL_SQL_STRING(40), UVSQL_NOT_NULL);
  if (uvsql_metadata_error(md)) {
    std::fprintf(stderr, "hello_cpp: %s\n", uvsql_metadata_error(md)->message);
    return 1;
  }
  run(uvsql_metadata_create_all(md, engine, nullptr, nullptr), "create_all");

  uvsql_session_t *session;
  if (uvsql_session_new(&session, engine, reg, nullptr) != 0)
    return 1;
  int64_t values[] = {40, 2, 7};
  const char *labels[] = {"forty", "two", "seven"};
  for (int i = 0; i < 3; i++) {
    answer_t *a = static_cast<answer_t *>(uvsql_orm_new(answers));
    uvsql_orm_set_text(a, &a->label, labels[i]);
    a->n = values[i];
    uvsql_session_add(session, a);
  }
  run(uvsql_session_commit(session, nullptr, nullptr), "commit");

  // uvsql_session_get_int (the compound literal C++ could not compile): the first object.
  uvsql_future_t *f = uvsql_session_get_int(session, answers, 1, nullptr, nullptr);
  answer_t *first = static_cast<answer_t *>(await(f, "get"));
  std::string got = first ? first->label : "(none)";
  uvsql_future_unref(f);

  // Core: uvsql_col on a table (UVSQL_FROM's C++ overloads), uvsql_and (UVSQL_EXPRS), and
  // parameters made with UVSQL_P_* (the designated initialisers C++17 does not have).
  uvsql_core_stmt_t *q = uvsql_select_new();
  uvsql_select_columns(q, UVSQL_EXPRS(uvsql_func(q, "sum", uvsql_col(table, "n"))));
  uvsql_select_from_item(q, UVSQL_FROM(table));
  uvsql_where(q, uvsql_and(q, uvsql_gt(q, uvsql_col(table, "n"), uvsql_bindparam(q, "min")),
                           uvsql_ne(q, uvsql_col(table, "label"), uvsql_bindparam(q, "skip"))));
  uvsql_param_t p[] = {UVSQL_P_INT64("min", 1), UVSQL_P_TEXT("skip", "seven")};
  f = uvsql_engine_execute_core(engine, q, p, 2, nullptr, nullptr);
  int64_t sum = -1;
  if (uvsql_result_int64(static_cast<uvsql_result_t *>(await(f, "select sum")), 0, 0, &sum) != 0)
    return 1;
  uvsql_future_unref(f);
  uvsql_core_stmt_free(q);

  // The loader option macros build their struct in C++ too.
  uvsql_load_option_t lazy = UVSQL_LAZYLOAD("nothing");
  uvsql_value_t when = UVSQL_V_DATE(uvsql_days_from_civil(2026, 12, 4));
  char date[40];
  uvsql_format_temporal(when.type, when.u.i64, date, sizeof date);

  std::printf("uvsql %s from C++: %s first, 40 + 2 = %" PRId64 ", %s on %s, %s\n",
              uvsql_version_string(), got.c_str(), sum, lazy.path, date,
              uvsql_engine_dialect(engine));

  run(uvsql_session_close(session, nullptr, nullptr), "close");
  run(uvsql_metadata_drop_all(md, engine, nullptr, nullptr), "drop_all");
  run(uvsql_engine_dispose(engine, nullptr, nullptr), "dispose");
  uvsql_registry_free(reg);
  if (uv_loop_close(&loop) != 0) {
    std::fprintf(stderr, "hello_cpp: the loop still has open handles after dispose\n");
    return 1;
  }
  return 0;
}
