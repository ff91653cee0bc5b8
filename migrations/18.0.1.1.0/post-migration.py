"""18.0.1.1.0: the companies' rejection locations accept blocked numbers (block, inspect,
reject, scrap); the flag is new in this version."""

from odoo.tools import SQL


def migrate(cr, version):
    cr.execute(
        SQL(
            """UPDATE stock_location SET item_tracking_allow_blocked = TRUE
                WHERE id IN (SELECT item_tracking_reject_location_id FROM res_company)"""
        )
    )
