from datetime import date

from dateutil.relativedelta import relativedelta
from freezegun import freeze_time
from lxml import etree

from odoo import Command, api
from odoo.exceptions import AccessError
from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tools.safe_eval import safe_eval

from .common import ItemTrackingCommon

REPORT = "stock_item_tracking.report_lot_history"


@tagged("post_install", "-at_install")
class TestCardsHistory(ItemTrackingCommon):
    """Issue 16, items 3 to 6: the card's last status change, the History list and PDF, the
    partner's serials button and the Lot/Serial Maintenance report."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.receipt = cls._receive_from_vendor(cls.product_serial, {"SN-H-1": 1, "SN-H-2": 1})
        cls.lot = cls.receipt.move_line_ids.lot_id.filtered(lambda lot: lot.name == "SN-H-1")
        cls.lot2 = cls.receipt.move_line_ids.lot_id - cls.lot

    def _report_html(self, lots):
        return self.env["ir.actions.report"]._render_qweb_html(REPORT, lots.ids)[0].decode()

    # ------------------------------------------------------------------
    # item 3: last status change in the card's header
    # ------------------------------------------------------------------
    def test_lots_created_by_a_receipt_have_their_history_and_no_creation_note(self):
        env = self.env(
            user=self.lowest_user, context=dict(self.env.context, tracking_disable=False)
        )
        plain = self._create_product("Plain drill", tracking="serial")
        Message = env["mail.message"].sudo()
        for product in (self.product_serial, plain):
            receipt = self._receipt(
                product, [{"lot_name": f"SN-NOTE-{product.id}-{i}"} for i in (1, 2)]
            ).with_env(env)
            self._validate(receipt)
            lots = receipt.move_line_ids.lot_id
            self.assertEqual(len(lots), 2)
            self.assertFalse(
                Message.search([("model", "=", "stock.lot"), ("res_id", "in", lots.ids)])
            )
            self.assertRecordValues(
                lots.status_log_ids.sorted("lot_id"),
                [
                    {
                        "lot_id": lot.id,
                        "new_status": "received",
                        "reference": receipt.name,
                        "user_id": self.lowest_user.id,
                    }
                    for lot in lots.sorted("id")
                ],
            )
        # A lot created otherwise keeps Odoo's note; so does a number typed on an operation
        # that takes it out of stock or doesn't bring it into stock (its status may not
        # change). One validation of all of them: a number shared by a receipt line and a
        # transfer line is one lot, on both lines, with its note.
        lot = env["stock.lot"].create({"name": "SN-NOTE-FORM", "product_id": plain.id})
        plain_lot = self._create_product("Plain paint", tracking="lot")
        self.warehouse.int_type_id.use_create_lots = True
        pickings = (
            self._receipt(plain_lot, [{"lot_name": "L-NOTE-IN"}, {"lot_name": "L-NOTE-BOTH"}])
            | self._set_lines(
                self._create_picking(self.warehouse.int_type_id, plain_lot, 1),
                [{"lot_name": "L-NOTE-BOTH"}],
            )
            | self._set_lines(
                self._create_picking(self.warehouse.int_type_id, plain, 1),
                [{"lot_name": "SN-NOTE-MOVED"}],
            )
            | self._set_lines(
                self._create_picking(
                    self.warehouse.in_type_id, plain, 1, location_dest=self.customer_location
                ),
                [{"lot_name": "SN-NOTE-DROP"}],
            )
        ).with_env(env)
        self.assertIs(pickings.button_validate(), True)
        self.assertEqual(set(pickings.mapped("state")), {"done"})
        lines = pickings.move_line_ids
        self.assertTrue(all(lines.mapped("lot_id")))
        by_name = {lot.name: lot for lot in lines.lot_id | lot}
        self.assertEqual(
            sorted(by_name),
            ["L-NOTE-BOTH", "L-NOTE-IN", "SN-NOTE-DROP", "SN-NOTE-FORM", "SN-NOTE-MOVED"],
        )
        self.assertEqual(
            lines.filtered(lambda ml: ml.lot_id.name == "L-NOTE-BOTH").lot_id,
            by_name["L-NOTE-BOTH"],
        )
        noted = Message.search(
            [("model", "=", "stock.lot"), ("res_id", "in", [lot.id for lot in by_name.values()])]
        )
        self.assertEqual(
            sorted(self.env["stock.lot"].browse(noted.mapped("res_id")).mapped("name")),
            ["L-NOTE-BOTH", "SN-NOTE-DROP", "SN-NOTE-FORM", "SN-NOTE-MOVED"],
        )
        self.assertEqual(by_name["L-NOTE-IN"].status_log_ids.new_status, "received")

    def test_last_status_change_without_chatter_message_per_lot(self):
        self.assertEqual(self.lot.last_status_reference, self.receipt.name)
        self.assertEqual(self.lot.last_status_log_id.new_status, "received")
        env = self.env(context=dict(self.env.context, tracking_disable=False))
        lots = (self.lot | self.lot2).with_env(env)
        Message = env["mail.message"]
        messages = Message.search_count([("model", "=", "stock.lot"), ("res_id", "in", lots.ids)])
        delivery = self._delivery(
            self.product_serial, [{"lot_id": self.lot}, {"lot_id": self.lot2}]
        ).with_env(env)
        self._validate(delivery)
        self.assertEqual(
            Message.search_count([("model", "=", "stock.lot"), ("res_id", "in", lots.ids)]),
            messages,
        )
        lots.invalidate_recordset()
        for lot in lots:
            log = lot.status_log_ids.filtered(lambda log: log.new_status == "shipped")
            self.assertRecordValues(
                lot,
                [
                    {
                        "last_status_log_id": log.id,
                        "last_status_date": log.date,
                        "last_status_reference": delivery.name,
                    }
                ],
            )
        self.assertFalse(self._create_lot(self.product_serial, "SN-H-NEW").last_status_date)

    def test_last_status_change_of_the_reader_company_only(self):
        company_b = self.env["res.company"].create({"name": "Company B (history)"})
        self.env["stock.lot.status.log"].sudo().create(
            {
                "lot_id": self.lot.id,
                "company_id": company_b.id,
                "new_status": "shipped",
                "old_status": "received",
                "reference": "B/OUT/1",
                "date": "2099-01-01 00:00:00",
            }
        )
        user = new_test_user(
            self.env,
            "hist_user_a",
            groups="stock.group_stock_user",
            company_id=self.env.company.id,
            company_ids=[Command.set(self.env.company.ids)],
        )
        self.env.invalidate_all()
        self.assertEqual(self.lot.with_user(user).last_status_reference, self.receipt.name)
        self.assertEqual(self.lot.last_status_reference, "B/OUT/1")

    # ------------------------------------------------------------------
    # item 4: History list and PDF
    # ------------------------------------------------------------------
    def test_history_partner_and_totals(self):
        other = self.env["res.partner"].create({"name": "Move-only Partner"})
        delivery = self._delivery(self.product_serial, [{"lot_id": self.lot}])
        self._validate(delivery)
        # A movement whose transfer has no partner shows its move's partner.
        back = self._receipt(self.product_serial, [{"lot_id": self.lot}])
        back.partner_id = False
        back.move_ids.partner_id = other
        self._validate(back)
        action = self.lot.action_view_history()
        lines = self.env["stock.move.line"].search(action["domain"], order="date, id")
        self.assertEqual(lines.mapped("reference"), [self.receipt.name, delivery.name, back.name])
        self.assertEqual(lines.mapped("history_partner_id"), self.vendor | self.partner | other)
        self.assertEqual(lines[2].history_partner_id, other)
        self.assertEqual(lines.mapped("history_qty_in"), [1.0, 0.0, 1.0])
        self.assertEqual(lines.mapped("history_qty_out"), [0.0, 1.0, 0.0])
        self.assertEqual(sum(lines.mapped("history_qty_in")), 2.0)
        self.assertEqual(sum(lines.mapped("history_qty_out")), 1.0)
        # An internal transfer is neither in nor out.
        internal = self._create_picking(
            self.warehouse.int_type_id,
            self.product_serial,
            1,
            location=self.stock_location,
            location_dest=self.stock_location,
        )
        self._set_lines(internal, [{"lot_id": self.lot}])
        self._validate(internal)
        self.assertRecordValues(
            internal.move_line_ids, [{"history_qty_in": 0.0, "history_qty_out": 0.0}]
        )
        # The list sums ins and outs apart, never the unsigned quantity.
        view_id = action["views"][0][0]
        arch = etree.fromstring(self.env["stock.move.line"].get_view(view_id, "list")["arch"])
        self.assertFalse(arch.xpath("//field[@name='quantity'][@sum]"))
        self.assertTrue(arch.xpath("//field[@name='history_qty_in'][@sum]"))
        self.assertTrue(arch.xpath("//field[@name='history_qty_out'][@sum]"))
        self.assertTrue(arch.xpath("//field[@name='history_partner_id']"))
        self.assertIn("Traceability", action["help"])

    def test_report_prints_no_empty_label_and_uses_company_layout(self):
        lot = self._create_lot(self.product_serial, "SN-H-EMPTY")
        html = self._report_html(lot)
        self.assertIn("SN-H-EMPTY", html)
        for label in (
            "Supplier:",
            "Receipt date:",
            "Purchase order:",
            "Manufacturing order:",
            "Customer:",
            "Delivery date:",
            "Sales order:",
            "Warranty until:",
            "AMC until:",
            "Maintenance status:",
            "Manufacturer serial:",
            "Blocked:",
        ):
            self.assertNotIn(label, html)
        # The company's report layout (web.external_layout): its header and footer blocks.
        self.assertIn(f"o_company_{self.env.company.id}_layout", html)
        self.assertIn("article", html)
        # A received and delivered serial prints the labels that have a value.
        self.code_serial.warranty_formula = "1Y"
        delivery = self._delivery(self.product_serial, [{"lot_id": self.lot}])
        self._validate(delivery)
        html = self._report_html(self.lot)
        for text in ("Supplier:", "Fabrikam Vendor", "Customer:", "Contoso Customer"):
            self.assertIn(text, html)
        for label in ("Purchase order:", "Manufacturing order:", "Sales order:", "AMC until:"):
            self.assertNotIn(label, html)

    # ------------------------------------------------------------------
    # item 5: one customer button
    # ------------------------------------------------------------------
    def test_partner_button_is_odoos_extended(self):
        delivery = self._delivery(self.product_serial, [{"lot_id": self.lot}])
        self._validate(delivery)
        action = self.partner.action_view_stock_lots()
        self.assertEqual(action["name"], "Serials of Contoso Customer")
        self.assertEqual(action["res_model"], "stock.lot.report")
        self.assertEqual(action["domain"], [("partner_id", "in", self.partner.ids)])
        lines = self.env["stock.lot.report"].search(action["domain"])
        self.assertRecordValues(
            lines,
            [
                {
                    "lot_id": self.lot.id,
                    "tracking_status": "shipped",
                    "warranty_date": self.lot.warranty_date,
                    "maintenance_status": self.lot.maintenance_status,
                    "company_id": self.env.company.id,
                }
            ],
        )
        arch = self.env["res.partner"].get_view(self.env.ref("base.view_partner_form").id, "form")[
            "arch"
        ]
        self.assertEqual(arch.count('name="action_view_stock_lots"'), 1)
        self.assertNotIn("item_tracking_lot_count", arch)


@tagged("post_install", "-at_install")
class TestMaintenanceReport(ItemTrackingCommon):
    """Lot/Serial Maintenance: a report where the responsible Inventory user marks his own
    service done; planning stays with Item Tracking Managers, on the card."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        receipt = cls._receive_from_vendor(cls.product_serial, {"SN-M-1": 1, "SN-M-2": 1})
        cls.lot, cls.lot2 = receipt.move_line_ids.lot_id.sorted("name")
        groups = "stock.group_stock_user,stock.group_production_lot"
        cls.tech = new_test_user(cls.env, "maint_tech", groups=groups)
        cls.other_tech = new_test_user(cls.env, "maint_other_tech", groups=groups)
        cls.line_tech, cls.line_other, cls.line_later = cls.env["stock.lot.maintenance"].create(
            [
                {
                    "lot_id": cls.lot.id,
                    "date": date(2026, 6, 10),
                    "description": "Calibration",
                    "user_id": cls.tech.id,
                },
                {
                    "lot_id": cls.lot2.id,
                    "date": date(2026, 6, 15),
                    "description": "Filter change",
                    "user_id": cls.other_tech.id,
                },
                {
                    "lot_id": cls.lot.id,
                    "date": date(2026, 9, 1),
                    "description": "Yearly check",
                    "user_id": cls.tech.id,
                },
            ]
        )

    def _rpc(self, user, records, method, *args):
        """`method` on `records` as `user`, the way the web client's RPC calls it."""
        model = self.env[records._name].with_user(user)
        return api.call_kw(model, method, [records.ids, *args], {})

    def test_one_name_everywhere(self):
        name = "Lot/Serial Maintenance"
        Maintenance = self.env["stock.lot.maintenance"]
        self.assertEqual(Maintenance._description, name)
        self.assertEqual(
            self.env.ref("stock_item_tracking.action_stock_lot_maintenance").name, name
        )
        self.assertEqual(self.env.ref("stock_item_tracking.menu_stock_lot_maintenance").name, name)
        for view_type in ("list", "form", "search"):
            arch = etree.fromstring(Maintenance.get_view(False, view_type)["arch"])
            self.assertEqual(arch.get("string"), name, view_type)

    @freeze_time("2026-06-15")
    def test_search_filters_and_groups(self):
        arch = etree.fromstring(self.env["stock.lot.maintenance"].get_view(False, "search")["arch"])
        names = set(arch.xpath("//filter/@name"))
        for name in (
            "due",
            "overdue",
            "done",
            "mine",
            "group_by_user",
            "group_by_product",
            "group_by_customer",
            "group_by_month",
        ):
            self.assertIn(name, names)
        Maintenance = self.env["stock.lot.maintenance"].with_user(self.tech)
        eval_context = {
            "context_today": lambda: date(2026, 6, 15),
            "relativedelta": relativedelta,
            "uid": self.tech.id,
        }

        def filtered(name):
            domain = safe_eval(
                arch.xpath(f"//filter[@name='{name}']")[0].get("domain"), eval_context
            )
            return Maintenance.search(domain + [("id", "in", self.lines.ids)])

        self.lines = self.line_tech | self.line_other | self.line_later
        self.assertEqual(filtered("due"), self.line_tech | self.line_other)
        self.assertEqual(filtered("overdue"), self.line_tech)
        self.assertEqual(filtered("mine"), self.line_tech | self.line_later)
        self.assertFalse(filtered("done"))
        self.line_other.sudo().done = True
        self.assertEqual(filtered("done"), self.line_other)
        self.assertEqual(filtered("due"), self.line_tech)
        # Product and customer columns, grouped by the reader (related, not stored).
        delivery = self._delivery(self.product_serial, [{"lot_id": self.lot}])
        self._validate(delivery)
        self.assertEqual(self.line_tech.customer_id, self.partner)
        self.assertEqual(self.line_tech.product_id, self.product_serial)
        groups = dict(
            Maintenance._read_group([("id", "in", self.lines.ids)], ["customer_id"], ["__count"])
        )
        self.assertEqual(groups, {self.partner: 2, self.env["res.partner"]: 1})
        groups = dict(
            Maintenance._read_group([("id", "in", self.lines.ids)], ["product_id"], ["__count"])
        )
        self.assertEqual(groups, {self.product_serial: 3})

    def test_stock_user_marks_his_own_service_done(self):
        with freeze_time("2026-06-15"):
            self.env["stock.lot"]._cron_update_maintenance_status()
        activity = self.line_tech.activity_ids
        self.assertEqual(activity.user_id, self.tech)
        self.assertEqual(activity.res_model, "stock.lot.maintenance")
        self.assertFalse(self.lot.activity_ids)
        # His activity menu lists his services: its group opens them (the activity view's
        # domain, as the web client sends it).
        groups = {
            group["model"]: group for group in self.tech.with_user(self.tech)._get_activity_groups()
        }
        self.assertEqual(groups["stock.lot.maintenance"]["name"], "Lot/Serial Maintenance")
        self.assertEqual(groups["stock.lot.maintenance"]["total_count"], 1)
        Maintenance = self.env["stock.lot.maintenance"].with_user(self.tech)
        self.assertEqual(
            Maintenance.search([("activity_user_id", "=", self.tech.id)]), self.line_tech
        )
        # The activity opens the service, which the technician may read.
        self.assertEqual(
            activity.with_user(self.tech).action_open_document()["res_id"], self.line_tech.id
        )
        self._rpc(self.tech, self.line_tech, "action_mark_done")
        self.assertTrue(self.line_tech.done)
        self.assertFalse(self.line_tech.activity_ids)
        self._rpc(self.tech, self.line_later, "write", {"done": True})
        self.assertTrue(self.line_later.done)
        self._rpc(self.tech, self.line_later, "write", {"done": False})
        self.assertFalse(self.line_later.done)

    def test_stock_user_cant_mark_another_s_service_done(self):
        for method, args in (("write", ({"done": True},)), ("action_mark_done", ())):
            with self.subTest(method=method), self.assertRaises(AccessError):
                self._rpc(self.tech, self.line_other, method, *args)
            self.assertFalse(self.line_other.done)
        # nor through the lot
        with self.assertRaises(AccessError):
            self._rpc(
                self.tech,
                self.lot2,
                "write",
                {"maintenance_ids": [Command.update(self.line_other.id, {"done": True})]},
            )
        self.assertFalse(self.line_other.done)

    def test_responsible_of_another_company_cant_mark_done(self):
        company_b = self.env["res.company"].create({"name": "Company B (maintenance)"})
        tech_b = new_test_user(
            self.env,
            "maint_tech_b",
            groups="stock.group_stock_user,stock.group_production_lot",
            company_id=company_b.id,
            company_ids=[Command.set(company_b.ids)],
        )
        self.line_other.user_id = tech_b
        with self.assertRaises(AccessError):
            self._rpc(tech_b, self.line_other, "write", {"done": True})
        self.assertFalse(self.line_other.done)
        self.assertFalse(
            self.env["stock.lot.maintenance"]
            .with_user(tech_b)
            .search([("user_id", "=", tech_b.id)])
        )

    def test_stock_user_cant_plan(self):
        planning = {
            "date": date(2026, 7, 1),
            "description": "Moved",
            "user_id": self.other_tech.id,
            "lot_id": self.lot2.id,
            "company_id": self.env.company.id,
            "activity_created": True,
        }
        for fname, value in planning.items():
            with (
                self.subTest(field=fname),
                self.assertRaisesRegex(AccessError, "Only Item Tracking Managers.*SN-M-1"),
            ):
                self._rpc(self.tech, self.line_tech, "write", {"done": True, fname: value})
        self.assertRecordValues(
            self.line_tech,
            [
                {
                    "done": False,
                    "date": date(2026, 6, 10),
                    "description": "Calibration",
                    "user_id": self.tech.id,
                    "lot_id": self.lot.id,
                    "activity_created": False,
                }
            ],
        )
        with self.assertRaises(AccessError):
            self._rpc(
                self.tech,
                self.lot,
                "write",
                {
                    "maintenance_ids": [
                        Command.update(self.line_tech.id, {"date": date(2026, 7, 1)})
                    ]
                },
            )
        with self.assertRaises(AccessError):
            self.env["stock.lot.maintenance"].with_user(self.tech).create(
                {"lot_id": self.lot.id, "date": date(2026, 7, 1), "description": "New"}
            )
        with self.assertRaises(AccessError):
            self._rpc(self.tech, self.line_tech, "unlink")
        self.assertTrue(self.line_tech.exists())
        # A responsible without Inventory rights can't even mark his service done.
        employee = new_test_user(self.env, "maint_employee", groups="base.group_user")
        line = self.env["stock.lot.maintenance"].create(
            {
                "lot_id": self.lot.id,
                "date": date(2026, 7, 1),
                "description": "x",
                "user_id": employee.id,
            }
        )
        with self.assertRaises(AccessError):
            self._rpc(employee, line, "write", {"done": True})
        self.assertFalse(line.done)
        # Managers plan every service.
        self._rpc(
            self.tracking_manager, self.line_other, "write", planning | {"activity_created": False}
        )
        self.assertEqual(self.line_other.description, "Moved")

    def test_stock_user_reaches_his_services_from_a_menu(self):
        menu = self.env.ref("stock_item_tracking.menu_stock_lot_maintenance_mine")
        visible = self.env["ir.ui.menu"].with_user(self.tech)._visible_menu_ids()
        self.assertIn(menu.id, visible)
        self.assertIn(menu.parent_id.id, visible)
        action = (
            self.env["ir.actions.act_window"]
            .with_user(self.tech)
            ._for_xml_id("stock_item_tracking.action_stock_lot_maintenance_mine")
        )
        context = safe_eval(action["context"])
        self.assertTrue(context.get("search_default_mine"))
        Maintenance = self.env["stock.lot.maintenance"].with_user(self.tech)
        self.assertEqual(
            Maintenance.search([("user_id", "=", self.tech.id), ("done", "=", False)]),
            self.line_tech | self.line_later,
        )


@tagged("post_install", "-at_install")
class TestCardsTour(HttpCase):
    """In the web client: the card's header and the responsible's maintenance list."""

    def test_last_status_change_in_the_header(self):
        admin = self.env.ref("base.user_admin")
        admin.groups_id += self.env.ref("stock.group_production_lot")
        product = self.env["product.product"].create(
            {"name": "Tour header drill", "is_storable": True, "tracking": "serial"}
        )
        lot = self.env["stock.lot"].create({"name": "TOUR-SN-HEAD", "product_id": product.id})
        self.env["stock.lot.status.log"].create(
            {
                "lot_id": lot.id,
                "old_status": "planned",
                "new_status": "received",
                "reference": "TOUR/OUT/0001",
            }
        )
        self.start_tour(
            f"/odoo/action-stock.action_production_lot_form/{lot.id}",
            "stock_item_tracking_last_status_tour",
            login="admin",
        )

    def test_responsible_marks_his_service_done(self):
        tech = new_test_user(
            self.env,
            "maint_tour_tech",
            groups="stock.group_stock_user,stock.group_production_lot",
        )
        product = self.env["product.product"].create(
            {"name": "Tour maintained drill", "is_storable": True, "tracking": "serial"}
        )
        lot = self.env["stock.lot"].create({"name": "TOUR-SN-MAINT", "product_id": product.id})
        line = self.env["stock.lot.maintenance"].create(
            {
                "lot_id": lot.id,
                "date": date.today(),
                "description": "Tour calibration",
                "user_id": tech.id,
            }
        )
        self.start_tour(
            "/odoo/action-stock_item_tracking.action_stock_lot_maintenance_mine",
            "stock_item_tracking_maintenance_tour",
            login="maint_tour_tech",
        )
        self.assertTrue(line.done)
