import re
from unittest.mock import patch

from odoo.exceptions import UserError
from odoo.tests import tagged
from odoo.tools import SQL

from odoo.addons.stock_item_tracking.models.stock_lot import BLOCKED_INDEX

from .common import ItemTrackingCommon


@tagged("post_install", "-at_install")
class TestBatchedRules(ItemTrackingCommon):
    """The add-on's work on validation costs the same number of queries for 2 or 12 serials."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.code_serial.write(
            {
                "specific_tracking": True,
                "strict_expiration": True,
                "warranty_formula": "1Y",
                "warranty_date_required": True,
            }
        )
        cls.lots = cls.env["stock.lot"].create(
            [{"name": f"SN-PERF-{i:03}", "product_id": cls.product_serial.id} for i in range(12)]
        )
        for lot in cls.lots:
            cls._put_in_stock(cls.product_serial, lot)

    def _count_queries(self, lots):
        picking = self._delivery(
            self.product_serial, [{"lot_id": lot, "warranty_date": "2030-01-01"} for lot in lots]
        )
        self.env.flush_all()
        self.env.invalidate_all()
        # As in production: chatter tracking on (the fixtures disable it).
        lines = (
            self.env["stock.move.line"]
            .with_context(tracking_disable=False)
            .browse(picking.move_line_ids.ids)
        )
        start = self.env.cr.sql_log_count
        lines._check_item_tracking_rules()
        self.env["stock.lot"]._item_tracking_set_warranty_dates(
            lines._get_item_tracking_lot_moves()
        )
        self.env.flush_all()
        count = self.env.cr.sql_log_count - start
        self.assertEqual(set(lots.mapped("warranty_date")), {lines[:1].warranty_date})
        return count

    def test_rules_and_warranty_queries_do_not_grow_with_serials(self):
        small = self._count_queries(self.lots[:2])
        large = self._count_queries(self.lots[2:])
        self.assertEqual(small, large)

    def test_picking_validation_checks_the_rules_once(self):
        """A validation that no wizard stops checks the rules once, in `_action_done` (every
        path that moves stock goes through it): the pre-hook checks only before a wizard."""
        picking = self._delivery(
            self.product_serial,
            [{"lot_id": lot, "warranty_date": "2030-01-01"} for lot in self.lots[:3]],
        )
        Line = type(self.env["stock.move.line"])
        original = Line._get_item_tracking_errors
        calls = []

        def counting(lines, *args, **kwargs):
            calls.append(lines.ids)
            return original(lines, *args, **kwargs)

        Lot = type(self.env["stock.lot"])
        with (
            patch.object(Line, "_get_item_tracking_errors", counting),
            patch.object(Lot, "_item_tracking_recompute", side_effect=AssertionError),
        ):
            picking.button_validate()
        self.assertEqual(picking.state, "done")
        self.assertEqual([ids for ids in calls if ids], [picking.move_line_ids.ids])
        self.assertEqual(set(self.lots[:3].mapped("tracking_status")), {"shipped"})

    def test_rules_refused_before_the_backorder_wizard(self):
        """A validation that would stop at the backorder wizard is refused first when a rule
        is broken: no wizard, no backorder, nothing moved; once the rule holds, the wizard
        comes."""
        picking = self._create_picking(self.warehouse.out_type_id, self.product_serial, 3)
        self._set_lines(
            picking,
            [{"lot_id": lot, "warranty_date": "2030-01-01"} for lot in self.lots[8:10]],
        )
        self.lots[9].sudo().write({"blocked": True, "blocked_reason": "QC"})
        with self.assertRaisesRegex(UserError, r"blocked(.|\n)*SN-PERF-009"):
            picking.button_validate()
        self.assertEqual(picking.state, "assigned")
        self.assertFalse(picking.backorder_ids)
        self.assertEqual(self._on_hand(self.product_serial, self.lots[8]), 1)
        self.lots[9].sudo().write({"blocked": False})
        action = picking.button_validate()
        self.assertEqual(action["res_model"], "stock.backorder.confirmation")

    def test_line_changed_after_the_pre_hook_is_refused(self):
        """No record of "checked lines" that a change in between could fool: a lot blocked
        after the pre-hook is refused by `_action_done`, and nothing moves."""
        picking = self._delivery(
            self.product_serial,
            [{"lot_id": lot, "warranty_date": "2030-01-01"} for lot in self.lots[3:5]],
        )
        picking._pre_action_done_hook()
        self.lots[3].sudo().write({"blocked": True, "blocked_reason": "QC"})
        status = self.lots[3].tracking_status
        with self.assertRaisesRegex(UserError, "SN-PERF-003"):
            picking.move_ids._action_done()
        self.assertEqual(self.lots[3].tracking_status, status)
        self.assertEqual(self._on_hand(self.product_serial, self.lots[3]), 1)

    def test_delivery_writes_each_lot_row_once(self):
        """Status, warranty date (with the maintenance status it gives) and sources of the
        delivered serials, with Odoo's recomputed location: one UPDATE of their rows (each
        row written is a new row version through every index of the table), and the cache
        holds what the rows hold."""
        lots = self.lots[5:8]
        picking = self._delivery(
            self.product_serial, [{"lot_id": lot, "warranty_date": "2030-01-01"} for lot in lots]
        )
        picking.partner_id = self.env["res.partner"].create({"name": "Row Once Customer"})
        self.env.flush_all()
        Cursor = type(self.env.cr)
        original = Cursor.execute
        updates = []

        def execute(cr, query, params=None, log_exceptions=True):
            text = str(query.code if hasattr(query, "code") else query)
            if re.match(r'\s*UPDATE\s+"?stock_lot"?\s', text):
                updates.append(text)
            return original(cr, query, params, log_exceptions)

        with patch.object(Cursor, "execute", execute):
            self._validate(picking)
            self.env.flush_all()
        self.assertEqual(len(updates), 1, updates)
        self.assertIn('"location_id"', updates[0])
        fnames = ["tracking_status", "warranty_date", "maintenance_status", "write_date"]
        cached = [(*(lot[fname] for fname in fnames), lot.customer_id) for lot in lots]
        self.assertEqual({values[0] for values in cached}, {"shipped"})
        self.assertEqual({values[2] for values in cached}, {"under_warranty"})
        self.assertEqual({values[3] for values in cached}, {self.env.cr.now()})
        self.assertEqual({values[4] for values in cached}, {picking.partner_id})
        lots.invalidate_recordset()
        self.assertEqual(
            [(*(lot[fname] for fname in fnames), lot.customer_id) for lot in lots], cached
        )

    def test_delivery_reads_quants_and_lot_properties_at_once(self):
        """Odoo reads each delivered serial's quant, and its lot's properties for the quant
        it creates at the customer, one query per serial when the lines are done; the
        add-on reads them for every serial at once, and the stock moves as before."""
        lots = self.lots[:6]
        picking = self._delivery(
            self.product_serial, [{"lot_id": lot, "warranty_date": "2030-01-01"} for lot in lots]
        )
        self.env.flush_all()
        self.env.invalidate_all()
        Cursor = type(self.env.cr)
        original = Cursor.execute
        reads = {"quants": 0, "lot_properties": 0}

        def execute(cr, query, params=None, log_exceptions=True):
            text = " ".join(str(query.code if hasattr(query, "code") else query).split())
            if text.startswith('SELECT "stock_quant"."id", "stock_quant"."product_id"'):
                reads["quants"] += 1
            elif text.startswith('SELECT "stock_lot"."id", "stock_lot"."lot_properties" '):
                reads["lot_properties"] += 1
            return original(cr, query, params, log_exceptions)

        with patch.object(Cursor, "execute", execute):
            self._validate(picking)
            self.env.flush_all()
        self.assertEqual(reads, {"quants": 1, "lot_properties": 1})
        customer = picking.location_dest_id
        for lot in lots:
            self.assertEqual(self._on_hand(self.product_serial, lot), 0)
            self.assertEqual(self._on_hand(self.product_serial, lot, customer), 1)
        self.assertEqual(lots.location_id, customer)

    def test_new_lots_get_their_company_in_the_insert(self):
        """New lots without a company are inserted with the one Odoo computes for them (the
        product's, or the current branch of the product's company): no second UPDATE of
        every new row for the stored computed company; a company given is kept."""
        company = self.env.company
        company_product = self._create_product(
            "Drill (SN, company)", self.code_serial, tracking="serial", company_id=company.id
        )
        self.assertTrue(company_product)
        Cursor = type(self.env.cr)
        original = Cursor.execute
        updates = []

        def execute(cr, query, params=None, log_exceptions=True):
            text = str(query.code if hasattr(query, "code") else query)
            if re.match(r'\s*UPDATE\s+"?stock_lot"?\s', text) and '"company_id" =' in text:
                updates.append(text)
            return original(cr, query, params, log_exceptions)

        with patch.object(Cursor, "execute", execute):
            lots = self.env["stock.lot"].create(
                [
                    {"name": "SN-CO-1", "product_id": self.product_serial.id},
                    {"name": "SN-CO-2", "product_id": company_product.id},
                ]
            )
            lot_by_default = (
                self.env["stock.lot"]
                .with_context(default_product_id=company_product.id)
                .create({"name": "SN-CO-3"})
            )
            self.env.flush_all()
        self.assertEqual(updates, [])
        lots.invalidate_recordset()
        self.assertEqual(lots.mapped("company_id"), company)
        self.assertFalse(lots[0].company_id)
        self.assertEqual(lot_by_default.company_id, company)
        kept = self.env["stock.lot"].create(
            {"name": "SN-CO-4", "product_id": self.product_serial.id, "company_id": company.id}
        )
        self.assertEqual(kept.company_id, company)

    def test_lot_table_indexes(self):
        """Each row version of a lot goes into every index of the lot table: the blocked
        lots have a partial index (which the search for blocked lots uses), the
        company-dependent dates and cost none; an upgrade drops the indexes of before."""
        cr = self.env.cr

        def indexes():
            cr.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'stock_lot'")
            return dict(cr.fetchall())

        dropped = [
            f"stock_lot__{fname}_index"
            for fname in ("blocked", "receipt_date", "delivery_date", "unit_cost")
        ]
        self.assertFalse(set(dropped) & set(indexes()))
        self.assertIn("WHERE blocked", indexes()[BLOCKED_INDEX])
        # The search Odoo makes of the blocked lots can use it.
        query = self.env["stock.lot"]._search([("blocked", "=", True)])
        cr.execute("SET LOCAL enable_seqscan = off")
        cr.execute(SQL("EXPLAIN %s", query.select()))
        self.assertIn(BLOCKED_INDEX, "\n".join(row[0] for row in cr.fetchall()))
        cr.execute("SET LOCAL enable_seqscan = on")
        # A database of an earlier version: its indexes are dropped by the upgrade.
        cr.execute("CREATE INDEX stock_lot__blocked_index ON stock_lot (blocked)")
        cr.execute("CREATE INDEX stock_lot__receipt_date_index ON stock_lot (receipt_date)")
        self.env["stock.lot"].init()
        self.assertFalse(set(dropped) & set(indexes()))
        self.assertIn(BLOCKED_INDEX, indexes())
