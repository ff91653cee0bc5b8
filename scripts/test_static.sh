#!/usr/bin/env bash
# make test-static: checks that need no Odoo.
#   1. scripts/static_checks.py (manifest, data files, Odoo 18 XML syntax, model access)
#   2. ruff check + ruff format --check   (config: pyproject.toml)
#   3. pylint with pylint-odoo's mandatory checks (config: .pylintrc)
#   4. pytest on tools/tests (pure Python, Odoo never imported)
# Every step runs; the script fails if any failed.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
sit_init
sit_venv
VBIN="$(dirname "$VPY")"
failed=()

step() {
    local name=$1
    shift
    echo "== $name"
    if "$@"; then
        echo "-- $name: OK"
    else
        echo "-- $name: FAILED"
        failed+=("$name")
    fi
}

pure_tests() {
    # Collect through $BUILD_DIR/pure/tools -> <repo>/tools: the repository root has
    # an __init__.py importing odoo, and pytest would import it as the tests' parent
    # package. Under the link, `tools` is the top-level package.
    # The link lives outside the repository: under it, pytest would still find the
    # repository's __init__.py above the real path and import the add-on (Odoo refuses).
    local dir rc=0
    if [[ ! -d $REPO_DIR/tools/tests ]]; then
        echo "no tools/tests folder"
        return 1
    fi
    dir="$(mktemp -d "${TMPDIR:-/tmp}/sit-pure.XXXXXX")"
    ln -sfn "$REPO_DIR/tools" "$dir/tools"
    (cd "$dir" && "$VPY" -m pytest -p no:odoo -p no:cacheprovider --import-mode=importlib \
        --rootdir=. -c /dev/null -rfEs tools/tests) || rc=$?
    rm -rf "$dir"
    if [[ $rc -eq 5 ]]; then
        echo "pytest collected no tests in tools/tests"
    fi
    return "$rc"
}

cd "$REPO_DIR"
step "static checks" "$VPY" scripts/static_checks.py "$REPO_DIR"
step "ruff check" "$VBIN/ruff" check --no-fix .
step "ruff format" "$VBIN/ruff" format --check .
step "pylint-odoo (mandatory checks)" "$VPY" -m pylint --rcfile="$REPO_DIR/.pylintrc" "$ADDON_LINK"
step "pytest tools/tests" pure_tests

if ((${#failed[@]})); then
    echo "test-static: FAILED: ${failed[*]}"
    exit 1
fi
echo "test-static: all checks passed"
