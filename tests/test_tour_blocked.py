from odoo.tests import HttpCase, tagged


@tagged("post_install", "-at_install")
class TestBlockedPickerTour(HttpCase):
    def test_blocked_picker_tour(self):
        """Issue 16 item 1 in the browser: a blocked serial is marked in the detailed
        operations' picker and picking it warns at once; the delivery stays not Ready."""
        self.env.ref("base.user_admin").groups_id += self.env.ref("stock.group_production_lot")
        product = self.env["product.product"].create(
            {"name": "Tour blocked drill", "is_storable": True, "tracking": "serial"}
        )
        warehouse = self.env["stock.warehouse"].search(
            [("company_id", "=", self.env.company.id)], limit=1
        )
        lots = self.env["stock.lot"].create(
            [{"name": name, "product_id": product.id} for name in ("TOUR-BLK-1", "TOUR-FREE-1")]
        )
        for lot in lots:
            self.env["stock.quant"]._update_available_quantity(
                product, warehouse.lot_stock_id, 1, lot_id=lot
            )
        lots[0].write({"blocked": True, "blocked_reason": "Tour: cracked housing"})
        # The free serial is taken by another delivery: only the blocked one is left.
        picking_type = warehouse.out_type_id
        pickings = self.env["stock.picking"].create(
            [
                {
                    "picking_type_id": picking_type.id,
                    "location_id": warehouse.lot_stock_id.id,
                    "location_dest_id": self.env.ref("stock.stock_location_customers").id,
                    "move_ids": [
                        (
                            0,
                            0,
                            {
                                "name": product.name,
                                "product_id": product.id,
                                "product_uom_qty": 1,
                                "location_id": warehouse.lot_stock_id.id,
                                "location_dest_id": self.env.ref(
                                    "stock.stock_location_customers"
                                ).id,
                            },
                        )
                    ],
                }
                for _index in range(2)
            ]
        )
        pickings.action_confirm()
        pickings[0].action_assign()
        self.assertEqual(pickings[0].move_ids.move_line_ids.lot_id, lots[1])
        picking = pickings[1]
        picking.action_assign()
        self.assertEqual(picking.state, "confirmed")
        self.start_tour(
            f"/odoo/action-stock.action_picking_tree_all/{picking.id}",
            "stock_item_tracking_blocked_picker_tour",
            login="admin",
        )
        self.assertEqual(picking.state, "confirmed")
        self.assertFalse(picking.move_ids.move_line_ids)
