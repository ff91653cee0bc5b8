#!/usr/bin/env python3
"""Fill a database (stock_item_tracking NOT installed) with many serial numbers that have
done moves, to time the installation of the add-on (its post_init_hook).

Usage (Odoo's python, Odoo importable, the database holding the add-on's dependencies):

    python3 scripts/measure_install.py -d sit_i3_100k --lots 100000
    time python3 /opt/odoo18/odoo-bin -d sit_i3_100k -i stock_item_tracking --stop-after-init \\
        --addons-path=...

Data: one serial-tracked product; `--lots` serial numbers received from a vendor in
receipts of 100 units (one done stock.move per receipt, one done move line per serial);
every other serial then delivered to a customer the same way; quants accordingly (1 in
WH/Stock for the serials on hand, 1 at the customer for the delivered ones). Inserted with
SQL in a few statements: seconds for 100,000 lots.
"""

import argparse
import sys
import time

PER_MOVE = 100


def fill(env, lots_count):
    cr = env.cr
    company = env.ref("base.main_company")
    warehouse = env["stock.warehouse"].search([("company_id", "=", company.id)], limit=1)
    stock = warehouse.lot_stock_id
    supplier = env.ref("stock.stock_location_suppliers")
    customer = env.ref("stock.stock_location_customers")
    vendor = env["res.partner"].create({"name": "Measure Vendor"})
    buyer = env["res.partner"].create({"name": "Measure Customer"})
    product = env["product.product"].create(
        {"name": "Measure Serial", "is_storable": True, "tracking": "serial"}
    )
    receipt = env["stock.picking"].create(
        {
            "picking_type_id": warehouse.in_type_id.id,
            "partner_id": vendor.id,
            "location_id": supplier.id,
            "location_dest_id": stock.id,
        }
    )
    delivery = env["stock.picking"].create(
        {
            "picking_type_id": warehouse.out_type_id.id,
            "partner_id": buyer.id,
            "location_id": stock.id,
            "location_dest_id": customer.id,
        }
    )
    env.flush_all()
    params = {
        "n": lots_count,
        "per": PER_MOVE,
        "product": product.id,
        "uom": product.uom_id.id,
        "company": company.id,
        "stock": stock.id,
        "supplier": supplier.id,
        "customer": customer.id,
        "receipt": receipt.id,
        "delivery": delivery.id,
        "receipt_name": receipt.name,
        "delivery_name": delivery.name,
    }
    cr.execute(
        """
        CREATE TEMP TABLE measure_lot AS
        WITH ins AS (
            INSERT INTO stock_lot (name, product_id, company_id, create_uid, create_date,
                                   write_uid, write_date)
            SELECT 'MSN-' || lpad(g::text, 7, '0'), %(product)s, %(company)s, 1, now(), 1, now()
              FROM generate_series(1, %(n)s) g
            RETURNING id
        )
        SELECT id, row_number() OVER (ORDER BY id) AS rn FROM ins
        """,
        params,
    )
    # receipts: one move per PER_MOVE serials, then one line per serial
    for kind, src, dst, picking, ref, date, only_even in (
        ("in", "supplier", "stock", "receipt", "receipt_name", "now() - interval '30 days'", False),
        (
            "out",
            "stock",
            "customer",
            "delivery",
            "delivery_name",
            "now() - interval '5 days'",
            True,
        ),
    ):
        filt = "WHERE rn %% 2 = 0" if only_even else ""
        cr.execute(
            f"""
            CREATE TEMP TABLE measure_move_{kind} AS
            WITH grp AS (
                SELECT (rn - 1) / %(per)s AS g, count(*) AS qty FROM measure_lot {filt} GROUP BY 1
            ), ins AS (
                INSERT INTO stock_move (name, product_id, product_uom, product_uom_qty,
                    product_qty, quantity, location_id, location_dest_id, location_final_id,
                    company_id, state, date, procure_method, picking_id, reference, picked,
                    create_uid, create_date, write_uid, write_date, sequence, priority,
                    scrapped, propagate_cancel, additional)
                SELECT 'Measure ' || grp.g, %(product)s, %(uom)s, grp.qty, grp.qty, grp.qty,
                    %({src})s, %({dst})s, %({dst})s, %(company)s, 'done', {date},
                    'make_to_stock', %({picking})s, %({ref})s, TRUE,
                    1, now(), 1, now(), 10, '0', FALSE, FALSE, FALSE
                  FROM grp ORDER BY grp.g
                RETURNING id
            )
            SELECT id, row_number() OVER (ORDER BY id) - 1 AS g FROM ins
            """,
            params,
        )
        cr.execute(
            f"""
            INSERT INTO stock_move_line (move_id, picking_id, product_id, product_uom_id, lot_id,
                quantity, quantity_product_uom, location_id, location_dest_id, company_id,
                state, date, reference, picked, create_uid, create_date, write_uid, write_date)
            SELECT m.id, %({picking})s, %(product)s, %(uom)s, l.id, 1, 1, %({src})s, %({dst})s,
                   %(company)s, 'done', {date}, %({ref})s, TRUE, 1, now(), 1, now()
              FROM measure_lot l
              JOIN measure_move_{kind} m ON m.g = (l.rn - 1) / %(per)s
              {filt.replace("rn", "l.rn")}
            """,
            params,
        )
    cr.execute(
        """
        INSERT INTO stock_quant (product_id, location_id, lot_id, company_id, quantity,
            reserved_quantity, in_date, create_uid, create_date, write_uid, write_date)
        SELECT %(product)s, CASE WHEN rn %% 2 = 0 THEN %(customer)s ELSE %(stock)s END, id,
               %(company)s, 1, 0, now(), 1, now(), 1, now()
          FROM measure_lot
        """,
        params,
    )
    cr.execute(
        "UPDATE stock_picking SET state = 'done', date_done = now() WHERE id IN %s",
        [(receipt.id, delivery.id)],
    )
    env.invalidate_all()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-d", "--database", required=True)
    parser.add_argument("--lots", type=int, default=100000)
    parser.add_argument("--odoo", default="/opt/odoo18")
    args = parser.parse_args()
    sys.path.insert(0, args.odoo)
    import odoo
    from odoo.api import SUPERUSER_ID, Environment

    odoo.tools.config.parse_config(["--addons-path", f"{args.odoo}/addons,{args.odoo}/odoo/addons"])
    registry = odoo.registry(args.database)
    started = time.perf_counter()
    with registry.cursor() as cr:
        env = Environment(cr, SUPERUSER_ID, {})
        if "tracking_status" in env["stock.lot"]._fields:
            sys.exit("stock_item_tracking is installed in this database: use a vanilla one")
        fill(env, args.lots)
    print(f"{args.lots} lots with done moves inserted in {time.perf_counter() - started:.1f}s")


if __name__ == "__main__":
    main()
