#!/usr/bin/env bash
# make test: install the add-on WITHOUT demo data in a throwaway database, then run
# all its tests (tests/) with pytest-odoo, tours included (headless Chromium).
# The database is dropped on exit. Extra arguments go to pytest, e.g.
#   scripts/test.sh -k lot -x
# Exit status: pytest's (1 on failures; "no tests collected" counts as a failure);
# 2 when no Odoo 18 is importable.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
sit_init
sit_require_odoo
sit_ensure_pg
sit_venv

DB="sit_test_$$"
CONF="$BUILD_DIR/odoo-$DB.conf"
cleanup() {
    sit_drop_db "$DB" || true
    rm -f "$CONF"
}
trap cleanup EXIT

if [[ ! -d $ADDON_LINK/tests ]]; then
    echo "make test: no tests/ folder in the add-on" >&2
    exit 1
fi
if ! command -v google-chrome chromium chromium-browser google-chrome-stable >/dev/null; then
    echo "make test: WARNING: no Chrome/Chromium found; browser tests (tours) will fail" >&2
fi

echo "== installing $SIT_ADDON into $DB (without demo data)"
odoo_cmd -d "$DB" -i "$SIT_ADDON" --without-demo=all --stop-after-init --no-http \
    --log-level=warn
state="$(sit_psql -d "$DB" -Atc "select state from ir_module_module where name = '$SIT_ADDON'")"
if [[ $state != installed ]]; then
    echo "make test: $SIT_ADDON did not install (state: ${state:-none})" >&2
    exit 1
fi

echo "== pytest $ADDON_LINK/tests"
sit_odoo_conf "$CONF" "$DB"
rc=0
# From $BUILD_DIR, through the add-on link: the tests are imported as
# odoo.addons.stock_item_tracking.tests.*, whatever the clone's folder is named.
(cd "$BUILD_DIR" && PYTHONPATH="$REPO_DIR/scripts${PYTHONPATH:+:$PYTHONPATH}" TZ=UTC \
    "$VPY" -m pytest -p conftest_odoo -p no:cacheprovider \
    --odoo-config="$CONF" --odoo-database="$DB" --odoo-http --odoo-log-level=warn \
    -rfEs "$ADDON_LINK/tests" "$@") || rc=$?
if [[ $rc -eq 5 ]]; then
    echo "make test: FAILED: pytest collected no tests" >&2
    exit 1
fi
exit "$rc"
