#!/usr/bin/env bash
# Serve the web app and run the scheduler side by side; Ctrl-C stops both.
set -euo pipefail
host=${1:-127.0.0.1}
port=${2:-5000}
bin=.venv/bin
trap 'kill 0' EXIT INT TERM
if "$bin/flask" --help 2>/dev/null | grep -q '^  scheduler'; then
  "$bin/flask" scheduler &
fi
"$bin/flask" run --host "$host" --port "$port"
