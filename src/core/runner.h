/* runner.h: carries out a plan through an engine connection and reports each step as it goes. */
#ifndef STRATA_CORE_RUNNER_H
#define STRATA_CORE_RUNNER_H

#include <stdbool.h>

#include "core/engine.h"

typedef struct strata_run_opts {
	bool fake;            /* record without running SQL */
	bool one_transaction; /* every step in one transaction: all or nothing */
	bool set_timeouts;    /* apply the two timeouts below to each step (PostgreSQL) */
	int lock_timeout_ms;  /* 0: none */
	int statement_timeout_ms;
	int lock_retries; /* times to retry a step that hit the lock timeout, with backoff */
	strata_event_fn on_event; /* STEP_START, STEP_DONE, STEP_SKIPPED, STEP_RETRY,
	                             REPLICA_WAIT */
	void *ud;
	/* after each commit, wait for replicas (the engine's replicas_wait) to lag less than
	 * this; 0: do not wait */
	int max_replica_lag_ms;
	int replica_wait_timeout_ms; /* ... at most this long (STRATA_EREPLICA) */
	/* a plan that is one batch of a longer run: its events' index counts from index_base,
	 * out of `total` (0: the plan's) */
	size_t index_base, total;
	bool prechecked; /* strata_runner_precheck passed on this very plan already */
} strata_run_opts;

typedef struct strata_run_result {
	size_t done, skipped;
	size_t failed;                    /* index of the failing step when the run failed */
	bool not_started;                 /* ... which never started: refused by the checks before
	                                     the run, or interrupted between two steps */
	int statements, failed_statement; /* of a failed transaction:false step, else 0 and -1 */
	int retries;                      /* lock-timeout retries made */
	double ms;
	/* optional, the caller's, one per step: what became of it and the time recorded */
	strata_step_state *state;
	double *step_ms;
} strata_run_result;

/* The checks before anything is sent (a transactional step with BEGIN or COMMIT of its own, a
 * transaction:false step in a one-transaction run): fails naming the step (r->failed) and its
 * file:line:col. strata_runner_execute makes them first; validate makes them alone. */
int strata_runner_precheck(const strata_conn *c, const strata_plan *p, const strata_run_opts *o,
                           strata_run_result *r, strata_error *e);

/* Runs the steps in order: SQL through the engine's apply, a C step in a transaction of its
 * own (or the run's) with its history row. On failure the failing step (or, with
 * one_transaction, every step) is rolled back, steps before it stay, and r->failed says which
 * one failed. A statement that gave up waiting for a lock (STRATA_ELOCKTIMEOUT) rolls its step
 * back whole and is retried with backoff. An interrupt (strata_conn_interrupt) fails the step
 * that runs with STRATA_EINTERRUPTED, or stops the run before the next step (r->not_started).
 * With max_replica_lag_ms, the replicas are waited for after each commit (one_transaction: the
 * one): a wait that times out (STRATA_EREPLICA) or is interrupted stops the run with the step
 * that committed done, r->failed the next one (p->n after the last), r->not_started. */
int strata_runner_execute(strata_conn *c, const strata_plan *p, const strata_run_opts *o,
                          strata_run_result *r, strata_error *e);

#endif
