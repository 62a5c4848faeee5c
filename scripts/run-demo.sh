#!/usr/bin/env bash
# Serve the web app and run the scheduler side by side; Ctrl-C stops both.
set -euo pipefail
host=${1:-127.0.0.1}
port=${2:-5000}
bin=.venv/bin
"$bin/flask" scheduler &
scheduler=$!
trap 'kill "$scheduler" 2>/dev/null || true; wait "$scheduler" 2>/dev/null || true' EXIT INT TERM
"$bin/flask" run --host "$host" --port "$port"
