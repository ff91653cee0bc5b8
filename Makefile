# Project commands; each target runs a script of scripts/ (see the comments there).
.PHONY: run test test-static test-core test-core-vanilla bench format clean

run:
	bash scripts/run.sh

test:
	bash scripts/test.sh

test-static:
	bash scripts/test_static.sh

test-core:
	bash scripts/test_core.sh

test-core-vanilla:
	bash scripts/test_core.sh --vanilla

bench:
	bash scripts/bench.sh

# ruff format + safe ruff fixes (what test-static checks)
format:
	bash scripts/format.sh

# removes .build (venv, logs, private PostgreSQL cluster); databases stay
clean:
	bash -c '. scripts/common.sh && sit_init && sit_stop_private_pg'
	rm -rf .build
