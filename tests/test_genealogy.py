from odoo import Command
from odoo.tests import new_test_user, tagged

from .common import GenealogyCommon


@tagged("post_install", "-at_install")
class TestGenealogy(GenealogyCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._build_robots(count=4)

    def _places(self, lot, fname, direction):
        """{lot name: (level, quantity)} of the card's page `fname`, read as the web client
        reads it (the page passes its root and direction in the field's context)."""
        [values] = lot.web_read(
            {
                fname: {
                    "fields": {"name": {}, "genealogy_level": {}, "genealogy_quantity": {}},
                    "context": {"genealogy_root_id": lot.id, "genealogy_direction": direction},
                }
            }
        )
        return {
            row["name"]: (row["genealogy_level"], row["genealogy_quantity"])
            for row in values[fname]
        }

    def test_components_all_levels_per_unit(self):
        """A final serial shows its own components only, down to the purchased lots."""
        rob_1 = self.robots.filtered(lambda lot: lot.name == "ROB-1")
        mod_1 = self.modules.filtered(lambda lot: lot.name == "MOD-1")
        self.assertEqual(rob_1.component_lot_ids, mod_1)
        self.assertEqual(
            self._places(rob_1, "genealogy_component_ids", "down"),
            {"MOD-1": (1, 1.0), "CHIP-1": (2, 1.0), "CELL-A": (2, 2.0)},
        )
        rob_2 = self.robots.filtered(lambda lot: lot.name == "ROB-2")
        self.assertEqual(
            set(rob_2.genealogy_component_ids.mapped("name")), {"MOD-2", "CHIP-2", "CELL-B"}
        )
        self.assertEqual(mod_1.component_lot_ids.mapped("name"), ["CHIP-1", "CELL-A"])
        # the purchased lot's supplier is on the page
        self.assertEqual(self.cell_a.supplier_id, self.vendor)

    def test_used_in_all_levels(self):
        """A component lot shows every number made from it, up to the final serials."""
        self.assertEqual(
            self._places(self.cell_a, "genealogy_used_in_ids", "up"),
            {"MOD-1": (1, 1.0), "MOD-3": (1, 1.0), "ROB-1": (2, 1.0), "ROB-3": (2, 1.0)},
        )
        self.assertEqual(self.cell_a.used_in_lot_ids.mapped("name"), ["MOD-1", "MOD-3"])
        chip_2 = self.chips.filtered(lambda lot: lot.name == "CHIP-2")
        self.assertEqual(chip_2.genealogy_used_in_ids.mapped("name"), ["MOD-2", "ROB-2"])
        rob_1 = self.robots.filtered(lambda lot: lot.name == "ROB-1")
        self.assertFalse(rob_1.genealogy_used_in_ids)
        self.assertFalse(self.cell_a.genealogy_component_ids)

    def test_level_without_root_is_empty(self):
        self.assertEqual(self.cell_a.genealogy_level, 0)

    def test_genealogy_of_shared_lot_per_company(self):
        """The lots have no company (shared products): a user of another company sees no
        row made of the first company's move lines."""
        self.assertFalse(self.cell_a.company_id)
        company_b = self.env["res.company"].create({"name": "Northwind (Company B)"})
        user_b = new_test_user(
            self.env,
            login="gen_user_b",
            groups="stock.group_stock_user,stock.group_production_lot",
            company_id=company_b.id,
            company_ids=[Command.set(company_b.ids)],
        )
        cell_b_view = self.cell_a.with_user(user_b)
        self.assertFalse(cell_b_view.genealogy_used_in_ids)
        self.assertFalse(cell_b_view.used_in_lot_ids)
        self.assertEqual(self._places(cell_b_view, "genealogy_used_in_ids", "up"), {})
        user_a = new_test_user(
            self.env,
            login="gen_user_a",
            groups="stock.group_stock_user,stock.group_production_lot",
        )
        self.assertEqual(len(self.cell_a.with_user(user_a).genealogy_used_in_ids), 4)

    def test_genealogy_fields_are_recorded(self):
        """Nobody types the genealogy: a write as a plain stock user (RPC) is refused."""
        rob_1 = self.robots.filtered(lambda lot: lot.name == "ROB-1").with_user(self.lowest_user)
        for fname in ("component_lot_ids", "used_in_lot_ids"):
            with self.assertRefused("recorded by stock operations"):
                rob_1.write({fname: [Command.set(self.chips.ids)]})
        with self.assertRefused("recorded by stock operations"):
            self.env["stock.lot"].with_user(self.lowest_user).create(
                {
                    "name": "ROB-X",
                    "product_id": self.robot.id,
                    "component_lot_ids": [Command.set(self.chips.ids)],
                }
            )
        self.assertEqual(rob_1.component_lot_ids.mapped("name"), ["MOD-1"])

    def test_genealogy_queries_do_not_grow_with_units(self):
        """One recursive query per direction: a lot used in one unit and a lot used in two
        units (through two levels) are read in the same number of queries."""
        chip_1 = self.chips.filtered(lambda lot: lot.name == "CHIP-1")

        def count(lot):
            self.env.invalidate_all()
            before = self.env.cr.sql_log_count
            self._places(lot, "genealogy_used_in_ids", "up")
            return self.env.cr.sql_log_count - before

        count(self.cell_a)  # warm up what any first read loads (user, companies)
        one, many = count(chip_1), count(self.cell_a)
        self.assertEqual(len(chip_1.genealogy_used_in_ids), 2)
        self.assertEqual(len(self.cell_a.genealogy_used_in_ids), 4)
        self.assertEqual(one, many)
