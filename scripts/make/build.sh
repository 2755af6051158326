#!/usr/bin/env bash
# Builds bin/signpost.
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p bin
go build -trimpath -o bin/signpost ./cmd/signpost
