#!/usr/bin/env bash
# Runs a router on the shipped snapshot directory (examples/fixture-cdn) on
# loopback high ports. Override with SIGNPOST_* variables.
set -euo pipefail
cd "$(dirname "$0")/../.."
dns=${SIGNPOST_DNS:-127.0.0.1:10053}
http=${SIGNPOST_HTTP:-127.0.0.1:10080}
https=${SIGNPOST_HTTPS:-127.0.0.1:10443}
api=${SIGNPOST_API:-127.0.0.1:13333}
mkdir -p .run/state
exec bin/signpost route --source examples/fixture-cdn --state-dir .run/state \
  --dns "$dns" --http "$http" --https "$https" --api "$api" --access-log .run/access.log
