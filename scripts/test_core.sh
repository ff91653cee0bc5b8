#!/usr/bin/env bash
# make test-core:         Odoo's own test suites of the modules the add-on touches, run by
#                         Odoo's runner in a fresh database (no demo data) where they are
#                         installed together WITH the add-on.
# make test-core-vanilla: the same without the add-on, to compare.
#
# Usage: scripts/test_core.sh [--vanilla]
# Prints "N failed, N error(s) of N tests" and the failing tests; exits 1 when the
# failures/errors go beyond the known baseline of vanilla Odoo 18 for these suites:
# 1,544 tests, 5 failed, 1 error: mrp TestMultistepManufacturingWarehouse.setUpClass, and
# 5 sale_mrp kit tests (see BASELINE_FAILURES)
# (suites of stock, mrp, sale_stock, purchase_stock, product_expiry, stock_account,
# mrp_account, sale_mrp and purchase_mrp, installed together: 1,451 tests for the first 7,
# 93 for sale_mrp + purchase_mrp, measured alone in vanilla: 5 failed, 0 error, 1 skipped).
# The full Odoo log is kept in .build/logs/. Takes 30-60 minutes.
# Environment: SIT_CORE_TOURS=1 runs the tours too (see below); SIT_KEEP_DB=1 keeps the
# database; SIT_CORE_SUITES="mod ..." installs and tests other modules,
# SIT_CORE_TEST_TAGS other --test-tags (quick checks of this script; the baseline then
# means little).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
sit_init
sit_require_odoo
sit_ensure_pg
# Known errors/failures of vanilla Odoo (grep -E patterns on the "ERROR:"/"FAIL:" lines).
# The baseline was measured without websocket-client: Odoo skips the 16 tours of these
# suites (skipped tests still count among the 1,544; sale_mrp skips one more, which needs
# stock_delivery). SIT_CORE_TOURS=1 runs them in
# headless Chromium with the venv's python (same Odoo + websocket-client); then two mrp
# tours fail in vanilla Odoo 18 too (checked with make test-core-vanilla): they are
# accepted as baseline failures.
BASELINE_ERRORS=("TestMultistepManufacturingWarehouse")
# The sale_mrp ones fail in vanilla Odoo 18 installed with these suites (measured with
# make test-core-vanilla on all 9 suites: "5 failed, 1 error(s) of 1544 tests, 21 skipped").
BASELINE_FAILURES=("TestTourBoM.test_mrp_bom_product_catalog"
    "TestTourMrpOrder.test_mrp_order_product_catalog"
    "TestSaleMRPAngloSaxonValuation.test_sale_mrp_kit_bom_cogs"
    "TestSaleMrpKitBom.test_qty_delivered_with_bom\\b"
    "TestSaleMrpKitBom.test_qty_delivered_with_bom_using_kit\\b"
    "TestSaleMrpKitBom.test_qty_delivered_with_bom_using_kit2"
    "TestSaleMrpKitBom.test_sale_kit_show_kit_in_delivery")
if [[ -n ${SIT_CORE_TOURS:-} ]]; then
    sit_venv
    PY="$VPY"
fi

# The baseline's 1,544 tests are exactly these 9 suites (mrp_account's 34 included;
# sale_mrp and purchase_mrp: 93, with the invoice lot reports the add-on stores).
SUITES=(stock mrp sale_stock purchase_stock product_expiry stock_account mrp_account sale_mrp
    purchase_mrp)
if [[ -n ${SIT_CORE_SUITES:-} ]]; then # quick checks of this script, e.g. "product_expiry"
    read -r -a SUITES <<<"$SIT_CORE_SUITES"
fi
MODULES="$(IFS=,; echo "${SUITES[*]}")"
TEST_TAGS="$(printf '/%s,' "${SUITES[@]}")"
TEST_TAGS="${TEST_TAGS%,}"
TEST_TAGS="${SIT_CORE_TEST_TAGS:-$TEST_TAGS}"

flavour=addon
if [[ ${1:-} == --vanilla ]]; then
    flavour=vanilla
else
    MODULES+=",$SIT_ADDON"
fi

DB="sit_core_${flavour}_$$"
LOG="$BUILD_DIR/logs/test-core-$flavour.log"
if [[ -z ${SIT_KEEP_DB:-} ]]; then
    trap 'sit_drop_db "$DB" || true' EXIT
fi

echo "== test-core ($flavour): installing $MODULES into $DB without demo data"
echo "   and running the tests $TEST_TAGS (full log: $LOG)"
start=$SECONDS
# The console shows errors, warnings about tests and the progress of the phases.
odoo_cmd -d "$DB" -i "$MODULES" --without-demo=all --test-tags "$TEST_TAGS" \
    --stop-after-init --http-port="$(sit_free_port)" --max-cron-threads=0 --log-level=info \
    2>&1 | tee "$LOG" |
    grep --line-buffered -E ' (ERROR|CRITICAL) | odoo\.tests\.result|Starting post tests|post-tests in|modules loaded in' ||
    true
echo "== done in $(((SECONDS - start) / 60)) min"

summary="$(grep -E 'odoo\.tests\.result: [0-9]+ failed, [0-9]+ error\(s\) of [0-9]+ tests' "$LOG" | tail -n 1 || true)"
if [[ -z $summary ]]; then
    echo "test-core ($flavour): FAILED: no test summary in the log (did the install crash?)"
    grep -E ' CRITICAL ' "$LOG" | tail -n 5 || true
    exit 1
fi
read -r failed errors total < <(sed -E 's/.*: ([0-9]+) failed, ([0-9]+) error\(s\) of ([0-9]+) tests.*/\1 \2 \3/' <<<"$summary")
skipped="$(grep -cE ' odoo\.addons\.[a-z_]+\.tests.*: skipped ' "$LOG" || true)"

# The failing tests, from Odoo's "FAIL: <test>" / "ERROR: <test>" log lines.
fail_lines="$(grep -oE ' ERROR [^ ]+ [^ ]+: (FAIL|ERROR): .*' "$LOG" |
    sed -E 's/^ ERROR [^ ]+ [^ ]+: //' | sort -u || true)"
is_known() { # LINE PATTERN...
    local line=$1 pattern
    shift
    for pattern in "$@"; do
        if grep -qE -- "$pattern" <<<"$line"; then
            return 0
        fi
    done
    return 1
}
unexpected=0
while IFS= read -r line; do
    if [[ -z $line ]]; then
        continue
    fi
    if [[ $line == ERROR:* ]] && is_known "$line" "${BASELINE_ERRORS[@]}"; then
        echo "  (baseline) $line"
    elif [[ $line == FAIL:* ]] && is_known "$line" "${BASELINE_FAILURES[@]}"; then
        echo "  (baseline) $line"
    else
        echo "  $line"
        unexpected=$((unexpected + 1))
    fi
done <<<"$fail_lines"

echo "test-core ($flavour): $failed failed, $errors error(s) of $total tests, $skipped skipped"
echo "baseline (vanilla Odoo 18): 5 failed, 1 error(s) of 1544 tests" \
    "(ERROR: mrp TestMultistepManufacturingWarehouse.setUpClass; FAIL: sale_mrp" \
    "TestSaleMRPAngloSaxonValuation.test_sale_mrp_kit_bom_cogs and 4 TestSaleMrpKitBom" \
    "tests; with SIT_CORE_TOURS=1 also FAIL: mrp TestTourBoM/TestTourMrpOrder" \
    "product_catalog tours)"
if ((failed > ${#BASELINE_FAILURES[@]} || errors > ${#BASELINE_ERRORS[@]} || unexpected > 0)); then
    echo "test-core ($flavour): FAILED: failures/errors beyond the baseline"
    exit 1
fi
echo "test-core ($flavour): OK (no failure/error beyond the baseline)"
