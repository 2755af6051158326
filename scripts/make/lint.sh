#!/usr/bin/env bash
# gofmt and go vet; staticcheck when installed (go install honnef.co/go/tools/cmd/staticcheck).
set -euo pipefail
cd "$(dirname "$0")/../.."
test -z "$(gofmt -l $(git ls-files '*.go'))" || { gofmt -l $(git ls-files '*.go'); exit 1; }
go vet ./...
if command -v staticcheck >/dev/null; then staticcheck ./...; else echo "staticcheck not installed; skipped"; fi
