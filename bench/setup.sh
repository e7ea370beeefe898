#!/bin/sh
# bench/setup.sh: make sure the programs `make bench` drives are installed:
# nginx (nginx-light) for the limit_req comparisons, haproxy for its
# stick-table rates, wrk as the common
# client, and GNU time (/usr/bin/time) to measure peak memory. On Debian/Ubuntu it installs what is missing with apt-get (as
# root, or through sudo when that works without a password); elsewhere it
# says what to install and fails.
set -eu

missing=""
nginx_found() {
	command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || [ -x /usr/local/sbin/nginx ] || [ -x /usr/local/nginx/sbin/nginx ]
}
nginx_found || missing="$missing nginx-light"
command -v haproxy >/dev/null 2>&1 || [ -x /usr/sbin/haproxy ] || missing="$missing haproxy"
command -v wrk >/dev/null 2>&1 || missing="$missing wrk"
[ -x /usr/bin/time ] || missing="$missing time"

if [ -z "$missing" ]; then
	echo "bench/setup.sh: nginx, haproxy, wrk and GNU time are installed"
	exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
	echo "bench/setup.sh: missing:$missing. This is not a Debian-like system: install nginx, haproxy, wrk and GNU time with your package manager, then run make bench again." >&2
	exit 1
fi
if [ "$(id -u)" -eq 0 ]; then
	SUDO=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
	SUDO="sudo -n"
else
	echo "bench/setup.sh: missing:$missing. Install them as root: apt-get install -y$missing" >&2
	exit 1
fi

echo "bench/setup.sh: installing$missing"
# The package index may be stale or absent in a fresh container.
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
# Debian's package starts a system nginx on port 80; the bench runs its own
# on loopback ports and needs none.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet nginx 2>/dev/null; then
	$SUDO systemctl stop nginx || true
fi
nginx_found && { command -v haproxy >/dev/null 2>&1 || [ -x /usr/sbin/haproxy ]; } && command -v wrk >/dev/null 2>&1 && [ -x /usr/bin/time ] || { echo "bench/setup.sh: installation failed" >&2; exit 1; }
echo "bench/setup.sh: installed$missing"
