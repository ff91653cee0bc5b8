"""Hole 5: a reservation committed at the same moment as the block doesn't survive it.

Two real database connections that commit, as two users' requests would, each run through
Odoo's own `retrying` (what every RPC and HTTP request goes through). The data is committed in
the test database and removed at the end (this file runs last)."""

import threading
import time

from odoo import api
from odoo.exceptions import ValidationError
from odoo.service.model import retrying
from odoo.tests import TransactionCase, tagged


@tagged("post_install", "-at_install")
class TestBlockRaceWithReservation(TransactionCase):
    def setUp(self):
        super().setUp()
        self.ids = {}
        with self.registry.cursor() as cr:
            env = api.Environment(cr, api.SUPERUSER_ID, {"tracking_disable": True})
            warehouse = env["stock.warehouse"].search(
                [("company_id", "=", env.company.id)], limit=1
            )
            product = env["product.product"].create(
                {"name": "Race SN", "is_storable": True, "tracking": "serial"}
            )
            lot = env["stock.lot"].create({"name": "SN-RACE", "product_id": product.id})
            env["stock.quant"]._update_available_quantity(
                product, warehouse.lot_stock_id, 1, lot_id=lot
            )
            move = env["stock.move"].create(
                {
                    "name": "race",
                    "product_id": product.id,
                    "product_uom": product.uom_id.id,
                    "product_uom_qty": 1,
                    "location_id": warehouse.lot_stock_id.id,
                    "location_dest_id": env.ref("stock.stock_location_customers").id,
                }
            )
            self.ids = {"product": product.id, "lot": lot.id, "move": move.id}
        self.addCleanup(self._remove_data)

    def _remove_data(self):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, api.SUPERUSER_ID, {"tracking_disable": True})
            move = env["stock.move"].browse(self.ids["move"])
            move._action_cancel()
            move.unlink()
            lot = env["stock.lot"].browse(self.ids["lot"])
            env["stock.quant"].search([("lot_id", "=", lot.id)]).sudo().unlink()
            lot.status_log_ids.unlink()
            lot.unlink()
            env["product.product"].browse(self.ids["product"]).product_tmpl_id.unlink()

    def _envs(self):
        cr1, cr2 = self.registry.cursor(), self.registry.cursor()
        self.addCleanup(cr1.close)
        self.addCleanup(cr2.close)
        return (api.Environment(cr, api.SUPERUSER_ID, {}) for cr in (cr1, cr2))

    def _block(self, env):
        env["stock.lot"].browse(self.ids["lot"]).write({"blocked": True, "blocked_reason": "QC"})

    def _reserve(self, env):
        move = env["stock.move"].browse(self.ids["move"])
        move._action_confirm(merge=False)
        move._action_assign()

    def _assert_not_reserved(self):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, api.SUPERUSER_ID, {})
            lot = env["stock.lot"].browse(self.ids["lot"])
            self.assertTrue(lot.blocked)
            lines = env["stock.move.line"].search(
                [("lot_id", "=", lot.id), ("state", "not in", ("done", "cancel"))]
            )
            self.assertFalse(lines, "the blocked serial is still reserved")
            quant = env["stock.quant"].search([("lot_id", "=", lot.id), ("quantity", ">", 0)])
            self.assertEqual(quant.reserved_quantity, 0)

    def test_block_commits_while_a_reservation_is_under_way(self):
        blocker, reserver = self._envs()
        reserver.cr.execute("SELECT 1")  # the reservation's snapshot: before the block
        retrying(lambda: self._block(blocker), blocker)
        retrying(lambda: self._reserve(reserver), reserver)
        self._assert_not_reserved()

    def test_reservation_commits_while_the_block_is_under_way(self):
        blocker, reserver = self._envs()
        blocker.cr.execute("SELECT 1")  # the block's snapshot: before the reservation
        retrying(lambda: self._reserve(reserver), reserver)
        retrying(lambda: self._block(blocker), blocker)
        self._assert_not_reserved()


@tagged("post_install", "-at_install")
class TestSerialRegistrationRace(TransactionCase):
    """Two users register the same sales-process serial at the same moment: the database's
    unique index lets one win; the other gets an error naming the serial (issue 14)."""

    def setUp(self):
        super().setUp()
        with self.registry.cursor() as cr:
            env = api.Environment(cr, api.SUPERUSER_ID, {"tracking_disable": True})
            code = env["item.tracking.code"].create({"name": "Race sales SN", "scope": "sales"})
            product = env["product.product"].create(
                {"name": "Race router", "is_storable": True, "item_tracking_code_id": code.id}
            )
            self.ids = {"code": code.id, "product": product.id}
        self.addCleanup(self._remove_data)

    def _remove_data(self):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, api.SUPERUSER_ID, {"tracking_disable": True})
            env["sale.serial.registration"].search(
                [("product_id", "=", self.ids["product"])]
            ).unlink()
            env["product.product"].browse(self.ids["product"]).product_tmpl_id.unlink()
            env["item.tracking.code"].browse(self.ids["code"]).unlink()

    def _envs(self):
        cr1, cr2 = self.registry.cursor(), self.registry.cursor()
        self.addCleanup(cr1.close)
        self.addCleanup(cr2.close)
        return (api.Environment(cr, api.SUPERUSER_ID, {}) for cr in (cr1, cr2))

    def _register(self, env, name):
        env["sale.serial.registration"].create({"name": name, "product_id": self.ids["product"]})

    def _count(self):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, api.SUPERUSER_ID, {})
            return env["sale.serial.registration"].search_count(
                [("product_id", "=", self.ids["product"])]
            )

    def test_second_user_checked_before_the_first_committed(self):
        first, second = self._envs()
        second.cr.execute("SELECT 1")  # its snapshot: before the first registration
        retrying(lambda: self._register(first, "RACE-SN-1"), first)
        with self.assertRaisesRegex(ValidationError, "race-sn-1 has just been registered"):
            retrying(lambda: self._register(second, " race-sn-1"), second)
        self.assertEqual(self._count(), 1)

    def test_both_insert_at_the_same_moment(self):
        first, second = self._envs()
        self._register(first, "RACE-SN-2")  # inserted, not committed: holds the index entry
        errors = []

        def concurrent():
            try:
                retrying(lambda: self._register(second, "race-sn-2"), second)
            except ValidationError as error:
                errors.append(error)

        thread = threading.Thread(target=concurrent)
        thread.start()
        time.sleep(1.0)  # the second insert now waits for the first transaction
        self.assertTrue(thread.is_alive(), "the second insert should wait on the index")
        first.cr.commit()
        thread.join(30)
        self.assertFalse(thread.is_alive())
        self.assertEqual(len(errors), 1)
        self.assertIn("race-sn-2", str(errors[0]))
        self.assertEqual(self._count(), 1)
