from odoo.exceptions import UserError
from odoo.tests import Form, tagged

from .common import ItemTrackingCommon


@tagged("post_install", "-at_install")
class TestSpecificTracking(ItemTrackingCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.code_serial.specific_tracking = True
        cls.code_lot.specific_tracking = True
        cls.sn_stock = cls._create_lot(cls.product_serial, "SN-S-001")
        cls.sn_elsewhere = cls._create_lot(cls.product_serial, "SN-S-002")
        cls._put_in_stock(cls.product_serial, cls.sn_stock)
        cls.lot = cls._create_lot(cls.product_lot, "L-S-001")
        cls._put_in_stock(cls.product_lot, cls.lot, 5.0)

    def test_serial_not_on_hand_refused(self):
        picking = self._delivery(self.product_serial, [{"lot_id": self.sn_elsewhere}])
        with self.assertRaisesRegex(UserError, r"not on hand(.|\n)*Drill \(SN\): SN-S-002"):
            picking.button_validate()
        self.assertEqual(picking.state, "assigned")
        self.assertEqual(self._on_hand(self.product_serial, self.sn_elsewhere), 0.0)
        self.assertFalse(
            self.env["stock.quant"].search(
                [("lot_id", "=", self.sn_elsewhere.id), ("quantity", "<", 0)]
            ),
            "no negative quant left behind",
        )

    def test_serial_on_hand_delivered(self):
        picking = self._delivery(self.product_serial, [{"lot_id": self.sn_stock}])
        self._validate(picking)
        self.assertEqual(self._on_hand(self.product_serial, self.sn_stock), 0.0)

    def test_unknown_number_refused(self):
        picking = self._create_picking(self.warehouse.out_type_id, self.product_serial, 1)
        picking.picking_type_id.use_create_lots = True
        self._set_lines(picking, [{"lot_name": "SN-NEW-999"}])
        with self.assertRaisesRegex(UserError, r"existing lot/serial(.|\n)*SN-NEW-999"):
            picking.button_validate()
        self.assertFalse(self.env["stock.lot"].search([("name", "=", "SN-NEW-999")]))

    def test_lot_quantity_cannot_go_negative(self):
        picking = self._delivery(self.product_lot, [{"lot_id": self.lot, "quantity": 7}])
        with self.assertRaisesRegex(UserError, r"not on hand(.|\n)*Paint \(LOT\): L-S-001"):
            picking.button_validate()
        self.assertEqual(self._on_hand(self.product_lot, self.lot), 5.0)
        picking.move_ids.move_line_ids.quantity = 5
        picking.move_ids.product_uom_qty = 5
        self._validate(picking)
        self.assertEqual(self._on_hand(self.product_lot, self.lot), 0.0)

    def test_without_specific_tracking_vanilla_allows_negative(self):
        self.code_lot.specific_tracking = False
        picking = self._delivery(self.product_lot, [{"lot_id": self.lot, "quantity": 7}])
        self._validate(picking)
        self.assertEqual(self._on_hand(self.product_lot, self.lot), -2.0)

    def test_on_hand_in_child_location_counts(self):
        shelf = self.env["stock.location"].create(
            {"name": "Shelf 1", "location_id": self.stock_location.id}
        )
        sn = self._create_lot(self.product_serial, "SN-SHELF")
        self._put_in_stock(self.product_serial, sn, location=shelf)
        picking = self._delivery(self.product_serial, [{"lot_id": sn, "location_id": shelf.id}])
        self._validate(picking)
        self.assertEqual(self._on_hand(self.product_serial, sn, shelf), 0.0)

    def test_form_path_serial_not_on_hand(self):
        picking = self._create_picking(self.warehouse.out_type_id, self.product_serial, 1)
        picking.action_assign()
        move_form = Form(picking.move_ids, view="stock.view_stock_move_operations")
        with move_form.move_line_ids.edit(0) as line:
            line.lot_id = self.sn_elsewhere
        move_form.save()
        picking.move_ids.picked = True
        with self.assertRaisesRegex(UserError, "SN-S-002"):
            picking.button_validate()
        move_form = Form(picking.move_ids, view="stock.view_stock_move_operations")
        with move_form.move_line_ids.edit(0) as line:
            line.lot_id = self.sn_stock
        move_form.save()
        self._validate(picking)
        self.assertEqual(self._on_hand(self.product_serial, self.sn_stock), 0.0)
