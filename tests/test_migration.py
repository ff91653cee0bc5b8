"""Upgrade to 18.0.1.1.0: the sources stored in plain columns by 18.0.1.0.0 are kept, as the
company-dependent value of the company that recorded them."""

import importlib.util
from pathlib import Path

from odoo.tests import tagged

from .common import ItemTrackingCommon

MIGRATION = Path(__file__).parent.parent / "migrations" / "18.0.1.1.0" / "pre-migration.py"


def _load_migration():
    spec = importlib.util.spec_from_file_location("sit_pre_migration_18_0_1_1_0", MIGRATION)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@tagged("post_install", "-at_install")
class TestSourcesMigration(ItemTrackingCommon):
    def test_plain_sources_become_company_dependent(self):
        company_b = self.env["res.company"].create({"name": "Migration B"})
        own = self._create_lot(self.product_serial, "SN-MIG-A", company_id=self.env.company.id)
        shared = self._create_lot(self.product_serial, "SN-MIG-SHARED")
        self._put_in_stock(self.product_serial, shared)
        delivery = self._delivery(self.product_serial, [{"lot_id": shared}])
        self._validate(delivery)
        self.env.flush_all()
        cr = self.env.cr
        # The 18.0.1.0.0 schema: plain columns.
        cr.execute(
            "UPDATE stock_move_line SET company_id = %s WHERE id IN %s",
            [company_b.id, tuple(delivery.move_line_ids.ids)],
        )
        for column, sql_type in (("customer_id", "int4"), ("delivery_date", "timestamp")):
            cr.execute(f"ALTER TABLE stock_lot RENAME COLUMN {column} TO {column}_new")
            cr.execute(f"ALTER TABLE stock_lot ADD COLUMN {column} {sql_type}")
            cr.execute(f"ALTER TABLE stock_lot DROP COLUMN {column}_new")
        cr.execute(
            "UPDATE stock_lot SET customer_id = %s, delivery_date = '2024-05-06 07:08:09'"
            " WHERE id IN %s",
            [self.partner.id, (own.id, shared.id)],
        )
        _load_migration().migrate(cr, "18.0.1.0.0")
        cr.execute(
            "SELECT id, customer_id, delivery_date FROM stock_lot WHERE id IN %s ORDER BY id",
            [(own.id, shared.id)],
        )
        self.assertEqual(
            cr.fetchall(),
            [
                (
                    own.id,
                    {str(self.env.company.id): self.partner.id},
                    {str(self.env.company.id): "2024-05-06 07:08:09"},
                ),
                (
                    shared.id,
                    {str(company_b.id): self.partner.id},
                    {str(company_b.id): "2024-05-06 07:08:09"},
                ),
            ],
        )
        self.env.invalidate_all()
        self.assertEqual(own.customer_id, self.partner)
        self.assertEqual(shared.with_company(company_b).customer_id, self.partner)
        self.assertFalse(shared.customer_id)
