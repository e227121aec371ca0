#!/usr/bin/env bash
# Sets up porttray on a Debian/Ubuntu machine: system packages, then a virtualenv in .venv.
#   scripts/setup.sh          what the tray needs to run
#   scripts/setup.sh --test   also what the test suite needs (Xvfb, dunst, trayer, Chromium, ...)
#                             and the real tray hosts it tests on (XFCE's panel, tint2, sway + waybar)
#   scripts/setup.sh --test --all-hosts   also GNOME Shell and KDE Plasma (about 1 GB more)
# Safe to re-run, and offline once done: apt runs only for packages that are missing, pip only when
# pyproject.toml changed since the last install. The venv is built on the distribution's own
# /usr/bin/python3, so any user who can read the checkout can run it.
# PORTTRAY_VENV=DIR builds the venv elsewhere (default: .venv in the checkout).
set -euo pipefail
cd "$(dirname "$0")/.."

# The tray itself needs nothing compiled: its StatusNotifierItem and X clipboard are pure Python.
runtime_pkgs=(
  python3-venv wl-clipboard
)
# The tests also build PyGObject (the XEmbed fallback, `porttray[xembed]`) and use the GTK and
# AppIndicator typelibs for the XEmbed test and the backend benchmark.
test_pkgs=(
  python3-dev gcc pkg-config libgirepository1.0-dev libcairo2-dev
  gir1.2-gtk-3.0 gir1.2-ayatanaappindicator3-0.1 xclip
  xvfb xdotool trayer dunst dbus dbus-x11 x11-utils imagemagick chromium libnotify-bin
  redis-server memcached
  docker.io busybox-static iproute2
  xfce4-panel xfwm4 xfconf tint2 sway waybar grim wtype wl-clipboard
)
# GNOME Shell and KDE Plasma, tested only with --all-hosts.
all_host_pkgs=(
  gnome-shell gnome-shell-extension-appindicator gjs plasma-workspace plasma-desktop kwin-x11 kded5
)
# What scripts/test-users.sh needs to create the suite's users and their sudo rule.
test_user_pkgs=(
  sudo passwd
)

mode="${1:-}"
pkgs=("${runtime_pkgs[@]}")
extras="."
if [[ "$mode" == "--test" ]]; then
  pkgs+=("${test_pkgs[@]}" "${test_user_pkgs[@]}")
  extras=".[test]"
  # Chromium is a Debian package; on Ubuntu the apt package only installs the snap, so there the
  # suite uses a chromium found on PATH, or skips its browser tests and says why.
  # shellcheck disable=SC1091
  if [[ "$(. /etc/os-release && echo "${ID:-}")" == "ubuntu" ]]; then
    for i in "${!pkgs[@]}"; do
      [[ "${pkgs[i]}" != "chromium" ]] || unset 'pkgs[i]'
    done
  fi
fi
if [[ " $* " == *" --all-hosts "* ]]; then
  pkgs+=("${all_host_pkgs[@]}")
fi

as_root() {
  if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi
}

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "porttray setup: installing ${missing[*]}"
  as_root apt-get -o DPkg::Lock::Timeout=600 update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq \
    --no-install-recommends "${missing[@]}" >/dev/null
fi

# Debian 13 and later ship the docker command apart from docker.io, which only recommends it.
if [[ "$mode" == "--test" ]] && ! command -v docker >/dev/null &&
  apt-cache show docker-cli >/dev/null 2>&1; then
  echo "porttray setup: installing docker-cli"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq \
    --no-install-recommends docker-cli >/dev/null
fi

venv=$(realpath -m "${PORTTRAY_VENV:-.venv}")
stamp="$venv/.porttray-installed"
installed="$(sha256sum pyproject.toml | cut -d' ' -f1) $PWD"  # the last field: spaces allowed
if ! grep -qx "home = /usr/bin" "$venv/pyvenv.cfg" 2>/dev/null; then
  rm -rf "$venv"  # missing, or built on a Python other users may not be able to read
  /usr/bin/python3 -m venv "$venv"
fi
# The stamp: the extras installed ("." or ".[test]"), pyproject.toml's hash, the checkout.
# A test install also serves a plain start.
stamp_extras="" stamp_rest=""
[[ -r "$stamp" ]] && read -r stamp_extras stamp_rest <"$stamp"
if [[ "$stamp_rest" != "$installed" ||
      ("$stamp_extras" != "$extras" && "$stamp_extras" != ".[test]") ]]; then
  echo "porttray setup: installing Python packages into $venv"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check -e "$extras"
  echo "$extras $installed" >"$stamp"
fi

# `porttray` on PATH: a link in ~/.local/bin (on PATH in Debian's and Ubuntu's default profile
# once the directory exists; a new login shell picks it up).
if [[ $(id -u) -ne 0 && -n "${HOME:-}" ]]; then
  mkdir -p "$HOME/.local/bin"
  ln -sfn "$venv/bin/porttray" "$HOME/.local/bin/porttray"
fi
