/*
 * lock_table.h: the PostgreSQL table lock (--lock-strategy table), for pg.c.
 *
 * The lock is one row in strata_lock, name 'strata', with an owner (host:pid:random), when it
 * was taken and when it expires. Every statement stands alone (autocommit), so it works through
 * PgBouncer's transaction pooling:
 *   take:    INSERT ... ON CONFLICT (name) DO UPDATE ... WHERE strata_lock.expires_at <
 *            clock_timestamp() RETURNING owner           (a row back: it is ours)
 *   renew:   UPDATE ... SET expires_at = now + ttl WHERE owner = us   (0 rows: it was lost)
 *   release: DELETE ... WHERE owner = us
 * A heartbeat thread renews the row every ttl/3 on a connection of its own, so a long migration
 * keeps it, and a runner that dies stops renewing: its row expires and the next runner takes it.
 */
#ifndef STRATA_BACKEND_LOCK_TABLE_H
#define STRATA_BACKEND_LOCK_TABLE_H

#include "core/engine.h"
#include "engine/pg/pg_exec.h"
#include "engine/pg/pq.h"

#define STRATA_LOCK_TABLE_NAME "strata_lock"
/* The advisory lock (--lock-strategy advisory): 0x5354524154410001 ("STRATA", 1), and its row in
 * pg_locks in this database. Each strategy also respects the other's holder. */
/* The advisory lock's key: strata's own, or, for a tenant schema (strata_db_options.schema),
 * the one the connection was given in the setting strata.lock_key (pg.c), so that tenants of
 * one database lock apart. */
#define STRATA_PG_ADVISORY_KEY                                                                     \
	"coalesce(nullif(current_setting('strata.lock_key', true), '')::bigint, "                  \
	"6004514643731611649)"
#define STRATA_PG_ADVISORY_ROW                                                                     \
	"locktype = 'advisory' AND granted AND objsubid = 1 AND "                                  \
	"((classid::bigint << 32) | objid::bigint) = " STRATA_PG_ADVISORY_KEY " AND database = "   \
	"(SELECT oid FROM pg_database WHERE datname = current_database())"

typedef struct strata_table_lock strata_table_lock;

/* Takes the lock on link's connection (creating the table when missing), polling with backoff up
 * to o->wait_ms (an interrupt ends the wait: STRATA_EINTERRUPTED), then starts the heartbeat on
 * a second connection to url. *out is the caller's; release it with strata_table_lock_release. */
int strata_table_lock_acquire(strata_table_lock **out, const strata_pg_link *link,
                              const strata_dburl *url, const strata_lock_opts *o, strata_error *e);
/* Fails (STRATA_ELOCKED) when the heartbeat found the row gone or taken over, or could not renew
 * it before it expired. No round trip. */
int strata_table_lock_check(strata_table_lock *l, strata_error *e);
/* Stops the heartbeat, deletes the row (when still ours) and frees l. NULL-safe. */
void strata_table_lock_release(strata_table_lock *l);
/* 1 when a table-strategy runner holds the lock now (its owner and times go to e's detail),
 * else 0 (also when they cannot be read). For the advisory strategy. */
int strata_table_lock_live(PGconn *conn, strata_error *e);
/* Sleeps ms milliseconds, less when *stop (optional) gets set by a signal handler. */
void strata_table_lock_sleep(int ms, const volatile sig_atomic_t *stop);

#endif
