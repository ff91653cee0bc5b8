# Times the serial integrity audit on a database of AUDIT_BENCH_LOTS lots (default
# 1,000,000). Run by `make audit-bench` through `odoo shell` (which provides `env`) on a
# throwaway database where stock_item_tracking is installed (without demo data):
#
#   odoo shell -d DB --no-http < scripts/audit_bench.py
#
# It fills the database with SQL (generate_series): 20 products (10 serial-tracked with an
# item tracking code, 10 lot-tracked without), the lots, one quant per lot on hand, one done
# receipt (move and move line) per lot and a done delivery for some serials (those are
# shipped, without quant), then plants a few violations of each kind, runs
# stock.lot.integrity.issue._run_integrity_audit() and prints its time and findings.
# ruff: noqa: F821 (env is given by odoo shell)
import logging
import os
import time

from odoo.tools import SQL

N = int(os.environ.get("AUDIT_BENCH_LOTS", "1000000"))
cr = env.cr
env = env(context={"tracking_disable": True})
company = env.company
wh = env["stock.warehouse"].search([("company_id", "=", company.id)], limit=1)
stock, customer, supplier = (
    wh.lot_stock_id,
    env.ref("stock.stock_location_customers"),
    env.ref("stock.stock_location_suppliers"),
)


def lot(i):
    cr.execute("SELECT lot_id FROM bench_lot WHERE i = %s", [i])
    return cr.fetchone()[0]


def fill():
    code = env["item.tracking.code"].create({"name": "Bench SN", "tracking": "serial"})
    products = env["product.product"].create(
        [
            {"name": f"Bench SN {i}", "is_storable": True, "item_tracking_code_id": code.id}
            for i in range(10)
        ]
        + [{"name": f"Bench LOT {i}", "is_storable": True, "tracking": "lot"} for i in range(10)]
    )
    env.flush_all()
    uom = products[0].uom_id.id
    pids = products.ids
    t0 = time.monotonic()
    cr.execute(
        SQL(
            """
            CREATE TEMP TABLE bench_src AS
            SELECT i, (%(pids)s::int4[])[1 + mod(i, 20)] AS product_id, (mod(i, 20) < 10) AS serial,
                   (mod(i, 4) = 0) AS shipped
              FROM generate_series(1, %(n)s) i;
            INSERT INTO stock_lot (name, product_id, company_id, tracking_status, create_uid,
                                   write_uid, create_date, write_date)
            SELECT 'BN' || lpad(i::text, 8, '0'), product_id, %(company)s,
                   CASE WHEN shipped AND serial THEN 'shipped' ELSE 'received' END,
                   1, 1, now() - interval '30 days', now() - interval '30 days'
              FROM bench_src ORDER BY i;
            CREATE TEMP TABLE bench_lot AS
            SELECT s.*, l.id AS lot_id FROM bench_src s
              JOIN stock_lot l ON l.name = 'BN' || lpad(s.i::text, 8, '0')
                              AND l.product_id = s.product_id;
            INSERT INTO stock_quant (product_id, location_id, lot_id, company_id, quantity,
                                     reserved_quantity, in_date, create_date, write_date)
            SELECT product_id, %(stock)s, lot_id, %(company)s, CASE WHEN serial THEN 1 ELSE 10 END,
                   0, now() - interval '20 days', now(), now()
              FROM bench_lot WHERE NOT (shipped AND serial);
            INSERT INTO stock_move (name, product_id, product_uom, location_id, location_dest_id,
                                    product_uom_qty, quantity, procure_method, state, date,
                                    company_id, reference, origin, create_date, write_date)
            SELECT 'bench', product_id, %(uom)s, %(supplier)s, %(stock)s,
                   CASE WHEN serial THEN 1 ELSE 10 END, CASE WHEN serial THEN 1 ELSE 10 END,
                   'make_to_stock', 'done', now() - interval '20 days', %(company)s, 'BENCH/IN',
                   'IN' || lot_id, now(), now()
              FROM bench_lot;
            INSERT INTO stock_move (name, product_id, product_uom, location_id, location_dest_id,
                                    product_uom_qty, quantity, procure_method, state, date,
                                    company_id, reference, origin, create_date, write_date)
            SELECT 'bench', product_id, %(uom)s, %(stock)s, %(customer)s, 1, 1,
                   'make_to_stock', 'done', now() - interval '10 days', %(company)s, 'BENCH/OUT',
                   'OUT' || lot_id, now(), now()
              FROM bench_lot WHERE shipped AND serial;
            INSERT INTO stock_move_line (move_id, product_id, product_uom_id, location_id,
                                         location_dest_id, lot_id, quantity, quantity_product_uom,
                                         state, date, company_id, reference,
                                         create_date, write_date)
            SELECT m.id, m.product_id, m.product_uom, m.location_id, m.location_dest_id, b.lot_id,
                   m.quantity, m.quantity, 'done', m.date, m.company_id, m.reference, now(), now()
              FROM bench_lot b JOIN stock_move m ON m.origin = 'IN' || b.lot_id;
            INSERT INTO stock_move_line (move_id, product_id, product_uom_id, location_id,
                                         location_dest_id, lot_id, quantity, quantity_product_uom,
                                         state, date, company_id, reference,
                                         create_date, write_date)
            SELECT m.id, m.product_id, m.product_uom, m.location_id, m.location_dest_id, b.lot_id,
                   m.quantity, m.quantity, 'done', m.date, m.company_id, m.reference, now(), now()
              FROM bench_lot b JOIN stock_move m ON m.origin = 'OUT' || b.lot_id
             WHERE b.shipped AND b.serial;
            """,
            pids=pids,
            n=N,
            company=company.id,
            stock=stock.id,
            customer=customer.id,
            supplier=supplier.id,
            uom=uom,
        )
    )
    print(f"filled {N} lots in {time.monotonic() - t0:.1f}s", flush=True)

    # Planted violations (serial lots are those with i % 20 < 10; i % 4 = 0 are shipped).
    serial_on_hand = [i for i in range(1, 400) if i % 20 < 10 and i % 4][:12]
    lot_number = [i for i in range(1, 400) if i % 20 >= 10][:2]
    # 2 duplicate groups: a case/space variant of a coded number
    for i in serial_on_hand[:2]:
        cr.execute(
            """INSERT INTO stock_lot (name, product_id, company_id, tracking_status)
               SELECT ' ' || lower(name) || ' ', product_id, company_id, 'planned'
                 FROM stock_lot WHERE id = %s""",
            [lot(i)],
        )
    # 2 serials on hand twice
    cr.execute(
        "UPDATE stock_quant SET quantity = 2 WHERE lot_id = ANY(%s)",
        [[lot(i) for i in serial_on_hand[2:4]]],
    )
    # 2 negative lot quants
    cr.execute(
        "UPDATE stock_quant SET quantity = -4 WHERE lot_id = ANY(%s)",
        [[lot(i) for i in lot_number]],
    )
    # 2 over-reserved serials
    cr.execute(
        "UPDATE stock_quant SET reserved_quantity = 2 WHERE lot_id = ANY(%s)",
        [[lot(i) for i in serial_on_hand[4:6]]],
    )
    # 2 blocked numbers with a reserved quant
    cr.execute(
        "UPDATE stock_lot SET blocked = TRUE WHERE id = ANY(%s);"
        "UPDATE stock_quant SET reserved_quantity = 1 WHERE lot_id = ANY(%s)",
        [[lot(i) for i in serial_on_hand[6:8]]] * 2,
    )
    # 2 wrong statuses
    cr.execute(
        "UPDATE stock_lot SET tracking_status = 'consumed' WHERE id = ANY(%s)",
        [[lot(i) for i in serial_on_hand[8:10]]],
    )
    # 2 numbers blocked (tracked) 25 days ago, received 20 days ago
    field = env["ir.model.fields"]._get("stock.lot", "blocked")
    for i in serial_on_hand[10:12]:
        lot_id = lot(i)
        cr.execute(
            """WITH m AS (INSERT INTO mail_message (model, res_id, message_type, date, body)
                          VALUES ('stock.lot', %s, 'notification', now() - interval '25 days', '')
                          RETURNING id)
               INSERT INTO mail_tracking_value (mail_message_id, field_id, old_value_integer,
                                                new_value_integer)
               SELECT id, %s, 0, 1 FROM m""",
            [lot_id, field.id],
        )
        cr.execute("UPDATE stock_lot SET blocked = TRUE WHERE id = %s", [lot_id])
    cr.execute(
        "ANALYZE stock_lot; ANALYZE stock_quant; ANALYZE stock_move; ANALYZE stock_move_line"
    )
    env.invalidate_all()
    cr.commit()


if not os.environ.get("AUDIT_BENCH_FILLED"):
    fill()
cr.execute("SELECT COUNT(*) FROM stock_lot")
lots = cr.fetchone()[0]
cr.execute("SELECT COUNT(*) FROM stock_move_line")
lines = cr.fetchone()[0]
cr.execute("SELECT COUNT(*) FROM stock_move")
moves = cr.fetchone()[0]
cr.execute("SELECT COUNT(*) FROM stock_quant")
quants = cr.fetchone()[0]
print(f"database: {lots} lots, {quants} quants, {moves} moves, {lines} move lines", flush=True)

# the audit logs the time of each check at INFO
logging.getLogger("odoo.addons.stock_item_tracking.models.stock_lot_integrity_issue").setLevel(
    logging.INFO
)
Issue = env["stock.lot.integrity.issue"].sudo()
timings = []
for _run in range(int(os.environ.get("AUDIT_BENCH_RUNS", "2"))):
    start = time.monotonic()
    Issue._run_integrity_audit()
    env.flush_all()
    timings.append(time.monotonic() - start)
    print(f"audit run {_run + 1}: {timings[-1]:.1f}s", flush=True)
cr.commit()
found = Issue._read_group([], ["kind"], ["__count"])
print("findings:", ", ".join(f"{kind} {count}" for kind, count in found))
print(f"AUDIT TIME ({lots} lots): best {min(timings):.1f}s, worst {max(timings):.1f}s")
