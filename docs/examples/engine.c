/* docs/examples/engine.c — the tutorial's "Engine and URLs" and "Echo" sections as one program:
 * parsing and masking URLs, making an engine with options, logging statements.
 *
 * Usage: engine [URL]   (default sqlite:///engine.db; no server needed)
 */
#include <stdio.h>
#include <stdlib.h>
#include <uvsql.h>

/* snippet:engine.log_line */
static void log_line(void *data, const char *line) {
  FILE *out = data;
  fprintf(out, "[sql] %s\n", line);
}
/* end snippet */

int main(int argc, char **argv) {
  const char *url = argc > 1 ? argv[1] : "sqlite:///engine.db";
  uvsql_error_t err;

  /* URLs: parsed, decoded, and rendered with the password masked. */
  /* snippet:engine.2 */
  uvsql_url_t *u;
  if (uvsql_url_parse(&u, "postgresql://app:s%40cret@db.example.com:5433/shop?sslmode=require",
                      &err) != 0) {
    fprintf(stderr, "%s\n", err.message);
    return 1;
  }
  char shown[256];
  uvsql_url_render(u, shown, sizeof shown);
  /* end snippet */
  printf("driver %s, user %s, host %s, port %d, database %s, sslmode %s\n", u->driver, u->user,
         u->host, u->port, u->database, uvsql_url_query_get(u, "sslmode"));
  printf("rendered: %s\n",
         shown); /* postgresql://app:***@db.example.com:5433/shop?sslmode=require */
  uvsql_url_free(u);

  /* A malformed URL is an error value, never a crash. */
  if (uvsql_url_parse(&u, "postgresql://app@db.example.com:99999/shop", &err) != 0)
    printf("%s: %s\n", uvsql_err_name(err.code), err.message);

  /* An engine: a URL, a loop and options. It does not connect until it is used. */
  /* snippet:engine.1 */
  uv_loop_t *loop = uv_default_loop();
  uvsql_engine_options_t opt = UVSQL_ENGINE_OPTIONS_INIT;
  opt.echo = 1;          /* log every statement and its parameters ... */
  opt.log_cb = log_line; /* ... here, instead of stderr */
  opt.log_data = stdout;
  uvsql_engine_t *engine;
  if (uvsql_engine_new(&engine, loop, url, &opt, &err) != 0) {
    fprintf(stderr, "cannot create engine: %s\n", err.message);
    return 1;
  }
  /* end snippet */
  printf("engine on %s (%s)\n", uvsql_engine_url(engine), uvsql_engine_dialect(engine));

  uvsql_param_t p[] = {UVSQL_P_TEXT("greeting", "hello")};
  uvsql_future_t *f = uvsql_engine_execute_sql(engine, "SELECT :greeting", p, 1, NULL, NULL);
  if (uvsql_future_wait(f) == 0) {
    const char *text;
    uvsql_result_text(uvsql_future_value(f), 0, 0, &text, NULL);
    printf("the database says %s\n", text);
  }
  uvsql_future_unref(f);

  /* snippet:engine.dispose */
  f = uvsql_engine_dispose(engine, NULL, NULL);
  uvsql_future_wait(f);
  uvsql_future_unref(f);
  return uv_loop_close(loop) == 0 ? 0 : 1;
  /* end snippet */
}
