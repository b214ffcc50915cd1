.PHONY: bootstrap demo test test-fast bench lint

bootstrap:  ## venv + engine toolchain (cached)
	bash scripts/bootstrap.sh

demo:  ## the main job on the local stack (loopback only)
	bash scripts/demo.sh

test:  ## every test suite (the CI command)
	bash scripts/test.sh

test-fast:  ## skip the suites marked slow or engine
	bash scripts/test.sh -m "not slow and not engine"

bench:  ## benchmarks with synthetic inventories; prints a table of ratios
	bash scripts/bootstrap.sh && .venv/bin/python -m bench

lint:
	.venv/bin/ruff check .
