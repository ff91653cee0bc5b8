#!/usr/bin/env bash
# make stress: a load test of serial integrity (not part of make test / CI).
#
# Installs two throwaway databases without demo data: one with Odoo's modules that the add-on
# depends on (vanilla), and a copy of it with the add-on installed; starts one Odoo server
# with workers (--workers, a free HTTP port, --max-cron-threads=0) serving both; runs
# scripts/stress.py against each in turn (STRESS_CLIENTS concurrent XML-RPC clients for
# STRESS_SECONDS seconds: receive, reserve, deliver and return serials of the same few
# products, create lots with colliding names), then prints both results side by side. The
# server is stopped and both databases dropped at the end, whatever happens.
#
#   STRESS_CLIENTS (16)  STRESS_SECONDS (60)  STRESS_WORKERS (6)
#   STRESS_DB_PREFIX (sit_stress): databases <prefix>_addon and <prefix>_vanilla
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
sit_init
sit_require_odoo
sit_ensure_pg

PREFIX="${STRESS_DB_PREFIX:-sit_stress}"
DB_ADDON="${PREFIX}_addon"
DB_VANILLA="${PREFIX}_vanilla"
WORKERS="${STRESS_WORKERS:-6}"
OUT="$BUILD_DIR/stress"
LOG="$BUILD_DIR/logs/stress-server-$$.log"
SERVER_PID=""
mkdir -p "$OUT"

cleanup() {
    local rc=$?
    if [[ -n $SERVER_PID ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        sit_log "stopping the server (pid $SERVER_PID)"
        kill -TERM -- "-$SERVER_PID" 2>/dev/null || kill -TERM "$SERVER_PID" 2>/dev/null || true
        for _ in $(seq 1 30); do
            kill -0 "$SERVER_PID" 2>/dev/null || break
            sleep 1
        done
        kill -KILL -- "-$SERVER_PID" 2>/dev/null || true
    fi
    sit_drop_db "$DB_ADDON" || true
    sit_drop_db "$DB_VANILLA" || true
    exit "$rc"
}
trap cleanup EXIT INT TERM

MODULES="$("$PY" -c 'import ast, sys
print(",".join(ast.literal_eval(open(sys.argv[1]).read())["depends"]))' "$REPO_DIR/__manifest__.py")"
sit_drop_db "$DB_ADDON"
sit_drop_db "$DB_VANILLA"
sit_log "installing $MODULES into $DB_VANILLA (without demo data)"
odoo_cmd -d "$DB_VANILLA" -i "$MODULES" --without-demo=all --stop-after-init --no-http \
    --log-level=warn
createdb -h "$DB_HOST" -p "$DB_PORT" -U "$DB_USER" -T "$DB_VANILLA" "$DB_ADDON"
sit_log "installing $SIT_ADDON into $DB_ADDON"
odoo_cmd -d "$DB_ADDON" -i "$SIT_ADDON" --stop-after-init --no-http --log-level=warn

PORT="$(sit_free_port)"
URL="http://127.0.0.1:$PORT"
sit_log "starting Odoo with $WORKERS workers on $URL (log: $LOG)"
set -m # the server and its workers get their own process group, stopped by cleanup
odoo_cmd server --workers="$WORKERS" --max-cron-threads=0 --http-interface=127.0.0.1 \
    --http-port="$PORT" --db-filter="^(${DB_ADDON}|${DB_VANILLA})\$" --no-database-list \
    --limit-time-real=900 --limit-time-cpu=900 --log-level=warn --logfile="$LOG" >>"$LOG" 2>&1 &
SERVER_PID=$!
set +m
for _ in $(seq 1 120); do
    "$PY" -c 'import sys, xmlrpc.client
xmlrpc.client.ServerProxy(sys.argv[1] + "/xmlrpc/2/common").version()' "$URL" 2>/dev/null && break
    kill -0 "$SERVER_PID" 2>/dev/null || sit_die 1 "the server stopped (see $LOG)"
    sleep 1
done

export DB_HOST DB_PORT DB_USER
sit_log "add-on: $DB_ADDON"
"$PY" "$REPO_DIR/scripts/stress.py" run --url "$URL" --db "$DB_ADDON" --mode addon \
    --out "$OUT/addon.json"
sit_log "vanilla: $DB_VANILLA"
"$PY" "$REPO_DIR/scripts/stress.py" run --url "$URL" --db "$DB_VANILLA" --mode vanilla \
    --out "$OUT/vanilla.json"
"$PY" "$REPO_DIR/scripts/stress.py" compare "$OUT/addon.json" "$OUT/vanilla.json"
# Serialization failures and deadlocks that Odoo retried (and the clients never saw): the
# server logs each failed query at ERROR with PostgreSQL's message.
for db in "$DB_ADDON" "$DB_VANILLA"; do
    echo "server log, $db: $(grep -a -A12 " ERROR $db odoo.sql_db: bad query" "$LOG" |
        grep -a -c -E '^ERROR: +(could not serialize|deadlock detected)' || true)" \
        "serialization failures/deadlocks retried by Odoo"
done
