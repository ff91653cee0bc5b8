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
``sales_register`` (N = 1,000 and 5,000 unless ``--sizes`` is given)
    N serial names typed in by paste. Add-on: a product whose serials are registered in
    the sales process (item tracking code of scope "sales"; N untracked units in stock),
    a confirmed sales order of N units and its reserved delivery (unmeasured). Measured:
    ``button_validate()``, which must open the registration dialog
    (``stock.picking.register.serials``), then the N names written to its
    ``serial_text`` (one a line) and ``action_confirm()``, which registers them and
    validates (it must return True). Vanilla: a confirmed receipt of N units of a
    serial-tracked product; measured: the same N names through Odoo's "Import
    Serials/Lots" (``stock.move.action_generate_lot_line_vals`` in mode "import", its
    lines written on the move as the detailed operations save them), then
    ``button_validate()``. Checked after: the delivery done with the N names in
    ``sale.serial.registration``; the receipt's N lines done with the N lots.
``invoice_lots`` (N = 1,000 and 5,000 unless ``--sizes`` is given)
    Both sides: N serials received, a sales order of N units delivered with them
    (add-on: the product's code as in the flows above), the user given "Display Lots &
    Serial Numbers on Invoices" (unmeasured). Measured: ``sale.order._create_invoices()``
    and ``action_post()`` (creating the invoice is where the add-on proposes the lots it
    stores, so it counts on both sides), then the invoice rendered as HTML
    (``_render_qweb_html("account.report_invoice")``: vanilla computes the lots there,
    ``_get_invoiced_lot_values``). Checked after: the HTML shows the first and the last
    serial (one a line, or within a printed range).
``assembly`` (N = 100 and 1,000 unless ``--sizes`` is given)
    N units of a serial-tracked product, each made of one serial-tracked component and
    2 units of a lot-tracked one (N component serials and 4 lots received first,
    unmeasured). Measured: create, confirm and reserve the order of N units, then produce
    every unit with its own components. Vanilla: Odoo's Mass Produce dialog
    (``mrp.batch.produce``), one text line per unit ``FINSERIAL,COMPSERIAL,LOT;2`` (the
    components taken from the reservation: serials in name order, lots in reservation
    order), Produce. Add-on: the BoM's "Link component serial/lot numbers" on,
    ``action_link_serials()``, ``action_fill_in_order()``, ``action_confirm()``,
    ``button_mark_done()`` (a dialog instead of production fails the flow). Both sides
    must end with N done orders of one unit, N distinct finished serials, each finished
    line's ``consume_line_ids`` exactly its order's component serial line and lot line
    (checked after the measured part; a wrong genealogy fails the flow). The add-on side
    is skipped ("BENCH-SKIPPED") while ``mrp.bom`` has no ``link_component_tracking``;
    the vanilla side is then reported alone.
``recall`` (add-on database only; N = 100 and 10,000 unless ``--sizes`` is given)
    Genealogies of 2 and 3 levels of lots (component lot -> [N sub-assembly serials ->]
    N final serials). One unit per level is really produced; every row that production
    left (orders, moves, move lines, serials, quants, status history and the
    ``consume_line_ids`` rows) is then copied N-1 times in SQL, each copy pointing to the
    same copy of the others, so the database holds N per-unit genealogies as Odoo's own
    production makes them (``Flows.clone_productions``). Measured, per number of levels:
    ``stock.lot.action_recall_impact()`` on the component lot, then the first page of its
    list as the web client reads it (``web_search_read`` with the list view's fields).
    Reported as queries and time, not a ratio: the queries should grow with the levels,
    not with N. Skipped while ``stock.lot`` has no ``action_recall_impact``.

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
    BENCH flow=recall n=<N> levels=<L> queries=<q> seconds=<s> listed=<records>
    BENCH flow=<name> n=<N> side=<label> seconds=<s> queries=<q>   (the other skipped)
    BENCH-SKIPPED flow=<name> n=<N> side=<label> reason="<why>"

Exit status: 0 when every flow ran or was skipped (the numbers are a measurement, not
a verdict), 1 when a flow raised on either side, 2 on bad usage.
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

FLOWS = (
    "receipt_serial",
    "delivery_serial",
    "receipt_delivery_lot",
    "sales_register",
    "invoice_lots",
    "assembly",
    "recall",
)
DEFAULT_SIZES = (100, 1000, 5000)
FLOW_SIZES = {  # else DEFAULT_SIZES
    "sales_register": (1000, 5000),
    "invoice_lots": (1000, 5000),
    "assembly": (100, 1000),
    "recall": (100, 10000),
}
ADDON_ONLY_FLOWS = ("recall",)  # run on the add-on database only
RECALL_LEVELS = (2, 3)  # levels of lots in the recall flow's genealogies
LOT_SIZE = 10  # units per lot in receipt_delivery_lot
ASSEMBLY_LOT_QTY = 2  # units of the lot-tracked component per unit in assembly
ASSEMBLY_LOTS = 4  # lots of that component in stock
WARMUP_SIZE = 20
MODULES = (
    "stock",
    "mrp",
    "sale_stock",
    "purchase_stock",
    "product_expiry",
    "stock_account",
    "sale_mrp",
    "purchase_mrp",
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


# Tables the flows fill (the add-on's where it is installed); analysed before each measured
# part (see the module docstring).
STOCK_TABLES = (
    "stock_lot",
    "stock_quant",
    "stock_move",
    "stock_move_line",
    "stock_picking",
    "stock_valuation_layer",
    "stock_lot_status_log",
    "sale_order_line",
    "account_move",
    "account_move_line",
    "sale_serial_registration",
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
        """The other side, or None when a flow runs on one side only (``recall``)."""
        return next((other for other in self.labels if other != label), None)

    def wait(self, label):
        with self.condition:
            self.condition.wait_for(lambda: self.holder == label)

    def take_turns(self, label):
        """Hand the baton to the other side (unless it finished), and wait for it back."""
        with self.condition:
            other = self._other(label)
            if other is not None and other not in self.finished:
                self.holder = other
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
    notes: dict = field(default_factory=dict)  # a flow's own figures (e.g. records found)

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
            "name": f"Bench {product.name}",
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


def addon_configure_assembled(env, product):
    """Give an assembled (produced) serial product a tracking code without expiration
    options: its serials are created by production, where no expiration date is typed."""
    code = env["item.tracking.code"].create(
        {
            "name": f"Bench {product.name}",
            "tracking": "serial",
            "scope": "inventory",
            "warranty_formula": "1Y",
        }
    )
    product.product_tmpl_id.item_tracking_code_id = code


def addon_assembly_missing(env):
    """Why the add-on side of ``assembly`` can't run yet (None when it can)."""
    if "link_component_tracking" not in env["mrp.bom"]._fields:
        return "mrp.bom has no field link_component_tracking"
    if not hasattr(env["mrp.production"], "action_link_serials"):
        return "mrp.production has no action_link_serials()"
    return None


def addon_configure_assembly(env, bom):
    """Tick "Link component serial/lot numbers to each finished serial" on the BoM."""
    bom.link_component_tracking = True


def addon_link_and_produce(env, production):
    """The add-on's path: Link Serial Numbers, Fill in order, Confirm, Mark as Done.

    ``button_mark_done`` must produce every unit on its own once the assignment is
    complete: a dialog (an action with a ``res_model``) fails the flow.
    """
    action = production.action_link_serials()
    if not isinstance(action, dict) or action.get("res_model") != "mrp.production.link.serials":
        raise RuntimeError(f"action_link_serials() returned {action!r}")
    Link = env[action["res_model"]]
    if action.get("res_id"):
        link = Link.browse(action["res_id"])
    else:
        context = action.get("context")
        if isinstance(context, dict):
            Link = Link.with_context(**context)
        link = Link.create({"production_id": production.id})
    if link.production_id != production:
        raise RuntimeError(f"link dialog of {link.production_id.name}, not {production.name}")
    link.action_fill_in_order()
    link.action_confirm()
    result = production.button_mark_done()
    if isinstance(result, dict) and result.get("res_model"):
        raise RuntimeError(
            f"button_mark_done of {production.name} opened {result['res_model']} after a "
            "complete assignment (the flow must be automatic)"
        )
    return result


def addon_configure_sales_serials(env, product):
    """Give ``product`` an item tracking code of scope "sales": its serials are registered
    on the delivery (no lots, no tracking in stock)."""
    code = env["item.tracking.code"].create({"name": f"Bench {product.name}", "scope": "sales"})
    product.product_tmpl_id.item_tracking_code_id = code
    if product.tracking != "none":
        raise RuntimeError(f"{product.name}: tracking {product.tracking!r} under a sales code")


def addon_open_registration(env, picking):
    """``button_validate`` of a delivery of sales-process serials: must open the
    registration dialog (``stock.picking.register.serials``); returns its action."""
    action = picking.button_validate()
    if not isinstance(action, dict) or action.get("res_model") != "stock.picking.register.serials":
        raise RuntimeError(f"validation of {picking.name} returned {action!r}, not the dialog")
    return action


def addon_paste_and_confirm(env, action, names):
    """Paste ``names`` (one a line) into the dialog and confirm it: registers them and
    validates the delivery, which must then be done (``action_confirm`` returns True)."""
    wizard = env[action["res_model"]].browse(action["res_id"])
    context = action.get("context")
    if isinstance(context, dict):
        wizard = wizard.with_context(**context)
    wizard.write({"serial_text": "\n".join(names)})
    result = wizard.action_confirm()
    if result is not True:
        raise RuntimeError(f"the registration dialog's confirmation returned {result!r}")
    return result


def addon_check_registrations(env, picking, names):
    """Fail unless ``picking`` is done with exactly ``names`` registered on it."""
    registered = sorted(picking.serial_registration_ids.mapped("name"))
    if picking.state != "done" or registered != sorted(names):
        raise RuntimeError(
            f"{picking.name} is {picking.state!r} with {len(registered)} serials registered"
            f" of {len(names)}"
        )


def addon_recall_missing(env):
    """Why the ``recall`` flow can't run yet (None when it can)."""
    if not hasattr(env["stock.lot"], "action_recall_impact"):
        return "action_recall_impact missing"
    return None


def list_specification(model, view_id=False):
    """The ``web_read`` specification the web client sends for ``model``'s list view:
    every field of the list, many2one/x2many fields with their display name."""
    from lxml import etree

    arch = model.get_views([(view_id, "list")])["views"]["list"]["arch"]
    root = etree.fromstring(arch)
    spec = {}
    for node in root.iterchildren("field"):
        name = node.get("name")
        fld = model._fields.get(name)
        if fld is None:
            continue
        relational = fld.type in ("many2one", "one2many", "many2many")
        spec[name] = {"fields": {"display_name": {}}} if relational else {}
    return spec


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

    def generate_lines(self, picking, first_lot, count, lot_text=None):
        """Fill the picking's only move with generated lot/serial lines, as the UI does.

        ``count`` is the number of serials, or the quantity per lot for a lot-tracked
        product (the dialog's "Quantity per lot"). With ``lot_text`` (names one a line),
        the lines are imported instead, as the dialog's "Import Serials/Lots" does
        (``first_lot`` and ``count`` unused). Each line of a product with expiration
        dates gets one.
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
        mode = "generate" if lot_text is None else "import"
        vals_list = self.env["stock.move"].action_generate_lot_line_vals(
            ctx, mode, first_lot, count, lot_text or False
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
            if move.product_id.use_expiration_date:
                line["expiration_date"] = base_date + timedelta(days=365 + index % 30)
            commands.append((0, 0, line))
        move.write({"move_line_ids": commands})
        if len(move.move_line_ids) != len(vals_list):
            raise RuntimeError("generated lines were not all created")

    @staticmethod
    def check_done(record, result, what, state):
        """Fail when ``result`` is a dialog (an action with a ``res_model``: a wizard that
        would have stopped a user) or ``record`` is not in ``state`` after ``what``."""
        if isinstance(result, dict) and result.get("res_model"):
            raise RuntimeError(f"{what} of {record.name} opened wizard {result['res_model']}")
        if record.state != state:
            raise RuntimeError(f"{record.name} is {record.state!r} after {what}")
        return result

    def validate(self, picking):
        """``button_validate``, failing loudly if a wizard would have stopped a user."""
        return self.check_done(picking, picking.button_validate(), "validation", "done")

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

    # ---- sales: serials registered on a delivery, lots printed on an invoice ----------

    def sale_order(self, product, qty):
        """A confirmed sales order of ``qty`` units of ``product`` to the customer, with
        its delivery (one picking) reserved."""
        order = self.env["sale.order"].create(
            {
                "partner_id": self.customer.id,
                "warehouse_id": self.warehouse.id,
                "order_line": [
                    (0, 0, {"product_id": product.id, "product_uom_qty": qty, "price_unit": 10})
                ],
            }
        )
        order.action_confirm()
        picking = order.picking_ids
        if len(picking) != 1:
            raise RuntimeError(f"{order.name} made {len(picking)} deliveries")
        picking.action_assign()
        if picking.move_ids.quantity != qty:
            raise RuntimeError(f"reserved {picking.move_ids.quantity} of {qty} on {picking.name}")
        return order

    def serial_names(self, prefix, n):
        return [f"{prefix}{index:06d}" for index in range(1, n + 1)]

    def sales_register(self, n, rec):
        """N serials typed in by paste. Add-on: a delivery of N units of a product whose
        serials are registered in the sales process (scope "sales", N untracked units in
        stock, a confirmed sales order); measured: Validate (opens the registration
        dialog), then the N names pasted and Confirm (registers them and validates).
        Vanilla: a receipt of N units of a serial-tracked product; measured: the same N
        names through Odoo's "Import Serials/Lots", then Validate."""
        names = self.serial_names("SN-SR-", n)
        if self.addon:
            product = self.env["product.product"].create(
                {
                    "name": f"Bench sales serials {n}",
                    "is_storable": True,
                    "invoice_policy": "delivery",
                }
            )
            addon_configure_sales_serials(self.env, product)
            self.env["stock.quant"]._update_available_quantity(product, self.stock, n)
            picking = self.sale_order(product, n).picking_ids
            action = rec.measure("validate", lambda: addon_open_registration(self.env, picking))
            rec.measure("paste + confirm", lambda: addon_paste_and_confirm(self.env, action, names))
            self.env.invalidate_all()
            addon_check_registrations(self.env, picking, names)
            return
        product = self.env["product.product"].create(
            {"name": f"Bench sales serials {n}", "is_storable": True, "tracking": "serial"}
        )
        picking = self.make_picking(
            self.warehouse.in_type_id, self.vendor, self.supplier_loc, self.stock, product, n
        )
        picking.action_confirm()
        rec.measure(
            "import serials", lambda: self.generate_lines(picking, False, 0, "\n".join(names))
        )
        rec.measure("validate", lambda: self.validate(picking))
        self.env.invalidate_all()
        lines = picking.move_line_ids
        if (
            len(lines) != n
            or set(lines.mapped("state")) != {"done"}
            or sorted(lines.lot_id.mapped("name")) != names
        ):
            raise RuntimeError(
                f"{picking.name}: {len(lines)} lines, {len(lines.lot_id)} lots after import of {n}"
            )

    def show_lots_on_invoices(self):
        """Tick "Display Lots & Serial Numbers on Invoices" for the user. The group change
        empties the registry's caches (that the warm-up filled): an invoice of one untracked
        unit, created, posted and rendered (unmeasured), fills them again, so that the
        measured part doesn't pay for it on its first attempt."""
        group = self.env.ref("stock_account.group_lot_on_invoice")
        self.env.user.write({"groups_id": [(4, group.id)]})
        if not self.env.user.has_group("stock_account.group_lot_on_invoice"):
            raise RuntimeError("the lots on invoices group could not be given")
        product = self.env["product.product"].create(
            {"name": "Bench invoice warm-up", "type": "consu", "invoice_policy": "order"}
        )
        self.render_invoice(self.invoice_order(self.sale_order(product, 1)))

    def invoice_order(self, order):
        """Create the order's invoice and post it, failing on any dialog."""
        invoice = order._create_invoices()
        self.check_done(invoice, invoice.action_post(), "posting", "posted")
        return invoice

    def render_invoice(self, invoice):
        """The invoice as HTML (its report, lots included); returns the text."""
        html, _kind = self.env["ir.actions.report"]._render_qweb_html(
            "account.report_invoice", invoice.ids
        )
        return html.decode() if isinstance(html, bytes) else str(html)

    def invoice_lots(self, n, rec):
        """N serials received and delivered from a sales order (unmeasured). Measured: the
        invoice created from the order and posted, then rendered as HTML with the lots
        shown (vanilla computes them at print, ``_get_invoiced_lot_values``). The HTML
        must show the first and the last serial (one a line, or in a printed range)."""
        self.show_lots_on_invoices()
        product = self.make_product(f"Bench invoice lots {n}", "serial")
        product.invoice_policy = "delivery"
        self.receive(product, n, "SN-IL-000001", n)
        order = self.sale_order(product, n)
        picking = order.picking_ids
        picking.move_ids.picked = True
        if self.addon:
            addon_prepare_delivery(self.env, picking)
        self.validate(picking)
        invoice = rec.measure("invoice + post", lambda: self.invoice_order(order))
        html = rec.measure("render", lambda: self.render_invoice(invoice))
        names = self.serial_names("SN-IL-", n)
        missing = [name for name in (names[0], names[-1]) if name not in html]
        if missing:
            raise RuntimeError(f"the rendered {invoice.name} does not show {missing}")

    # ---- assembly: N serial units, each with its own component serial and lot --------

    def make_assembled_product(self, name):
        """A storable serial product made by production (no expiration dates)."""
        product = self.env["product.product"].create(
            {"name": name, "is_storable": True, "tracking": "serial"}
        )
        if self.addon:
            addon_configure_assembled(self.env, product)
        return product

    def make_bom(self, product, components):
        """A normal BoM of one ``product`` from ``[(component, quantity)]``."""
        return self.env["mrp.bom"].create(
            {
                "product_tmpl_id": product.product_tmpl_id.id,
                "product_qty": 1,
                "bom_line_ids": [
                    (0, 0, {"product_id": component.id, "product_qty": qty})
                    for component, qty in components
                ],
            }
        )

    def receive(self, product, qty, first_lot, count):
        """Receive ``qty`` units of ``product`` (validated; see ``receipt``)."""
        self.validate(self.receipt(product, qty, first_lot, count))

    def confirm_production(self, bom, qty):
        """Create, confirm and reserve a manufacturing order of ``qty`` units."""
        production = self.env["mrp.production"].create(
            {
                "product_id": bom.product_id.id or bom.product_tmpl_id.product_variant_id.id,
                "bom_id": bom.id,
                "product_qty": qty,
                "picking_type_id": self.warehouse.manu_type_id.id,
            }
        )
        production.action_confirm()
        production.action_assign()
        return production

    def assembly_component_texts(self, production):
        """Each unit's components in Mass Produce's syntax, from the reservation: one
        text per unit (``COMPSERIAL,LOT;qty``), serials one per unit in name order, lots
        in reservation order (as the add-on's Fill in order proposes them)."""
        units = int(production.product_qty)
        per_unit = [[] for _ in range(units)]
        for move in production.move_raw_ids:  # Mass Produce's order of components
            if move.product_id.tracking == "none":
                continue
            lines = move.move_line_ids.sorted("id")
            if move.product_id.tracking == "serial":
                names = sorted(lines.lot_id.mapped("name"))
                if len(names) != units:
                    raise RuntimeError(f"{len(names)} {move.product_id.name} reserved for {units}")
                for texts, name in zip(per_unit, names, strict=True):
                    texts.append(name)
                continue
            need = move.product_uom_qty / units
            stock = [[line.lot_id.name, line.quantity] for line in lines]
            for texts in per_unit:
                parts, left = [], need
                while left > 0:
                    if not stock:
                        raise RuntimeError(f"not enough {move.product_id.name} reserved")
                    take = min(left, stock[0][1])
                    parts.append(f"{stock[0][0]};{take:g}")
                    left -= take
                    stock[0][1] -= take
                    if stock[0][1] <= 0:
                        stock.pop(0)
                texts.append("|".join(parts))
        return [",".join(texts) for texts in per_unit]

    def mass_produce(self, production):
        """Vanilla Odoo's path: the Mass Produce dialog, filled as a user would (the
        finished serials generated from the first one, each line completed with its
        unit's components), then Produce."""
        wizard = self.env["mrp.batch.produce"].create(
            {"production_id": production.id, "lot_name": "FS-000001"}
        )
        wizard.action_generate_production_text()
        finished = wizard.production_text.split("\n")
        components = self.assembly_component_texts(production)
        wizard.production_text = "\n".join(
            f"{serial}{wizard.component_separator}{texts}"
            for serial, texts in zip(finished, components, strict=True)
        )
        result = wizard.action_done()
        if isinstance(result, dict) and result.get("res_model"):
            raise RuntimeError(f"Mass Produce of {production.name} opened {result['res_model']}")
        return result

    def check_assembly(self, production, n, serial_component, lot_component):
        """Fail unless N done orders of one unit exist, with N distinct finished serials,
        each finished line consuming exactly its own component serial and lot line (and
        nothing else), every component serial in one unit only."""
        productions = production.procurement_group_id.mrp_production_ids
        problems = []
        if len(productions) != n or set(productions.mapped("state")) != {"done"}:
            problems.append(
                f"{len(productions)} orders in states {sorted(set(productions.mapped('state')))}"
            )
        if len(productions.lot_producing_id) != n:
            problems.append(f"{len(productions.lot_producing_id)} distinct finished serials")
        used_serials = self.env["stock.lot"]
        for mo in productions:
            finished = mo.move_finished_ids.filtered(lambda m, mo=mo: m.product_id == mo.product_id)
            line = finished.move_line_ids
            raw_lines = mo.move_raw_ids.move_line_ids
            serial = raw_lines.filtered(lambda ml: ml.product_id == serial_component)
            lot = raw_lines.filtered(lambda ml: ml.product_id == lot_component)
            if (
                mo.qty_produced != 1
                or len(line) != 1
                or line.quantity != 1
                or line.state != "done"
                or line.lot_id != mo.lot_producing_id
                or len(raw_lines) != 2
                or line.consume_line_ids != raw_lines
                or raw_lines.produce_line_ids != line
                or set(raw_lines.mapped("state")) != {"done"}
                or len(serial) != 1
                or serial.quantity != 1
                or len(lot) != 1
                or lot.quantity != ASSEMBLY_LOT_QTY
            ):
                problems.append(
                    f"{mo.name}: produced {mo.qty_produced} of {line.lot_id.mapped('name')}, "
                    f"consumed {[(ml.lot_id.name, ml.quantity) for ml in line.consume_line_ids]}"
                    f" of lines {[(ml.lot_id.name, ml.quantity) for ml in raw_lines]}"
                )
            used_serials |= serial.lot_id
        if len(used_serials) != n:
            problems.append(f"{len(used_serials)} distinct component serials consumed")
        if problems:
            raise RuntimeError("assembly produced a wrong genealogy: " + "; ".join(problems[:5]))

    def assembly(self, n, rec):
        """N serial units, each from one component serial and 2 units of a lot (N serials
        and a few lots received first, unmeasured). Measured: create + confirm + reserve
        the order of N units, then produce every unit with its own components: Mass
        Produce on the vanilla side, the add-on's Link Serial Numbers + Mark as Done on
        the other. Both sides end with N orders of one unit (checked)."""
        if self.addon and (missing := addon_assembly_missing(self.env)):
            raise FlowSkipped(missing)
        finished = self.make_assembled_product(f"Bench assembly {n}")
        serial_component = self.make_product(f"Bench assembly serial part {n}", "serial")
        lot_component = self.make_product(f"Bench assembly lot part {n}", "lot")
        bom = self.make_bom(finished, [(serial_component, 1), (lot_component, ASSEMBLY_LOT_QTY)])
        self.receive(serial_component, n, "CS-000001", n)
        per_lot = 2 * (-(-n * ASSEMBLY_LOT_QTY // (2 * ASSEMBLY_LOTS)) + 5)  # even, spare
        self.receive(lot_component, per_lot * ASSEMBLY_LOTS, "CL-000001", per_lot)
        if self.addon:
            addon_configure_assembly(self.env, bom)
        production = rec.measure("confirm + reserve", lambda: self.confirm_production(bom, n))
        if self.addon:
            planned = self.env["stock.lot"].search_count([("product_id", "=", finished.id)])
            if planned != n:
                raise RuntimeError(f"{planned} planned serials after confirming {n} units")
        reserved = {move.product_id: move.quantity for move in production.move_raw_ids}
        if reserved != {serial_component: n, lot_component: n * ASSEMBLY_LOT_QTY}:
            raise RuntimeError(f"{production.name}: reserved {reserved}")
        if self.addon:
            rec.measure("link + mark done", lambda: addon_link_and_produce(self.env, production))
        else:
            rec.measure("mass produce", lambda: self.mass_produce(production))
        self.env.invalidate_all()
        self.check_assembly(production, n, serial_component, lot_component)

    # ---- recall: impact of one component lot over a genealogy of N final units -------

    def produce_one(self, bom, serial_name):
        """Produce one unit of ``bom``'s product as serial ``serial_name`` (real Odoo
        production: confirm, reserve, Mark as Done)."""
        production = self.confirm_production(bom, 1)
        production.lot_producing_id = self.env["stock.lot"].create(
            {"name": serial_name, "product_id": production.product_id.id}
        )
        production.qty_producing = 1
        production._set_qty_producing(False)
        production.move_raw_ids.picked = True
        result = production.button_mark_done()
        if isinstance(result, dict) and result.get("res_model"):
            raise RuntimeError(f"{production.name} opened {result['res_model']}")
        if production.state != "done":
            raise RuntimeError(f"{production.name} is {production.state!r} after Mark as Done")
        return production

    def build_genealogy(self, n, levels):
        """A genealogy of ``levels`` levels of lots ending in N final serials: one
        component lot -> N serials of a sub-assembly -> ... -> N final serials, each
        unit consuming one unit of the level below. One unit per level is really
        produced; its rows are then copied N-1 times in SQL (``clone_productions``).
        Returns (the component lot, the final serials)."""
        tag = f"{levels}L{n}"
        component = self.make_product(f"Bench recall part {tag}", "lot")
        self.receive(component, n, f"RC{tag}-000001", n)
        lot = self.env["stock.lot"].search([("product_id", "=", component.id)])
        below, productions = component, self.env["mrp.production"]
        for level in range(1, levels):
            product = self.make_assembled_product(f"Bench recall level {level} {tag}")
            bom = self.make_bom(product, [(below, 1)])
            productions |= self.produce_one(bom, f"R{level}{tag}-000000")
            below = product
        self.clone_productions(productions, n - 1)
        # The shared component lot was consumed by every copy of the first level.
        self.env.cr.execute(
            """
            UPDATE stock_quant q
               SET quantity = q.quantity + CASE WHEN l.usage = 'internal' THEN -%s ELSE %s END
              FROM stock_location l
             WHERE l.id = q.location_id AND q.lot_id = %s AND l.usage IN ('internal', 'production')
            """,
            [n - 1, n - 1, lot.id],
        )
        self.env.invalidate_all()
        finals = self.env["stock.lot"].search([("product_id", "=", below.id)])
        if len(finals) != n:
            raise RuntimeError(f"{len(finals)} final serials built instead of {n}")
        return lot, finals

    def clone_productions(self, productions, copies):
        """Copy ``copies`` times, in SQL, everything that producing ``productions`` (one
        unit each, one per level) left in the database: the orders, their moves and move
        lines, the produced serials, their quants and status history, and the
        ``consume_line_ids`` rows. Copy k of every row points to copy k of every other
        copied row (many2one columns, company-dependent ones included), so copy k is a
        complete genealogy of one final unit, built as production builds it."""
        if copies <= 0:
            return
        from odoo.tools import SQL

        env, cr = self.env, self.env.cr
        moves = productions.move_raw_ids | productions.move_finished_ids
        lines = moves.move_line_ids
        lots = productions.lot_producing_id
        records = [  # in the order of their foreign keys
            lots,
            productions,
            moves,
            lines,
            env["stock.quant"].search([("lot_id", "in", lots.ids)]),
        ]
        if "stock.lot.status.log" in env:
            records.append(env["stock.lot.status.log"].search([("lot_id", "in", lots.ids)]))
        records = [recs for recs in records if recs]
        env.flush_all()

        # Reserve a block of ids per table: copy k of template row i gets base_i + k - 1.
        base = {}  # table -> {template id: first copy's id}
        for recs in records:
            table = recs._table
            cr.execute(SQL("SELECT pg_get_serial_sequence(%s, 'id')", table))
            sequence = cr.fetchone()[0]
            cr.execute(SQL("SELECT nextval(%s)", sequence))
            start = cr.fetchone()[0]
            cr.execute(SQL("SELECT setval(%s, %s)", sequence, start + len(recs) * copies - 1))
            base[table] = {rid: start + i * copies for i, rid in enumerate(recs.ids)}

        def copy_of(column, table):
            """SQL: copy g of the row of ``table`` that ``column`` points to, if copied."""
            cases = [
                SQL("WHEN %s THEN %s + g - 1", rid, first) for rid, first in base[table].items()
            ]
            return SQL("CASE %s %s ELSE %s END", column, SQL(" ").join(cases), column)

        overrides = {
            "mrp_production": {"name": SQL("name || '-' || lpad(g::text, 5, '0')")},
            "stock_lot": {
                "name": SQL("left(name, -6) || lpad(g::text, 6, '0')"),
                # The add-on's comparison key of the number (its constraint is on it): the
                # copy's number differs in its last six digits, and so does its key.
                "name_key": SQL("left(name_key, -6) || lpad(g::text, 6, '0')"),
            },
        }
        for recs in records:
            table = recs._table
            cr.execute(
                SQL(
                    "SELECT column_name FROM information_schema.columns"
                    " WHERE table_name = %s AND table_schema = current_schema()"
                    " ORDER BY ordinal_position",
                    table,
                )
            )
            columns = [row[0] for row in cr.fetchall()]
            exprs = []
            for column in columns:
                ident = SQL.identifier(column)
                fld = recs._fields.get(column)
                target = fld is not None and fld.type == "many2one" and env[fld.comodel_name]._table
                if column in overrides.get(table, {}):
                    exprs.append(overrides[table][column])
                elif target in base and fld.company_dependent:
                    # jsonb {company id: record id}: each value mapped like a many2one
                    exprs.append(
                        SQL(
                            "(SELECT jsonb_object_agg(key, CASE value::text %s ELSE value END)"
                            " FROM jsonb_each(%s))",
                            SQL(" ").join(
                                SQL("WHEN %s THEN to_jsonb(%s + g - 1)", str(rid), first)
                                for rid, first in base[target].items()
                            ),
                            ident,
                        )
                    )
                elif target in base and column != "id":
                    exprs.append(copy_of(ident, target))
                else:
                    exprs.append(ident)
            for rid, first in base[table].items():
                cr.execute(
                    SQL(
                        "INSERT INTO %s (id, %s) SELECT %s + g - 1, %s"
                        " FROM %s, generate_series(1, %s) AS g WHERE %s.id = %s",
                        SQL.identifier(table),
                        SQL(", ").join(SQL.identifier(c) for c in columns if c != "id"),
                        first,
                        SQL(", ").join(e for c, e in zip(columns, exprs, strict=True) if c != "id"),
                        SQL.identifier(table),
                        copies,
                        SQL.identifier(table),
                        rid,
                    )
                )
        # consume_line_ids / produce_line_ids of the copied lines
        cr.execute(
            SQL(
                "INSERT INTO stock_move_line_consume_rel (consume_line_id, produce_line_id)"
                " SELECT %s, %s FROM stock_move_line_consume_rel, generate_series(1, %s) AS g"
                " WHERE consume_line_id IN %s OR produce_line_id IN %s ON CONFLICT DO NOTHING",
                copy_of(SQL.identifier("consume_line_id"), "stock_move_line"),
                copy_of(SQL.identifier("produce_line_id"), "stock_move_line"),
                copies,
                tuple(lines.ids),
                tuple(lines.ids),
            )
        )
        env.invalidate_all()

    def recall(self, n, rec):
        """Recall impact of one component lot over genealogies of ``RECALL_LEVELS`` levels
        of lots ending in N final serials (built unmeasured, see ``build_genealogy``).
        Measured, per number of levels: ``action_recall_impact()`` and the first page of
        its list; reported as queries and time (add-on only: vanilla has no recall)."""
        if not self.addon:
            raise FlowSkipped("the recall flow needs the add-on")
        if missing := addon_recall_missing(self.env):
            raise FlowSkipped(missing)
        for levels in RECALL_LEVELS:
            lot, finals = self.build_genealogy(n, levels)
            phase = f"{levels} levels"
            listed = rec.measure(phase, lambda lot=lot: self.recall_impact(lot))
            # Every final serial is downstream of the lot (the action may list the
            # intermediate levels too).
            if listed < len(finals):
                raise RuntimeError(f"recall of {lot.name} lists {listed} of {n} final serials")
            rec.notes[phase] = listed

    def recall_impact(self, lot):
        """``action_recall_impact()`` on ``lot``, then what the web client reads to show
        it: for an action on a list, its first page (``web_search_read`` with the fields
        of the action's list view, 80 records, and the count); for an action on one
        record (a dialog with lines), that record with its lines (``web_read``, each
        x2many with the fields of its list). Returns the number of records listed."""
        action = lot.action_recall_impact()
        if not isinstance(action, dict) or not action.get("res_model"):
            raise RuntimeError(f"action_recall_impact() returned {action!r}")
        model = self.env[action["res_model"]]
        if action.get("res_id"):
            spec = {
                name: {"fields": list_specification(self.env[fld.comodel_name])}
                for name, fld in model._fields.items()
                if fld.type in ("one2many", "many2many")
                and not name.startswith(("message_", "activity_", "website_message"))
            }
            values = model.browse(action["res_id"]).web_read(spec)[0]
            return max((len(v) for v in values.values() if isinstance(v, list)), default=0)
        domain = action.get("domain") or []
        if isinstance(domain, str):
            from odoo.tools.safe_eval import safe_eval

            domain = safe_eval(domain, {"active_id": lot.id, "active_ids": lot.ids})
        view_id = next((view for view, kind in action.get("views") or [] if kind == "list"), False)
        spec = list_specification(model, view_id)
        result = model.web_search_read(domain, spec, limit=80, count_limit=100001)
        return result["length"]


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
    if flow == "recall":
        return 1, 2  # query counts; the time of the best of two attempts
    if flow == "assembly":
        # The measured part is nearly all of a run (vanilla: about 33 s at n=100 here),
        # so one attempt per run: 3 runs up to n=100, 1 above.
        return (3 if n <= 100 else 1), 1
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
        default=os.environ.get("BENCH_SIZES") or "",
        help="comma-separated sizes (default: $BENCH_SIZES, else each flow's own: "
        "100,1000,5000; sales_register, invoice_lots 1000,5000; assembly 100,1000; "
        "recall 100,10000)",
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


def flow_sides(sides, flow):
    """The sides that run ``flow``: both, or the add-on side for ``ADDON_ONLY_FLOWS``."""
    if flow in ADDON_ONLY_FLOWS:
        return [side for side in sides if side.label == "addon"]
    return sides


def warm_up(sides, flows, failures):
    """Run every flow once, small and unmeasured, on each side (fills the ormcaches)."""
    log(f"warm-up: every flow once at n={WARMUP_SIZE} on each side (unmeasured)")
    for flow in flows:
        for side in flow_sides(sides, flow):
            try:
                side.run(flow, WARMUP_SIZE, attempts=2)  # the savepoint path too
            except FlowSkipped as exc:
                log(f"{flow} warm-up skipped on {side.label}: {exc.args[0]}")
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
    the next (``turn`` counts them across the whole benchmark). A side on which the flow
    raised ``FlowSkipped`` is left out from then on. Returns ({side label: [Recorder]},
    {side label: why it was skipped}, next turn).
    """
    recs = {side.label: [] for side in sides}
    skipped = {}
    for _ in range(repeat):
        running = [side for side in sides if side.label not in skipped]
        if not running:
            break
        order = running if turn % 2 == 0 else running[::-1]
        turn += 1
        start = time.perf_counter()
        pair, errors = run_pair(order, flow, n, attempts)
        for side in order:
            error = errors.get(side.label)
            if isinstance(error, FlowSkipped):
                skipped[side.label] = error.args[0]
                log(f"{flow} n={n} skipped on {side.label}: {error.args[0]}")
            elif error is not None:
                raise FlowError(side.label) from error
        elapsed = time.perf_counter() - start
        for side in order:
            if side.label in skipped:
                continue
            rec = pair[side.label]
            recs[side.label].append(rec)
            walls = ", ".join(f"{wall:.2f}" for wall in rec.attempt_walls())
            phases = ""
            if len(rec.primary) > 1:
                phases = (
                    " ("
                    + ", ".join(
                        f"{label} {min(m.wall for m in measures):.2f} s {measures[0].queries} q"
                        for label, measures in rec.primary
                    )
                    + ")"
                )
            log(f"{flow} n={n} {side.label}: measured {walls} s{phases}")
        log(f"{flow} n={n}: pair run in {elapsed:.1f}s with setup")
    return recs, skipped, turn


class FlowError(Exception):
    """A flow raised; ``args[0]`` is the side it raised on."""


class FlowSkipped(Exception):  # noqa: N818 - not an error: a flow that can't run yet
    """A flow can't run on a side (e.g. the feature it measures is not there yet);
    ``args[0]`` says why."""


@dataclass
class Results:
    """What ``measure_all`` measured, for ``report``."""

    compared: list = field(default_factory=list)  # Comparison, both sides ran
    reservations: list = field(default_factory=list)  # Comparison of the reservations
    one_side: list = field(default_factory=list)  # (flow, n, label, Measure, why other)
    recall: list = field(default_factory=list)  # (n, phase, Measure, records listed)
    skipped: list = field(default_factory=list)  # (flow, n, label, why)


def flow_sizes(flow, sizes):
    """The sizes ``flow`` runs at: the ones asked for, else its own defaults."""
    return sizes or FLOW_SIZES.get(flow, DEFAULT_SIZES)


def measure_all(sides, flows, sizes, repeat, attempts, failures):
    """Measure every flow at every size (``flow_sizes``); returns ``Results``."""
    results, turn = Results(), 0
    for n in sorted({n for flow in flows for n in flow_sizes(flow, sizes)}):
        for flow in flows:
            if n not in flow_sizes(flow, sizes):
                continue
            default_runs, default_attempts = default_repeat(n, flow)
            runs = repeat if repeat > 0 else default_runs
            tries = attempts if attempts > 0 else default_attempts
            if any(failed[0] == flow for failed in failures):
                log(f"{flow} n={n}: skipped (it failed before)")
                continue
            try:
                recs, skipped, turn = measure_flow(
                    flow_sides(sides, flow), flow, n, runs, tries, turn
                )
            except FlowError as exc:
                failures.append((flow, n, exc.args[0]))
                log(f"{flow} n={n} FAILED on {exc.args[0]}:\n{traceback.format_exc()}")
                continue
            results.skipped += [(flow, n, label, why) for label, why in skipped.items()]
            if flow == "recall":
                for rec in recs.get("addon", [])[:1]:
                    for phase, measures in rec.primary:
                        results.recall.append((n, phase, summarize(measures), rec.notes.get(phase)))
                continue
            van, add = recs.get("vanilla"), recs.get("addon")
            if not (van and add):
                for label, ran in recs.items():
                    if ran:
                        totals = [m for rec in ran for m in rec.attempt_totals()]
                        why = "; ".join(skipped.values())
                        results.one_side.append((flow, n, label, summarize(totals), why))
                continue
            results.compared.append(compare(flow, n, van, add, Recorder.attempt_totals))
            if "reserve" in van[0].secondary:
                results.reservations.append(
                    compare(flow, n, van, add, lambda rec: [rec.secondary["reserve"]])
                )
    return results


def report(measured, failures, aa):
    """Print the tables, then the ``BENCH`` lines (and one line per failure or skip)."""
    results, reservations = measured.compared, measured.reservations
    mode = " (A/A: vanilla flows on both databases)" if aa else ""
    print(
        "\ns: wall seconds, the lowest of a side's measurements; ratio: add-on/vanilla,"
        "\nmedian over the pairs of measurements taken side by side (seconds apart);"
        "\nlowest ratio: of the lowest times; q: SQL queries of one measurement;"
        "\ncpu ratio: the median ratio on this process's CPU time (leaves out"
        "\nPostgreSQL's share, and the load of other processes)"
    )
    if results:
        print_table(f"Validation (the measured part): add-on vs vanilla{mode}", results)
    if reservations:
        print_table(
            "For information: delivery confirmation + reservation (not in BENCH lines)",
            reservations,
        )
    if measured.one_side:
        print("\nOne side only (the other skipped): lowest wall seconds, queries")
        for flow, n, label, measure, why in measured.one_side:
            print(
                f"  {flow} n={n} {label}: {measure.wall:.3f} s, {measure.queries} queries"
                f" (cpu {measure.cpu:.3f} s); other side skipped: {why}"
            )
    if measured.recall:
        print("\nRecall impact of one component lot (add-on only): queries and lowest time")
        for n, phase, measure, listed in measured.recall:
            print(
                f"  n={n} {phase}: {measure.queries} queries, {measure.wall:.3f} s,"
                f" {listed} records listed"
            )
    print()
    for row in results:
        extra = row.addon.queries - row.vanilla.queries
        print(f"BENCH flow={row.flow} n={row.n} ratio={row.ratio:.2f} extra_queries={extra}")
    for flow, n, label, measure, _why in measured.one_side:
        print(
            f"BENCH flow={flow} n={n} side={label} seconds={measure.wall:.3f}"
            f" queries={measure.queries}"
        )
    for n, phase, measure, listed in measured.recall:
        levels = phase.split()[0]
        print(
            f"BENCH flow=recall n={n} levels={levels} queries={measure.queries}"
            f" seconds={measure.wall:.3f} listed={listed}"
        )
    for flow, n, label, why in measured.skipped:
        print(f'BENCH-SKIPPED flow={flow} n={n} side={label} reason="{why}"')
    for flow, n, label in failures:
        print(f"BENCH-FAILED flow={flow} n={n} side={label}")
    sys.stdout.flush()


def main(argv=None):
    """Parse arguments, set Odoo up, warm up, measure, print; return the exit status."""
    parser = build_parser()
    args, odoo_args = parser.parse_known_args(argv)
    try:
        sizes = parse_sizes(args.sizes) if args.sizes else None
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
    measured = measure_all(sides, flows, sizes, args.repeat, args.attempts, failures)
    report(measured, failures, args.aa)
    log(f"bench.py done in {time.perf_counter() - started:.0f}s")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
