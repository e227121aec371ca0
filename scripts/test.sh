#!/usr/bin/env bash
# Sets up everything the test suite needs, then runs lint, types and the whole suite
# (unit, integration, and end-to-end on Xvfb + a private session bus + dunst + Chromium, and on
# real tray hosts: XFCE's panel, tint2, sway + waybar).
#   scripts/test.sh --all-hosts   also on GNOME Shell and KDE Plasma (sets PORTTRAY_ALL_HOSTS=1)
#
# The suite runs as a normal user, the way porttray is used:
# - run as root (CI), it creates the user porttray-test and runs everything as that user;
# - run as a normal user with sudo, it uses sudo only to install packages and create the users,
#   and runs the suite as that user.
# Either way a second user, porttray-other, owns the servers of the other-user tests. Tests that
# need root (marker `root`) then run apart, as root. Arguments are passed to pytest.
# Writes nothing in the checkout except .venv and test-artifacts/ (PORTTRAY_TEST_ARTIFACTS=DIR
# moves the artifacts); scratch files go to a temporary directory that is removed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

args=()
setup_args=(--test)
all_hosts=""
for arg in "$@"; do
  if [[ "$arg" == "--all-hosts" ]]; then
    all_hosts=1
    setup_args+=(--all-hosts)
  else
    args+=("$arg")
  fi
done
set -- "${args[@]+"${args[@]}"}"
bash scripts/setup.sh "${setup_args[@]}"

if [[ $(id -u) -eq 0 ]]; then
  suite_user="porttray-test"
  as_suite_user=(runuser -u "$suite_user" --)
  as_root=()
else
  suite_user="$(id -un)"
  as_suite_user=()
  as_root=(sudo)
fi
bash scripts/test-users.sh "$suite_user"
suite_home=$(getent passwd "$suite_user" | cut -d: -f6)

if ! "${as_suite_user[@]}" test -r pyproject.toml -a -x .venv/bin/python; then
  echo "porttray tests: $suite_user cannot read $PWD (and its .venv); clone it somewhere" \
    "every user can read, such as /srv or /tmp" >&2
  exit 2
fi

artifacts=$(realpath -m "${PORTTRAY_TEST_ARTIFACTS:-test-artifacts}")
mkdir -p "$artifacts"
scratch=$(mktemp -d /tmp/porttray-suite.XXXXXX)
trap '"${as_root[@]}" rm -rf "$scratch"' EXIT
if [[ $(id -u) -eq 0 ]]; then
  chown "$suite_user:" "$artifacts" "$scratch"
fi

# Caches and databases go to the scratch directory: the checkout may not be writable by the suite
# user (a root-owned CI clone), and a run should not leave files behind in it.
suite_env=(
  env -i "PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin:/snap/bin" "HOME=$suite_home" "USER=$suite_user"
  "LOGNAME=$suite_user" "LANG=C.UTF-8" "CI=${CI:-}" "NO_AT_BRIDGE=1" "PYTHONDONTWRITEBYTECODE=1"
  "MYPY_CACHE_DIR=$scratch/mypy" "RUFF_CACHE_DIR=$scratch/ruff"
  "HYPOTHESIS_STORAGE_DIRECTORY=$scratch/hypothesis" "PORTTRAY_TEST_ARTIFACTS=$artifacts"
  "PORTTRAY_ALL_HOSTS=$all_hosts"
)
# Hypothesis's full example counts (a plain pytest run tries fewer; see tests/conftest.py).
pytest=(.venv/bin/python -m pytest -p no:cacheprovider --hypothesis-profile=thorough)

echo "porttray tests: lint, types and the suite as $suite_user (artifacts: $artifacts)"
"${as_suite_user[@]}" "${suite_env[@]}" .venv/bin/ruff check .
"${as_suite_user[@]}" "${suite_env[@]}" .venv/bin/ruff format --check .
"${as_suite_user[@]}" "${suite_env[@]}" .venv/bin/mypy
"${as_suite_user[@]}" "${suite_env[@]}" "${pytest[@]}" --basetemp="$scratch/pytest" \
  -m "not root" "$@"

echo "porttray tests: the tests that need root (-m root), as root"
rc=0
"${as_root[@]}" "${suite_env[@]}" "HOME=/root" "USER=root" "LOGNAME=root" \
  "HYPOTHESIS_STORAGE_DIRECTORY=$scratch/hypothesis-root" "${pytest[@]}" \
  --basetemp="$scratch/pytest-root" -m root "$@" || rc=$?
# 5: no test carries the marker in this selection.
[[ $rc -eq 0 || $rc -eq 5 ]] || exit "$rc"
