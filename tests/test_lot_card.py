from datetime import date, timedelta

from dateutil.relativedelta import relativedelta
from freezegun import freeze_time
from lxml import etree

from odoo import Command, fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import Form, new_test_user, tagged
from odoo.tools.safe_eval import safe_eval

from .common import ItemTrackingCommon


@tagged("post_install", "-at_install")
class TestLotCard(ItemTrackingCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        receipt = cls._receipt_cls(cls.product_serial, ["SN-CARD-1", "SN-CARD-2"])
        cls.receipt = receipt
        cls.lot = receipt.move_line_ids.lot_id.filtered(lambda lot: lot.name == "SN-CARD-1")
        cls.lot2 = receipt.move_line_ids.lot_id - cls.lot
        cls.fresh_lot = cls._create_lot(cls.product_serial, "SN-CARD-NEW")

    @classmethod
    def _receipt_cls(cls, product, names):
        return cls._receive_from_vendor(product, dict.fromkeys(names, 1))

    # R001-23/24, R004-S05
    def test_locked_fields_once_moved(self):
        with self.assertRaisesRegex(UserError, "SN-CARD-1"):
            self.lot.name = "SN-RENAMED"
        other = self._create_product("Other (SN)", self.code_serial)
        with self.assertRaises(UserError):
            self.lot.product_id = other
        company2 = self.env["res.company"].create({"name": "Other Company"})
        with self.assertRaisesRegex(UserError, "SN-CARD-1"):
            self.lot.write({"company_id": company2.id})
        self.assertEqual(self.lot.name, "SN-CARD-1")
        # other fields stay editable
        self.lot.write({"ref": "REF1", "note": "<p>scratched</p>", "manufacturer_serial": "M-1"})
        self.assertEqual(self.lot.manufacturer_serial, "M-1")
        # a lot without done moves can still be renamed, even in the same write as a moved lot
        self.fresh_lot.name = "SN-CARD-NEW-2"
        self.assertEqual(self.fresh_lot.name, "SN-CARD-NEW-2")

    # R004-S06
    def test_delete_refused_once_moved(self):
        with self.assertRaisesRegex(UserError, "SN-CARD-1"):
            self.lot.unlink()
        self.assertTrue(self.lot.exists())
        self.fresh_lot.unlink()
        self.assertFalse(self.fresh_lot.exists())

    # R004-10
    def test_new_lot_gets_no_location(self):
        Lot = self.env["stock.lot"]
        with self.assertRaisesRegex(UserError, "SN-LOC-1"):
            self._create_lot(self.product_serial, "SN-LOC-1", location_id=self.stock_location.id)
        self.assertFalse(Lot.search([("name", "=", "SN-LOC-1")]))
        # A form opened from a transfer gets the transfer's location as default: dropped.
        form = Form(Lot.with_context(default_location_id=self.stock_location.id))
        form.name = "SN-LOC-2"
        form.product_id = self.product_serial
        self.assertEqual(form.location_id, self.stock_location)
        lot = form.save()
        self.assertFalse(lot.location_id)
        self.assertEqual(lot.product_qty, 0)
        # Once received, the lot's location is where its stock is.
        self._put_in_stock(self.product_serial, lot)
        self.assertEqual(lot.location_id, self.stock_location)

    def test_status_not_writable(self):
        manager = new_test_user(
            self.env,
            "statusmanager",
            groups="stock.group_stock_user,stock_item_tracking.group_item_tracking_manager",
        )
        Lot = self.env["stock.lot"].with_user(manager)
        with self.assertRaisesRegex(UserError, "recorded by stock operations.*SN-CARD-1"):
            self.lot.with_user(manager).write({"tracking_status": "shipped"})
        self.assertEqual(self.lot.tracking_status, "received")
        with self.assertRaisesRegex(UserError, "recorded by stock operations.*SN-CARD-X"):
            Lot.create(
                {
                    "name": "SN-CARD-X",
                    "product_id": self.product_serial.id,
                    "tracking_status": "received",
                }
            )

    def test_manufacturer_serial_search(self):
        self.lot.manufacturer_serial = "MFR-778899"
        Lot = self.env["stock.lot"]
        self.assertEqual(Lot.search([("manufacturer_serial", "ilike", "778899")]), self.lot)
        found = Lot.name_search("MFR-7788")
        self.assertEqual([lot_id for lot_id, _name in found], [self.lot.id])

    # R004-S03
    @freeze_time("2025-06-15")
    def test_maintenance_status_precedence(self):
        lot = self.fresh_lot
        self.assertFalse(lot.maintenance_status)
        cases = [
            (date(2025, 6, 1), False, "out_of_warranty"),
            (date(2025, 6, 15), False, "under_warranty"),
            (False, date(2025, 6, 1), "out_of_amc"),
            (False, date(2025, 7, 1), "under_amc"),
            (date(2025, 6, 1), date(2025, 5, 1), "out_of_amc"),
            (date(2025, 6, 1), date(2025, 7, 1), "under_amc"),
            (date(2025, 7, 1), date(2025, 5, 1), "under_warranty"),
            (date(2025, 7, 1), date(2025, 8, 1), "under_warranty"),
            (False, False, False),
        ]
        for warranty, amc, expected in cases:
            lot.write({"warranty_date": warranty, "amc_expiry_date": amc})
            self.assertEqual(lot.maintenance_status, expected, f"{warranty} / {amc}")

    @freeze_time("2025-06-15")
    def test_maintenance_status_at_creation(self):
        """Created with a date, from the values or a default, a lot has its status at once;
        created without one, it has none until a date is written (the compute depends on
        both dates and runs at creation)."""
        Lot = self.env["stock.lot"]
        product = self.fresh_lot.product_id
        dated, undated = Lot.create(
            [
                {"name": "MS-1", "product_id": product.id, "warranty_date": date(2025, 7, 1)},
                {"name": "MS-2", "product_id": product.id},
            ]
        )
        self.assertEqual(dated.maintenance_status, "under_warranty")
        self.assertFalse(undated.maintenance_status)
        by_default = Lot.with_context(default_warranty_date=date(2025, 6, 1)).create(
            {"name": "MS-3", "product_id": product.id}
        )
        self.assertEqual(by_default.maintenance_status, "out_of_warranty")
        undated.warranty_date = date(2025, 6, 30)
        self.assertEqual(undated.maintenance_status, "under_warranty")
        self.env.flush_all()
        self.env.cr.execute(
            "SELECT name, maintenance_status FROM stock_lot WHERE id IN %s ORDER BY name",
            [(dated.id, undated.id, by_default.id)],
        )
        self.assertEqual(
            self.env.cr.fetchall(),
            [("MS-1", "under_warranty"), ("MS-2", "under_warranty"), ("MS-3", "out_of_warranty")],
        )

    def test_cron_updates_lapsed_status(self):
        with freeze_time("2025-06-15"):
            self.lot.write({"warranty_date": date(2025, 6, 20)})
            self.lot2.write(
                {"warranty_date": date(2025, 6, 10), "amc_expiry_date": date(2025, 7, 1)}
            )
            self.assertEqual(self.lot.maintenance_status, "under_warranty")
            self.assertEqual(self.lot2.maintenance_status, "under_amc")
        with freeze_time("2025-07-05"):
            self.env["stock.lot"]._cron_update_maintenance_status()
            self.env.invalidate_all()
            self.assertEqual(self.lot.maintenance_status, "out_of_warranty")
            self.assertEqual(self.lot2.maintenance_status, "out_of_amc")

    def test_cron_creates_maintenance_activity_once(self):
        responsible = new_test_user(self.env, "tech", groups="stock.group_stock_user")
        with freeze_time("2025-06-15"):
            due, later = self.env["stock.lot.maintenance"].create(
                [
                    {
                        "lot_id": self.lot.id,
                        "date": date(2025, 6, 15),
                        "description": "Yearly calibration",
                        "user_id": responsible.id,
                    },
                    {
                        "lot_id": self.lot.id,
                        "date": date(2025, 9, 1),
                        "description": "Filter change",
                        "user_id": responsible.id,
                    },
                ]
            )
            self.env["stock.lot"]._cron_update_maintenance_status()
            self.env["stock.lot"]._cron_update_maintenance_status()
        self.assertFalse(self.lot.activity_ids)
        activities = due.activity_ids
        self.assertEqual(len(activities), 1)
        self.assertEqual(activities.summary, "Yearly calibration")
        self.assertEqual(activities.user_id, responsible)
        self.assertEqual(activities.activity_type_id, self.env.ref("mail.mail_activity_data_todo"))
        self.assertTrue(due.activity_created)
        self.assertFalse(later.activity_created)

    def test_history_action(self):
        delivery = self._delivery(self.product_serial, [{"lot_id": self.lot}])
        self._validate(delivery)
        self.assertEqual(self.lot.move_line_done_count, 2)
        action = self.lot.action_view_history()
        lines = self.env["stock.move.line"].search(action["domain"], order="date, id")
        self.assertEqual(lines.mapped("reference"), [self.receipt.name, delivery.name])
        self.assertEqual(lines[1].history_partner_id, self.partner)

    def test_report_text(self):
        self.code_serial.warranty_formula = "1Y"
        delivery = self._delivery(self.product_serial, [{"lot_id": self.lot}])
        self._validate(delivery)
        self.lot.manufacturer_serial = "MFR-REPORT-1"
        html = (
            self.env["ir.actions.report"]
            ._render_qweb_html("stock_item_tracking.report_lot_history", self.lot.ids)[0]
            .decode()
        )
        for text in (
            "SN-CARD-1",
            "Shipped",
            "MFR-REPORT-1",
            "Contoso Customer",
            "Fabrikam Vendor",
            "Under Warranty",
            self.receipt.name,
            delivery.name,
        ):
            self.assertIn(text, html)

    def test_partner_button(self):
        contact = self.env["res.partner"].create(
            {"name": "Contoso Buyer", "parent_id": self.partner.id}
        )
        delivery = self._delivery(self.product_serial, [{"lot_id": self.lot}])
        delivery.partner_id = contact
        self._validate(delivery)
        self.assertEqual(self.lot.customer_id, contact)
        action = self.partner.action_view_stock_lots()
        self.assertEqual(action["res_model"], "stock.lot.report")
        self.assertEqual(action["name"], "Serials of Contoso Customer")
        lines = self.env["stock.lot.report"].search(action["domain"])
        self.assertEqual(lines.lot_id, self.lot)
        self.assertIn(lines.partner_id, self.partner | contact)
        self.assertRecordValues(lines, [{"tracking_status": "shipped", "blocked": False}])
        self.assertFalse(
            self.env["stock.lot.report"].search(self.vendor.action_view_stock_lots()["domain"])
        )
        # Its list shows status, delivery, warranty and maintenance at a glance.
        arch = self.env["stock.lot.report"].get_view(False, "list")["arch"]
        for fname in ("tracking_status", "delivery_date", "warranty_date", "maintenance_status"):
            self.assertIn(f'name="{fname}"', arch)

    # ------------------------------------------------------------------
    # access and multi-company
    # ------------------------------------------------------------------
    def test_stock_user_reads_but_does_not_edit_service_data(self):
        user = new_test_user(
            self.env, "stockuser", groups="stock.group_stock_user,stock.group_production_lot"
        )
        self.env["stock.lot.maintenance"].create(
            {"lot_id": self.lot.id, "date": date(2030, 1, 1), "description": "Check"}
        )
        lot = self.lot.with_user(user)
        self.assertEqual(lot.tracking_status, "received")
        self.assertEqual(lot.status_log_ids.new_status, "received")
        self.assertEqual(lot.maintenance_ids.description, "Check")
        self.assertEqual(lot.supplier_id.name, "Fabrikam Vendor")
        with self.assertRaises(AccessError):
            lot.amc_expiry_date = date(2030, 1, 1)
        with self.assertRaises(AccessError):
            self.env["stock.lot.maintenance"].with_user(user).create(
                {"lot_id": self.lot.id, "date": date(2030, 1, 1), "description": "x"}
            )
        with self.assertRaises(AccessError):
            lot.status_log_ids.write({"new_status": "shipped"})
        with self.assertRaises(AccessError):
            self.env["stock.lot.status.log"].with_user(user).create(
                {"lot_id": self.lot.id, "new_status": "shipped"}
            )
        lot.write({"manufacturer_serial": "M-2", "note": "<p>ok</p>"})

        manager = new_test_user(
            self.env,
            "itmanager",
            groups="stock.group_stock_user,stock_item_tracking.group_item_tracking_manager",
        )
        self.lot.with_user(manager).amc_expiry_date = date(2030, 1, 1)
        self.env["stock.lot.maintenance"].with_user(manager).create(
            {"lot_id": self.lot.id, "date": date(2030, 2, 1), "description": "Visit"}
        )
        self.assertEqual(len(self.lot.maintenance_ids), 2)

    def test_multi_company(self):
        company2 = self.env["res.company"].create({"name": "Company B"})
        lot_b = self.env["stock.lot"].create(
            {"name": "SN-B-1", "product_id": self.product_serial.id, "company_id": company2.id}
        )
        self.env["stock.lot.status.log"].sudo().create(
            {"lot_id": lot_b.id, "new_status": "received"}
        )
        self.env["stock.lot.maintenance"].create(
            {"lot_id": lot_b.id, "date": date(2030, 1, 1), "description": "B"}
        )
        user = new_test_user(
            self.env,
            "userA",
            groups="stock.group_stock_user",
            company_id=self.env.company.id,
            company_ids=[Command.set(self.env.company.ids)],
        )
        Log = self.env["stock.lot.status.log"].with_user(user)
        self.assertFalse(Log.search([("lot_id", "=", lot_b.id)]))
        self.assertTrue(Log.search([("lot_id", "=", self.lot.id)]))
        Maintenance = self.env["stock.lot.maintenance"].with_user(user)
        self.assertFalse(Maintenance.search([("lot_id", "=", lot_b.id)]))
        self.assertTrue(company2.item_tracking_reject_location_id)

    def test_list_search_and_reporting_views(self):
        views = self.env["stock.lot"].get_views(
            [(False, "list"), (False, "search"), (False, "pivot"), (False, "graph")]
        )["views"]
        search = views["search"]["arch"]
        for name in (
            "planned",
            "received",
            "consumed",
            "at_customer",
            "expiration_alerts",
            "written_off",
            "rejected",
            "returned",
            "blocked",
            "under_warranty",
            "warranty_expired",
            "warranty_ending_soon",
            "expired",
            "group_by_tracking_status",
            "group_by_product",
            "group_by_customer",
            "group_by_supplier",
            "group_by_current_location",
        ):
            self.assertIn(f'name="{name}"', search)
        self.assertIn("manufacturer_serial", search)
        listing = views["list"]["arch"]
        self.assertIn('multi_edit="1"', listing)
        for fname in (
            "tracking_status",
            "customer_id",
            "supplier_id",
            "delivery_date",
            "warranty_date",
            "maintenance_status",
            "location_id",
            "blocked",
        ):
            self.assertIn(f'name="{fname}"', listing)
        self.assertIn("tracking_status", views["pivot"]["arch"])
        self.assertIn("tracking_status", views["graph"]["arch"])
        self.assertIn("pivot", self.env.ref("stock.action_production_lot_form").view_mode)
        groups = self.env["stock.lot"]._read_group(
            [("id", "in", (self.lot | self.fresh_lot).ids)], ["tracking_status"], ["__count"]
        )
        self.assertEqual(dict(groups), {"received": 1, "planned": 1})

    def _search_filter(self, name, lots):
        """The lots among `lots` that the list's named filter shows (its domain evaluated
        as the web client does, with today's date)."""
        arch = self.env["stock.lot"].get_views([(False, "search")])["views"]["search"]["arch"]
        [node] = etree.fromstring(arch).xpath(f"//filter[@name='{name}']")
        domain = safe_eval(
            node.get("domain"),
            {"context_today": date.today, "relativedelta": relativedelta},
        )
        return self.env["stock.lot"].search([("id", "in", lots.ids), *domain])

    def test_list_filters_select_the_right_numbers(self):
        today = date.today()
        Lot = self.env["stock.lot"]
        soon, later, lapsed, none = (
            self._create_lot(self.product_serial, f"SN-FLT-{i}", warranty_date=warranty)
            for i, warranty in enumerate(
                (today + timedelta(days=10), today + timedelta(days=90), today - timedelta(1))
                + (False,)
            )
        )
        lots = soon | later | lapsed | none
        self.assertEqual(self._search_filter("under_warranty", lots), soon | later)
        self.assertEqual(self._search_filter("warranty_expired", lots), lapsed)
        self.assertEqual(self._search_filter("warranty_ending_soon", lots), soon)
        self.product_serial.use_expiration_date = True
        soon.expiration_date = fields.Datetime.now() - timedelta(days=2)
        later.expiration_date = fields.Datetime.now() + timedelta(days=2)
        self.assertEqual(self._search_filter("expired", lots), soon)
        lapsed.write({"blocked": True, "blocked_reason": "QC"})
        self.assertEqual(self._search_filter("blocked", lots), lapsed)
        self.assertEqual(self._search_filter("not_blocked", lots), lots - lapsed)
        self.assertEqual(self._search_filter("planned", lots), lots)
        delivery = self._delivery(self.product_serial, [{"lot_id": self.lot}])
        self._validate(delivery)
        both = self.lot | self.lot2
        self.assertEqual(self._search_filter("at_customer", both), self.lot)
        self.assertEqual(self._search_filter("received", both), self.lot2)
        self.assertEqual(
            Lot.search([("id", "in", both.ids), ("customer_id", "!=", False)]), self.lot
        )
