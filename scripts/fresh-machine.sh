#!/usr/bin/env bash
# The README's two commands on a fresh machine: builds a clean Debian root (mmdebstrap), adds a
# user with sudo, copies in a clean `git clone` of this repository's committed HEAD and runs, as
# that user:
#   1. bash scripts/start.sh   with no display: it must set up and exit 3 saying what is missing
#   2. bash scripts/setup.sh --test   the test command's set-up, with the network
#   3. bash scripts/test.sh    the whole suite, with no network and a loopback of its own (nothing
#                              else listens: no test may lean on the host's listeners)
#   4. bash scripts/start.sh   again, with no network, on Xvfb + a session bus + a tray host: the
#                              icon must register within 60 s (the start works offline once set up)
# Needs root and the Debian mirrors. Slow (tens of minutes): not part of every CI run.
#   sudo bash scripts/fresh-machine.sh [bookworm] [trixie]     (default: both)
# Logs: $FRESH_DIR/<suite>.log (default FRESH_DIR=/var/tmp/porttray-fresh); the root stays there
# for a look afterwards and is rebuilt by the next run. Exit status: the number of failed suites.
set -euo pipefail
repo="${REPO:-$(cd "$(dirname "$0")/.." && pwd)}"  # the repository to clone (its HEAD)
fresh_dir="${FRESH_DIR:-/var/tmp/porttray-fresh}"
mirror="${MIRROR:-http://deb.debian.org/debian}"
user="newcomer"

[[ $(id -u) -eq 0 ]] || { echo "fresh-machine: run as root (it builds a chroot)" >&2; exit 2; }
command -v mmdebstrap >/dev/null || apt-get -o DPkg::Lock::Timeout=600 install -y -qq mmdebstrap

mounted=()
unmount_all() {
  local i
  for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
    umount -l "${mounted[i]}" 2>/dev/null || true
  done
  mounted=()
}

kill_chroot_processes() {
  # Whatever the run left running inside the root (only processes this script started live there).
  local root="$1" link pid
  for link in /proc/[0-9]*/root; do
    pid="${link#/proc/}"
    pid="${pid%/root}"
    [[ "$(readlink "$link" 2>/dev/null)" == "$root" ]] && kill -KILL "$pid" 2>/dev/null || true
  done
}

mount_into() {
  local root="$1"
  # The root's / a mount point of its own, as on a booted machine (dockerd remounts it while it
  # unpacks an image, which fails on a plain directory: "remount /, flags: 0x84000").
  mount --bind "$root" "$root" && mounted+=("$root")
  mount -t proc proc "$root/proc" && mounted+=("$root/proc")
  mount -t sysfs sysfs "$root/sys" && mounted+=("$root/sys")
  # A booted machine has its cgroup hierarchy mounted (systemd does it); dockerd needs it.
  if [[ -d /sys/fs/cgroup && -d "$root/sys/fs/cgroup" ]]; then
    mount --rbind /sys/fs/cgroup "$root/sys/fs/cgroup" && mounted+=("$root/sys/fs/cgroup")
  fi
  mount --bind /dev "$root/dev" && mounted+=("$root/dev")
  mount --bind /dev/pts "$root/dev/pts" && mounted+=("$root/dev/pts")
  mount -t tmpfs -o mode=1777,nosuid,nodev shm "$root/dev/shm" && mounted+=("$root/dev/shm")
}

unmount_stale() {
  # Mounts a run that was killed left under the root, deepest first.
  local root="$1" target
  awk -v r="$root" '$2 == r || index($2, r "/") == 1 {print $2}' /proc/mounts | sort -r |
    while read -r target; do
      umount -l "$target"
    done
}

build_root() {
  local suite="$1" root="$2" security="$suite-security"
  unmount_stale "$root"
  if awk -v r="$root" '$2 == r || index($2, r "/") == 1 {found=1} END {exit !found}' /proc/mounts; then
    echo "fresh-machine: something is still mounted under $root; not removing it" >&2
    return 1
  fi
  rm -rf --one-file-system "$root"
  mmdebstrap --variant=apt --include=sudo,passwd,ca-certificates,locales,tzdata "$suite" "$root" \
    "deb $mirror $suite main" "deb $mirror $suite-updates main" \
    "deb ${mirror%/debian}/debian-security $security main"
  cp /etc/resolv.conf "$root/etc/resolv.conf"
  printf '127.0.0.1 localhost\n127.0.1.1 %s\n::1 localhost ip6-localhost ip6-loopback\n' \
    "$(hostname)" >"$root/etc/hosts"
  # The host's own certificate authorities (a network that inspects TLS needs them) and nothing
  # else of its configuration: the root reaches apt and PyPI the way the host does.
  if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
    cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/"
    chroot "$root" update-ca-certificates >/dev/null
    printf '[global]\ncert = /etc/ssl/certs/ca-certificates.crt\n' >"$root/etc/pip.conf"
  fi
  chroot "$root" useradd --create-home --shell /bin/bash --groups sudo "$user"
  echo "$user ALL=(ALL:ALL) NOPASSWD: ALL" >"$root/etc/sudoers.d/$user"
  chmod 0440 "$root/etc/sudoers.d/$user"
  git clone --quiet "$repo" "$root/home/$user/porttray"
  chroot "$root" chown -R "$user:" "/home/$user/porttray"
}

disk_note() {
  # How much the set-up added to the root: system packages and the venv.
  local root="$1" base="$2" after="$3" venv
  venv=$(du -sxm "$root/home/$user/porttray/.venv" 2>/dev/null | cut -f1)
  echo "fresh-machine $suite: after $after the root uses $(($(du -sxm "$root" | cut -f1) - base))" \
    "MiB more than the bare system (.venv: ${venv:-0} MiB)"
}

as_user() {
  # A login shell of the user inside the root, in the clone, as a person at a terminal would be.
  local root="$1"
  shift
  chroot "$root" runuser -l "$user" -c "cd ~/porttray && $*"
}

offline() {
  # as_user in a network namespace of its own: no network, and a loopback no other program on
  # the host listens on (what a machine with nothing else running looks like).
  local root="$1"
  shift
  unshare --net sh -c "ip link set lo up && exec chroot '$root' runuser -l '$user' \
    -c 'cd ~/porttray && $*'"
}

START_CHECK='import os, pathlib, subprocess, sys, tempfile
sys.path.insert(0, os.getcwd())
from tests.kit.desktop import running_desktop
with tempfile.TemporaryDirectory() as tmp, running_desktop(pathlib.Path(tmp)) as desktop:
    tray = subprocess.Popen(["bash", "scripts/start.sh"], env=desktop.env)
    try:
        item = desktop.tray.wait_for_item(timeout=60)
        print("fresh-machine: porttray started offline and registered its icon:", item)
    finally:
        tray.terminate()
        tray.wait(20)
'

run_suite() {
  suite="$1" root="$fresh_dir/$1" log="$fresh_dir/$1.log"
  local out rc=0
  echo "fresh-machine $suite: building $root (log: $log)"
  trap 'rc=$?; kill_chroot_processes "$root"; unmount_all
    [[ $rc -eq 0 ]] || echo "fresh-machine $suite: FAILED (exit $rc); see $log"' EXIT
  build_root "$suite" "$root" >>"$log" 2>&1
  mount_into "$root"

  local base_mib
  base_mib=$(du -sxm "$root" | cut -f1)
  echo "== 1. bash scripts/start.sh (no display) ==" >>"$log"
  out=$(as_user "$root" "env -u DISPLAY bash scripts/start.sh" 2>&1) || rc=$?
  echo "$out" >>"$log"
  if [[ $rc -ne 3 || "$out" != *"cannot show a tray icon"* ]]; then
    echo "fresh-machine $suite: FAILED at start.sh without a display (exit $rc)" | tee -a "$log"
    return 1
  fi
  chroot "$root" test -x "/home/$user/.local/bin/porttray" || {
    echo "fresh-machine $suite: FAILED: no ~/.local/bin/porttray" | tee -a "$log"
    return 1
  }

  disk_note "$root" "$base_mib" "start.sh" | tee -a "$log"
  echo "== 2. bash scripts/setup.sh --test (the test command's own first step) ==" >>"$log"
  as_user "$root" "bash scripts/setup.sh --test" >>"$log" 2>&1
  disk_note "$root" "$base_mib" "the test set-up" | tee -a "$log"
  echo "== 3. bash scripts/test.sh, offline, alone on its loopback ==" >>"$log"
  local started=$SECONDS
  if ! offline "$root" "bash scripts/test.sh" >>"$log" 2>&1; then
    echo "fresh-machine $suite: FAILED at test.sh ($((SECONDS - started)) s)" | tee -a "$log"
    return 1
  fi
  echo "fresh-machine $suite: test.sh passed in $((SECONDS - started)) s" | tee -a "$log"

  echo "== 4. bash scripts/start.sh, offline, on a desktop with a tray host ==" >>"$log"
  echo "$START_CHECK" >"$root/home/$user/start-check.py"
  if ! offline "$root" ".venv/bin/python ~/start-check.py" >>"$log" 2>&1; then
    echo "fresh-machine $suite: FAILED at the offline start" | tee -a "$log"
    return 1
  fi
  echo "fresh-machine $suite: PASSED ($(date -u '+%Y-%m-%d %H:%M UTC'))" | tee -a "$log"
}

suites=("$@")
((${#suites[@]})) || suites=(bookworm trixie)
failed=0
mkdir -p "$fresh_dir"
for suite in "${suites[@]}"; do
  : >"$fresh_dir/$suite.log"
  # A subshell of its own, so that `set -e` holds inside and its EXIT trap always unmounts.
  set +e
  (set -e; run_suite "$suite")
  [[ $? -eq 0 ]] || failed=$((failed + 1))
  set -e
done
exit "$failed"
