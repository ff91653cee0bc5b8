"""pytest plugin for `make test` (scripts/test.sh loads it with `-p conftest_odoo`).

- A browser test (tour) that Odoo skips because Chrome, websocket-client or the
  Chrome devtools are missing, or because pytest-odoo runs without --odoo-http,
  is reported as a FAILURE: a tour that did not run must not pass silently.
- Like Odoo's own test suite runner (odoo.tests.suite.OdooSuite), it sets
  odoo.modules.module.current_test to the running test, which Odoo 18 uses to
  check which test the HTTP requests of a tour belong to (pytest-odoo 2.3.0 only
  does it for Odoo >= 19).
"""

import re

import pytest

from odoo.tools import config

# pytest-odoo imports odoo.tests before it enables test mode, and Odoo 18 then logs
# an ERROR with a stack trace ("Importing test framework, avoid importing from
# business modules..."). Import it here, in test mode, to keep the output clean.
config["test_enable"] = True
import odoo.tests  # noqa: E402, F401

config["test_enable"] = False

BROWSER_SKIP = re.compile(r"chrom|browser|websocket|devtools|odoo-http|HttpCase", re.IGNORECASE)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    instance = getattr(item, "instance", None)
    if instance is not None:
        from odoo.modules import module

        module.current_test = instance


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if not report.skipped or hasattr(report, "wasxfail"):
        return
    reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
    if BROWSER_SKIP.search(reason):
        report.outcome = "failed"
        report.longrepr = (
            f"browser test skipped, counted as a failure: {reason}\n"
            "(make test needs headless Chromium (/usr/bin/chromium) and websocket-client)"
        )
