#!/usr/bin/env bash
# --help, --version and bad options on every command.
. "$(dirname "$0")/lib.sh"

check 'strata --version' 0 '^strata [0-9]+\.[0-9]+\.[0-9]+$' '^$' strata --version
check 'strata --help lists the commands' 0 'migrations run' '^$' strata --help
check 'strata with no command is a usage error' 2 '^$' 'Usage: strata' strata
check 'an unknown command is a usage error' 2 '^$' "unknown command 'frobnicate'" strata frobnicate
check 'migrate suggests migrations run' 2 '^$' "did you mean 'strata migrations run'" strata migrate
check 'strata migrations --help lists subcommands' 0 'revert' '^$' strata migrations --help
check 'strata migrations alone is a usage error' 2 '^$' 'Subcommands' strata migrations

for cmd in 'migrations run' 'migrations revert' 'migrations show' 'migrations create' \
	'migration:create' build; do
	# shellcheck disable=SC2086
	check "strata $cmd --help" 0 "^Usage: strata $cmd" '^$' strata $cmd --help
	# shellcheck disable=SC2086
	check "strata $cmd -h" 0 "Global options" '^$' strata $cmd -h
	# shellcheck disable=SC2086
	check "strata $cmd --bogus is a usage error" 2 '^$' \
		"unknown option '--bogus'.*|Try 'strata $cmd --help'" strata $cmd --bogus
done
check 'global options work after the command' 0 'Usage: strata migrations show' '^$' \
	strata migrations show --help -q --database-url sqlite:x.db
check 'a global option without its value' 2 '^$' "'--database-url' needs a value" \
	strata migrations show --database-url
done_testing
