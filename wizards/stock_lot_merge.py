from markupsafe import Markup
from psycopg2 import errors

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL

from ..tools.lot_number import companies_conflict

MANAGER_GROUP = "stock_item_tracking.group_item_tracking_manager"


class StockLotMerge(models.TransientModel):
    """Merge lots/serial numbers that are one number (duplicates left from before the
    uniqueness guarantee): every quant, move line and reference of a duplicate goes to the
    kept lot, quants of one location are merged, both cards log it, the duplicate is deleted
    and the kept lot's status is redone from its whole history."""

    _name = "stock.lot.merge"
    _description = "Merge Duplicate Lot/Serial Numbers"

    lot_ids = fields.Many2many("stock.lot", string="Lots/Serial Numbers", required=True)
    keep_lot_id = fields.Many2one(
        "stock.lot",
        string="Keep",
        compute="_compute_keep_lot_id",
        store=True,
        readonly=False,
        domain="[('id', 'in', lot_ids)]",
        help="The lot that stays; the others are merged into it. By default the lot already "
        "in the uniqueness guarantee, else the oldest.",
    )

    @api.depends("lot_ids")
    def _compute_keep_lot_id(self):
        for wizard in self:
            if wizard.keep_lot_id in wizard.lot_ids._origin:
                continue
            lots = wizard.lot_ids._origin.sorted(lambda lot: (not lot.name_key, lot.id))
            wizard.keep_lot_id = lots[:1]

    @api.model
    def _check_merge_access(self):
        if not self.env.su and not self.env.user.has_group(MANAGER_GROUP):
            raise AccessError(
                self.env._("Only Item Tracking Managers can merge lots/serial numbers.")
            )

    @api.model_create_multi
    def create(self, vals_list):
        self._check_merge_access()
        return super().create(vals_list)

    def action_merge(self):
        self.ensure_one()
        self._check_merge_access()
        keep = self.keep_lot_id
        duplicates = self.lot_ids - keep
        if not keep or not duplicates:
            raise UserError(self.env._("Select at least two lots/serial numbers to merge."))
        self._merge(keep, duplicates)
        return {
            "type": "ir.actions.act_window",
            "res_model": "stock.lot",
            "res_id": keep.id,
            "view_mode": "form",
            "target": "current",
        }

    # ------------------------------------------------------------------
    @api.model
    def _merge(self, keep, duplicates):
        self._check_merge_access()
        self._check_mergeable(keep, duplicates)
        Lot = self.env["stock.lot"].sudo()
        keep, duplicates = keep.sudo(), duplicates.sudo()
        counts = self._count_references(duplicates)
        keep_name = keep.display_name
        for duplicate in duplicates:
            duplicate.message_post(
                body=Markup("%s")
                % self.env._(
                    "Duplicate number merged into %(lot)s (id %(id)s) by %(user)s.",
                    lot=keep_name,
                    id=keep.id,
                    user=self.env.user.name,
                ),
            )
        self.env.flush_all()
        self._move_references(keep, duplicates)
        self.env.invalidate_all()
        keep.message_post(
            body=Markup("%s")
            % self.env._(
                "Merged the duplicate numbers %(lots)s into this lot by %(user)s: %(quants)s "
                "quants, %(lines)s move lines and their other references moved here.",
                lots=", ".join(f"{lot.name} (id {lot.id})" for lot in duplicates),
                user=self.env.user.name,
                quants=counts["quants"],
                lines=counts["lines"],
            ),
        )
        Lot.browse(duplicates.ids).unlink()
        self.env["stock.quant"].sudo().search([("lot_id", "=", keep.id)])._merge_quants()
        self.env.invalidate_all()
        keep = Lot.browse(keep.id)
        self.env.add_to_compute(Lot._fields["location_id"], keep)
        keep._item_tracking_recompute()
        return keep

    @api.model
    def _check_merge_companies(self, lots):
        foreign = lots.sudo().filtered(
            lambda lot: lot.company_id and lot.company_id not in self.env.companies
        )
        if foreign:
            raise UserError(
                self.env._(
                    "These lots/serial numbers belong to companies you don't work in: %(lots)s",
                    lots=", ".join(foreign.mapped("display_name")),
                )
            )

    @api.model
    def _check_mergeable(self, keep, duplicates):
        lots = keep | duplicates
        self._check_merge_companies(lots)
        lots = lots.sudo()
        keep_key = keep.sudo()._item_tracking_get_name_key()
        others = lots.filtered(
            lambda lot: lot.product_id != keep.product_id
            or lot._item_tracking_get_name_key() != keep_key
            or not companies_conflict(lot.company_id.id, keep.company_id.id)
        )
        if others:
            raise UserError(
                self.env._(
                    "Only lots of one product with one number (and a company that conflicts) "
                    "can be merged into %(keep)s: %(lots)s",
                    keep=keep.display_name,
                    lots=", ".join(others.mapped("display_name")),
                )
            )
        if keep.company_id:
            self.env.cr.execute(
                SQL(
                    """SELECT 1 FROM stock_quant q
                         JOIN stock_location loc ON loc.id = q.location_id
                        WHERE q.lot_id = ANY(%(lots)s) AND loc.company_id IS NOT NULL
                          AND loc.company_id != %(company)s
                     UNION ALL
                       SELECT 1 FROM stock_move_line WHERE lot_id = ANY(%(lots)s)
                          AND company_id IS DISTINCT FROM %(company)s
                       LIMIT 1""",
                    lots=duplicates.ids,
                    company=keep.company_id.id,
                )
            )
            if self.env.cr.fetchone():
                raise UserError(
                    self.env._(
                        "%(keep)s belongs to %(company)s but the duplicates have stock of other "
                        "companies: keep the lot without company instead.",
                        keep=keep.display_name,
                        company=keep.company_id.name,
                    )
                )
        if keep.product_id.tracking == "serial":
            self._check_serial_single_place(lots)

    @api.model
    def _check_serial_single_place(self, lots):
        """A serial on hand as two lots (in two places, or twice in one) is two units: one of
        them must be corrected (inventory adjustment) before the numbers are merged."""
        self.env["stock.quant"].flush_model(["lot_id", "location_id", "quantity"])
        self.env.cr.execute(
            SQL(
                """SELECT q.lot_id, q.location_id, SUM(q.quantity) FROM stock_quant q
                     JOIN stock_location loc ON loc.id = q.location_id
                    WHERE q.lot_id = ANY(%s) AND loc.usage IN ('internal', 'transit')
                 GROUP BY q.lot_id, q.location_id HAVING SUM(q.quantity) > 0""",
                lots.ids,
            )
        )
        rows = self.env.cr.fetchall()
        if len({row[0] for row in rows}) > 1 or sum(row[2] for row in rows) > 1:
            places = ", ".join(
                f"{self.env['stock.lot'].browse(lot_id).name} @ "
                f"{self.env['stock.location'].browse(location_id).display_name}"
                for lot_id, location_id, _qty in rows
            )
            raise UserError(
                self.env._(
                    "Serial number %(lot)s is on hand in two places (%(places)s): correct one "
                    "of them with an inventory adjustment before merging.",
                    lot=lots[:1].name,
                    places=places,
                )
            )

    @api.model
    def _count_references(self, duplicates):
        Quant, Line = self.env["stock.quant"].sudo(), self.env["stock.move.line"].sudo()
        return {
            "quants": Quant.search_count([("lot_id", "in", duplicates.ids)]),
            "lines": Line.search_count([("lot_id", "in", duplicates.ids)]),
        }

    @api.model
    def _get_lot_foreign_keys(self):
        """[(table, column, other FK column of a relation table or None)]: every column that
        references stock_lot (many2one of any model, many2many relation tables)."""
        self.env.cr.execute(
            """SELECT cl.relname, att.attname,
                      (SELECT count(*) FROM pg_attribute a
                        WHERE a.attrelid = cl.oid AND a.attname = 'id' AND NOT a.attisdropped)
                 FROM pg_constraint con
                 JOIN pg_class cl ON cl.oid = con.conrelid
                 JOIN pg_attribute att ON att.attrelid = cl.oid AND att.attnum = con.conkey[1]
                WHERE con.contype = 'f' AND con.confrelid = 'stock_lot'::regclass"""
        )
        result = []
        for table, column, has_id in self.env.cr.fetchall():
            other = None
            if not has_id:
                self.env.cr.execute(
                    """SELECT att.attname FROM pg_constraint con
                         JOIN pg_attribute att ON att.attrelid = con.conrelid
                          AND att.attnum = con.conkey[1]
                        WHERE con.contype = 'f' AND con.conrelid = %s::regclass
                          AND att.attname != %s""",
                    [table, column],
                )
                row = self.env.cr.fetchone()
                other = row and row[0]
            result.append((table, column, other))
        return result

    @api.model
    def _move_references(self, keep, duplicates):
        cr = self.env.cr
        dup_ids = duplicates.ids
        for table, column, other in self._get_lot_foreign_keys():
            params = {
                "table": SQL.identifier(table),
                "col": SQL.identifier(column),
                "keep": keep.id,
                "dups": dup_ids,
            }
            if other:
                params["other"] = SQL.identifier(other)
                cr.execute(
                    SQL(
                        """UPDATE %(table)s t SET %(col)s = %(keep)s
                            WHERE t.%(col)s = ANY(%(dups)s) AND NOT EXISTS (
                                  SELECT 1 FROM %(table)s t2
                                   WHERE t2.%(col)s = %(keep)s AND t2.%(other)s = t.%(other)s)""",
                        **params,
                    )
                )
                cr.execute(SQL("DELETE FROM %(table)s WHERE %(col)s = ANY(%(dups)s)", **params))
                continue
            try:
                with cr.savepoint(flush=False):
                    cr.execute(
                        SQL(
                            "UPDATE %(table)s SET %(col)s = %(keep)s WHERE %(col)s = ANY(%(dups)s)",
                            **params,
                        )
                    )
            except errors.UniqueViolation:
                raise UserError(
                    self.env._(
                        "The duplicates of %(lot)s can't be merged: their %(table)s records "
                        "would be the same as the kept lot's. Correct them first.",
                        lot=keep.display_name,
                        table=table,
                    )
                ) from None
        self._move_document_references(keep, duplicates)

    @api.model
    def _move_document_references(self, keep, duplicates):
        """Chatter, attachments, activities, followers (res_model/res_id) and reference
        fields ('stock.lot,<id>') of the duplicates: to the kept lot."""
        cr = self.env.cr
        cr.execute(
            SQL(
                """DELETE FROM mail_followers f WHERE f.res_model = 'stock.lot'
                      AND f.res_id = ANY(%(dups)s) AND EXISTS (
                          SELECT 1 FROM mail_followers k WHERE k.res_model = 'stock.lot'
                             AND k.res_id = %(keep)s AND k.partner_id = f.partner_id)""",
                dups=duplicates.ids,
                keep=keep.id,
            )
        )
        done = set()
        for model in self.env.registry.values():
            if model._abstract or not model._auto:
                continue
            for field in model._fields.values():
                if not field.store or not field.column_type:
                    continue
                if field.type == "many2one_reference":
                    model_column = model._fields[field.model_field]
                    if not model_column.store or (model._table, field.name) in done:
                        continue
                    done.add((model._table, field.name))
                    cr.execute(
                        SQL(
                            """UPDATE %(table)s SET %(col)s = %(keep)s
                                WHERE %(model_col)s = 'stock.lot' AND %(col)s = ANY(%(dups)s)""",
                            table=SQL.identifier(model._table),
                            col=SQL.identifier(field.name),
                            model_col=SQL.identifier(field.model_field),
                            keep=keep.id,
                            dups=duplicates.ids,
                        )
                    )
                elif field.type == "reference" and (model._table, field.name) not in done:
                    done.add((model._table, field.name))
                    cr.execute(
                        SQL(
                            "UPDATE %(table)s SET %(col)s = %(new)s WHERE %(col)s = ANY(%(old)s)",
                            table=SQL.identifier(model._table),
                            col=SQL.identifier(field.name),
                            new=f"stock.lot,{keep.id}",
                            old=[f"stock.lot,{lot_id}" for lot_id in duplicates.ids],
                        )
                    )
