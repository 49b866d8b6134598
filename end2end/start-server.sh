#!/usr/bin/env bash
# Starts the built server for one Playwright project, on a database of its own made anew.
# Usage: start-server.sh PORT NAME
set -euo pipefail
port="$1"
name="$2"
root="$(cd "$(dirname "$0")/.." && pwd)"
data="$root/target/e2e/$name"
rm -rf "$data"
mkdir -p "$data"
# LEPTOS_SITE_ROOT may point at another built site (a release one: scripts/build-release).
export LEPTOS_SITE_ROOT="${LEPTOS_SITE_ROOT:-$root/target/site}"
export RUST_LOG="${RUST_LOG:-warn}"
# No scheduler: a scheduled run starting between two steps of a test would take its work
# (the scheduler has its own tests in server/tests/api/engine_scheduler.rs).
exec "${ITSM_BRIDGE_BIN:-$root/target/debug/itsm-bridge}" \
  --listen "127.0.0.1:$port" \
  --database-url "$data/itsm-bridge.db" \
  --no-scheduler
