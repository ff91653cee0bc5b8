"""18.0.1.1.0: the lots' sources become company-dependent (jsonb, one value per company).

Odoo can't cast the old columns (int4 / timestamp) to jsonb and would move them aside; each
value is kept instead, under the company that recorded it: the lot's company, or for a lot
shared between companies, the company of its latest done move line."""

from odoo.tools import SQL

SOURCES = (
    "supplier_id",
    "receipt_date",
    "purchase_order_id",
    "production_id",
    "customer_id",
    "delivery_date",
    "sale_order_id",
)


def _old_columns(cr):
    cr.execute(
        """SELECT column_name FROM information_schema.columns
            WHERE table_name = 'stock_lot' AND column_name = ANY(%s) AND data_type != 'jsonb'""",
        [list(SOURCES)],
    )
    return [name for (name,) in cr.fetchall()]


def migrate(cr, version):
    columns = _old_columns(cr)
    if not columns:
        return
    cr.execute("DROP TABLE IF EXISTS sit_lot_company")
    cr.execute(
        """CREATE TEMP TABLE sit_lot_company ON COMMIT DROP AS
           SELECT lot.id AS lot_id,
                  COALESCE(lot.company_id,
                           (SELECT ml.company_id FROM stock_move_line ml
                             WHERE ml.lot_id = lot.id AND ml.state = 'done'
                          ORDER BY ml.date DESC, ml.id DESC LIMIT 1),
                           (SELECT MIN(id) FROM res_company)) AS company_id
             FROM stock_lot lot"""
    )
    for fname in columns:
        old = f"{fname}_sit_old"
        value = SQL(
            "to_jsonb(to_char(lot.%s, 'YYYY-MM-DD HH24:MI:SS'))"
            if fname.endswith("_date")
            else "to_jsonb(lot.%s)",
            SQL.identifier(old),
        )
        cr.execute(
            SQL(
                "ALTER TABLE stock_lot RENAME COLUMN %s TO %s",
                SQL.identifier(fname),
                SQL.identifier(old),
            )
        )
        cr.execute(SQL("ALTER TABLE stock_lot ADD COLUMN %s jsonb", SQL.identifier(fname)))
        cr.execute(
            SQL(
                """UPDATE stock_lot
                      SET %(column)s = jsonb_build_object(c.company_id::text, %(value)s)
                     FROM stock_lot lot JOIN sit_lot_company c ON c.lot_id = lot.id
                    WHERE stock_lot.id = lot.id AND lot.%(old)s IS NOT NULL""",
                column=SQL.identifier(fname),
                value=value,
                old=SQL.identifier(old),
            )
        )
        cr.execute(SQL("ALTER TABLE stock_lot DROP COLUMN %s", SQL.identifier(old)))
