#!/usr/bin/env bash
# Debian packages the tests need: clickhouse-server (the ClickHouse server backend's tests start one);
# chromium (the web interface's tests drive Debian's headless browser; no browser is ever downloaded);
# nats-server (the federation tests start one with JetStream on loopback); nodejs and npm (the OTLP tests
# run the official OpenTelemetry JS SDK, installed from tests/otlp/node/package-lock.json); systemd (its
# systemd-analyze verifies the unit files of docs/deploy.md).
# Idempotent: installs only what is missing; needs root for that (CI runs as root).
set -euo pipefail

missing=()
command -v clickhouse-server >/dev/null 2>&1 || [ -x /usr/sbin/clickhouse-server ] || missing+=(clickhouse-server)
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v nats-server >/dev/null 2>&1 || missing+=(nats-server)
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
command -v systemd-analyze >/dev/null 2>&1 || missing+=(systemd)

if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "error: ${missing[*]} not installed; run as root: apt-get update && apt-get install -y --no-install-recommends ${missing[*]}" >&2
    exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "error: ${missing[*]} not installed and apt-get is not available (ben's tests expect Debian)" >&2
    exit 1
fi
echo "installing Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
