from odoo import Command
from odoo.tests import HttpCase, tagged


@tagged("post_install", "-at_install")
class TestItemTrackingTours(HttpCase):
    def test_item_tracking_code_tour(self):
        action = self.env.ref("stock_item_tracking.action_item_tracking_code")
        self.start_tour(f"/odoo/action-{action.id}", "stock_item_tracking_code_tour", login="admin")
        code = self.env["item.tracking.code"].search([("name", "=", "Tour sales serials")])
        self.assertEqual(len(code), 1)
        self.assertEqual(code.scope, "sales")
        self.assertEqual(code.tracking, "serial")
        self.assertFalse(code.specific_tracking)
        self.assertTrue(code.blank_issue_allowed)

    def test_block_lot_tour(self):
        self.env.ref("base.user_admin").groups_id += self.env.ref("stock.group_production_lot")
        product = self.env["product.product"].create(
            {"name": "Tour drill", "is_storable": True, "tracking": "serial"}
        )
        lot = self.env["stock.lot"].create({"name": "TOUR-SN-1", "product_id": product.id})
        self.start_tour(
            f"/odoo/action-stock.action_production_lot_form/{lot.id}",
            "stock_item_tracking_block_tour",
            login="admin",
        )
        self.assertTrue(lot.blocked)
        self.assertEqual(lot.blocked_reason, "Tour: dented casing")

    def test_link_serials_tour(self):
        """Link Serial Numbers in the browser: fill in, change a cell by scanning, confirm,
        produce (R000-08)."""
        admin = self.env.ref("base.user_admin")
        admin.groups_id += self.env.ref("stock.group_production_lot") + self.env.ref(
            "mrp.group_mrp_user"
        )
        Product = self.env["product.product"]
        robot = Product.create({"name": "Tour robot", "is_storable": True, "tracking": "serial"})
        motor = Product.create({"name": "Tour motor", "is_storable": True, "tracking": "serial"})
        stock = (
            self.env["stock.warehouse"]
            .search([("company_id", "=", self.env.company.id)], limit=1)
            .lot_stock_id
        )
        motors = self.env["stock.lot"].create(
            [{"name": f"TOUR-M-{i}", "product_id": motor.id} for i in (1, 2, 3, 9)]
        )
        for lot in motors:
            self.env["stock.quant"]._update_available_quantity(motor, stock, 1, lot_id=lot)
        bom = self.env["mrp.bom"].create(
            {
                "product_tmpl_id": robot.product_tmpl_id.id,
                "link_component_tracking": True,
                "bom_line_ids": [(0, 0, {"product_id": motor.id, "product_qty": 1})],
            }
        )
        production = self.env["mrp.production"].create(
            {"product_id": robot.id, "bom_id": bom.id, "product_qty": 3}
        )
        production.action_confirm()
        production.action_assign()
        units = production.planned_serial_ids.sorted("sequence").lot_id
        self.start_tour(
            f"/odoo/action-mrp.mrp_production_action/{production.id}",
            "stock_item_tracking_link_serials_tour",
            login="admin",
        )
        consumed = {}
        for unit in units:
            line = self.env["stock.move.line"].search(
                [("lot_id", "=", unit.id), ("state", "=", "done")]
            )
            consumed[unit.name] = line.consume_line_ids.lot_id.name
        self.assertEqual(
            consumed,
            {units[0].name: "TOUR-M-1", units[1].name: "TOUR-M-9", units[2].name: "TOUR-M-3"},
        )

    def test_sales_serials_tour(self):
        """Sales-process serials in the browser (issue 14): scan three serials on the
        delivery (Enter and Tab), remove one in Remove mode, validate; Create Invoice
        proposes the two delivered serials on the invoice line."""
        code = self.env["item.tracking.code"].create({"name": "Tour SN sales", "scope": "sales"})
        router = self.env["product.product"].create(
            {
                "name": "Tour router",
                "is_storable": True,
                "item_tracking_code_id": code.id,
                "invoice_policy": "delivery",
                "list_price": 80.0,
            }
        )
        warehouse = self.env["stock.warehouse"].search(
            [("company_id", "=", self.env.company.id)], limit=1
        )
        self.env["stock.quant"]._update_available_quantity(router, warehouse.lot_stock_id, 5)
        partner = self.env["res.partner"].create({"name": "Tour customer"})
        order = self.env["sale.order"].create(
            {
                "partner_id": partner.id,
                "warehouse_id": warehouse.id,
                "order_line": [Command.create({"product_id": router.id, "product_uom_qty": 2})],
            }
        )
        order.action_confirm()
        picking = order.picking_ids
        self.assertEqual(picking.state, "assigned")
        self.start_tour(
            f"/odoo/action-stock.action_picking_tree_all/{picking.id}",
            "stock_item_tracking_sales_serials_tour",
            login="admin",
        )
        self.assertEqual(picking.state, "done")
        registrations = self.env["sale.serial.registration"].search(
            [("sale_line_id", "=", order.order_line.id)]
        )
        self.assertEqual(sorted(registrations.mapped("name")), ["TOUR-SN-1", "TOUR-SN-3"])
        self.assertEqual(registrations, picking.serial_registration_ids)
        self.assertFalse(
            self.env["sale.serial.registration"].search([("name", "=", "TOUR-SN-2")]),
            "the serial removed in the dialog is not registered",
        )
        self.start_tour(
            f"/odoo/action-sale.action_orders/{order.id}",
            "stock_item_tracking_sales_serials_invoice_tour",
            login="admin",
        )
        invoice = order.invoice_ids
        self.assertEqual(len(invoice), 1)
        self.assertEqual(invoice.invoice_line_ids.serial_registration_ids, registrations)
