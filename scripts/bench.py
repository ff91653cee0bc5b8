#!/usr/bin/env python3
"""Compare stock flows on a vanilla database and on one with ``stock_item_tracking``.

Run by ``scripts/bench.sh`` (``make bench``) with the Odoo python, in ONE process that
opens both registries and runs the same flows on each, taking turns (see Repeats):

``receipt_serial``
    Receipt of N serial-tracked units from a vendor to WH/Stock; serials are generated
    with Odoo's own generator (``stock.move.action_generate_lot_line_vals``, as the
    "Generate Serials/Lots" dialog does), each line with an expiration date.
    Measured: the receipt's validation.
``delivery_serial``
    The N serials are received (unmeasured), then delivered to a customer: reservation,
    quantities picked and, on the add-on side, a warranty date on every move line.
    Measured: the delivery's validation (reservation is reported on its own, for
    information).
``receipt_delivery_lot``
    Receipt of N units spread over N/10 lots (10 units per lot), then their delivery.
    Measured: receipt validation + delivery validation.

Each flow runs in its own cursor that is always rolled back, so the databases stay as
they were built. Only the measured part counts: its wall time (``time.perf_counter``)
and its SQL query count (``cr.sql_log_count``, which Odoo increments on every
``execute``), up to and including the flush and pre-commit hooks that a real commit
would run. The record cache is emptied before the measured part, as a new request
would have it; the registries' ormcaches are warmed once by a small unmeasured run of
every flow.

Repeats: a run measures each measured part more than once ("attempts"): every attempt
but the last inside a savepoint that is then rolled back, so the part is measured again
from the same state without paying again for the setup before it. The two sides run a
flow as a pair, each in its own thread but one at a time, taking turns at every attempt
(vanilla attempt 1, add-on attempt 1, vanilla attempt 2, ...), so that a slow spell of
this shared machine, which lasts minutes, weighs on both sides alike; the side that
starts alternates from one pair to the next. The reported ratio is the median of the
add-on/vanilla ratios of the measurements taken side by side (see ``Comparison``).

PostgreSQL statistics: in real use the receipt is committed, and autovacuum analyses
its thousands of new rows, long before anyone validates the delivery. Here both happen
in one uncommitted transaction, where the planner would otherwise plan the delivery
on tables it believes empty, and the time of a 5,000-serial flow swung between 0.5x
and 3x on the same code. So, unmeasured and identically on both sides: the database
is vacuumed and analysed before every run (which also clears the dead rows of the
previous, rolled-back run), and the stock tables are analysed inside the transaction
before every measured part (``ANALYZE`` counts the transaction's own new rows).

On the add-on side the product carries an ``item.tracking.code`` with every option on;
everything that touches add-on models lives in the ``addon_*`` functions below.

Output: a table per flow and size, then one line per flow and size::

    BENCH flow=<name> n=<N> ratio=<x.xx> extra_queries=<k>

Exit status: 0 when every flow ran (the numbers are a measurement, not a verdict),
1 when a flow raised on either side, 2 on bad usage.
"""

import argparse
import gc
import os
import statistics
import sys
import threading
import time
import traceback
from dataclasses import dataclass, field
from datetime import timedelta

FLOWS = ("receipt_serial", "delivery_serial", "receipt_delivery_lot")
DEFAULT_SIZES = (100, 1000, 5000)
LOT_SIZE = 10  # units per lot in receipt_delivery_lot
WARMUP_SIZE = 20
MODULES = (
    "stock",
    "mrp",
    "sale_stock",
    "purchase_stock",
    "product_expiry",
    "stock_account",
)


def log(msg):
    """Print a progress message on stderr (stdout holds the results)."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------
# Measurements
# --------------------------------------------------------------------------------------


@dataclass
class Measure:
    """Wall time (seconds) and SQL query count of one measured phase."""

    wall: float
    queries: int
    cpu: float = 0.0  # CPU time of this (Python) process, less sensitive to load


# Tables the flows fill; analysed before each measured part (see the module docstring).
STOCK_TABLES = (
    "stock_lot",
    "stock_quant",
    "stock_move",
    "stock_move_line",
    "stock_picking",
    "stock_valuation_layer",
    "stock_lot_status_log",
)


def analyze_stock_tables(cr):
    """``ANALYZE`` the stock tables that exist, inside the current transaction."""
    cr.execute("SELECT relname FROM pg_class WHERE relname IN %s", [STOCK_TABLES])
    tables = sorted(row[0] for row in cr.fetchall())
    cr.execute("ANALYZE " + ", ".join(tables))  # names from STOCK_TABLES only


class Baton:
    """Lets the two sides' flows, each in its own thread, run one at a time and take
    turns at every measured attempt: A's setup, B's setup, A's attempt 1, B's attempt 1,
    A's attempt 2, and so on. Paired attempts are seconds apart, so a slow spell of the
    machine weighs on both sides alike. Only the holder runs; a side that finished (or
    failed) leaves the baton to the other for good."""

    def __init__(self, labels):
        self.labels = list(labels)
        self.holder = self.labels[0]
        self.finished = set()
        self.condition = threading.Condition()

    def _other(self, label):
        return next(other for other in self.labels if other != label)

    def wait(self, label):
        with self.condition:
            self.condition.wait_for(lambda: self.holder == label)

    def take_turns(self, label):
        """Hand the baton to the other side (unless it finished), and wait for it back."""
        with self.condition:
            if self._other(label) not in self.finished:
                self.holder = self._other(label)
                self.condition.notify_all()
            self.condition.wait_for(lambda: self.holder == label)

    def finish(self, label):
        with self.condition:
            self.finished.add(label)
            self.holder = self._other(label)
            self.condition.notify_all()


@dataclass
class Recorder:
    """Collects the measured phases of one flow run on one side.

    ``primary`` phases add up to the flow's figure; the others (e.g. the reservation
    of a delivery) are reported apart, for information. Each primary phase is measured
    ``attempts`` times in place (see ``measure``); a phase counts with its best attempt.
    """

    env: object
    attempts: int = 1
    baton: object = None  # a Baton when the two sides run side by side (see run_pair)
    label: str = ""
    primary: list = field(default_factory=list)  # [(label, [Measure per attempt])]
    secondary: dict = field(default_factory=dict)

    def measure(self, label, func, primary=True):
        """Run ``func()`` as a fresh request would and record its time and query count.

        Pending writes are flushed and the record cache emptied first (unmeasured); the
        measured span ends after the flush and pre-commit hooks a commit would run.

        A primary phase is run ``attempts`` times from the same state: every attempt
        but the last runs inside a savepoint that is rolled back afterwards (with the
        ORM's caches and the pending hooks), so the flow goes on after the last one as
        if the phase had run once. This repeats the phase without repeating the (often
        longer) setup before it.
        """
        cr = self.env.cr
        attempts = self.attempts if primary else 1
        measures = []
        result = None
        for attempt in range(attempts):
            if primary and self.baton is not None:
                self.baton.take_turns(self.label)  # the other side measures in between
            savepoint = cr.savepoint() if attempt < attempts - 1 else None  # flushes
            cr.flush()
            analyze_stock_tables(cr)
            self.env.invalidate_all()
            gc.collect()
            queries0 = cr.sql_log_count
            cpu0 = time.process_time()
            start = time.perf_counter()
            result = func()
            cr.flush()
            wall = time.perf_counter() - start
            cpu = time.process_time() - cpu0
            measures.append(Measure(wall, cr.sql_log_count - queries0, cpu))
            if savepoint is not None:
                savepoint.close(rollback=True)  # also clears the ORM cache, pre-commit hooks
                cr.postcommit.clear()
        if primary:
            self.primary.append((label, measures))
        else:
            self.secondary[label] = measures[0]
        return result

    def attempt_walls(self):
        """Wall time of each attempt, summed over the primary phases (for the log)."""
        return [measure.wall for measure in self.attempt_totals()]

    def attempt_totals(self):
        """Each attempt's figure: its measures summed over the primary phases."""
        return [
            Measure(
                sum(measures[index].wall for _label, measures in self.primary),
                sum(measures[index].queries for _label, measures in self.primary),
                sum(measures[index].cpu for _label, measures in self.primary),
            )
            for index in range(self.attempts)
        ]


# --------------------------------------------------------------------------------------
# Add-on specific part (only ever called on the add-on side)
# --------------------------------------------------------------------------------------


def addon_check(env):
    """Fail early and clearly when the add-on database lacks the add-on."""
    module = env["ir.module.module"].search([("name", "=", "stock_item_tracking")])
    if module.state != "installed" or "item.tracking.code" not in env:
        raise RuntimeError(
            f"stock_item_tracking is not installed in database {env.cr.dbname!r} "
            f"(state: {module.state or 'unknown'})"
        )


def addon_configure_product(env, product, tracking):
    """Give ``product`` an item tracking code with every option on."""
    code = env["item.tracking.code"].create(
        {
            "name": "Bench",
            "tracking": tracking,
            "scope": "inventory",
            "specific_tracking": True,
            "strict_expiration": True,
            "expiration_date_required": True,
            "warranty_formula": "1Y",
            "warranty_date_required": True,
        }
    )
    product.product_tmpl_id.item_tracking_code_id = code


def addon_prepare_delivery(env, picking):
    """Set a warranty date on every move line of a delivery, as a user would."""
    warranty = env.cr.now().date() + timedelta(days=365)
    picking.move_line_ids.write({"warranty_date": warranty})


# --------------------------------------------------------------------------------------
# Flows (identical on both sides, but for the addon_* calls)
# --------------------------------------------------------------------------------------


class Flows:
    """The benchmark flows, run in one environment (one cursor) of one side."""

    def __init__(self, env, addon):
        self.env = env
        self.addon = addon
        self.company = env.company
        self.warehouse = env["stock.warehouse"].search(
            [("company_id", "=", self.company.id)], limit=1
        )
        if not self.warehouse:
            raise RuntimeError(f"no warehouse in database {env.cr.dbname!r}")
        self.stock = self.warehouse.lot_stock_id
        self.supplier_loc = env.ref("stock.stock_location_suppliers")
        self.customer_loc = env.ref("stock.stock_location_customers")
        self.vendor = env["res.partner"].create({"name": "Bench Vendor"})
        self.customer = env["res.partner"].create({"name": "Bench Customer"})

    # ---- building blocks (unmeasured) --------------------------------------------

    def make_product(self, name, tracking):
        """A storable, tracked product with expiration dates (+ the add-on's code)."""
        product = self.env["product.product"].create(
            {
                "name": name,
                "is_storable": True,
                "tracking": tracking,
                "use_expiration_date": True,
                "expiration_time": 365,
            }
        )
        if self.addon:
            addon_configure_product(self.env, product, tracking)
        return product

    def make_picking(self, picking_type, partner, src, dest, product, qty):
        """A draft picking with one move of ``qty`` units of ``product``."""
        picking = self.env["stock.picking"].create(
            {
                "picking_type_id": picking_type.id,
                "partner_id": partner.id,
                "location_id": src.id,
                "location_dest_id": dest.id,
                "move_ids": [
                    (
                        0,
                        0,
                        {
                            "name": product.display_name,
                            "product_id": product.id,
                            "product_uom": product.uom_id.id,
                            "product_uom_qty": qty,
                            "location_id": src.id,
                            "location_dest_id": dest.id,
                        },
                    )
                ],
            }
        )
        return picking

    def generate_lines(self, picking, first_lot, count):
        """Fill the picking's only move with generated lot/serial lines, as the UI does.

        ``count`` is the number of serials, or the quantity per lot for a lot-tracked
        product (the dialog's "Quantity per lot"). Each line gets an expiration date.
        """
        move = picking.move_ids
        ctx = {
            "default_company_id": picking.company_id.id,
            "default_picking_id": picking.id,
            "default_picking_type_id": picking.picking_type_id.id,
            "default_move_id": move.id,
            "default_product_id": move.product_id.id,
            "default_location_id": move.location_id.id,
            "default_location_dest_id": move.location_dest_id.id,
            "default_tracking": move.has_tracking,
            "default_quantity": move.product_uom_qty,
        }
        vals_list = self.env["stock.move"].action_generate_lot_line_vals(
            ctx, "generate", first_lot, count, False
        )
        ml_fields = self.env["stock.move.line"]._fields
        keep = (
            "company_id",
            "picking_id",
            "move_id",
            "product_id",
            "product_uom_id",
            "location_id",
            "location_dest_id",
            "lot_id",
            "lot_name",
            "quantity",
        )
        base_date = self.env.cr.now()
        commands = [(2, line.id) for line in move.move_line_ids]  # "keep lines" unticked
        for index, vals in enumerate(vals_list):
            line = {}
            for key in keep:
                if key in vals and key in ml_fields:
                    value = vals[key]
                    line[key] = value["id"] if isinstance(value, dict) else value
            line["expiration_date"] = base_date + timedelta(days=365 + index % 30)
            commands.append((0, 0, line))
        move.write({"move_line_ids": commands})
        if len(move.move_line_ids) != len(vals_list):
            raise RuntimeError("generated lines were not all created")

    def validate(self, picking):
        """``button_validate``, failing loudly if a wizard would have stopped a user."""
        result = picking.button_validate()
        if isinstance(result, dict) and result.get("res_model"):
            raise RuntimeError(f"validation of {picking.name} opened wizard {result['res_model']}")
        if picking.state != "done":
            raise RuntimeError(f"{picking.name} is {picking.state!r} after validation")
        return result

    def receipt(self, product, qty, first_lot, count):
        """A receipt of ``qty`` units with generated lines, ready to validate."""
        picking = self.make_picking(
            self.warehouse.in_type_id,
            self.vendor,
            self.supplier_loc,
            self.stock,
            product,
            qty,
        )
        picking.action_confirm()
        self.generate_lines(picking, first_lot, count)
        return picking

    def reserve(self, picking):
        """Confirm a delivery (which reserves, "at confirmation"), then check availability."""
        picking.action_confirm()
        picking.action_assign()

    def delivery(self, product, qty, rec):
        """A delivery of ``qty`` units, reserved and picked, ready to validate."""
        picking = self.make_picking(
            self.warehouse.out_type_id,
            self.customer,
            self.stock,
            self.customer_loc,
            product,
            qty,
        )
        rec.measure("reserve", lambda: self.reserve(picking), primary=False)
        move = picking.move_ids
        if move.quantity != qty:
            raise RuntimeError(f"reserved {move.quantity} of {qty} units on {picking.name}")
        move.picked = True
        if self.addon:
            addon_prepare_delivery(self.env, picking)
        return picking

    # ---- the flows ---------------------------------------------------------------

    def receipt_serial(self, n, rec):
        """Receive N serials; measure the receipt's validation."""
        product = self.make_product(f"Bench serial receipt {n}", "serial")
        picking = self.receipt(product, n, "SN-RS-000001", n)
        rec.measure("validate receipt", lambda: self.validate(picking))

    def delivery_serial(self, n, rec):
        """Receive N serials (unmeasured), deliver them; measure the delivery."""
        product = self.make_product(f"Bench serial delivery {n}", "serial")
        self.validate(self.receipt(product, n, "SN-DS-000001", n))
        picking = self.delivery(product, n, rec)
        rec.measure("validate delivery", lambda: self.validate(picking))

    def receipt_delivery_lot(self, n, rec):
        """Receive N units in N/10 lots then deliver them; measure both validations."""
        product = self.make_product(f"Bench lot {n}", "lot")
        receipt = self.receipt(product, n, "LOT-000001", LOT_SIZE)
        rec.measure("validate receipt", lambda: self.validate(receipt))
        picking = self.delivery(product, n, rec)
        rec.measure("validate delivery", lambda: self.validate(picking))


# --------------------------------------------------------------------------------------
# Sides and driver
# --------------------------------------------------------------------------------------


class Side:
    """One database and its registry: ``vanilla`` or ``addon``."""

    def __init__(self, label, dbname, addon):
        from odoo.modules.registry import Registry

        self.label = label
        self.dbname = dbname
        self.addon = addon
        log(f"loading registry of {dbname} ({label})")
        self.registry = Registry(dbname)
        self.check()

    def check(self):
        """Check that the database has the expected modules installed."""
        import odoo

        cr = self.registry.cursor()
        try:
            env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
            mods = env["ir.module.module"].search(
                [("name", "in", MODULES), ("state", "=", "installed")]
            )
            missing = set(MODULES) - set(mods.mapped("name"))
            if missing:
                raise RuntimeError(f"{self.dbname}: modules not installed: {sorted(missing)}")
            if self.addon:
                addon_check(env)
        finally:
            cr.rollback()
            cr.close()

    def vacuum(self):
        """``VACUUM ANALYZE`` the database (clears the previous run's dead rows), then a
        ``CHECKPOINT``, so that no timed checkpoint writes the previous runs' pages to disk
        in the middle of the next measured part."""
        import psycopg2

        cr = self.registry.cursor()
        try:
            cr._cnx.autocommit = True  # VACUUM can't run in a transaction block
            cr.execute("VACUUM ANALYZE")
            try:
                cr.execute("CHECKPOINT", log_exceptions=False)
            except psycopg2.errors.InsufficientPrivilege:
                pass  # needs a superuser or pg_checkpoint: fine without it, only noisier
        finally:
            cr._cnx.autocommit = False
            cr.close()

    def run(self, flow, n, attempts=1, baton=None):
        """Run ``flow`` at size ``n`` in a fresh cursor, always rolled back; each of its
        measured phases is measured ``attempts`` times (see ``Recorder.measure``), taking
        turns with the other side when given a ``baton`` (see ``run_pair``)."""
        import odoo

        if baton is None:
            self.vacuum()
        cr = self.registry.cursor()
        try:
            env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
            rec = Recorder(env, attempts, baton, self.label)
            getattr(Flows(env, self.addon), flow)(n, rec)
            # Keep the figures, not the environment: its record cache (thousands of
            # records) would otherwise live on with every run kept, and each run's
            # garbage collections would have more to walk than the one before.
            rec.env = None
            return rec
        finally:
            cr.rollback()
            cr.close()


def parse_sizes(text):
    """Parse ``"100,1000"`` into ``[100, 1000]`` (positive multiples of 10)."""
    sizes = [int(part) for part in text.replace(" ", "").split(",") if part]
    if not sizes or any(size <= 0 or size % LOT_SIZE for size in sizes):
        raise ValueError(f"sizes must be positive multiples of {LOT_SIZE}: {text!r}")
    return sizes


def default_repeat(n, flow=None):
    """(runs per side, attempts per run) at size ``n`` when not given.

    Two attempts per run (the second costs only the measured part, not the setup
    before it); 5 runs up to n=100, 3 up to 1000, 2 above: 10, 6 and 4 measurements
    per side. The lot flow handles N/10 lots, so it is as cheap as a serial flow of
    N/10 and gets the repeats of that size.
    """
    if flow == "receipt_delivery_lot":
        n //= LOT_SIZE
    return (5 if n <= 100 else 3 if n <= 1000 else 2), 2


def summarize(measures):
    """Lowest wall and CPU times and the first query count of repeated measurements."""
    return Measure(
        min(m.wall for m in measures),
        measures[0].queries,
        min(m.cpu for m in measures),
    )


@dataclass
class Comparison:
    """One flow at one size: each side's lowest figures, and the add-on/vanilla ratios.

    ``ratio`` and ``cpu_ratio`` are medians of the ratios of the measurements taken side
    by side (same pair run, same attempt: seconds apart, see ``Baton``), so a slow spell
    of the machine cancels out of each ratio and a lucky or unlucky one does not move
    the median; ``lowest_ratio`` compares the lowest times, for information.
    """

    flow: str
    n: int
    vanilla: Measure
    addon: Measure
    ratio: float
    cpu_ratio: float
    pairs: int

    @property
    def lowest_ratio(self):
        return self.addon.wall / self.vanilla.wall if self.vanilla.wall else float("nan")


def compare(flow, n, van_recs, add_recs, measures_of):
    """The ``Comparison`` of the measures that ``measures_of(recorder)`` gives per side;
    ``van_recs[i]`` and ``add_recs[i]`` ran as one pair."""
    walls, cpus = [], []
    van_all, add_all = [], []
    for van_rec, add_rec in zip(van_recs, add_recs, strict=True):
        van_measures, add_measures = measures_of(van_rec), measures_of(add_rec)
        van_all += van_measures
        add_all += add_measures
        for van, add in zip(van_measures, add_measures, strict=True):
            walls.append(add.wall / van.wall if van.wall else float("nan"))
            cpus.append(add.cpu / van.cpu if van.cpu else float("nan"))
    return Comparison(
        flow,
        n,
        summarize(van_all),
        summarize(add_all),
        statistics.median(walls),
        statistics.median(cpus),
        len(walls),
    )


def fmt_row(cells, widths):
    """Format one table row, the first column left-aligned, the others right-aligned."""
    first, *rest = cells
    return "  ".join(
        [f"{first:<{widths[0]}}"] + [f"{c:>{w}}" for c, w in zip(rest, widths[1:], strict=True)]
    )


def print_table(title, rows):
    """Print ``rows`` (``Comparison``) as a table."""
    header = (
        "flow",
        "n",
        "vanilla s",
        "add-on s",
        "ratio",
        "pairs",
        "lowest ratio",
        "vanilla q",
        "add-on q",
        "extra q",
        "cpu ratio",
    )
    lines = [
        (
            row.flow,
            str(row.n),
            f"{row.vanilla.wall:.3f}",
            f"{row.addon.wall:.3f}",
            f"{row.ratio:.2f}",
            str(row.pairs),
            f"{row.lowest_ratio:.2f}",
            str(row.vanilla.queries),
            str(row.addon.queries),
            f"{row.addon.queries - row.vanilla.queries:+d}",
            f"{row.cpu_ratio:.2f}",
        )
        for row in rows
    ]
    widths = [max(len(r[i]) for r in [header, *lines]) for i in range(len(header))]
    print(f"\n{title}")
    print(fmt_row(header, widths))
    print(fmt_row(["-" * w for w in widths], widths))
    for line in lines:
        print(fmt_row(line, widths))


def build_parser():
    """The command-line parser; unknown arguments are left for Odoo's configuration."""
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog="Other arguments go to Odoo's configuration, e.g. --addons-path=... "
        "--data-dir=... --db_host=... --db_port=... --db_user=...",
    )
    parser.add_argument("--vanilla-db", default="sit_bench_vanilla")
    parser.add_argument("--addon-db", default="sit_bench_addon")
    parser.add_argument(
        "--sizes",
        default=os.environ.get("BENCH_SIZES") or ",".join(map(str, DEFAULT_SIZES)),
        help="comma-separated sizes (default: $BENCH_SIZES, else 100,1000,5000)",
    )
    parser.add_argument(
        "--flows",
        default=os.environ.get("BENCH_FLOWS") or ",".join(FLOWS),
        help="comma-separated flows (default: $BENCH_FLOWS, else all)",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=int(os.environ.get("BENCH_REPEAT") or 0),
        help="runs per side and size, alternating sides (default: $BENCH_REPEAT, "
        "else 5 up to n=100, 2 above)",
    )
    parser.add_argument(
        "--attempts",
        type=int,
        default=int(os.environ.get("BENCH_ATTEMPTS") or 0),
        help="measurements of each measured phase per run, from the same state (default: "
        "$BENCH_ATTEMPTS, else 2); the lowest time is reported",
    )
    parser.add_argument(
        "--aa",
        action="store_true",
        help="A/A check: vanilla flows on both databases (no add-on configuration)",
    )
    return parser


def parse_flows(text):
    """Parse ``"receipt_serial,delivery_serial"`` into a list of known flow names."""
    flows = [flow for flow in text.replace(" ", "").split(",") if flow]
    unknown = set(flows) - set(FLOWS)
    if unknown or not flows:
        raise ValueError(f"unknown flows {sorted(unknown)}; known: {', '.join(FLOWS)}")
    return flows


def warm_up(sides, flows, failures):
    """Run every flow once, small and unmeasured, on each side (fills the ormcaches)."""
    log(f"warm-up: every flow once at n={WARMUP_SIZE} on each side (unmeasured)")
    for flow in flows:
        for side in sides:
            try:
                side.run(flow, WARMUP_SIZE, attempts=2)  # the savepoint path too
            except Exception:  # noqa: BLE001 - reported; the others go on
                failures.append((flow, WARMUP_SIZE, side.label))
                log(f"{flow} warm-up FAILED on {side.label}:\n{traceback.format_exc()}")


def run_pair(sides, flow, n, attempts):
    """Run ``flow`` on both sides side by side, one thread each, taking turns at every
    measured attempt (see ``Baton``); ``sides[0]`` starts. Returns {label: Recorder}
    of the sides that ran it, and {label: exception} of those that raised."""
    for side in sides:
        side.vacuum()
    baton = Baton(side.label for side in sides)
    recs, errors = {}, {}

    def target(side):
        baton.wait(side.label)
        try:
            recs[side.label] = side.run(flow, n, attempts, baton)
        except Exception as exc:  # noqa: BLE001 - handed to the caller
            errors[side.label] = exc
        finally:
            baton.finish(side.label)

    threads = [
        threading.Thread(target=target, args=(side,), name=f"bench-{side.label}") for side in sides
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return recs, errors


def measure_flow(sides, flow, n, repeat, attempts, turn):
    """Run ``flow`` at size ``n`` ``repeat`` times per side, the sides taking turns.

    Each run is a pair (``run_pair``); the side that starts alternates from one pair to
    the next (``turn`` counts them across the whole benchmark). Returns ({side label:
    [Recorder]}, next turn).
    """
    recs = {side.label: [] for side in sides}
    for _ in range(repeat):
        order = sides if turn % 2 == 0 else sides[::-1]
        turn += 1
        start = time.perf_counter()
        pair, errors = run_pair(order, flow, n, attempts)
        for side in order:
            if side.label in errors:
                raise FlowError(side.label) from errors[side.label]
        elapsed = time.perf_counter() - start
        for side in order:
            rec = pair[side.label]
            recs[side.label].append(rec)
            walls = ", ".join(f"{wall:.2f}" for wall in rec.attempt_walls())
            log(f"{flow} n={n} {side.label}: measured {walls} s")
        log(f"{flow} n={n}: pair run in {elapsed:.1f}s with setup")
    return recs, turn


class FlowError(Exception):
    """A flow raised; ``args[0]`` is the side it raised on."""


def measure_all(sides, flows, sizes, repeat, attempts, failures):
    """Measure every flow at every size; returns the main and the reservation rows."""
    results, reservations, turn = [], [], 0
    for n in sizes:
        for flow in flows:
            default_runs, default_attempts = default_repeat(n, flow)
            runs = repeat if repeat > 0 else default_runs
            tries = attempts if attempts > 0 else default_attempts
            if any(failed[0] == flow for failed in failures):
                log(f"{flow} n={n}: skipped (it failed before)")
                continue
            try:
                recs, turn = measure_flow(sides, flow, n, runs, tries, turn)
            except FlowError as exc:
                failures.append((flow, n, exc.args[0]))
                log(f"{flow} n={n} FAILED on {exc.args[0]}:\n{traceback.format_exc()}")
                continue
            van, add = recs["vanilla"], recs["addon"]
            results.append(compare(flow, n, van, add, Recorder.attempt_totals))
            if "reserve" in van[0].secondary:
                reservations.append(
                    compare(flow, n, van, add, lambda rec: [rec.secondary["reserve"]])
                )
    return results, reservations


def report(results, reservations, failures, aa):
    """Print the tables, then the ``BENCH`` lines (and one line per failure)."""
    mode = " (A/A: vanilla flows on both databases)" if aa else ""
    print(
        "\ns: wall seconds, the lowest of a side's measurements; ratio: add-on/vanilla,"
        "\nmedian over the pairs of measurements taken side by side (seconds apart);"
        "\nlowest ratio: of the lowest times; q: SQL queries of one measurement;"
        "\ncpu ratio: the median ratio on this process's CPU time (leaves out"
        "\nPostgreSQL's share, and the load of other processes)"
    )
    print_table(f"Validation (the measured part): add-on vs vanilla{mode}", results)
    if reservations:
        print_table(
            "For information: delivery confirmation + reservation (not in BENCH lines)",
            reservations,
        )
    print()
    for row in results:
        extra = row.addon.queries - row.vanilla.queries
        print(f"BENCH flow={row.flow} n={row.n} ratio={row.ratio:.2f} extra_queries={extra}")
    for flow, n, label in failures:
        print(f"BENCH-FAILED flow={flow} n={n} side={label}")
    sys.stdout.flush()


def main(argv=None):
    """Parse arguments, set Odoo up, warm up, measure, print; return the exit status."""
    parser = build_parser()
    args, odoo_args = parser.parse_known_args(argv)
    try:
        sizes = parse_sizes(args.sizes)
        flows = parse_flows(args.flows)
    except ValueError as exc:
        parser.error(str(exc))

    import odoo
    from odoo.tools import config

    if odoo.release.version_info[0] != 18:
        log(f"Odoo 18 expected, found {odoo.release.version}")
        return 2
    if not any(arg.startswith("--log-level") for arg in odoo_args):
        odoo_args.append("--log-level=warn")
    config.parse_config(odoo_args, setup_logging=True)

    started = time.perf_counter()
    sides = [
        Side("vanilla", args.vanilla_db, addon=False),
        Side("addon", args.addon_db, addon=not args.aa),
    ]
    failures = []
    warm_up(sides, flows, failures)
    results, reservations = measure_all(sides, flows, sizes, args.repeat, args.attempts, failures)
    report(results, reservations, failures, args.aa)
    log(f"bench.py done in {time.perf_counter() - started:.0f}s")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
