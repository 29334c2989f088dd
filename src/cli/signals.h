/*
 * signals.h: Ctrl-C and SIGTERM (what Kubernetes sends) stop a run cleanly. Once a command is
 * connected, SIGINT and SIGTERM interrupt its database (strata_db_interrupt): the running
 * statement is cancelled and its migration (or seed transaction) rolled back, the lock let go,
 * and the command reports what was applied and what was rolled back, then exits 128 + the
 * signal (130, 143). A second signal while that happens exits at once.
 */
#ifndef STRATA_CLI_SIGNALS_H
#define STRATA_CLI_SIGNALS_H

#include "strata.h"

/* Installs the handlers (once) and makes db the database they interrupt. */
void cli_signals_watch(strata_db *db);
/* The same for a fleet run (NULL: none): SIGINT and SIGTERM stop it (strata_fleet_interrupt). */
void cli_signals_watch_fleet(strata_fleet *f);
/* Before the database is closed: the handlers interrupt nothing from now on. */
void cli_signals_unwatch(void);
/* The signal caught (SIGINT, SIGTERM), 0 when none. */
int cli_signal_caught(void);
/* "SIGINT", "SIGTERM" */
const char *cli_signal_name(int sig);

#endif
