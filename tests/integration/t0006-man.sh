#!/usr/bin/env bash
# The man pages: strata(1) is generated from the command table that --help prints (the build
# runs 'strata help --man'), so every command and every option of its --help is in it; it
# renders without a groff warning. strata(3) names every function strata.h declares.
. "$(dirname "$0")/lib.sh"

command -v man >/dev/null || bail "man is not installed (apt-get install man-db)"
check 'strata help --man prints strata(1)' 0 '^\.TH STRATA 1 ' '^$' strata help --man
printf '%s\n' "$out" >strata.1
run env LC_ALL=C.UTF-8 MANWIDTH=200 man --warnings -l strata.1
is '... it renders' "$rc" 0
is '... without a warning' "$err" ''
page=$out
like '... NAME' "$page" '^NAME$'
like '... the exit codes' "$page" '^ +3 +migrations show --exit-code: a migration is pending$'

# every command of 'strata --help', and every option of its own --help
run strata --help
cmds=$(printf '%s\n' "$out" | sed -n '/^Commands:/,/^$/p' | sed -E -n 's/^  ([a-z:]+( [a-z]+)?) {2,}.*/\1/p')
[ -n "$cmds" ] || not_ok 'strata --help lists commands'
while IFS= read -r c; do
	like "strata(1) has 'strata $c'" "$page" "^ +strata $c\$"
	# shellcheck disable=SC2086
	run strata $c --help
	section=$(printf '%s\n' "$page" | awk -v h="strata $c" '
		$0 ~ "^   " h "$" {on = 1; next}
		on && /^   strata / {exit}
		on && /^[A-Z]/ {exit}
		on {print}')
	for o in $(printf '%s\n' "$out" | sed -n '/^Options:/,/^$/p' | grep -oE -- '--[a-z-]+'); do
		like "strata(1): '$c' documents $o" "$section" "^ +(-[a-z], )?$o( |\$)"
	done
done <<<"$cmds"
# the global options
run strata migrations run --help
for o in $(printf '%s\n' "$out" | sed -n '/^Global options/,/^$/p' | grep -oE -- '--[a-z-]+'); do
	like "strata(1): global option $o" "$page" "^ +(-[a-z], )?$o( |\$)"
done

# strata(3): every public function
man3=$ROOT/man/strata.3
run env LC_ALL=C.UTF-8 MANWIDTH=200 man --warnings -l "$man3"
is 'strata(3) renders' "$rc" 0
is '... without a warning' "$err" ''
for f in $(grep -o '^STRATA_API [^(]*(' "$ROOT/include/strata.h" | sed -E 's/.*[ *]([a-z_0-9]+)\($/\1/'); do
	like "strata(3) documents $f" "$out" "(^|[^a-z_])$f(\\(|[^a-z_]|\$)"
done
done_testing
