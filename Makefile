# Project commands; each target runs a script of scripts/ (see the comments there).
.PHONY: run test test-static test-core test-core-vanilla bench audit-bench stress format clean

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

# times the serial integrity audit on a throwaway database of 1,000,000 lots
# (AUDIT_BENCH_LOTS, AUDIT_BENCH_DB; AUDIT_BENCH_TEMPLATE: copy that database instead of installing)
audit-bench:
	bash scripts/audit_bench.sh

# 16 XML-RPC clients for 60 s against the add-on and against vanilla Odoo (STRESS_CLIENTS,
# STRESS_SECONDS, STRESS_WORKERS); not part of make test
stress:
	bash scripts/stress.sh

# ruff format + safe ruff fixes (what test-static checks)
format:
	bash scripts/format.sh

# removes .build (venv, logs, private PostgreSQL cluster); databases stay
clean:
	bash -c '. scripts/common.sh && sit_init && sit_stop_private_pg'
	rm -rf .build
