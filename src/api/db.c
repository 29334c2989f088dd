/* db.c: opening a database (strata_db), events, and the library's small public functions. */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/api.h"
#include "core/dburl.h"
#include "util/clock.h"
#include "util/error.h"

const char *strata_version(void)
{
	return STRATA_VERSION;
}

const char *strata_error_name(int code)
{
	static const char *const names[] = {
	    "STRATA_OK",           "STRATA_ERROR",        "STRATA_ENOTFOUND", "STRATA_EINVALID",
	    "STRATA_EDB",          "STRATA_ELOCKED",      "STRATA_ECONNECT",  "STRATA_EEXISTS",
	    "STRATA_EINTERRUPTED", "STRATA_ELOCKTIMEOUT", "STRATA_EREPLICA"};
	if (code > 0 || -code >= (int)(sizeof(names) / sizeof(names[0])))
		return "STRATA_ERROR";
	return names[-code];
}

void strata_free(void *p)
{
	free(p);
}

int api_bad_arg(strata_error *e, const char *fn, const char *what)
{
	return strata_error_set(e, STRATA_EINVALID, "%s: %s", fn, what);
}

void api_emit(const strata_db *db, const strata_event *ev)
{
	if (db && db->opts.on_event)
		db->opts.on_event(ev, db->opts.userdata);
}

void api_phase(const strata_db *db, const char *phase, double ms, size_t count, unsigned flags)
{
	strata_event ev = {
	    .kind = STRATA_EVENT_PHASE, .phase = phase, .ms = ms, .count = count, .flags = flags};
	api_emit(db, &ev);
}

static void notice(const strata_db *db, unsigned flags, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

static void notice(const strata_db *db, unsigned flags, const char *fmt, va_list ap)
{
	char msg[512];
	strata_event ev = {.kind = STRATA_EVENT_NOTICE, .message = msg, .flags = flags};
	if (!db || !db->opts.on_event)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	api_emit(db, &ev);
}

void api_notice(const strata_db *db, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	notice(db, 0, fmt, ap);
	va_end(ap);
}

void api_warning(const strata_db *db, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	notice(db, STRATA_EVENT_WARNING, fmt, ap);
	va_end(ap);
}

/* Opens the connection, retrying a server that cannot be reached yet for connect_wait_ms, with
 * backoff (0.1 s, 0.2 s ... at most 2 s apart): only "cannot connect" is retried. */
static int connect_with_wait(strata_db *db, unsigned flags, strata_error *e)
{
	double start = strata_now_ms(), left;
	int delay_ms = 100, tries = 1, error;

	while ((error = strata_conn_open(&db->conn, &db->url, flags, e)) == STRATA_ECONNECT &&
	       db->url.engine->waits_for_server && db->opts.connect_wait_ms > 0 &&
	       (left = db->opts.connect_wait_ms - (strata_now_ms() - start)) > 0) {
		struct timespec ts;
		int ms = delay_ms < left ? delay_ms : (int)left + 1;
		if (tries == 1)
			api_notice(db, "waiting up to %.1f s for %s",
			           db->opts.connect_wait_ms / 1000.0, db->url.display);
		ts.tv_sec = ms / 1000;
		ts.tv_nsec = (long)(ms % 1000) * 1000000L;
		nanosleep(&ts, NULL);
		delay_ms = delay_ms >= 1000 ? 2000 : delay_ms * 2;
		tries++;
		strata_error_clear(e);
	}
	if (error == STRATA_ECONNECT && tries > 1)
		strata_error_hint(e, "gave up after %d attempts in %.1f s (connect_wait_ms)", tries,
		                  (strata_now_ms() - start) / 1000.0);
	return error;
}

/* A tenant schema: the URL's target gets it (the engine sets the search_path), the display says
 * it. Only PostgreSQL has schemas to run in. */
static int set_schema(strata_db *db, const char *schema, strata_error *e)
{
	char *display;
	size_t n;
	if (!schema)
		return 0;
	if (!*schema || strlen(schema) > 63)
		return strata_error_set(e, STRATA_EINVALID,
		                        "'%s' is not a schema name (1 to 63 bytes)", schema);
	if (!db->url.engine->schemas)
		return strata_error_set(e, STRATA_EINVALID,
		                        "%s: a %s database has no schemas to run in",
		                        db->url.display, db->url.engine->name);
	n = strlen(db->url.display) + strlen(schema) + 16;
	if (!(db->url.schema = strdup(schema)) || !(display = malloc(n)))
		return strata_error_set(e, STRATA_ERROR, "out of memory");
	snprintf(display, n, "%s (schema %s)", db->url.display, schema);
	free(db->url.display);
	db->url.display = display;
	return 0;
}

int strata_db_open(strata_db **out, const char *url, const strata_db_options *o, strata_error *e)
{
	static const strata_db_options defaults = STRATA_DB_OPTIONS_INIT;
	strata_db *db = NULL;
	double t0 = strata_now_ms();
	int error = 0;

	if (!out)
		return api_bad_arg(e, "strata_db_open", "out is NULL");
	*out = NULL;
	if (!url)
		return api_bad_arg(e, "strata_db_open", "no URL");
	if (o && (o->version < 1 || o->version > STRATA_DB_OPTIONS_VERSION))
		return api_bad_arg(e, "strata_db_open", "options of an unknown version");
	if (o && o->connect_wait_ms < 0)
		return api_bad_arg(e, "strata_db_open", "connect_wait_ms is negative");
	if (!(db = calloc(1, sizeof(*db))))
		return strata_error_set(e, STRATA_ERROR, "out of memory");
	db->opts = defaults;
	if (o) /* a version-1 caller's struct ends before schema */
		memcpy(&db->opts, o,
		       o->version == 1 ? offsetof(strata_db_options, schema) : sizeof(*o));
	db->opts.version = STRATA_DB_OPTIONS_VERSION;
	if ((error = strata_dburl_parse(&db->url, url, e)) < 0 ||
	    (error = set_schema(db, db->opts.schema, e)) < 0)
		goto done;
	if ((error = connect_with_wait(
	         db, db->opts.flags & STRATA_DB_NO_CREATE ? STRATA_OPEN_NO_CREATE : 0, e)) < 0)
		goto done;
	api_phase(db, "connect", strata_now_ms() - t0, 0, 0);
	*out = db;
	db = NULL;
done:
	strata_db_close(db);
	return error;
}

void strata_db_close(strata_db *db)
{
	if (!db)
		return;
	strata_conn_close(db->conn);
	strata_dburl_free(&db->url);
	free(db);
}

const char *strata_db_display(const strata_db *db)
{
	return db ? db->url.display : NULL;
}

const char *strata_db_engine(const strata_db *db)
{
	return db ? db->url.engine->name : NULL;
}

bool strata_db_exists(const strata_db *db)
{
	return db && db->conn && !db->conn->missing;
}

void strata_db_interrupt(strata_db *db)
{
	strata_db *scratch;
	if (!db)
		return;
	strata_conn_interrupt(db->conn); /* async-signal-safe */
	if ((scratch = db->scratch) != NULL)
		strata_conn_interrupt(scratch->conn);
}

char *strata_url_redact(const char *url)
{
	return url ? strata_dburl_mask(url) : NULL;
}

const char *strata_url_engine(const char *url)
{
	strata_error ignored = STRATA_ERROR_INIT;
	char *target = NULL;
	const struct strata_engine *en = url ? strata_engine_for_url(url, &target, &ignored) : NULL;
	free(target);
	return en ? en->name : NULL;
}
