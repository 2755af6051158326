# Thin wrapper over scripts/make/*.sh. See docs/development.md.
.PHONY: build run test bench bench-http bench-e2e fuzz lint pgo clean

build:
	@scripts/make/build.sh

run: build
	@scripts/make/run.sh

test:
	@scripts/make/test.sh

bench:
	@scripts/make/bench.sh

bench-http: build
	@scripts/make/bench-http.sh

bench-dns:
	@scripts/make/bench-dns.sh

bench-e2e: build
	@scripts/make/bench-e2e.sh

fuzz:
	@scripts/make/fuzz.sh

lint:
	@scripts/make/lint.sh

pgo:
	@scripts/make/pgo.sh

clean:
	rm -rf bin .run
