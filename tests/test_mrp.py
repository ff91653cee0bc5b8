from datetime import timedelta

from odoo.exceptions import UserError
from odoo.tests import Form, tagged

from .common import ItemTrackingCommon


@tagged("post_install", "-at_install")
class TestMrpRules(ItemTrackingCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.finished = cls._create_product("Assembly")
        cls.bom = cls.env["mrp.bom"].create(
            {
                "product_tmpl_id": cls.finished.product_tmpl_id.id,
                "product_qty": 1,
                "bom_line_ids": [(0, 0, {"product_id": cls.product_lot.id, "product_qty": 2})],
            }
        )
        cls.product_lot.write({"use_expiration_date": True})
        cls.expired = cls._create_lot(
            cls.product_lot, "L-MO-EXP", expiration_date=cls._now() - timedelta(days=1)
        )
        cls.fresh = cls._create_lot(
            cls.product_lot, "L-MO-OK", expiration_date=cls._now() + timedelta(days=30)
        )
        cls._put_in_stock(cls.product_lot, cls.expired, 10)
        cls._put_in_stock(cls.product_lot, cls.fresh, 10)

    def _mo_consuming(self, lot, quantity=2.0, product=None, bom=None):
        form = Form(self.env["mrp.production"])
        form.product_id = product or self.finished
        form.bom_id = bom or self.bom
        form.product_qty = 1
        production = form.save()
        production.action_confirm()
        raw = production.move_raw_ids
        raw.move_line_ids.unlink()
        self.env["stock.move.line"].create(
            {
                "move_id": raw.id,
                "product_id": self.product_lot.id,
                "product_uom_id": raw.product_uom.id,
                "location_id": raw.location_id.id,
                "location_dest_id": raw.location_dest_id.id,
                "lot_id": lot.id,
                "quantity": quantity,
            }
        )
        raw.picked = True
        production.qty_producing = 1
        return production

    def test_strict_expiration_refuses_consumption(self):
        self.code_lot.strict_expiration = True
        production = self._mo_consuming(self.expired)
        with self.assertRaisesRegex(UserError, r"expired(.|\n)*L-MO-EXP"):
            production.button_mark_done()
        self.assertNotEqual(production.state, "done")
        self.assertEqual(self._on_hand(self.product_lot, self.expired), 10.0)

    def test_strict_expiration_allows_fresh_consumption(self):
        self.code_lot.strict_expiration = True
        production = self._mo_consuming(self.fresh)
        production.button_mark_done()
        self.assertEqual(production.state, "done")
        self.assertEqual(self._on_hand(self.product_lot, self.fresh), 8.0)

    def test_specific_tracking_on_consumption(self):
        self.code_lot.specific_tracking = True
        production = self._mo_consuming(self.fresh, quantity=12.0)
        with self.assertRaisesRegex(UserError, r"not on hand(.|\n)*L-MO-OK"):
            production.button_mark_done()
        self.assertEqual(self._on_hand(self.product_lot, self.fresh), 10.0)

    def test_blocked_component_refused(self):
        self.fresh.write({"blocked": True, "blocked_reason": "QC"})
        with self.assertRaisesRegex(UserError, r"blocked(.|\n)*L-MO-OK"):
            self._mo_consuming(self.fresh)  # a blocked lot isn't even reserved
        self.fresh.blocked = False
        production = self._mo_consuming(self.fresh)
        # picked: stays on the order, and closing it is refused
        self.fresh.write({"blocked": True, "blocked_reason": "QC"})
        with self.assertRaisesRegex(UserError, r"blocked(.|\n)*L-MO-OK"):
            production.button_mark_done()
        self.assertNotEqual(production.state, "done")

    def _mo_producing(self, finished_lot_name):
        """An MO of one serial-tracked assembly, component picked, ready to close."""
        finished = self._create_product(
            "Tracked assembly", self.code_serial, use_expiration_date=True, expiration_time=10
        )
        bom = self.bom.copy({"product_tmpl_id": finished.product_tmpl_id.id})
        production = self._mo_consuming(self.fresh, product=finished, bom=bom)
        lot = self._create_lot(finished, finished_lot_name)
        production.lot_producing_id = lot
        return production, lot

    def test_expiration_date_required_on_production_output(self):
        """R001-16 also applies to what manufacturing produces."""
        self.code_serial.expiration_date_required = True
        production, lot = self._mo_producing("SN-MO-OUT-1")
        self.assertFalse(lot.expiration_date, "no computed default date")
        with self.assertRaisesRegex(UserError, r"expiration date(.|\n)*SN-MO-OUT-1"):
            production.button_mark_done()
        self.assertNotEqual(production.state, "done")
        self.assertEqual(self._on_hand(self.product_lot, self.fresh), 10.0)
        self.assertEqual(self._on_hand(production.product_id, lot), 0.0)
        lot.expiration_date = self._now() + timedelta(days=90)
        production.button_mark_done()
        self.assertEqual(production.state, "done")
        self.assertEqual(self._on_hand(production.product_id, lot), 1.0)

    def test_blocked_finished_serial_refused(self):
        production, lot = self._mo_producing("SN-MO-BLK-1")
        lot.write({"blocked": True, "blocked_reason": "QC"})
        with self.assertRaisesRegex(UserError, r"blocked(.|\n)*SN-MO-BLK-1"):
            production.button_mark_done()
        self.assertNotEqual(production.state, "done")
        self.assertEqual(self._on_hand(self.product_lot, self.fresh), 10.0)
        lot.blocked = False
        production.button_mark_done()
        self.assertEqual(production.state, "done")
        self.assertEqual(lot.product_qty, 1.0)
