#!/usr/bin/env bash
# The C sources follow the team's .clang-format (STYLE.md §3.11): clang-format --dry-run -Werror.
. "$(dirname "$0")/lib.sh"

command -v clang-format >/dev/null || skip_all "clang-format is not installed"
cd "$ROOT" || bail "no source tree"
for f in include/*.h src/*/*.[ch] src/engine/*/*.[ch] tests/unit/*.[ch] examples/*/*.c; do
	[ -e "$f" ] || continue
	if clang-format --dry-run -Werror "$f" >/dev/null 2>"$TEST_DIR/.fmt"; then
		ok "clang-format: $f"
	else
		not_ok "clang-format: $f"
		diag "$(head -20 "$TEST_DIR/.fmt")" "fix: clang-format -i $f"
	fi
done
done_testing
