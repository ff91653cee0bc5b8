import hashlib
import logging
import time

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL, float_compare

from ..tools.lot_status import STOCK_USAGES, replay

_logger = logging.getLogger(__name__)

MANAGER_GROUPS = (
    "stock_item_tracking.group_item_tracking_manager",
    "stock.group_stock_manager",
)
ISSUE_KINDS = [
    ("duplicate", "Duplicate number"),
    ("serial_quantity", "Serial quantity above 1"),
    ("negative_quant", "Negative lot quantity"),
    ("over_reserved", "Serial reserved more than once"),
    ("blocked_reserved", "Blocked number reserved"),
    ("status", "Status disagrees with history"),
    ("blocked_done_move", "Done move of a blocked number"),
]
# Range of lot ids whose history is read per query of the status check.
STATUS_BATCH = 250000
# The facts of a move that `tools.lot_status.next_status` reads (the status of a lot is a
# function of these facts of its moves, oldest first).
STATUS_FACTS = (
    "quantity",
    "rounding",
    "src_usage",
    "dest_usage",
    "src_on_hand",
    "dest_on_hand",
    "dest_rejected",
    "dest_scrap",
)
# The other keys of a move of `tools.lot_status` (read by `next_sources` only).
OTHER_MOVE_KEYS = dict.fromkeys(
    (
        "line_id",
        "lot_id",
        "company_id",
        "date",
        "reference",
        "partner_id",
        "purchase_partner_id",
        "purchase_order_id",
        "sale_order_id",
        "production_id",
    ),
    False,
)
# Columns every check returns (a missing one is NULL).
ISSUE_COLUMNS = (
    "kind",
    "lot_id",
    "product_id",
    "company_id",
    "quant_id",
    "move_line_id",
    "group_key",
    "description",
)


class StockLotIntegrityIssue(models.Model):
    """A violation of the serial/lot integrity rules found in the database by the audit
    (`_run_integrity_audit`). The audit only reads stock data: it replaces the rows of this
    table, nothing else."""

    _name = "stock.lot.integrity.issue"
    _description = "Lot/Serial Integrity Issue"
    _order = "kind, product_id, lot_id, id"
    _rec_name = "description"

    kind = fields.Selection(ISSUE_KINDS, required=True, readonly=True, index=True)
    lot_id = fields.Many2one("stock.lot", "Lot/Serial Number", readonly=True, index=True)
    lot_name = fields.Char(related="lot_id.name", string="Number")
    product_id = fields.Many2one("product.product", readonly=True, index=True)
    company_id = fields.Many2one("res.company", readonly=True, index=True)
    quant_id = fields.Many2one("stock.quant", readonly=True)
    move_line_id = fields.Many2one("stock.move.line", readonly=True)
    record_ref = fields.Reference(
        selection=[
            ("stock.lot", "Lot/Serial Number"),
            ("stock.quant", "Quant"),
            ("stock.move.line", "Move Line"),
        ],
        string="Record",
        compute="_compute_record_ref",
    )
    # Duplicates: the rows of one group of conflicting numbers share this key.
    group_key = fields.Char(readonly=True, index=True)
    description = fields.Text(readonly=True)
    found_date = fields.Datetime(readonly=True, default=fields.Datetime.now)

    @api.depends("lot_id", "quant_id", "move_line_id")
    def _compute_record_ref(self):
        for issue in self:
            if issue.move_line_id:
                issue.record_ref = f"stock.move.line,{issue.move_line_id.id}"
            elif issue.quant_id:
                issue.record_ref = f"stock.quant,{issue.quant_id.id}"
            elif issue.lot_id:
                issue.record_ref = f"stock.lot,{issue.lot_id.id}"
            else:
                issue.record_ref = False

    # ------------------------------------------------------------------ actions
    @api.model
    def _check_audit_access(self):
        if not self.env.su and not any(self.env.user.has_group(g) for g in MANAGER_GROUPS):
            raise AccessError(
                self.env._(
                    "Only Item Tracking Managers and Inventory Administrators can run the "
                    "serial integrity check."
                )
            )

    @api.model
    def action_run_audit(self):
        """Run check now (list button, server action): redo the findings, then show them."""
        self._check_audit_access()
        self.sudo()._run_integrity_audit()
        return {
            "type": "ir.actions.client",
            "tag": "soft_reload",
        }

    def _open(self, records, name):
        records.check_access("read")
        action = {
            "type": "ir.actions.act_window",
            "name": name,
            "res_model": records._name,
            "target": "current",
        }
        if len(records) == 1:
            action.update(res_id=records.id, views=[(False, "form")])
        else:
            action.update(
                domain=[("id", "in", records.ids)], views=[(False, "list"), (False, "form")]
            )
        return action

    def action_open_lot(self):
        return self._open(self.lot_id, self.env._("Lot/Serial Number"))

    def action_open_product(self):
        return self._open(self.product_id, self.env._("Product"))

    def action_open_quant(self):
        return self._open(self.quant_id, self.env._("Quant"))

    def action_open_move_line(self):
        return self._open(self.move_line_id, self.env._("Move Line"))

    def action_open_company(self):
        return self._open(self.company_id, self.env._("Company"))

    def action_open_record(self):
        self.ensure_one()
        if self.move_line_id:
            return self.action_open_move_line()
        if self.quant_id:
            return self.action_open_quant()
        return self.action_open_lot()

    def action_open_group(self):
        """The duplicate numbers of this row's group (the lots a merge would join)."""
        self.ensure_one()
        return self._open(self._get_group_lots(), self.env._("Duplicate Numbers"))

    def _get_group_lots(self):
        self.ensure_one()
        if self.kind != "duplicate":
            return self.lot_id
        return self.search([("kind", "=", "duplicate"), ("group_key", "=", self.group_key)]).lot_id

    def action_merge(self):
        """Merge the duplicate numbers of this row's group (the merge wizard of the lot
        uniqueness feature, `stock.lot.action_merge_duplicates`)."""
        self.ensure_one()
        lots = self._get_group_lots()
        if self.kind != "duplicate" or len(lots) < 2:
            raise UserError(
                self.env._(
                    "Only a group of duplicate numbers can be merged: %(lots)s",
                    lots=", ".join(lots.mapped("display_name")),
                )
            )
        return lots.action_merge_duplicates()

    # ------------------------------------------------------------------ the audit
    @api.model
    def _cron_integrity_audit(self):
        self.sudo()._run_integrity_audit()

    @api.model
    def _get_integrity_checks(self):
        """Names of the check methods, in order. Each returns a list of dicts with (some
        of) ISSUE_COLUMNS; another module extends the list."""
        return [
            "_check_integrity_duplicates",
            "_check_integrity_serial_quantity",
            "_check_integrity_negative_quants",
            "_check_integrity_over_reserved",
            "_check_integrity_blocked_reserved",
            "_check_integrity_status",
            "_check_integrity_blocked_done_moves",
        ]

    @api.model
    def _run_integrity_audit(self):
        """Replace the findings with the result of every check. Reads stock data only."""
        self.env.flush_all()
        rows, timings = [], {}
        for name in self._get_integrity_checks():
            start = time.monotonic()
            found = getattr(self, name)()
            timings[name] = time.monotonic() - start
            rows += found
        self._store_issues(rows)
        _logger.info(
            "Serial integrity audit: %s issue(s); %s",
            len(rows),
            ", ".join(f"{name} {seconds:.1f}s" for name, seconds in timings.items()),
        )
        return rows

    @api.model
    def _store_issues(self, rows):
        cr = self.env.cr
        self.invalidate_model()
        cr.execute(SQL("DELETE FROM stock_lot_integrity_issue"))
        now = fields.Datetime.now()
        uid = self.env.uid
        for start in range(0, len(rows), 1000):
            values = [
                SQL(
                    "(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                    *(row.get(col) or None for col in ISSUE_COLUMNS),
                    now,
                    uid,
                    now,
                    uid,
                    now,
                )
                for row in rows[start : start + 1000]
            ]
            cr.execute(
                SQL(
                    """INSERT INTO stock_lot_integrity_issue
                       (kind, lot_id, product_id, company_id, quant_id, move_line_id, group_key,
                        description, found_date, create_uid, create_date, write_uid, write_date)
                       VALUES %s""",
                    SQL(", ").join(values),
                )
            )

    def _fetch(self, query):
        self.env.cr.execute(query)
        return self.env.cr.dictfetchall()

    # Duplicates: Odoo's rule (same product; a lot without company conflicts with every
    # company's lot of the product), numbers compared as the guarantee's key compares them
    # for products with an item tracking code (trimmed, NFKC, case-folded:
    # tools/lot_number.py), computed from the name itself (a stored key may be stale when
    # the name was changed outside the ORM).
    @api.model
    def _check_integrity_duplicates(self):
        rows = self._fetch(
            SQL(
                """
                WITH k AS (
                    SELECT l.id, l.name, l.product_id, l.company_id,
                           CASE WHEN pt.item_tracking_code_id IS NOT NULL
                                THEN lower(normalize(btrim(l.name), NFKC))
                                ELSE l.name END AS key
                      FROM stock_lot l
                      JOIN product_product pp ON pp.id = l.product_id
                      JOIN product_template pt ON pt.id = pp.product_tmpl_id
                ), d AS (
                    SELECT product_id, key FROM k GROUP BY product_id, key HAVING COUNT(*) > 1
                ), g AS (
                    SELECT k.* FROM k JOIN d USING (product_id, key)
                )
                SELECT g.id AS lot_id, g.name, g.product_id, g.company_id,
                       g.product_id || ':' || md5(g.key) AS group_key,
                       (SELECT string_agg(g2.name, ', ' ORDER BY g2.id) FROM g g2
                         WHERE g2.product_id = g.product_id AND g2.key = g.key
                           AND g2.id <> g.id) AS others
                  FROM g
                 WHERE EXISTS (
                        SELECT 1 FROM g g2
                         WHERE g2.product_id = g.product_id AND g2.key = g.key AND g2.id <> g.id
                           AND (g2.company_id IS NULL OR g.company_id IS NULL
                                OR g2.company_id = g.company_id))
                 ORDER BY g.product_id, g.key, g.id
                """
            )
        )
        rows += self._check_integrity_duplicates_left_out({row["lot_id"]: row for row in rows})
        for row in rows:
            row.update(
                kind="duplicate",
                description=self.env._(
                    "Number %(name)r has duplicates for the same product: %(others)s",
                    name=row["name"],
                    others=row["others"],
                ),
            )
        return rows

    @api.model
    def _check_integrity_duplicates_left_out(self, listed):
        """The lots left out of the guarantee (no key) with the lot they duplicate, compared
        by the guarantee's own key in Python (`lot_number_key`: SQL's `lower` doesn't fold
        `ß` to `ss` nor drop invisible characters), that the SQL comparison missed. A row
        joins the group of a lot already `listed` ({lot id: row})."""
        rows = []
        for group in self.env["stock.lot"].sudo()._item_tracking_duplicate_groups():
            kept = group[0]
            group_key = next(
                (listed[lot.id]["group_key"] for lot in group if lot.id in listed),
                f"{kept.product_id.id}:"
                + hashlib.md5(kept._item_tracking_get_name_key().encode()).hexdigest(),
            )
            for lot in group:
                if lot.id in listed:
                    continue
                row = {
                    "lot_id": lot.id,
                    "name": lot.name,
                    "product_id": lot.product_id.id,
                    "company_id": lot.company_id.id,
                    "group_key": group_key,
                    "others": ", ".join((group - lot).mapped("name")),
                }
                listed[lot.id] = row
                rows.append(row)
        return rows

    @api.model
    def _check_integrity_serial_quantity(self):
        rows = self._fetch(
            SQL(
                """
                SELECT q.lot_id, l.name, q.product_id,
                       COALESCE(l.company_id, MIN(q.company_id)) AS company_id,
                       SUM(q.quantity) AS quantity, COUNT(*) AS quants
                  FROM stock_quant q
                  JOIN stock_location loc ON loc.id = q.location_id
                  JOIN stock_lot l ON l.id = q.lot_id
                  JOIN product_product pp ON pp.id = q.product_id
                  JOIN product_template pt ON pt.id = pp.product_tmpl_id
                 WHERE pt.tracking = 'serial' AND loc.usage IN %(usages)s
              GROUP BY q.lot_id, l.name, l.company_id, q.product_id
                HAVING SUM(q.quantity) > 1
                """,
                usages=STOCK_USAGES,
            )
        )
        for row in rows:
            row.update(
                kind="serial_quantity",
                description=self.env._(
                    "Serial number %(name)r is on hand %(qty)s times (%(quants)s quants)",
                    name=row["name"],
                    qty=row["quantity"],
                    quants=row["quants"],
                ),
            )
        return rows

    @api.model
    def _check_integrity_negative_quants(self):
        rows = self._fetch(
            SQL(
                """
                SELECT q.id AS quant_id, q.lot_id, l.name, q.product_id, q.company_id,
                       q.quantity, loc.complete_name AS location
                  FROM stock_quant q
                  JOIN stock_location loc ON loc.id = q.location_id
                  JOIN stock_lot l ON l.id = q.lot_id
                 WHERE q.quantity < 0 AND loc.usage IN %(usages)s
                """,
                usages=STOCK_USAGES,
            )
        )
        for row in rows:
            row.update(
                kind="negative_quant",
                description=self.env._(
                    "Lot/serial number %(name)r has a negative quantity %(qty)s in %(location)s",
                    name=row["name"],
                    qty=row["quantity"],
                    location=row["location"],
                ),
            )
        return rows

    @api.model
    def _check_integrity_over_reserved(self):
        """A serial reserved above its quantity: quants with reserved > quantity, or more
        than one unit reserved on open move lines from stock."""
        rows = self._fetch(
            SQL(
                """
                SELECT q.id AS quant_id, q.lot_id, l.name, q.product_id, q.company_id,
                       q.quantity, q.reserved_quantity AS reserved
                  FROM stock_quant q
                  JOIN stock_lot l ON l.id = q.lot_id
                  JOIN product_product pp ON pp.id = q.product_id
                  JOIN product_template pt ON pt.id = pp.product_tmpl_id
                  JOIN stock_location loc ON loc.id = q.location_id
                 WHERE pt.tracking = 'serial' AND loc.usage IN %(usages)s
                   AND q.reserved_quantity > GREATEST(q.quantity, 0)
                UNION ALL
                SELECT NULL, ml.lot_id, l.name, ml.product_id,
                       COALESCE(l.company_id, MIN(ml.company_id)),
                       NULL, SUM(ml.quantity_product_uom)
                  FROM stock_move_line ml
                  JOIN stock_lot l ON l.id = ml.lot_id
                  JOIN product_product pp ON pp.id = ml.product_id
                  JOIN product_template pt ON pt.id = pp.product_tmpl_id
                  JOIN stock_location loc ON loc.id = ml.location_id
                 WHERE pt.tracking = 'serial' AND ml.state NOT IN ('done', 'cancel')
                   AND loc.usage IN %(usages)s
              GROUP BY ml.lot_id, l.name, l.company_id, ml.product_id
                HAVING SUM(ml.quantity_product_uom) > 1
                """,
                usages=STOCK_USAGES,
            )
        )
        for row in rows:
            row.update(
                kind="over_reserved",
                description=self.env._(
                    "Serial number %(name)r is reserved %(reserved)s times",
                    name=row["name"],
                    reserved=row["reserved"],
                )
                if row["quant_id"] is None
                else self.env._(
                    "Serial number %(name)r: a quant reserves %(reserved)s for a quantity "
                    "of %(qty)s",
                    name=row["name"],
                    reserved=row["reserved"],
                    qty=row["quantity"],
                ),
            )
        return rows

    @api.model
    def _check_integrity_blocked_reserved(self):
        rows = self._fetch(
            SQL(
                """
                SELECT NULL AS quant_id, ml.id AS move_line_id, ml.lot_id, l.name,
                       ml.product_id, ml.company_id, ml.reference, ml.quantity_product_uom AS qty
                  FROM stock_lot l
                  JOIN stock_move_line ml ON ml.lot_id = l.id
                  JOIN stock_location loc ON loc.id = ml.location_id
                 WHERE l.blocked AND ml.state NOT IN ('done', 'cancel')
                   AND loc.usage IN %(usages)s
                UNION ALL
                SELECT q.id, NULL, q.lot_id, l.name, q.product_id, q.company_id, NULL,
                       q.reserved_quantity
                  FROM stock_lot l
                  JOIN stock_quant q ON q.lot_id = l.id
                 WHERE l.blocked AND q.reserved_quantity > 0
                """,
                usages=STOCK_USAGES,
            )
        )
        for row in rows:
            row.update(
                kind="blocked_reserved",
                description=self.env._(
                    "Blocked number %(name)r is reserved by %(reference)s",
                    name=row["name"],
                    reference=row["reference"] or self.env._("a move line"),
                )
                if row["move_line_id"]
                else self.env._(
                    "Blocked number %(name)r: a quant reserves %(qty)s",
                    name=row["name"],
                    qty=row["qty"],
                ),
            )
        return rows

    # The status: what `tools.lot_status.replay` gives for the lot's whole history (the
    # function and history query of `stock.lot._item_tracking_recompute`), in batches.
    @api.model
    def _check_integrity_status(self):
        rows = []
        empty_status = replay([])[0]
        # Lots without any done move: the function's status of an empty history.
        rows += self._fetch(
            SQL(
                """
                SELECT l.id AS lot_id, l.name, l.product_id, l.company_id,
                       l.tracking_status AS status, %(empty)s AS expected
                  FROM stock_lot l
                 WHERE l.tracking_status <> %(empty)s
                   AND NOT EXISTS (SELECT 1 FROM stock_move_line ml
                                    WHERE ml.lot_id = l.id AND ml.state = 'done')
                """,
                empty=empty_status,
            )
        )
        self.env.cr.execute(SQL("SELECT MIN(id), MAX(id) FROM stock_lot"))
        low, high = self.env.cr.fetchone()
        for start in range(low or 0, (high or 0) + 1, STATUS_BATCH):
            rows += self._check_integrity_status_batch(start, start + STATUS_BATCH)
        labels = dict(
            self.env["stock.lot"]._fields["tracking_status"]._description_selection(self.env)
        )
        for row in rows:
            row.update(
                kind="status",
                description=self.env._(
                    "Number %(name)r has status %(status)s; its history gives %(expected)s",
                    name=row["name"],
                    status=labels.get(row["status"], row["status"]),
                    expected=labels.get(row["expected"], row["expected"]),
                ),
            )
        return rows

    @api.model
    def _check_integrity_status_batch(self, low, high):
        """The lots of ids in [low, high) with done moves whose status isn't what `replay`
        gives for their history. The history is `stock.lot._get_item_tracking_history_query`
        (what the recompute reads); the status depends only on the facts of STATUS_FACTS, so
        the lots are grouped by the sequence of those facts of their moves and by their
        status, and `replay` runs once per group."""
        history = self.env["stock.lot"]._get_item_tracking_history_query(
            SQL("ml.lot_id >= %s AND ml.lot_id < %s", low, high)
        )
        facts = SQL(", ").join(SQL.identifier("h", fact) for fact in STATUS_FACTS)
        self.env.cr.execute(
            SQL(
                """
                WITH h AS (%(history)s),
                s AS (SELECT h.lot_id,
                             jsonb_agg(jsonb_build_array(%(facts)s) ORDER BY h.date, h.line_id)
                                 AS moves
                        FROM h GROUP BY h.lot_id)
                SELECT s.moves, l.tracking_status, array_agg(l.id ORDER BY l.id)
                  FROM s JOIN stock_lot l ON l.id = s.lot_id
              GROUP BY s.moves, l.tracking_status
                """,
                history=history,
                facts=facts,
            )
        )
        wrong = {}
        for moves, status, lot_ids in self.env.cr.fetchall():
            moves = [
                {**OTHER_MOVE_KEYS, **dict(zip(STATUS_FACTS, move, strict=True))} for move in moves
            ]
            # as `_read_item_tracking_history_sql`: lines of no quantity are no moves
            moves = [
                move
                for move in moves
                if float_compare(move["quantity"], 0, precision_rounding=move["rounding"]) > 0
            ]
            expected = replay(moves)[0]
            if expected != status:
                wrong.update(dict.fromkeys(lot_ids, (status, expected)))
        if not wrong:
            return []
        self.env.cr.execute(
            SQL(
                "SELECT id, name, product_id, company_id FROM stock_lot WHERE id = ANY(%s)",
                list(wrong),
            )
        )
        return [
            {
                "lot_id": lot_id,
                "name": name,
                "product_id": product_id,
                "company_id": company_id,
                "status": wrong[lot_id][0],
                "expected": wrong[lot_id][1],
            }
            for lot_id, name, product_id, company_id in self.env.cr.fetchall()
        ]

    # A done move of a blocked number: a done move line of a lot dated inside a period in
    # which the lot was blocked. The add-on records blocking through the tracking of the
    # `blocked` field (each change is a mail tracking value on the lot, dated by its
    # message); the periods are rebuilt from them: a period runs from a change to True
    # (exclusive) to the next change to False (exclusive, or open); before its first change
    # the lot had that change's old value since its creation. A lot blocked without any
    # tracked change (tracking disabled at the block) has no known period: it is not checked
    # here (its reservations still are, by `_check_integrity_blocked_reserved`).
    @api.model
    def _check_integrity_blocked_done_moves(self):
        field = self.env["ir.model.fields"]._get("stock.lot", "blocked")
        rows = self._fetch(
            SQL(
                """
                WITH t AS (
                    SELECT msg.res_id AS lot_id, msg.date, v.id,
                           COALESCE(v.old_value_integer, 0) <> 0 AS old,
                           COALESCE(v.new_value_integer, 0) <> 0 AS new
                      FROM mail_tracking_value v
                      JOIN mail_message msg ON msg.id = v.mail_message_id
                     WHERE v.field_id = %(field)s AND msg.model = 'stock.lot'
                ), lots AS (
                    SELECT DISTINCT lot_id AS id FROM t
                ), ev AS (
                    SELECT lot_id, date, id, new AS blocked FROM t
                     UNION ALL
                    SELECT l.id, l.create_date, 0,
                           COALESCE((SELECT t.old FROM t WHERE t.lot_id = l.id
                                      ORDER BY t.date, t.id LIMIT 1), FALSE)
                      FROM stock_lot l JOIN lots ON lots.id = l.id
                ), periods AS (
                    SELECT lot_id, blocked, date AS start,
                           LEAD(date) OVER (PARTITION BY lot_id ORDER BY date, id) AS stop
                      FROM ev
                )
                SELECT ml.id AS move_line_id, ml.lot_id, l.name, ml.product_id, ml.company_id,
                       ml.reference, ml.date, p.start
                  FROM periods p
                  JOIN stock_move_line ml ON ml.lot_id = p.lot_id AND ml.state = 'done'
                  JOIN stock_lot l ON l.id = ml.lot_id
                 WHERE p.blocked AND ml.date > p.start
                   AND (p.stop IS NULL OR ml.date < p.stop)
                """,
                field=field.id,
            )
        )
        for row in rows:
            row.update(
                kind="blocked_done_move",
                description=self.env._(
                    "Number %(name)r was moved by %(reference)s on %(date)s while blocked "
                    "(since %(start)s)",
                    name=row["name"],
                    reference=row["reference"] or self.env._("a move line"),
                    date=row["date"],
                    start=row["start"],
                ),
            )
        return rows
