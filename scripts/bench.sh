#!/usr/bin/env bash
# make bench: time stock flows with and without stock_item_tracking (scripts/bench.py).
#
# Databases (no demo data):
#   sit_bench_vanilla  stock, mrp, sale_stock, purchase_stock, product_expiry,
#                      stock_account, sale_mrp, purchase_mrp (the add-on's depends;
#                      mrp_product_expiry and mrp_account come with them). Reused while
#                      it carries the stamp of the current Odoo source and module list
#                      (a comment on the database);
#                      rebuilt otherwise, or always with BENCH_FRESH=1.
#   sit_bench_addon    rebuilt on every run: a copy of sit_bench_vanilla (odoo db
#                      duplicate, filestore included) in which stock_item_tracking is
#                      then installed, so both start from the same data and the
#                      add-on's current code is what gets measured.
# bench.py rolls back everything it does, so the databases stay as built.
#
# Flows (details in bench.py's docstring):
#   receipt_serial, delivery_serial, receipt_delivery_lot   N = 100, 1000, 5000
#   sales_register  N serials pasted in the delivery's registration dialog (add-on, scope
#              "sales", from a sales order) + validation, vs vanilla's "Import
#              Serials/Lots" of the same N names on a receipt + validation. N = 1000, 5000.
#   invoice_lots    an invoice of N delivered serials: create from the sales order + post +
#              render as HTML with lots shown, on both sides. N = 1000, 5000.
#   assembly   an order of N serial units, each with its own component serial and 2 units
#              of a lot: create + confirm + reserve, then vanilla's Mass Produce dialog
#              vs the add-on's Link Serial Numbers (fill in order, confirm) + Mark as
#              Done; the genealogy of both sides is checked. N = 100, 1000. The add-on
#              side is skipped (BENCH-SKIPPED) while mrp.bom has no link_component_tracking.
#   recall     add-on only: action_recall_impact() on a component lot over genealogies
#              of 2 and 3 levels ending in N final serials (built in SQL), plus the first
#              page of its list; queries and time. N = 100, 10000. Skipped while
#              stock.lot has no action_recall_impact.
#
# Environment: BENCH_SIZES (default: each flow's sizes above; when given, for every
# flow), BENCH_FLOWS (default: all), e.g. BENCH_SIZES=100 BENCH_FLOWS=assembly make bench;
# BENCH_REPEAT (runs per side, alternating sides; default 5 up to n=100, 3 up to 1000,
# 2 above; the lot flow counts as N/10; assembly 3 up to 100, 1 above; recall 1),
# BENCH_ATTEMPTS (measurements of each measured part per run, from the same state;
# default 2, assembly 1); the lowest time counts.
# BENCH_FRESH=1 (rebuild the vanilla database too), BENCH_VANILLA_DB, BENCH_ADDON_DB.
# Extra arguments go to bench.py (e.g. --aa for an A/A check of the noise).
#
# Exit status: 0 when every flow ran or was skipped (the figures are a measurement, not a
# verdict), 1 when a database could not be built or a flow failed, 2 without Odoo 18.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
sit_init
sit_require_odoo
sit_ensure_pg

VANILLA_DB="${BENCH_VANILLA_DB:-sit_bench_vanilla}"
ADDON_DB="${BENCH_ADDON_DB:-sit_bench_addon}"
MODULES=stock,mrp,sale_stock,purchase_stock,product_expiry,stock_account,sale_mrp,purchase_mrp
LOG_DIR="$BUILD_DIR/logs"
started=$SECONDS

bench_log() { echo "[bench] $*" >&2; }

# Runs Odoo with its output in a log file; on failure shows the end of it and exits 1.
odoo_logged() {
    local log=$1
    shift
    if ! odoo_cmd "$@" >"$log" 2>&1; then
        tail -n 40 "$log" >&2
        sit_die 1 "odoo $* failed (full log: $log)"
    fi
}

# What the vanilla database is built from: Odoo's version and source, the module list.
vanilla_stamp() {
    local rev
    rev="$(git -C "$ODOO_ROOT" rev-parse HEAD 2>/dev/null)" ||
        rev="$(stat -c %Y "$ODOO_ROOT/odoo/release.py" 2>/dev/null)" || rev=unknown
    "$PY" -c 'import odoo.release as r; print(r.serie, end="")'
    echo " $ODOO_ROOT $rev $MODULES"
}

db_comment() {
    sit_psql -d postgres -Atc \
        "select shobj_description(oid, 'pg_database') from pg_database where datname = '$1'"
}

build_vanilla() {
    local stamp
    stamp="sit-bench $(vanilla_stamp)"
    if [[ -z ${BENCH_FRESH:-} ]] && sit_db_exists "$VANILLA_DB" &&
        [[ $(db_comment "$VANILLA_DB") == "$stamp" ]]; then
        bench_log "reusing $VANILLA_DB (BENCH_FRESH=1 rebuilds it)"
        return 0
    fi
    bench_log "building $VANILLA_DB: $MODULES, no demo data (a few minutes)"
    sit_drop_db "$VANILLA_DB"
    odoo_logged "$LOG_DIR/bench-vanilla.log" -d "$VANILLA_DB" -i "$MODULES" \
        --without-demo=all --stop-after-init --log-level=warn
    sit_psql -d postgres -c "comment on database \"$VANILLA_DB\" is '$stamp'"
}

build_addon() {
    bench_log "building $ADDON_DB: a copy of $VANILLA_DB plus $SIT_ADDON"
    sit_drop_db "$ADDON_DB"
    odoo_logged "$LOG_DIR/bench-duplicate.log" db duplicate "$VANILLA_DB" "$ADDON_DB"
    odoo_logged "$LOG_DIR/bench-addon.log" -d "$ADDON_DB" -i "$SIT_ADDON" \
        --without-demo=all --stop-after-init --log-level=warn
}

build_vanilla
build_addon
# Fresh planner statistics on both sides, so that neither is timed with stale query plans.
sit_psql -d "$VANILLA_DB" -qc "ANALYZE"
sit_psql -d "$ADDON_DB" -qc "ANALYZE"
bench_log "databases ready in $((SECONDS - started))s; running bench.py"

rc=0
TZ=UTC "$PY" "$REPO_DIR/scripts/bench.py" \
    --vanilla-db "$VANILLA_DB" --addon-db "$ADDON_DB" \
    --addons-path="$ADDONS_PATH" --data-dir="$ODOO_DATA_DIR" \
    --db_host="$DB_HOST" --db_port="$DB_PORT" --db_user="$DB_USER" \
    "$@" || rc=$?
bench_log "make bench took $((SECONDS - started))s in all (exit status $rc)"
exit "$rc"
