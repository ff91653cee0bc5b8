"""Install hook: status, sources and a first history entry for the lots that already exist.

Done in SQL, one statement per step and per chunk of lot ids, so that databases with hundreds
of thousands of lots install in minutes (no ORM loop over the lots).
"""

import logging

from odoo.tools import SQL

_logger = logging.getLogger(__name__)

CHUNK = 50000

_UPDATE_LOTS = """
WITH lot AS (
    SELECT id FROM stock_lot
     WHERE id >= %(low)s AND id < %(high)s
       -- lots already maintained by stock operations (e.g. during the installation)
       AND NOT EXISTS (SELECT 1 FROM stock_lot_status_log log WHERE log.lot_id = stock_lot.id)
),
reject AS (
    SELECT item_tracking_reject_location_id AS location_id
      FROM res_company
     WHERE item_tracking_reject_location_id IS NOT NULL
),
on_hand AS (
    SELECT q.lot_id
      FROM stock_quant q
      JOIN stock_location l ON l.id = q.location_id
      JOIN lot ON lot.id = q.lot_id
     WHERE l.usage IN ('internal', 'transit')
       AND q.location_id NOT IN (SELECT location_id FROM reject)
  GROUP BY q.lot_id
    HAVING SUM(q.quantity) > 0
),
last_line AS (
    SELECT DISTINCT ON (ml.lot_id)
           ml.lot_id, ml.id AS line_id, src.usage AS src_usage, dst.usage AS dst_usage,
           dst.id IN (SELECT location_id FROM reject) AS rejected,
           (COALESCE(dst.scrap_location, FALSE) OR COALESCE(m.scrapped, FALSE)) AS scrapped
      FROM stock_move_line ml
      JOIN lot ON lot.id = ml.lot_id
      JOIN stock_location src ON src.id = ml.location_id
      JOIN stock_location dst ON dst.id = ml.location_dest_id
 LEFT JOIN stock_move m ON m.id = ml.move_id
     WHERE ml.state = 'done'
  ORDER BY ml.lot_id, ml.date DESC, ml.id DESC
),
receipt AS (
    SELECT DISTINCT ON (ml.lot_id)
           ml.lot_id, ml.date, pol.order_id,
           COALESCE(po.partner_id, p.partner_id, m.partner_id) AS partner_id
      FROM stock_move_line ml
      JOIN lot ON lot.id = ml.lot_id
      JOIN stock_location src ON src.id = ml.location_id
      JOIN stock_location dst ON dst.id = ml.location_dest_id
 LEFT JOIN stock_move m ON m.id = ml.move_id
 LEFT JOIN stock_picking p ON p.id = ml.picking_id
 LEFT JOIN purchase_order_line pol ON pol.id = m.purchase_line_id
 LEFT JOIN purchase_order po ON po.id = pol.order_id
     WHERE ml.state = 'done' AND src.usage = 'supplier' AND dst.usage IN ('internal', 'transit')
  ORDER BY ml.lot_id, ml.date, ml.id
),
production AS (
    SELECT DISTINCT ON (ml.lot_id) ml.lot_id, m.production_id
      FROM stock_move_line ml
      JOIN lot ON lot.id = ml.lot_id
      JOIN stock_move m ON m.id = ml.move_id
     WHERE ml.state = 'done' AND m.production_id IS NOT NULL
  ORDER BY ml.lot_id, ml.date, ml.id
),
delivery AS (
    SELECT DISTINCT ON (ml.lot_id)
           ml.lot_id, ml.date, sol.order_id, COALESCE(p.partner_id, m.partner_id) AS partner_id
      FROM stock_move_line ml
      JOIN lot ON lot.id = ml.lot_id
      JOIN stock_location dst ON dst.id = ml.location_dest_id
 LEFT JOIN stock_move m ON m.id = ml.move_id
 LEFT JOIN stock_picking p ON p.id = ml.picking_id
 LEFT JOIN sale_order_line sol ON sol.id = m.sale_line_id
     WHERE ml.state = 'done' AND dst.usage = 'customer'
  ORDER BY ml.lot_id, ml.date DESC, ml.id DESC
),
new AS (
    SELECT lot.id AS lot_id,
           CASE
               WHEN last_line.lot_id IS NULL THEN 'planned'
               WHEN on_hand.lot_id IS NOT NULL AND last_line.src_usage = 'customer'
                   THEN 'returned'
               WHEN on_hand.lot_id IS NOT NULL THEN 'received'
               WHEN last_line.rejected THEN 'rejected'
               WHEN last_line.scrapped THEN 'written_off'
               WHEN last_line.dst_usage = 'customer' THEN 'shipped'
               WHEN last_line.dst_usage = 'production' THEN 'consumed'
               WHEN last_line.dst_usage = 'inventory' THEN 'written_off'
               -- sent back to a vendor: stock operations leave the status unchanged
               WHEN last_line.dst_usage = 'supplier' THEN 'received'
               ELSE 'planned'
           END AS status,
           receipt.partner_id AS supplier_id, receipt.date AS receipt_date,
           receipt.order_id AS purchase_order_id, production.production_id,
           delivery.partner_id AS customer_id, delivery.date AS delivery_date,
           delivery.order_id AS sale_order_id
      FROM lot
 LEFT JOIN on_hand ON on_hand.lot_id = lot.id
 LEFT JOIN last_line ON last_line.lot_id = lot.id
 LEFT JOIN receipt ON receipt.lot_id = lot.id
 LEFT JOIN production ON production.lot_id = lot.id
 LEFT JOIN delivery ON delivery.lot_id = lot.id
     WHERE last_line.lot_id IS NOT NULL
)
UPDATE stock_lot
   SET tracking_status = new.status,
       supplier_id = new.supplier_id,
       receipt_date = new.receipt_date,
       purchase_order_id = new.purchase_order_id,
       production_id = new.production_id,
       customer_id = new.customer_id,
       delivery_date = new.delivery_date,
       sale_order_id = new.sale_order_id
  FROM new
 WHERE stock_lot.id = new.lot_id
"""

_INSERT_LOGS = """
INSERT INTO stock_lot_status_log (
    lot_id, company_id, date, old_status, new_status, move_line_id, reference, user_id, note,
    create_uid, create_date, write_uid, write_date
)
SELECT DISTINCT ON (ml.lot_id)
       ml.lot_id, lot.company_id, ml.date, NULL, lot.tracking_status, ml.id, ml.reference,
       %(uid)s, %(note)s, %(uid)s, NOW() AT TIME ZONE 'UTC', %(uid)s, NOW() AT TIME ZONE 'UTC'
  FROM stock_move_line ml
  JOIN stock_lot lot ON lot.id = ml.lot_id
 WHERE ml.state = 'done' AND lot.id >= %(low)s AND lot.id < %(high)s
   AND lot.tracking_status != 'planned'
   AND NOT EXISTS (SELECT 1 FROM stock_lot_status_log log WHERE log.lot_id = lot.id)
ORDER BY ml.lot_id, ml.date DESC, ml.id DESC
"""


def post_init_hook(env):
    env["res.company"].sudo()._create_missing_item_tracking_reject_locations()
    env.flush_all()
    cr = env.cr
    cr.execute(SQL("SELECT COALESCE(MAX(id), 0) FROM stock_lot"))
    max_id = cr.fetchone()[0]
    note = env._("Computed on installation")
    for low in range(1, max_id + 1, CHUNK):
        params = {"low": low, "high": low + CHUNK, "uid": env.uid, "note": note}
        cr.execute(SQL(_UPDATE_LOTS, **{k: params[k] for k in ("low", "high")}))
        updated = cr.rowcount
        cr.execute(SQL(_INSERT_LOGS, **params))
        _logger.info("Item tracking: lots %s-%s: %s updated", low, low + CHUNK - 1, updated)
    env["stock.lot"].invalidate_model()
    env["stock.lot.status.log"].invalidate_model()
