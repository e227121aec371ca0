#!/usr/bin/env bash
# Sets up porttray on a Debian/Ubuntu machine: system packages, then a virtualenv in .venv.
#   scripts/setup.sh          what the tray needs to run
#   scripts/setup.sh --test   also what the test suite needs (Xvfb, dunst, trayer, Chromium, ...)
#                             and the real tray hosts it tests on (XFCE's panel, tint2, sway + waybar)
#   scripts/setup.sh --test --all-hosts   also GNOME Shell and KDE Plasma (about 1 GB more)
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
  xfce4-panel xfwm4 xfconf tint2 sway waybar grim wtype wl-clipboard
)
all_host_pkgs=(
  gnome-shell gnome-shell-extension-appindicator gjs plasma-workspace plasma-desktop kwin-x11 kded5
)

pkgs=("${runtime_pkgs[@]}")
extras="."
if [[ "${1:-}" == "--test" ]]; then
  pkgs+=("${test_pkgs[@]}")
  extras=".[test]"
fi
if [[ " $* " == *" --all-hosts "* ]]; then
  pkgs+=("${all_host_pkgs[@]}")
fi

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo=""
  [[ $(id -u) -eq 0 ]] || sudo="sudo"
  echo "porttray setup: installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

python="${PYTHON:-python3}"
if [[ ! -x .venv/bin/python ]]; then
  "$python" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e "$extras"
