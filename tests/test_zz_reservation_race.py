"""One reservation and one place per serial under concurrency (issue 15, items 3 and 4).

Two real database connections that commit, each through Odoo's own `retrying` (what every RPC
and HTTP request goes through). The overlap is made deterministic: both transactions take
their snapshot (a threading.Barrier), the first does its work and stays uncommitted until the
second has done its own or waits for a lock the first holds (read in pg_stat_activity); then
both commit. Each scenario runs several times, on a product with an item tracking code (one
reservation, one place) and on one without (what vanilla Odoo commits). The committed data is
removed at the end (this file sorts last)."""

import threading
import time

from odoo import Command, api
from odoo.exceptions import UserError
from odoo.service.model import retrying
from odoo.tests import TransactionCase, tagged
from odoo.tools import SQL

RUNS = 3


@tagged("post_install", "-at_install")
class TestSerialRace(TransactionCase):
    def setUp(self):
        super().setUp()
        self.ids = {"pickings": [], "lots": [], "products": [], "locations": [], "codes": []}
        with self.registry.cursor() as cr:
            env = api.Environment(cr, api.SUPERUSER_ID, {"tracking_disable": True})
            warehouse = env["stock.warehouse"].search(
                [("company_id", "=", env.company.id)], limit=1
            )
            code = env["item.tracking.code"].create({"name": "Race place SN", "tracking": "serial"})
            coded = env["product.product"].create(
                {
                    "name": "Race place coded",
                    "is_storable": True,
                    "tracking": "serial",
                    "item_tracking_code_id": code.id,
                }
            )
            plain = env["product.product"].create(
                {"name": "Race place plain", "is_storable": True, "tracking": "serial"}
            )
            # A second stock outside WH/Stock, as a second warehouse's is: Odoo's own check
            # (one location subtree) doesn't see the first.
            view = env["stock.location"].create(
                {
                    "name": "RACE-WH2",
                    "usage": "view",
                    "location_id": warehouse.view_location_id.location_id.id,
                }
            )
            stock2 = env["stock.location"].create(
                {"name": "Stock", "usage": "internal", "location_id": view.id}
            )
            self.ids.update(
                warehouse=warehouse.id,
                stock=warehouse.lot_stock_id.id,
                stock2=stock2.id,
                customer=env.ref("stock.stock_location_customers").id,
                supplier=env.ref("stock.stock_location_suppliers").id,
                coded=coded.id,
                plain=plain.id,
            )
            self.ids["codes"].append(code.id)
            self.ids["products"] += [coded.id, plain.id]
            # A kit made of one unit of either serial product, for manufacturing orders.
            kits = {}
            for key, component in (("coded", coded), ("plain", plain)):
                kit = env["product.product"].create(
                    {"name": f"Race kit {key}", "is_storable": True}
                )
                env["mrp.bom"].create(
                    {
                        "product_tmpl_id": kit.product_tmpl_id.id,
                        "product_qty": 1,
                        "bom_line_ids": [
                            Command.create({"product_id": component.id, "product_qty": 1})
                        ],
                    }
                )
                kits[key] = kit.id
                self.ids["products"].append(kit.id)
            self.ids.update(kits=kits, productions=[])
            self.ids["locations"] += [stock2.id, view.id]
        self.addCleanup(self._remove_data)

    def _remove_data(self):
        with self.registry.cursor() as cr:
            products = self.ids["products"]
            lots = SQL("(SELECT id FROM stock_lot WHERE product_id = ANY(%s))", products)
            cr.execute(SQL("DELETE FROM stock_lot_status_log WHERE lot_id IN %s", lots))
            for table in ("mail_message", "mail_followers"):
                cr.execute(
                    SQL(
                        "DELETE FROM %s WHERE model = 'stock.lot' AND res_id IN %s"
                        if table == "mail_message"
                        else "DELETE FROM %s WHERE res_model = 'stock.lot' AND res_id IN %s",
                        SQL.identifier(table),
                        lots,
                    )
                )
            for table in (
                "stock_valuation_layer",
                "stock_move_line",
                "stock_move",
                "stock_scrap",
                "stock_quant",
            ):
                cr.execute(
                    SQL(
                        "DELETE FROM %s WHERE product_id = ANY(%s)", SQL.identifier(table), products
                    )
                )
            cr.execute(SQL("DELETE FROM stock_picking WHERE id = ANY(%s)", self.ids["pickings"]))
            cr.execute(
                SQL(
                    "WITH p AS (DELETE FROM mrp_production WHERE id = ANY(%s) "
                    "RETURNING procurement_group_id) "
                    "DELETE FROM procurement_group"
                    " WHERE id IN (SELECT procurement_group_id FROM p)",
                    self.ids["productions"],
                )
            )
            cr.execute(
                SQL(
                    "DELETE FROM mrp_bom WHERE product_tmpl_id IN "
                    "(SELECT product_tmpl_id FROM product_product WHERE id = ANY(%s))",
                    products,
                )
            )
            cr.execute(SQL("DELETE FROM stock_lot WHERE product_id = ANY(%s)", products))
            env = api.Environment(cr, api.SUPERUSER_ID, {"tracking_disable": True})
            env.invalidate_all()
            env["product.product"].browse(products).product_tmpl_id.unlink()
            env["stock.location"].browse(self.ids["locations"]).unlink()
            env["item.tracking.code"].browse(self.ids["codes"]).unlink()

    # ------------------------------------------------------------------ the race
    @staticmethod
    def _wait_for(watcher, pid, done):
        """Until the other transaction (backend `pid`) is `done`, or waits on a lock."""
        deadline = time.monotonic() + 30
        while not done.is_set():
            watcher.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", [pid])
            waiting = watcher.fetchone()[0] == "Lock"
            watcher.rollback()
            if waiting:
                return
            if time.monotonic() > deadline:
                raise AssertionError("the second transaction neither ran nor waited")
            time.sleep(0.05)

    def _race(self, first, second, first_fails=False):
        """Run first(env) and second(env) in two overlapping committing transactions (see the
        module docstring); return their outcomes: None, or the exception each ended with.
        With `first_fails`, the first is refused (rolled back) once the second ran or waits."""
        crs = [self.registry.cursor() for _i in range(3)]
        for cr in crs:
            self.addCleanup(cr.close)
        envs = [api.Environment(cr, api.SUPERUSER_ID, {}) for cr in crs[:2]]
        watcher = crs[2]
        pids = []
        for env in envs:
            env.cr.execute("SELECT pg_backend_pid()")
            pids.append(env.cr.fetchone()[0])
        snapshots = threading.Barrier(2, timeout=30)
        first_done, second_done = threading.Event(), threading.Event()
        outcomes = [None, None]
        attempts = [0, 0]

        def run(index, work):
            env = envs[index]

            def attempt():
                attempts[index] += 1
                if attempts[index] == 1:
                    env.cr.execute("SELECT id FROM stock_quant LIMIT 1")  # the snapshot
                    snapshots.wait()
                    if index == 1:
                        first_done.wait(30)
                work(env)
                env.flush_all()
                if attempts[index] > 1:
                    return
                if index == 0:
                    first_done.set()
                    self._wait_for(watcher, pids[1], second_done)
                    if first_fails:
                        raise UserError(env._("refused once the second ran"))
                else:
                    second_done.set()

            try:
                retrying(attempt, env)
            except Exception as error:  # noqa: BLE001 - the outcome is asserted by the caller
                env.cr.rollback()  # as the request's cursor would, releasing its locks
                outcomes[index] = error
                if index == 1:
                    second_done.set()
                else:
                    first_done.set()

        threads = [
            threading.Thread(target=run, args=(index, work))
            for index, work in enumerate((first, second))
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
            self.assertFalse(thread.is_alive(), "a transaction is stuck")
        return outcomes, attempts

    # ------------------------------------------------------------------ documents
    def _new_serial_on_hand(self, product_key, name):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, api.SUPERUSER_ID, {"tracking_disable": True})
            product = env["product.product"].browse(self.ids[product_key])
            lot = env["stock.lot"].create({"name": name, "product_id": product.id})
            env["stock.quant"]._update_available_quantity(
                product, env["stock.location"].browse(self.ids["stock"]), 1, lot_id=lot
            )
            return lot.id

    def _new_picking(self, product_key, kind, lot_name=None, destination=None):
        """A confirmed delivery from WH/Stock (`kind` "out") or receipt to `destination`
        ("in", with a picked line naming `lot_name`) of one unit, committed; its id."""
        with self.registry.cursor() as cr:
            env = api.Environment(cr, api.SUPERUSER_ID, {"tracking_disable": True})
            warehouse = env["stock.warehouse"].browse(self.ids["warehouse"])
            product = env["product.product"].browse(self.ids[product_key])
            if kind == "out":
                picking_type = warehouse.out_type_id
                source, destination = self.ids["stock"], self.ids["customer"]
            else:
                picking_type, source = warehouse.in_type_id, self.ids["supplier"]
            locations = {"location_id": source, "location_dest_id": destination}
            picking = env["stock.picking"].create(
                {
                    "picking_type_id": picking_type.id,
                    **locations,
                    "move_ids": [
                        Command.create(
                            {
                                "name": product.name,
                                "product_id": product.id,
                                "product_uom": product.uom_id.id,
                                "product_uom_qty": 1,
                                **locations,
                            }
                        )
                    ],
                }
            )
            picking.action_confirm()
            if lot_name:
                move = picking.move_ids
                move.move_line_ids.unlink()
                env["stock.move.line"].create(
                    {
                        "move_id": move.id,
                        "picking_id": picking.id,
                        "product_id": product.id,
                        "product_uom_id": product.uom_id.id,
                        **locations,
                        "lot_name": lot_name,
                        "quantity": 1,
                    }
                )
                move.picked = True
            self.ids["pickings"].append(picking.id)
            return picking.id

    def _new_delivery(self, product_key):
        return self._new_picking(product_key, "out")

    def _new_receipt(self, product_key, destination, lot_name):
        return self._new_picking(product_key, "in", lot_name, destination)

    def _new_production(self, product_key):
        """A confirmed manufacturing order of one kit made of a serial of `product_key`."""
        with self.registry.cursor() as cr:
            env = api.Environment(cr, api.SUPERUSER_ID, {"tracking_disable": True})
            production = env["mrp.production"].create(
                {"product_id": self.ids["kits"][product_key], "product_qty": 1}
            )
            production.action_confirm()
            self.ids["productions"].append(production.id)
            return production.id

    def _reserve_production(self, production_id):
        def work(env):
            env["mrp.production"].browse(production_id).action_assign()

        return work

    def _reserve(self, picking_id):
        def work(env):
            env["stock.picking"].browse(picking_id).action_assign()

        return work

    def _manual_line(self, picking_id, lot_id):
        def work(env):
            picking = env["stock.picking"].browse(picking_id)
            move = picking.move_ids
            env["stock.move.line"].create(
                {
                    "move_id": move.id,
                    "picking_id": picking.id,
                    "product_id": move.product_id.id,
                    "product_uom_id": move.product_uom.id,
                    "location_id": move.location_id.id,
                    "location_dest_id": move.location_dest_id.id,
                    "lot_id": lot_id,
                    "quantity": 1,
                }
            )

        return work

    def _validate(self, picking_id):
        def work(env):
            env["stock.picking"].browse(picking_id).button_validate()

        return work

    def _state(self, lot_id):
        """(open lines of the lot, [(quantity, reserved)] of its quants in stock)."""
        with self.registry.cursor() as cr:
            env = api.Environment(cr, api.SUPERUSER_ID, {})
            lines = env["stock.move.line"].search(
                [("lot_id", "=", lot_id), ("state", "not in", ("done", "cancel"))]
            )
            quants = env["stock.quant"].search(
                [("lot_id", "=", lot_id), ("location_id.usage", "=", "internal")]
            )
            return (
                len(lines),
                sorted((q.quantity, q.reserved_quantity) for q in quants),
                lines.picking_id.ids,
            )

    # ------------------------------------------------------------------ item 3
    def _reservation_race(self, product_key, manual):
        """Two deliveries of `product_key` reserve its one serial at the same moment (the
        second by a line naming the serial when `manual`); yield per run (outcomes,
        attempts, open lines of the serial, its quants in stock, [first, second] deliveries,
        the deliveries with an open line)."""
        for run in range(RUNS):
            # Deliveries first: they reserve at confirmation, while nothing is on hand.
            pickings = [self._new_delivery(product_key) for _i in range(2)]
            lot = self._new_serial_on_hand(product_key, f"RACE-{product_key}-{manual}-{run}")
            second = self._manual_line(pickings[1], lot) if manual else self._reserve(pickings[1])
            outcomes, attempts = self._race(self._reserve(pickings[0]), second)
            yield (outcomes, attempts, *self._state(lot), pickings)

    def test_two_pickings_reserve_the_one_serial(self):
        for outcomes, attempts, count, quants, reserving, pickings in self._reservation_race(
            "coded", manual=False
        ):
            self.assertEqual(outcomes, [None, None])
            self.assertEqual(attempts, [1, 2], "the second is retried with a fresh snapshot")
            self.assertEqual(count, 1, "reserved once")
            self.assertEqual(quants, [(1.0, 1.0)], "no stray quant, reserved <= quantity")
            self.assertEqual(reserving, pickings[:1], "the other delivery waits")

    def test_two_pickings_reserve_the_one_serial_vanilla(self):
        for outcomes, attempts, count, quants, _reserving, _pickings in self._reservation_race(
            "plain", manual=False
        ):
            self.assertEqual(outcomes, [None, None])
            self.assertEqual(attempts, [1, 1], "vanilla: the second skips the locked quant")
            self.assertEqual(count, 2, "vanilla: the serial reserved twice")
            self.assertEqual(quants, [(0.0, 1.0), (1.0, 1.0)], "vanilla: a stray quant")

    def test_picking_and_manual_line(self):
        for outcomes, attempts, count, quants, reserving, pickings in self._reservation_race(
            "coded", manual=True
        ):
            self.assertEqual(outcomes, [None, None])
            self.assertEqual(attempts, [1, 2])
            self.assertEqual(count, 1, "reserved once")
            self.assertEqual(quants, [(1.0, 1.0)])
            # The line naming the serial took it; the other delivery waits.
            self.assertEqual(reserving, pickings[1:])

    def test_picking_and_manual_line_vanilla(self):
        for outcomes, _attempts, count, quants, _reserving, _pickings in self._reservation_race(
            "plain", manual=True
        ):
            self.assertEqual(outcomes, [None, None])
            self.assertEqual(count, 2, "vanilla: the serial reserved twice")
            self.assertEqual(quants, [(0.0, 1.0), (1.0, 1.0)], "vanilla: a stray quant")

    def _reservation_after_a_refusal(self, product_key):
        """A delivery reserves the one serial, then is refused (rolled back) while a second
        delivery reserves it; yield per run (outcomes, attempts, open lines, quants in stock,
        deliveries with an open line, [first, second])."""
        for run in range(RUNS):
            pickings = [self._new_delivery(product_key) for _i in range(2)]
            lot = self._new_serial_on_hand(product_key, f"RACE-{product_key}-refused-{run}")
            outcomes, attempts = self._race(
                self._reserve(pickings[0]), self._reserve(pickings[1]), first_fails=True
            )
            yield (outcomes, attempts, *self._state(lot), pickings)

    def test_reservation_beside_a_refused_one_leaves_no_stray_quant(self):
        """Odoo skips the quant that the refused transaction holds and reserves on a new
        quant of its own (quantity 0, reserved 1), which nothing merges when the other rolls
        back: the add-on merges it once it holds the serial."""
        for (
            outcomes,
            _attempts,
            count,
            quants,
            reserving,
            pickings,
        ) in self._reservation_after_a_refusal("coded"):
            self._assert_refused_then_reserved(outcomes, count, reserving, pickings)
            self.assertEqual(quants, [(1.0, 1.0)], "no stray quant, reserved <= quantity")

    def test_reservation_beside_a_refused_one_vanilla(self):
        for (
            outcomes,
            _attempts,
            count,
            quants,
            reserving,
            pickings,
        ) in self._reservation_after_a_refusal("plain"):
            self._assert_refused_then_reserved(outcomes, count, reserving, pickings)
            self.assertEqual(quants, [(0.0, 1.0), (1.0, 0.0)], "vanilla: a stray quant")

    def _assert_refused_then_reserved(self, outcomes, count, reserving, pickings):
        self.assertIsInstance(outcomes[0], UserError)
        self.assertIsNone(outcomes[1])
        self.assertEqual(count, 1, "reserved once")
        self.assertEqual(reserving, pickings[1:], "the second delivery reserves it")

    def _production_race(self, product_key):
        """Two manufacturing orders reserve the one serial of their component at the same
        moment; yield per run (outcomes, attempts, open lines, quants, orders with a line)."""
        for run in range(RUNS):
            productions = [self._new_production(product_key) for _i in range(2)]
            lot = self._new_serial_on_hand(product_key, f"RACE-MO-{product_key}-{run}")
            outcomes, attempts = self._race(*map(self._reserve_production, productions))
            with self.registry.cursor() as cr:
                env = api.Environment(cr, api.SUPERUSER_ID, {})
                reserving = (
                    env["stock.move.line"]
                    .search([("lot_id", "=", lot), ("state", "not in", ("done", "cancel"))])
                    .move_id.raw_material_production_id.ids
                )
            count, quants, _pickings = self._state(lot)
            yield outcomes, attempts, count, quants, reserving, productions

    def test_two_manufacturing_orders_reserve_the_one_serial(self):
        for outcomes, attempts, count, quants, reserving, productions in self._production_race(
            "coded"
        ):
            self.assertEqual(outcomes, [None, None])
            self.assertEqual(attempts, [1, 2])
            self.assertEqual(count, 1, "reserved once")
            self.assertEqual(quants, [(1.0, 1.0)], "no stray quant")
            self.assertEqual(reserving, productions[:1], "the other order waits")

    def test_two_manufacturing_orders_reserve_the_one_serial_vanilla(self):
        for outcomes, _attempts, count, quants, _reserving, _productions in self._production_race(
            "plain"
        ):
            self.assertEqual(outcomes, [None, None])
            self.assertEqual(count, 2, "vanilla: the serial reserved twice")
            self.assertEqual(quants, [(0.0, 1.0), (1.0, 1.0)], "vanilla: a stray quant")

    # ------------------------------------------------------------------ item 4
    def _existing_serial(self, product_key, name):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, api.SUPERUSER_ID, {"tracking_disable": True})
            return env["stock.lot"].create({"name": name, "product_id": self.ids[product_key]}).id

    def _places(self, lot_id):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, api.SUPERUSER_ID, {})
            return (
                env["stock.quant"]
                .search(
                    [
                        ("lot_id", "=", lot_id),
                        ("location_id.usage", "=", "internal"),
                        ("quantity", ">", 0),
                    ]
                )
                .location_id.ids
            )

    def _receipt_race(self, product_key):
        """Two receipts of one existing serial of `product_key` into two warehouses' stocks
        at the same moment; yield per run (outcomes, attempts, serial name, its places)."""
        for run in range(RUNS):
            name = f"RACE-P-{product_key}-{run}"
            lot = self._existing_serial(product_key, name)
            receipts = [
                self._new_receipt(product_key, self.ids[key], name) for key in ("stock", "stock2")
            ]
            outcomes, attempts = self._race(*map(self._validate, receipts))
            yield outcomes, attempts, name, sorted(self._places(lot))

    def test_two_receipts_of_one_serial_in_two_warehouses(self):
        for outcomes, attempts, name, places in self._receipt_race("coded"):
            self.assertIsNone(outcomes[0])
            self.assertIsInstance(outcomes[1], UserError)
            self.assertIn(name, str(outcomes[1]))
            self.assertEqual(attempts, [1, 2], "refused after a retry with a fresh snapshot")
            self.assertEqual(places, [self.ids["stock"]], "one place")

    def test_two_receipts_of_one_serial_in_two_warehouses_vanilla(self):
        for outcomes, _attempts, _name, places in self._receipt_race("plain"):
            self.assertEqual(outcomes, [None, None])
            self.assertEqual(
                places,
                sorted([self.ids["stock"], self.ids["stock2"]]),
                "vanilla: the serial on hand in two warehouses",
            )

    def _delivery_and_scrap_race(self, product_key):
        """The one serial on hand, reserved and picked on a delivery, is delivered and
        scrapped (`do_scrap`, past the scrap's own availability check) at the same moment;
        yield per run (outcomes, attempts, serial name, [(quantity, reserved)] of its quants
        in stock)."""
        for run in range(RUNS):
            name = f"RACE-GONE-{product_key}-{run}"
            delivery = self._new_delivery(product_key)
            lot = self._new_serial_on_hand(product_key, name)
            with self.registry.cursor() as cr:
                env = api.Environment(cr, api.SUPERUSER_ID, {"tracking_disable": True})
                picking = env["stock.picking"].browse(delivery)
                picking.action_assign()
                picking.move_ids.picked = True
                scrap = env["stock.scrap"].create(
                    {
                        "product_id": self.ids[product_key],
                        "lot_id": lot,
                        "scrap_qty": 1,
                        "location_id": self.ids["stock"],
                    }
                )
                scrap_id = scrap.id

            def do_scrap(env, scrap_id=scrap_id):
                env["stock.scrap"].browse(scrap_id).do_scrap()

            outcomes, attempts = self._race(self._validate(delivery), do_scrap)
            yield outcomes, attempts, name, self._state(lot)[1]

    def test_serial_delivered_and_scrapped_at_once(self):
        for outcomes, attempts, name, quants in self._delivery_and_scrap_race("coded"):
            self.assertIsNone(outcomes[0])
            self.assertIsInstance(outcomes[1], UserError)
            self.assertIn(name, str(outcomes[1]))
            self.assertEqual(attempts, [1, 2], "refused after a retry with a fresh snapshot")
            self.assertFalse([q for q in quants if q[0]], "gone once: no negative quant")

    def test_serial_delivered_and_scrapped_at_once_vanilla(self):
        for outcomes, _attempts, _name, quants in self._delivery_and_scrap_race("plain"):
            self.assertEqual(outcomes, [None, None])
            self.assertIn(-1.0, [q[0] for q in quants], "vanilla: delivered and scrapped")
