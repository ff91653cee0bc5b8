from datetime import timedelta

from odoo.exceptions import UserError
from odoo.tests import Form, tagged

from .common import ItemTrackingCommon


@tagged("post_install", "-at_install")
class TestExpiration(ItemTrackingCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.product_lot.write({"use_expiration_date": True, "expiration_time": 30})
        cls.expired = cls._create_lot(
            cls.product_lot, "L-EXP", expiration_date=cls._now() - timedelta(days=2)
        )
        cls.fresh = cls._create_lot(
            cls.product_lot, "L-FRESH", expiration_date=cls._now() + timedelta(days=60)
        )
        cls._put_in_stock(cls.product_lot, cls.expired, 10)
        cls._put_in_stock(cls.product_lot, cls.fresh, 10)

    # R001-15 strict expiration posting
    def test_vanilla_asks_confirmation_for_expired(self):
        picking = self._delivery(self.product_lot, [{"lot_id": self.expired, "quantity": 2}])
        action = picking.button_validate()
        self.assertEqual(action["res_model"], "expiry.picking.confirmation")

    def test_strict_expiration_refuses_delivery(self):
        self.code_lot.strict_expiration = True
        picking = self._delivery(self.product_lot, [{"lot_id": self.expired, "quantity": 2}])
        with self.assertRaisesRegex(UserError, r"expired(.|\n)*Paint \(LOT\): L-EXP"):
            picking.button_validate()
        with self.assertRaisesRegex(UserError, "L-EXP"):
            picking.with_context(skip_expired=True).button_validate()
        self.assertEqual(picking.state, "assigned")
        self.assertEqual(self._on_hand(self.product_lot, self.expired), 10.0)

    def test_strict_expiration_allows_fresh_and_scrap(self):
        self.code_lot.strict_expiration = True
        picking = self._delivery(self.product_lot, [{"lot_id": self.fresh, "quantity": 2}])
        self._validate(picking)
        scrap = self.env["stock.scrap"].create(
            {
                "product_id": self.product_lot.id,
                "lot_id": self.expired.id,
                "scrap_qty": 10,
                "location_id": self.stock_location.id,
            }
        )
        scrap.action_validate()
        self.assertEqual(scrap.state, "done")
        self.assertEqual(self._on_hand(self.product_lot, self.expired), 0.0)

    # R001-16 manual expiration date
    def test_expiration_date_required_on_receipt(self):
        self.code_lot.expiration_date_required = True
        picking = self._receipt(self.product_lot, [{"lot_name": "L-NEW-1", "quantity": 4}])
        line = picking.move_line_ids
        self.assertFalse(line.expiration_date, "no computed default date")
        with self.assertRaisesRegex(UserError, r"expiration date(.|\n)*Paint \(LOT\): L-NEW-1"):
            picking.button_validate()
        self.assertFalse(self.env["stock.lot"].search([("name", "=", "L-NEW-1")]))
        expiry = self._now() + timedelta(days=90)
        line.expiration_date = expiry
        self._validate(picking)
        lot = self.env["stock.lot"].search([("name", "=", "L-NEW-1")])
        self.assertEqual(lot.expiration_date, expiry)

    def test_expiration_date_computed_without_the_rule(self):
        picking = self._receipt(self.product_lot, [{"lot_name": "L-NEW-2", "quantity": 4}])
        self.assertTrue(picking.move_line_ids.expiration_date)
        self._validate(picking)

    def _type_receipt_line(self, lot_name, quantity=None, save=True):
        """A new receipt of 4 Paint whose line gets `lot_name` typed in the detailed
        operations; returns it and the expiration date the form proposed."""
        picking = self._create_picking(self.warehouse.in_type_id, self.product_lot, 4)
        move_form = Form(picking.move_ids, view="stock.view_stock_move_operations")
        with move_form.move_line_ids.edit(0) as line:
            line.lot_name = lot_name
            if quantity:
                line.quantity = quantity
            proposed = line.expiration_date
        if save:
            move_form.save()
        return picking, proposed

    def test_expiration_date_required_form(self):
        self.code_lot.expiration_date_required = True
        picking, proposed = self._type_receipt_line("L-FORM-1", 4)
        self.assertFalse(proposed, "no computed default date")
        with self.assertRaisesRegex(UserError, "L-FORM-1"):
            picking.button_validate()
        move_form = Form(picking.move_ids, view="stock.view_stock_move_operations")
        with move_form.move_line_ids.edit(0) as line:
            line.expiration_date = self._now() + timedelta(days=10)
        move_form.save()
        self._validate(picking)
        self.assertTrue(picking.move_line_ids.lot_id.expiration_date)

    # R001-17 ignore expiration dates
    def test_ignore_expiration_computes_no_dates(self):
        self.code_lot.ignore_expiration = True
        picking = self._receipt(self.product_lot, [{"lot_name": "L-IGN", "quantity": 1}])
        self.assertFalse(picking.move_line_ids.expiration_date)
        self._validate(picking)
        lot = self.env["stock.lot"].search([("name", "=", "L-IGN")])
        self.assertFalse(lot.expiration_date)
        direct = self._create_lot(self.product_lot, "L-IGN-2")
        self.assertFalse(direct.expiration_date)
        plain = self._create_lot(
            self._create_product("Other", tracking="lot", use_expiration_date=True), "O-1"
        )
        self.assertTrue(plain.expiration_date, "products without the code keep vanilla dates")

    def test_generated_serials_get_no_default_date(self):
        """Odoo's serial generator (product_expiry) dates new lines; not for these codes."""
        self.product_serial.write({"use_expiration_date": True, "expiration_time": 30})
        self.code_serial.expiration_date_required = True
        receipt = self._create_picking(self.warehouse.in_type_id, self.product_serial, 2)
        receipt.move_ids._generate_serial_numbers("SN-GEN-001", 2)
        self.assertEqual(receipt.move_line_ids.mapped("lot_name"), ["SN-GEN-001", "SN-GEN-002"])
        self.assertEqual(receipt.move_line_ids.mapped("expiration_date"), [False, False])
        with self.assertRaisesRegex(UserError, "SN-GEN-001(.|\n)*SN-GEN-002"):
            receipt.button_validate()
        self.assertFalse(self.env["stock.lot"].search([("name", "like", "SN-GEN-")]))
        # A date given with the numbers is the user's own.
        typed = self._now() + timedelta(days=5)
        commands = receipt.move_ids._generate_serial_move_line_commands(
            [{"lot_name": "SN-GEN-003", "quantity": 1, "expiration_date": typed}]
        )
        self.assertEqual(commands[0][2]["expiration_date"], typed)
        self.code_serial.write({"expiration_date_required": False, "ignore_expiration": True})
        other = self._create_picking(self.warehouse.in_type_id, self.product_serial, 1)
        other.move_ids._generate_serial_numbers("SN-IGN-001", 1)
        self.assertFalse(other.move_line_ids.expiration_date)
        # Without those options product_expiry's default stays.
        self.code_serial.ignore_expiration = False
        plain = self._create_picking(self.warehouse.in_type_id, self.product_serial, 1)
        plain.move_ids._generate_serial_numbers("SN-PLAIN-001", 1)
        self.assertTrue(plain.move_line_ids.expiration_date)

    def test_ignore_expiration_form(self):
        """R001-17 through the detailed operations: no date proposed, unlike vanilla."""
        _picking, proposed = self._type_receipt_line("L-FORM-DATED", save=False)
        self.assertTrue(proposed, "vanilla proposes a date")
        self.code_lot.ignore_expiration = True
        picking, proposed = self._type_receipt_line("L-FORM-IGN", 4)
        self.assertFalse(proposed, "no computed date")
        self._validate(picking)
        lot = picking.move_line_ids.lot_id
        self.assertEqual(lot.name, "L-FORM-IGN")
        self.assertFalse(lot.expiration_date)

    def test_strict_expiration_form_path(self):
        self.code_lot.strict_expiration = True
        picking = self._create_picking(self.warehouse.out_type_id, self.product_lot, 2)
        picking.action_assign()
        move_form = Form(picking.move_ids, view="stock.view_stock_move_operations")
        with move_form.move_line_ids.edit(0) as line:
            line.lot_id = self.expired
            line.quantity = 2
        move_form.save()
        picking.move_ids.picked = True
        with self.assertRaisesRegex(UserError, "L-EXP"):
            picking.button_validate()
        self.assertEqual(self._on_hand(self.product_lot, self.expired), 10.0)
        move_form = Form(picking.move_ids, view="stock.view_stock_move_operations")
        with move_form.move_line_ids.edit(0) as line:
            line.lot_id = self.fresh
        move_form.save()
        self._validate(picking)
        self.assertEqual(self._on_hand(self.product_lot, self.fresh), 8.0)
