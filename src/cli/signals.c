/* signals.c: SIGINT and SIGTERM interrupt the database a command works on (see signals.h). */
#include "cli/signals.h"

#include <signal.h>
#include <string.h>
#include <unistd.h>

static strata_db *volatile active;
static volatile sig_atomic_t caught;

static void on_signal(int sig)
{
	strata_db *db = active;
	if (caught)
		_exit(128 + sig); /* a second signal: stop waiting for the rollback */
	caught = sig;
	if (db)
		strata_db_interrupt(db); /* async-signal-safe */
}

void cli_signals_watch(strata_db *b)
{
	static int installed;
	if (!installed) {
		struct sigaction sa;
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_signal;
		sigemptyset(&sa.sa_mask);
		sa.sa_flags = 0; /* no SA_RESTART: a wait in progress sees EINTR */
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
		installed = 1;
	}
	active = b;
	if (caught && b) /* a signal came while connecting */
		strata_db_interrupt(b);
}

void cli_signals_unwatch(void)
{
	sigset_t block, old;
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, &old); /* no handler is using `active` once this returns */
	active = NULL;
	sigprocmask(SIG_SETMASK, &old, NULL);
}

int cli_signal_caught(void)
{
	return caught;
}

const char *cli_signal_name(int sig)
{
	return sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "a signal";
}
