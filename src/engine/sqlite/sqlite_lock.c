/*
 * sqlite_lock.c: the migration lock on SQLite: an flock(2) on the database file, held for the
 * whole run, so that of two runners on one file one runs and the other waits for it (or, not
 * waiting, is told the file is busy) before it reads anything.
 *
 * Without it the only locks are SQLite's own, per transaction: two runners that do not wait
 * would each see the other's read or write as "locked" and both give up on the file. An flock
 * is separate from the POSIX locks SQLite takes on the same file (closing our descriptor drops
 * only ours), and the kernel lets it go when the process dies.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "engine/sqlite/sqlite_internal.h"
#include "util/clock.h"
#include "util/error.h"

static int held_error(const sqlite_conn *s, strata_error *e)
{
	strata_error_hint(e, "another strata run is migrating it; wait for it with lock_wait_ms");
	return strata_error_set(e, STRATA_ELOCKED, "%s is locked by another migration run",
	                        s->base.url->display);
}

int strata_sqlite__run_lock(sqlite_conn *s, const strata_lock_opts *o, strata_error *e)
{
	const char *path = s->base.url->target;
	double start = strata_now_ms();
	bool told = false;
	int fd;

	/* held already; a URI or memory database: SQLite's locks only; a file that is not there
	 * (opened only to read): nothing to guard */
	if (s->lock_fd > 0 || s->base.missing || strncmp(path, "file:", 5) == 0 ||
	    strcmp(path, ":memory:") == 0)
		return 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return strata_error_set(e, STRATA_ECONNECT, "cannot open %s to lock it: %s",
		                        s->base.url->display, strerror(errno));
	while (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		struct timespec ts = {0, 50 * 1000000L};
		if (errno != EWOULDBLOCK && errno != EINTR) {
			close(fd);
			return strata_error_set(e, STRATA_ERROR, "cannot lock %s: %s",
			                        s->base.url->display, strerror(errno));
		}
		if (s->base.interrupted) {
			close(fd);
			return strata_conn_interrupted(e);
		}
		if (strata_now_ms() - start >= o->wait_ms) {
			close(fd);
			return held_error(s, e);
		}
		if (!told && o->on_wait)
			o->on_wait(o->ud, "another strata run is migrating the file");
		told = true;
		nanosleep(&ts, NULL); /* a signal ends it early: then the flag is set */
	}
	s->lock_fd = fd + 1;
	return 0;
}

void strata_sqlite__run_unlock(sqlite_conn *s)
{
	if (s->lock_fd > 0)
		close(s->lock_fd - 1); /* the flock goes with the descriptor */
	s->lock_fd = 0;
}
