#!/usr/bin/env bash
# Creates the users the test suite needs, idempotently (run by scripts/test.sh; needs root or sudo):
#   porttray-other   someone else on this machine, whose servers the tests start
#   SUITE_USER       the user the suite runs as (created if missing; CI: porttray-test)
# and the one sudo rule between them: SUITE_USER may run anything as porttray-other, without a
# password, and nothing else.
#   scripts/test-users.sh SUITE_USER
set -euo pipefail

suite_user="$1"
other_user="porttray-other"

as_root() {
  if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi
}

ensure_user() {
  if ! id -u "$1" >/dev/null 2>&1; then
    echo "porttray test setup: creating user $1"
    as_root useradd --create-home --user-group --shell /bin/bash "$1"
  fi
}

ensure_user "$other_user"
ensure_user "$suite_user"

# sudoers.d ignores file names with a dot in them.
rule_file="/etc/sudoers.d/porttray-test"
[[ "$suite_user" == "porttray-test" ]] || rule_file="/etc/sudoers.d/porttray-test-${suite_user//[^A-Za-z0-9_-]/_}"
rule="$suite_user ALL=($other_user) NOPASSWD: ALL"
if ! as_root grep -qxF "$rule" "$rule_file" 2>/dev/null; then
  echo "porttray test setup: letting $suite_user run commands as $other_user ($rule_file)"
  draft=$(mktemp)
  echo "$rule" >"$draft"
  as_root visudo -cqf "$draft"
  as_root install -m 0440 -o root -g root "$draft" "$rule_file"
  rm -f "$draft"
fi
