#!/usr/bin/env bash
# make audit-bench: times the serial integrity audit (stock.lot.integrity.issue) on a
# throwaway database holding AUDIT_BENCH_LOTS lots (default 1,000,000), filled by
# scripts/audit_bench.py. The database is dropped at the end.
#   AUDIT_BENCH_DB        name of the throwaway database (default sit_audit_bench)
#   AUDIT_BENCH_TEMPLATE  a database with the add-on installed (no demo) to copy instead of
#                         installing (it must have no open connection)
#   AUDIT_BENCH_KEEP=1    keep the filled database (re-run with AUDIT_BENCH_REUSE=1)
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
sit_init
sit_require_odoo
sit_ensure_pg
DB="${AUDIT_BENCH_DB:-sit_audit_bench}"
if [[ -n ${AUDIT_BENCH_REUSE:-} ]] && sit_db_exists "$DB"; then
    odoo_cmd -d "$DB" -u "$SIT_ADDON" --stop-after-init --no-http --log-level=warn
    AUDIT_BENCH_FILLED=1 odoo_cmd shell -d "$DB" --no-http --log-level=warn \
        <"$REPO_DIR/scripts/audit_bench.py"
    exit 0
fi
sit_drop_db "$DB"
[[ -n ${AUDIT_BENCH_KEEP:-} ]] || trap 'sit_drop_db "$DB"' EXIT
if [[ -n ${AUDIT_BENCH_TEMPLATE:-} ]]; then
    createdb -h "$DB_HOST" -p "$DB_PORT" -U "$DB_USER" -T "$AUDIT_BENCH_TEMPLATE" "$DB"
    odoo_cmd -d "$DB" -u "$SIT_ADDON" --stop-after-init --no-http --log-level=warn
else
    sit_log "installing $SIT_ADDON into $DB (without demo data)"
    odoo_cmd -d "$DB" -i "$SIT_ADDON" --without-demo=all --stop-after-init --no-http --log-level=warn
fi
odoo_cmd shell -d "$DB" --no-http --log-level=warn <"$REPO_DIR/scripts/audit_bench.py"
