/* signals.c: SIGINT and SIGTERM interrupt the database a command works on (see signals.h). */
#include "cli/signals.h"

#include <signal.h>
#include <string.h>
#include <unistd.h>

static strata_db *volatile active;
static strata_fleet *volatile active_fleet;
static volatile sig_atomic_t caught;

static void on_signal(int sig)
{
	strata_db *db = active;
	if (caught)
		_exit(128 + sig); /* a second signal: stop waiting for the rollback */
	caught = sig;
	if (db)
		strata_db_interrupt(db); /* async-signal-safe */
	if (active_fleet)
		strata_fleet_interrupt(active_fleet); /* async-signal-safe: a flag */
}

static void install(void)
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
}

void cli_signals_watch(strata_db *b)
{
	install();
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

void cli_signals_watch_fleet(strata_fleet *f)
{
	install();
	active_fleet = f;
	if (caught && f)
		strata_fleet_interrupt(f);
}

int cli_signal_caught(void)
{
	return caught;
}

const char *cli_signal_name(int sig)
{
	return sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "a signal";
}
