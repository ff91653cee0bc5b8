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
