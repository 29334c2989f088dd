/*
 * fleet.c: strata_fleet_run: one operation on many databases, `parallel` at a time, each through
 * the single-database use cases (strata_run, strata_revert, strata_status_each) with its own
 * connection and lock.
 *
 * Workers take the next target from the list under the fleet's mutex (the list is read as it
 * is used), run it without the mutex, and report it under the mutex again. The thread that
 * called strata_fleet_run waits for them, waking every 50 ms to pass an interrupt on to the
 * databases being worked on: strata_fleet_interrupt only sets a flag, so it is safe in a
 * signal handler, and a database is interrupted only while its worker holds it open.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api/api.h"
#include "util/clock.h"
#include "util/error.h"

#define MAX_PARALLEL 256

struct target {
	char *url, *name, *schema;
	size_t index;
};

struct strata_fleet {
	strata_source *src;
	strata_targets_fn next;
	void *next_ud;
	strata_fleet_options o;
	strata_run_options run;

	pthread_mutex_t mu;
	pthread_cond_t cv; /* a target ended, or a worker left */
	strata_fleet_report rep;
	size_t handed;       /* targets taken from the list (all shards) */
	size_t canary_ended; /* canary targets that ended */
	bool list_done, stop;
	int list_error;
	strata_error list_e;
	size_t workers_left;
	strata_db *active[MAX_PARALLEL]; /* each worker's database while it works on it */
	volatile sig_atomic_t interrupted;
	bool interrupt_passed;
};

int strata_fleet_new(strata_fleet **out, strata_source *src, strata_targets_fn next, void *next_ud,
                     const strata_fleet_options *o, strata_error *e)
{
	static const strata_fleet_options defaults = STRATA_FLEET_OPTIONS_INIT;
	strata_fleet *f;
	int error;

	*out = NULL;
	if (!src || !next)
		return api_bad_arg(e, "strata_fleet_new",
		                   !src ? "no source" : "no list of targets");
	o = o ? o : &defaults;
	if (o->version < 1 || o->version > STRATA_FLEET_OPTIONS_VERSION)
		return api_bad_arg(e, "strata_fleet_new", "options of an unknown version");
	if (o->shards && o->shard >= o->shards)
		return strata_error_set(e, STRATA_EINVALID,
		                        "strata_fleet_new: shard %u of %u: shards count from 0",
		                        o->shard, o->shards);
	if (o->op != STRATA_FLEET_RUN && o->op != STRATA_FLEET_REVERT &&
	    o->op != STRATA_FLEET_STATUS)
		return api_bad_arg(e, "strata_fleet_new", "unknown op");
	if (!(f = calloc(1, sizeof(*f))))
		return strata_error_set(e, STRATA_ERROR, "out of memory");
	f->src = src;
	f->next = next;
	f->next_ud = next_ud;
	f->o = *o;
	if ((error = api_run_options(&f->run, o->run, "strata_fleet_new", e)) < 0) {
		free(f);
		return error;
	}
	if (f->o.parallel == 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		f->o.parallel = n > 0 ? (unsigned)n : 1;
	}
	if (f->o.parallel > MAX_PARALLEL)
		f->o.parallel = MAX_PARALLEL;
	pthread_mutex_init(&f->mu, NULL);
	pthread_cond_init(&f->cv, NULL);
	*out = f;
	return 0;
}

void strata_fleet_free(strata_fleet *f)
{
	if (!f)
		return;
	pthread_mutex_destroy(&f->mu);
	pthread_cond_destroy(&f->cv);
	free(f);
}

void strata_fleet_interrupt(strata_fleet *f)
{
	if (f)
		f->interrupted = 1;
}

/* FNV-1a, 64 bits: the same share of targets on every machine and every run. */
static uint64_t stable_hash(const strata_target *t)
{
	uint64_t h = 1469598103934665603ull;
	const char *parts[] = {t->name ? t->name : t->url, t->name ? NULL : t->schema};
	for (size_t i = 0; i < 2; i++)
		for (const char *p = parts[i]; p && *p; p++)
			h = (h ^ (unsigned char)*p) * 1099511628211ull;
	return h;
}

static void free_target(struct target *t)
{
	free(t->url);
	free(t->name);
	free(t->schema);
	memset(t, 0, sizeof(*t));
}

/* The next target of this shard, under the mutex: 1, or 0 when there are no more. */
static int take(strata_fleet *f, struct target *out)
{
	for (;;) {
		strata_target t;
		int got;
		if (f->list_done)
			return 0;
		got = f->next(f->next_ud, &t, &f->list_e);
		if (got <= 0) {
			f->list_done = true;
			f->list_error = got;
			if (got < 0)
				f->stop = true;
			return 0;
		}
		if (f->o.shards && stable_hash(&t) % f->o.shards != f->o.shard) {
			f->rep.other_shard++;
			f->handed++;
			continue;
		}
		out->url = strdup(t.url);
		out->name = t.name ? strdup(t.name) : NULL;
		out->schema = t.schema ? strdup(t.schema) : NULL;
		out->index = f->handed++;
		if (!out->url || (t.name && !out->name) || (t.schema && !out->schema)) {
			free_target(out);
			strata_error_set(&f->list_e, STRATA_ERROR, "out of memory");
			f->list_done = f->stop = true;
			f->list_error = STRATA_ERROR;
			return 0;
		}
		f->rep.targets++;
		return 1;
	}
}

/* strata_status_each's entry callback for a fleet's status: the totals are all it needs */
static int count_only(void *ud, const strata_status_entry *entry)
{
	(void)ud;
	(void)entry;
	return 0;
}

/* op on one database; fills r (and err) */
static void work(strata_fleet *f, size_t slot, const struct target *t, strata_target_result *r,
                 strata_error *err)
{
	strata_db_options dbo = STRATA_DB_OPTIONS_INIT;
	strata_run_options ro = f->run;
	strata_run_report *rr = NULL;
	strata_db *db = NULL;
	int error;

	dbo.connect_wait_ms = f->o.connect_wait_ms;
	dbo.schema = t->schema;
	if (!f->o.wait_busy)
		ro.lock_wait_ms = 0; /* another runner's target is skipped, not waited for */
	if ((error = strata_db_open(&db, t->url, &dbo, err)) < 0) {
		r->state = STRATA_TARGET_FAILED;
		return;
	}
	pthread_mutex_lock(&f->mu);
	f->active[slot] = db;
	if (f->interrupted)
		strata_db_interrupt(db);
	pthread_mutex_unlock(&f->mu);
	if (f->o.op == STRATA_FLEET_STATUS) {
		/* the listing streamed and only counted: a worker holds one entry, not the
		 * migrations and the history */
		strata_status_callbacks cb = {.entry = count_only};
		strata_status_report tot;
		if ((error = strata_status_each(db, f->src, &cb, &tot, err)) == 0) {
			r->pending = tot.pending;
			r->failing = tot.failed;
		}
	} else if (f->o.op == STRATA_FLEET_REVERT) {
		error = strata_revert(db, f->src, &ro, &rr, err);
	} else {
		error = strata_run(db, f->src, &ro, &rr, err);
	}
	if (rr) {
		r->applied = rr->done;
		r->by_summary = rr->by_summary;
	}
	r->state = error == 0                                   ? STRATA_TARGET_DONE
	           : error == STRATA_ELOCKED && !f->o.wait_busy ? STRATA_TARGET_BUSY
	           : error == STRATA_EINTERRUPTED && rr && rr->not_started && rr->failed < 0
	               ? STRATA_TARGET_NOT_STARTED
	               : STRATA_TARGET_FAILED;
	strata_run_report_free(rr);
	pthread_mutex_lock(&f->mu);
	f->active[slot] = NULL;
	pthread_mutex_unlock(&f->mu);
	strata_db_close(db);
}

/* Under the mutex: counts what became of a target, stops the fleet when that says so, and
 * tells the caller. */
static void ended(strata_fleet *f, const strata_target_result *r, bool canary)
{
	strata_fleet_report *rep = &f->rep;
	switch (r->state) {
	case STRATA_TARGET_DONE:
		rep->done++;
		rep->applied += r->applied;
		rep->up_to_date += r->applied == 0;
		break;
	case STRATA_TARGET_FAILED:
		rep->failed++;
		rep->applied += r->applied; /* what committed before the failure stays */
		if (canary)
			rep->canary_failed = true;
		if (canary || !f->o.keep_going)
			f->stop = rep->stopped = true;
		break;
	case STRATA_TARGET_BUSY:
		rep->busy++;
		break;
	case STRATA_TARGET_NOT_STARTED:
		rep->not_started++;
		break;
	}
	if (canary)
		f->canary_ended++;
	if (f->o.on_target)
		f->o.on_target(r, rep, f->o.userdata);
	pthread_cond_broadcast(&f->cv);
}

static void result_of(strata_target_result *r, const struct target *t, const char *display)
{
	memset(r, 0, sizeof(*r));
	r->index = t->index;
	r->display = display;
	r->name = t->name ? t->name : t->schema ? t->schema : display;
}

/* The URL of a target as messages show it. */
static char *display_of(const struct target *t)
{
	char *masked = strata_url_redact(t->url), *d;
	size_t n;
	if (!masked || !t->schema)
		return masked;
	n = strlen(masked) + strlen(t->schema) + 16;
	if ((d = malloc(n)) != NULL)
		snprintf(d, n, "%s (schema %s)", masked, t->schema);
	strata_free(masked);
	return d;
}

static void *worker(void *arg)
{
	strata_fleet *f = ((void **)arg)[0];
	size_t slot = (size_t)(uintptr_t)((void **)arg)[1];

	pthread_mutex_lock(&f->mu);
	for (;;) {
		struct target t = {0};
		strata_target_result r;
		strata_error err = STRATA_ERROR_INIT;
		bool canary;
		char *display;
		double t0;

		/* the canaries first: none of the others starts before they all ended */
		while (!f->stop && !f->interrupted && f->o.canary &&
		       f->rep.targets >= f->o.canary && f->canary_ended < f->o.canary)
			pthread_cond_wait(&f->cv, &f->mu);
		if (f->stop || f->interrupted || !take(f, &t))
			break;
		canary = f->rep.targets <= f->o.canary;
		f->rep.running++;
		pthread_mutex_unlock(&f->mu);

		display = display_of(&t);
		result_of(&r, &t, display ? display : "?");
		t0 = strata_now_ms();
		work(f, slot, &t, &r, &err);
		r.ms = strata_now_ms() - t0;
		r.error = r.state == STRATA_TARGET_DONE ? NULL : &err;

		pthread_mutex_lock(&f->mu);
		f->rep.running--;
		ended(f, &r, canary);
		free(display);
		free_target(&t);
	}
	f->workers_left--;
	pthread_cond_broadcast(&f->cv);
	pthread_mutex_unlock(&f->mu);
	return NULL;
}

/* After a stop: the targets left in the list, each reported as not started. */
static void not_started(strata_fleet *f)
{
	struct target t;
	pthread_mutex_lock(&f->mu);
	while (take(f, &t)) {
		strata_target_result r;
		char *display = display_of(&t);
		result_of(&r, &t, display ? display : "?");
		r.state = STRATA_TARGET_NOT_STARTED;
		ended(f, &r, false);
		free(display);
		free_target(&t);
	}
	pthread_mutex_unlock(&f->mu);
}

/* Waits for the workers, passing an interrupt on to the databases they work on. */
static void wait_workers(strata_fleet *f)
{
	pthread_mutex_lock(&f->mu);
	while (f->workers_left) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 50 * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&f->cv, &f->mu, &ts);
		if (f->interrupted && !f->interrupt_passed) {
			f->interrupt_passed = f->stop = f->rep.stopped = true;
			for (size_t i = 0; i < f->o.parallel; i++)
				if (f->active[i])
					strata_db_interrupt(f->active[i]);
		}
	}
	pthread_mutex_unlock(&f->mu);
}

int strata_fleet_run(strata_fleet *f, strata_fleet_report *out, strata_error *e)
{
	pthread_t th[MAX_PARALLEL];
	void *args[MAX_PARALLEL][2];
	sigset_t block, old;
	double t0 = strata_now_ms();
	size_t started = 0;
	int create_error = 0;

	memset(out, 0, sizeof(*out));
	if (!f)
		return api_bad_arg(e, "strata_fleet_run", "no fleet");
	/* the workers leave SIGINT and SIGTERM to the caller's thread */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	f->workers_left = f->o.parallel;
	for (size_t i = 0; i < f->o.parallel; i++) {
		args[i][0] = f;
		args[i][1] = (void *)(uintptr_t)i;
		if ((create_error = pthread_create(&th[i], NULL, worker, args[i])) != 0)
			break;
		started++;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_mutex_lock(&f->mu); /* those that started may have left already */
	f->workers_left -= f->o.parallel - started;
	pthread_mutex_unlock(&f->mu);
	wait_workers(f);
	for (size_t i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	if (f->stop && !f->list_error)
		not_started(f);
	f->rep.ms = strata_now_ms() - t0;
	*out = f->rep;
	if (started == 0)
		return strata_error_set(e, STRATA_ERROR, "cannot start a thread: %s",
		                        strerror(create_error));
	if (f->list_error < 0) {
		*e = f->list_e;
		return e->code ? e->code : STRATA_ERROR;
	}
	return 0;
}
