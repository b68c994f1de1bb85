# Shared by scripts/*: install what is missing, non-interactively and idempotently.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export DEBIAN_FRONTEND=noninteractive

# need_debs PKG... : apt-get install the packages that dpkg does not list as installed.
need_debs() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "==> installing Debian packages: ${missing[*]}"
  local sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# fetch_deb PKG : download PKG's .deb and unpack it under .build-deps/PKG (gitignored), without
# installing it: for programs the tests run privately, whose package scripts would change this
# machine (systemd-resolved's would point /etc/resolv.conf at a stub no one serves).
fetch_deb() {
  local pkg="$1"
  local dest="$ROOT/.build-deps/$pkg" debs="$ROOT/.build-deps/debs"
  [ -f "$dest/.unpacked" ] && return 0
  echo "==> fetching $pkg (unpacked under .build-deps, not installed)"
  mkdir -p "$debs"
  local sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  # apt-get download runs as _apt when it can write the folder and as root otherwise; both work.
  (cd "$debs" && { apt-get download -q "$pkg" >/dev/null 2>&1 || { $sudo apt-get update -qq && apt-get download -q "$pkg" >/dev/null; }; })
  local deb; deb="$(ls -t "$debs/${pkg}"_*.deb | head -1)"
  rm -rf "$dest"; mkdir -p "$dest"
  dpkg-deb -x "$deb" "$dest"
  touch "$dest/.unpacked"
}

# need_pip PKG==VER... : pip install what is not importable at that version.
need_pip() {
  local missing=()
  for spec in "$@"; do
    python3 -m pip show "${spec%%[=<>]*}" >/dev/null 2>&1 || missing+=("$spec")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "==> installing Python packages: ${missing[*]}"
  python3 -m pip install -q "${missing[@]}"
}

need_swift() {
  command -v swift >/dev/null || { echo "swift is not on PATH; this project needs Swift 6.1 or newer" >&2; exit 1; }
}
