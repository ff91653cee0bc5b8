# shellcheck shell=bash
# Shared helpers for the project's scripts. Source it, then call sit_init:
#
#   . "$(dirname "${BASH_SOURCE[0]}")/common.sh"
#   sit_init              # PY ODOO_ROOT ADDONS_PATH BUILD_DIR REPO_DIR ADDON_LINK DB_*
#   sit_require_odoo      # exit 2 unless "$PY" imports Odoo 18.0
#   sit_ensure_pg         # a local PostgreSQL answers for $DB_USER (may change DB_HOST/DB_PORT)
#   sit_venv              # $BUILD_DIR/venv with requirements-dev.txt; exports VPY
#   odoo_cmd [SUBCOMMAND] ARGS...   # runs Odoo with addons path + db options
#   sit_odoo_conf FILE [DB]         # writes an Odoo config file with the same options
#   sit_db_exists DB / sit_drop_db DB / sit_psql ARGS...
#
# Environment overrides: ODOO_PYTHON (python that imports odoo 18), ODOO_ROOT,
# DB_HOST (socket dir or host), DB_PORT, DB_USER.

SIT_ADDON=stock_item_tracking

sit_log() { echo "[sit] $*" >&2; }
sit_die() {
    local code=$1
    shift
    echo "[sit] ERROR: $*" >&2
    exit "$code"
}

sit_init() {
    REPO_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
    BUILD_DIR="$REPO_DIR/.build"
    PY="${ODOO_PYTHON:-python3}"
    mkdir -p "$BUILD_DIR/addons" "$BUILD_DIR/logs"

    # Odoo names an add-on after its folder; a clone may have any name.
    ADDON_LINK="$BUILD_DIR/addons/$SIT_ADDON"
    ln -sfn "$REPO_DIR" "$ADDON_LINK"

    # Folder holding the `odoo` package (empty when Odoo is not importable).
    if [[ -z ${ODOO_ROOT:-} ]]; then
        ODOO_ROOT="$("$PY" -c 'import os, odoo.release as r
print(os.path.dirname(os.path.dirname(os.path.abspath(r.__file__))))' 2>/dev/null)" || ODOO_ROOT=""
    fi
    ADDONS_PATH="$BUILD_DIR/addons"
    if [[ -n $ODOO_ROOT ]]; then
        [[ -d $ODOO_ROOT/addons ]] && ADDONS_PATH+=",$ODOO_ROOT/addons"
        ADDONS_PATH+=",$ODOO_ROOT/odoo/addons"
    fi

    # Unix socket of a local PostgreSQL; sit_ensure_pg may switch to a private cluster.
    SIT_DB_EXPLICIT=""
    [[ -n ${DB_HOST:-}${DB_PORT:-} ]] && SIT_DB_EXPLICIT=1
    DB_HOST="${DB_HOST:-/var/run/postgresql}"
    DB_PORT="${DB_PORT:-5432}"
    DB_USER="${DB_USER:-$(id -un)}"
    ODOO_DATA_DIR="$BUILD_DIR/odoo-data"

    export PY ODOO_ROOT ADDONS_PATH BUILD_DIR REPO_DIR ADDON_LINK DB_HOST DB_PORT DB_USER \
        ODOO_DATA_DIR SIT_ADDON
}

sit_require_odoo() {
    local version
    version="$("$PY" -c 'import odoo.release as r; print(r.version)' 2>/dev/null)" || version=""
    if [[ $version != 18.0* || -z $ODOO_ROOT ]]; then
        echo "[sit] ERROR: needs an importable Odoo 18: set ODOO_PYTHON to a python that can" \
            "import odoo 18.0 (tried '$PY': ${version:-import odoo.release failed})" >&2
        exit 2
    fi
}

# Runs Odoo. A first argument not starting with '-' is an Odoo subcommand (server, shell...).
odoo_cmd() {
    local sub=() bin=("$PY" -m odoo)
    if [[ $# -gt 0 && $1 != -* ]]; then
        sub=("$1")
        shift
    fi
    [[ -f $ODOO_ROOT/odoo-bin ]] && bin=("$PY" "$ODOO_ROOT/odoo-bin")
    TZ=UTC "${bin[@]}" "${sub[@]}" \
        --addons-path="$ADDONS_PATH" \
        --db_host="$DB_HOST" --db_port="$DB_PORT" --db_user="$DB_USER" \
        --data-dir="$ODOO_DATA_DIR" \
        "$@"
}

# Writes an Odoo configuration file (for pytest-odoo and friends).
sit_odoo_conf() {
    local file=$1 db=${2:-}
    cat >"$file" <<EOF
[options]
addons_path = $ADDONS_PATH
data_dir = $ODOO_DATA_DIR
db_host = $DB_HOST
db_port = $DB_PORT
db_user = $DB_USER
db_password = False
db_name = ${db:-False}
dbfilter = ${db:+^$db\$}
http_interface = 127.0.0.1
list_db = False
EOF
}

# ---------------------------------------------------------------- PostgreSQL

# Directory of the newest server binaries (pg_ctl, initdb, and on Debian the clients).
_sit_pg_bin() {
    local d
    d="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
    if [[ -n $d && -x $d/pg_ctl ]]; then
        echo "$d"
    elif command -v pg_ctl >/dev/null 2>&1; then
        dirname "$(command -v pg_ctl)"
    fi
}

_sit_pg_ready() { pg_isready -q -h "$DB_HOST" -p "$DB_PORT" -d postgres >/dev/null 2>&1; }

_sit_pg_wait() {
    local _
    for _ in $(seq 1 60); do
        _sit_pg_ready && return 0
        sleep 0.5
    done
    return 1
}

sit_psql() { psql -X -q -h "$DB_HOST" -p "$DB_PORT" -U "$DB_USER" "$@"; }

# Makes sure the role $DB_USER exists as a superuser (creating it as the postgres OS user).
_sit_pg_role() {
    [[ $DB_USER == postgres ]] && sit_die 1 "Odoo refuses the database user 'postgres': set DB_USER"
    sit_psql -d postgres -Atc 'select 1' >/dev/null 2>&1 && return 0
    if [[ $(id -u) -eq 0 ]] && id postgres >/dev/null 2>&1; then
        sit_log "creating PostgreSQL superuser role '$DB_USER'"
        runuser -u postgres -- createuser -h "$DB_HOST" -p "$DB_PORT" -s "$DB_USER"
    else
        sit_die 1 "cannot connect to PostgreSQL as '$DB_USER' ($DB_HOST:$DB_PORT);" \
            "create the role: sudo -u postgres createuser -s $DB_USER"
    fi
}

# A private cluster under $BUILD_DIR/pgdata, on its own socket dir and port.
_sit_pg_private() {
    local pgdata="$BUILD_DIR/pgdata" owner="" run=()
    DB_HOST="$BUILD_DIR/pgsock"
    # unix socket paths are limited to ~107 bytes
    if ((${#DB_HOST} > 80)); then
        DB_HOST="/tmp/sit-pg-$(printf %s "$BUILD_DIR" | cksum | cut -d' ' -f1)"
    fi
    DB_PORT=54329
    export DB_HOST DB_PORT
    _sit_pg_ready && return 0
    command -v initdb >/dev/null 2>&1 || sit_die 1 "PostgreSQL server binaries not found" \
        "(install postgresql, e.g. apt-get install postgresql)"
    if [[ $(id -u) -eq 0 ]]; then # initdb/postgres refuse to run as root
        id postgres >/dev/null 2>&1 || sit_die 1 "running as root needs an OS user 'postgres'" \
            "to own the private PostgreSQL cluster"
        owner=postgres
        run=(runuser -u postgres --)
    fi
    mkdir -p "$DB_HOST"
    [[ -n $owner ]] && chown "$owner" "$DB_HOST"
    if [[ ! -f $pgdata/PG_VERSION ]]; then
        sit_log "initdb a private PostgreSQL cluster in $pgdata"
        rm -rf "$pgdata"
        mkdir -p "$pgdata"
        [[ -n $owner ]] && chown "$owner" "$pgdata"
        "${run[@]}" initdb -D "$pgdata" -U "$DB_USER" --auth=trust -E UTF8 --no-locale >/dev/null
    fi
    sit_log "starting the private PostgreSQL cluster (socket $DB_HOST, port $DB_PORT)"
    "${run[@]}" pg_ctl -D "$pgdata" -l "$pgdata/server.log" -w -t 60 \
        -o "-k $DB_HOST -p $DB_PORT -c listen_addresses=''" start >/dev/null
    _sit_pg_wait || sit_die 1 "private PostgreSQL did not start (see $pgdata/server.log)"
}

sit_ensure_pg() {
    local pg_bin version cluster port status
    pg_bin="$(_sit_pg_bin)"
    [[ -n $pg_bin ]] && PATH="$pg_bin:$PATH" && export PATH
    command -v pg_isready >/dev/null 2>&1 || sit_die 1 "PostgreSQL client tools not found" \
        "(install postgresql, e.g. apt-get install postgresql)"

    if _sit_pg_ready; then
        _sit_pg_role
        return 0
    fi
    [[ -n $SIT_DB_EXPLICIT ]] && sit_die 1 "no PostgreSQL answers at DB_HOST=$DB_HOST DB_PORT=$DB_PORT"

    # A private cluster made by an earlier run.
    if [[ -f $BUILD_DIR/pgdata/PG_VERSION ]]; then
        _sit_pg_private
        return 0
    fi

    # The Debian cluster (pg_lsclusters: version cluster port status owner ...).
    if [[ $(id -u) -eq 0 ]] && command -v pg_lsclusters >/dev/null 2>&1 &&
        read -r version cluster port status _ < <(pg_lsclusters -h 2>/dev/null | head -n 1) &&
        [[ -n ${cluster:-} ]]; then
        DB_HOST=/var/run/postgresql
        DB_PORT=$port
        export DB_HOST DB_PORT
        if ! _sit_pg_ready; then
            sit_log "starting the Debian PostgreSQL cluster $version/$cluster ($status)"
            pg_ctlcluster "$version" "$cluster" start || true
        fi
        if _sit_pg_wait; then
            _sit_pg_role
            return 0
        fi
        sit_log "the Debian cluster $version/$cluster does not answer; using a private cluster"
    fi

    _sit_pg_private
}

sit_db_exists() {
    [[ $(sit_psql -d postgres -Atc "select 1 from pg_database where datname = '$1'") == 1 ]]
}

sit_drop_db() {
    local db=$1
    [[ -n $db ]] || return 0
    dropdb --if-exists --force -h "$DB_HOST" -p "$DB_PORT" -U "$DB_USER" "$db" 2>/dev/null ||
        dropdb --if-exists -h "$DB_HOST" -p "$DB_PORT" -U "$DB_USER" "$db"
    rm -rf "${ODOO_DATA_DIR:?}/filestore/$db"
}

# ---------------------------------------------------------------- dev tools

# $BUILD_DIR/venv: python of $PY (python3 when $PY does not run) with the system site
# packages (so odoo stays importable) plus requirements-dev.txt; exports VPY.
sit_venv() {
    local venv="$BUILD_DIR/venv" req="$REPO_DIR/requirements-dev.txt" base=$PY base_exe
    "$base" -c 'import sys' >/dev/null 2>&1 || base=python3
    base_exe="$("$base" -c 'import sys; print(sys.executable)')"
    VPY="$venv/bin/python"
    if [[ -x $VPY && $(cat "$venv/.sit-base" 2>/dev/null) != "$base_exe" ]]; then
        sit_log "recreating $venv (base python changed)"
        rm -rf "$venv"
    fi
    if [[ ! -x $VPY ]]; then
        sit_log "creating $venv from $base_exe"
        "$base" -m venv --system-site-packages "$venv"
        echo "$base_exe" >"$venv/.sit-base"
    fi
    if ! "$VPY" - "$req" <<'EOF'; then
import sys
from importlib import metadata

for line in open(sys.argv[1]):
    line = line.split("#")[0].strip()
    if not line:
        continue
    name, _, wanted = line.partition("==")
    try:
        have = metadata.version(name.strip())
    except metadata.PackageNotFoundError:
        have = None
    if have != wanted.strip():
        sys.exit(1)
EOF
        sit_log "installing requirements-dev.txt into $venv"
        "$VPY" -m pip install -q --disable-pip-version-check -r "$req"
    fi
    export VPY
}

# A free TCP port on 127.0.0.1 (for an Odoo HTTP server next to a running `make run`).
sit_free_port() {
    "$PY" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# Stops the private cluster of _sit_pg_private, if one runs (used by `make clean`).
sit_stop_private_pg() {
    local pgdata="$BUILD_DIR/pgdata" pg_bin run=()
    [[ -f $pgdata/postmaster.pid ]] || return 0
    pg_bin="$(_sit_pg_bin)"
    if [[ $(id -u) -eq 0 ]]; then
        run=(runuser -u postgres --)
    fi
    "${run[@]}" "${pg_bin:+$pg_bin/}pg_ctl" -D "$pgdata" -m fast stop || true
}
