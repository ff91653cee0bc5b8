#!/usr/bin/env bash
# make run: serve the add-on with its demo data on http://localhost:8069 (admin/admin).
# Creates the database item_tracking_demo (add-on + demo data) when missing,
# otherwise upgrades the add-on in it. Extra arguments go to Odoo.
# Environment: SIT_RUN_DB (database, default item_tracking_demo), SIT_HTTP_PORT (8069).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
sit_init
sit_require_odoo
sit_ensure_pg

DB="${SIT_RUN_DB:-item_tracking_demo}"
PORT="${SIT_HTTP_PORT:-8069}"

demo_opts=()
# Odoo 18 loads demo data unless --without-demo; later versions want --with-demo.
if grep -q -- '"--with-demo"' "$ODOO_ROOT/odoo/tools/config.py"; then
    demo_opts=(--with-demo)
fi

installed=""
if sit_db_exists "$DB"; then
    installed="$(sit_psql -d "$DB" -Atc "select 1 from ir_module_module
        where name = '$SIT_ADDON' and state = 'installed'" 2>/dev/null || true)"
fi
if [[ $installed == 1 ]]; then
    echo "== upgrading $SIT_ADDON in $DB"
    odoo_cmd -d "$DB" -u "$SIT_ADDON" --stop-after-init --no-http
else
    echo "== installing $SIT_ADDON with demo data into $DB"
    odoo_cmd -d "$DB" -i "$SIT_ADDON" "${demo_opts[@]}" --stop-after-init --no-http
    state="$(sit_psql -d "$DB" -Atc "select state from ir_module_module where name = '$SIT_ADDON'")"
    if [[ $state != installed ]]; then
        echo "make run: $SIT_ADDON did not install in $DB (state: ${state:-none})" >&2
        exit 1
    fi
fi

# Make sure admin/admin logs in (it does on a new database with demo data).
hash="$(sit_psql -d "$DB" -Atc "select password from res_users where login = 'admin'")"
if ! "$PY" -c 'import sys
from passlib.context import CryptContext
ctx = CryptContext(["pbkdf2_sha512", "plaintext"])
sys.exit(0 if sys.argv[1] and ctx.verify("admin", sys.argv[1]) else 1)' "$hash" 2>/dev/null; then
    echo "== setting the password of user admin to 'admin'"
    odoo_cmd shell -d "$DB" --no-http --log-level=warn <<'PYEOF'
admin = env.ref("base.user_admin")
admin.write({"login": "admin", "password": "admin", "active": True})
env.cr.commit()
PYEOF
fi

echo "== serving $DB on http://localhost:$PORT  (login admin / password admin; Ctrl-C stops)"
odoo_cmd -d "$DB" --db-filter="^$DB\$" --http-port="$PORT" "$@"
