"""Issue 15, item 1: two transactions create the same number at the same moment.

Two real database connections that commit, each run through Odoo's own `retrying` (what every
RPC goes through), meet at a barrier so that both transactions overlap: both have inserted
their snapshot before either creates its lot, so Odoo's Python check can't see the other's
row. Without the database constraint, both commit (vanilla Odoo: two lots). The
committed data is removed at the end (this file runs last)."""

import threading

from odoo import api
from odoo.exceptions import ValidationError
from odoo.service.model import retrying
from odoo.tests import TransactionCase, tagged

RUNS = 3


@tagged("post_install", "-at_install")
class TestLotNumberRace(TransactionCase):
    def setUp(self):
        super().setUp()
        with self.registry.cursor() as cr:
            env = api.Environment(cr, api.SUPERUSER_ID, {"tracking_disable": True})
            code = env["item.tracking.code"].create({"name": "Race code", "tracking": "serial"})
            coded = env["product.product"].create(
                {"name": "Race coded", "is_storable": True, "item_tracking_code_id": code.id}
            )
            plain = env["product.product"].create(
                {"name": "Race plain", "is_storable": True, "tracking": "serial"}
            )
            self.ids = {"code": code.id, "coded": coded.id, "plain": plain.id}
        self.addCleanup(self._remove_data)

    def _remove_data(self):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, api.SUPERUSER_ID, {"tracking_disable": True})
            products = env["product.product"].browse([self.ids["coded"], self.ids["plain"]])
            lots = env["stock.lot"].search([("product_id", "in", products.ids)])
            lots.status_log_ids.unlink()
            lots.unlink()
            products.product_tmpl_id.unlink()
            env["item.tracking.code"].browse(self.ids["code"]).unlink()

    def _race(self, product_id, names):
        """Create `names[i]` in transaction i, both past their Python check before either
        commits; returns the errors raised."""
        barrier = threading.Barrier(len(names), timeout=30)
        errors = []
        registry = self.registry

        def request(name):
            # As an RPC: the cursor is rolled back when the call raises.
            with registry.cursor() as cr:
                env = api.Environment(cr, api.SUPERUSER_ID, {})
                first = [True]

                def create():
                    if first[0]:
                        first[0] = False
                        # Both transactions take their snapshot (REPEATABLE READ) before
                        # either creates: neither can see the other's lot.
                        env["stock.lot"].search_count([("product_id", "=", product_id)])
                        barrier.wait()
                    return env["stock.lot"].create({"name": name, "product_id": product_id}).id

                return retrying(create, env)

        def worker(name):
            try:
                request(name)
            except Exception as exc:  # noqa: BLE001 - collected and asserted below
                errors.append(exc)

        threads = [threading.Thread(target=worker, args=(name,)) for name in names]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        return errors

    def _count(self, product_id):
        """The committed lots of the product (then removed, committed on leaving)."""
        with self.registry.cursor() as cr:
            env = api.Environment(cr, api.SUPERUSER_ID, {})
            lots = env["stock.lot"].search([("product_id", "=", product_id)])
            count = len(lots)
            lots.unlink()
        return count

    def test_same_number_code_product(self):
        """` sn1 ` and `SN1` at once, for a product with a code: one lot, one clean error
        naming the number."""
        for run in range(RUNS):
            with self.subTest(run=run):
                errors = self._race(self.ids["coded"], [f"SN-R{run}", f" sn-r{run} "])
                self.assertEqual(self._count(self.ids["coded"]), 1)
                self.assertEqual(len(errors), 1, errors)
                self.assertIsInstance(errors[0], ValidationError)
                self.assertRegex(str(errors[0]), rf"(?i)sn-r{run}")

    def test_same_number_plain_product(self):
        """Vanilla Odoo commits two lots `SN1` here (its check is in Python only). With the
        constraint, which holds for all products with Odoo's own rule: one lot."""
        for run in range(RUNS):
            with self.subTest(run=run):
                errors = self._race(self.ids["plain"], [f"PL-R{run}", f"PL-R{run}"])
                self.assertEqual(self._count(self.ids["plain"]), 1)
                self.assertEqual(len(errors), 1, errors)
                self.assertIsInstance(errors[0], ValidationError)
                self.assertIn(f"PL-R{run}", str(errors[0]))

    def test_same_number_without_the_constraint(self):
        """What vanilla Odoo does (the constraint dropped for the test, then put back): both
        transactions commit, two lots with one number."""
        with self.registry.cursor() as cr:
            cr.execute("ALTER TABLE stock_lot DROP CONSTRAINT stock_lot_name_key_excl")
        try:
            errors = self._race(self.ids["plain"], ["VN-R0", "VN-R0"])
            self.assertEqual(errors, [])
            self.assertEqual(self._count(self.ids["plain"]), 2)
        finally:
            with self.registry.cursor() as cr:
                env = api.Environment(cr, api.SUPERUSER_ID, {})
                env["stock.lot"].search([("product_id", "=", self.ids["plain"])]).unlink()
                self.assertEqual(
                    env["stock.lot"]._item_tracking_ensure_name_key_constraint(), "exclusion"
                )
