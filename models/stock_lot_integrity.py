"""One lot per number, guaranteed by PostgreSQL, and clean numbers (issue 15, items 1-2).

`name_key` is the number as the database compares it: the name as is for products without an
item tracking code (Odoo's rule), `tools.lot_number.lot_number_key` (trimmed, NFKC, case-folded)
for products with a code. An exclusion constraint (btree_gist) refuses two lots of one product
with the same key whose companies overlap: `int4range(company_id, company_id, '[]')` is
unbounded for a lot without company, which so conflicts with every company's lot (Odoo's own
rule). The key is written in SQL after the ORM's create/write, so that Odoo's Python check
(`_check_unique_lot`) still speaks first; the database only refuses what two transactions
created at the same moment. Lots that were duplicates before the add-on have no key (they are
left out of the guarantee until merged, see `stock.lot.merge`)."""

import logging
from collections import defaultdict

from psycopg2 import errors

from odoo import Command, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL
from odoo.tools.sql import column_exists

from ..tools.lot_number import (
    EMPTY,
    INVISIBLE,
    MAX_LENGTH,
    TOO_LONG,
    check_lot_number,
    companies_conflict,
    lot_number_key,
)

_logger = logging.getLogger(__name__)

NAME_KEY_EXCLUSION = "stock_lot_name_key_excl"
NAME_KEY_FALLBACK_INDEXES = ("stock_lot_name_key_company_uniq", "stock_lot_name_key_shared_uniq")
NAME_KEY_CONSTRAINTS = (NAME_KEY_EXCLUSION, *NAME_KEY_FALLBACK_INDEXES)


def _existing(records):
    """The records of `records` that exist: those the ORM holds in its cache (read or
    created by this transaction; deleting a record evicts it) without a query, the
    others checked by `exists()` (ids a caller gave may name nothing)."""
    unknown = records.browse(
        records.env.cache.get_missing_ids(records, records._fields["create_date"])
    )
    if not unknown:
        return records
    missing = set(unknown._ids) - set(unknown.exists()._ids)
    return records.browse(record_id for record_id in records._ids if record_id not in missing)


class StockLot(models.Model):
    _inherit = "stock.lot"

    name_key = fields.Char(
        string="Number Key",
        readonly=True,
        copy=False,
        help="The number as uniqueness compares it (trimmed and case-insensitive for products "
        "with an item tracking code). Empty for a duplicate number left from before: merge it.",
    )

    # ------------------------------------------------------------------
    # Schema: the key, the constraint, the numbers stored before
    # ------------------------------------------------------------------
    def init(self):
        res = super().init()
        self._item_tracking_fill_name_keys()
        self._item_tracking_ensure_name_key_constraint()
        return res

    @api.model
    def _item_tracking_coded_product_ids(self, product_ids=None):
        """Ids of the products (among `product_ids`) whose template has an item tracking code
        (SQL: also called at installation, before the ORM knows the column)."""
        cr = self.env.cr
        if not column_exists(cr, "product_template", "item_tracking_code_id"):
            return set()
        query = SQL(
            """SELECT pp.id FROM product_product pp
                 JOIN product_template pt ON pt.id = pp.product_tmpl_id
                WHERE pt.item_tracking_code_id IS NOT NULL"""
        )
        if product_ids is not None:
            query = SQL("%s AND pp.id = ANY(%s)", query, list(product_ids))
        cr.execute(query)
        return {row[0] for row in cr.fetchall()}

    @api.model
    def _item_tracking_fill_name_keys(self, product_ids=None):
        """Give a key to the lots without one (of `product_ids`), except those that would
        duplicate a lot already kept: the lot already in the guarantee, else the lowest id,
        is kept; the others stay without key (out of the guarantee until merged). Returns the
        ids left out. A few queries whatever the number of lots."""
        cr = self.env.cr
        self.flush_model(["name", "product_id", "company_id"])
        product_filter = SQL("")
        if product_ids is not None:
            product_filter = SQL("AND product_id = ANY(%s)", list(product_ids))
        cr.execute(SQL("SELECT 1 FROM stock_lot WHERE name_key IS NULL %s LIMIT 1", product_filter))
        if not cr.fetchone():
            return []
        coded = list(self._item_tracking_coded_product_ids(product_ids))
        cr.execute(
            "CREATE TEMP TABLE IF NOT EXISTS item_tracking_lot_keys"
            " (id int4, product_id int4, company_id int4, key varchar) ON COMMIT DROP"
        )
        cr.execute("TRUNCATE item_tracking_lot_keys")
        cr.execute(
            SQL(
                """INSERT INTO item_tracking_lot_keys
                   SELECT id, product_id, company_id, name FROM stock_lot
                    WHERE name_key IS NULL AND NOT product_id = ANY(%s) %s""",
                coded,
                product_filter,
            )
        )
        if coded:
            cr.execute(
                SQL(
                    """SELECT id, product_id, company_id, name FROM stock_lot
                        WHERE name_key IS NULL AND product_id = ANY(%s) %s""",
                    coded,
                    product_filter,
                )
            )
            rows = [
                (lot_id, product, company, lot_number_key(name))
                for lot_id, product, company, name in cr.fetchall()
            ]
            for start in range(0, len(rows), 10000):
                chunk = rows[start : start + 10000]
                cr.execute(
                    SQL(
                        """INSERT INTO item_tracking_lot_keys SELECT *
                             FROM unnest(%s::int4[], %s::int4[], %s::int4[], %s::varchar[])""",
                        [row[0] for row in chunk],
                        [row[1] for row in chunk],
                        [row[2] for row in chunk],
                        [row[3] for row in chunk],
                    )
                )
        cr.execute(
            """WITH keyed AS (
                    SELECT l.id, l.product_id, l.company_id, l.name_key AS key, TRUE AS kept
                      FROM stock_lot l
                      JOIN (SELECT DISTINCT product_id, key FROM item_tracking_lot_keys) t
                        ON t.product_id = l.product_id AND t.key = l.name_key
                    UNION ALL
                    SELECT id, product_id, company_id, key, FALSE FROM item_tracking_lot_keys
               )
               SELECT array_agg(id ORDER BY kept DESC, id),
                      array_agg(company_id ORDER BY kept DESC, id),
                      array_agg(kept ORDER BY kept DESC, id)
                 FROM keyed
             GROUP BY product_id, key
               HAVING count(*) > 1"""
        )
        left_out = []
        for ids, companies, kept_flags in cr.fetchall():
            kept = []
            for lot_id, company, already in zip(ids, companies, kept_flags, strict=True):
                if not already and any(companies_conflict(company, c) for c in kept):
                    left_out.append(lot_id)
                else:
                    kept.append(company)
        cr.execute(
            SQL(
                """UPDATE stock_lot l SET name_key = t.key FROM item_tracking_lot_keys t
                    WHERE l.id = t.id AND NOT t.id = ANY(%s)""",
                left_out,
            )
        )
        cr.execute("TRUNCATE item_tracking_lot_keys")
        self.invalidate_model(["name_key"])
        if left_out:
            _logger.warning(
                "%s lots/serial numbers duplicate the number of another lot of their product "
                "and are left out of the uniqueness guarantee until merged "
                "(Merge Duplicate Numbers): ids %s",
                len(left_out),
                left_out[:50],
            )
        return left_out

    @api.model
    def _item_tracking_ensure_name_key_constraint(self):
        """The exclusion constraint if PostgreSQL can have it (btree_gist), else the unique
        indexes that cover what they can (a warning is logged). Returns which is in place."""
        cr = self.env.cr
        cr.execute(
            "SELECT 1 FROM pg_constraint WHERE conname = %s AND conrelid = 'stock_lot'::regclass",
            [NAME_KEY_EXCLUSION],
        )
        if cr.fetchone():
            return "exclusion"
        try:
            with cr.savepoint(flush=False):
                self._item_tracking_create_name_key_exclusion()
        except Exception as exc:  # noqa: BLE001 - any failure means: use the fallback
            _logger.warning(
                "Could not create the exclusion constraint %s on stock_lot (%s): lot numbers "
                "are guaranteed unique per product and company by unique indexes instead, a "
                "lot without company is checked against the companies' lots in Python only.",
                NAME_KEY_EXCLUSION,
                exc,
            )
            self._item_tracking_create_name_key_fallback()
            return "indexes"
        return "exclusion"

    @api.model
    def _item_tracking_create_name_key_exclusion(self):
        cr = self.env.cr
        cr.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
        cr.execute(
            SQL(
                """ALTER TABLE stock_lot ADD CONSTRAINT %s EXCLUDE USING gist
                   (product_id WITH =, name_key WITH =,
                    int4range(company_id, company_id, '[]') WITH &&)""",
                SQL.identifier(NAME_KEY_EXCLUSION),
            )
        )
        for index in NAME_KEY_FALLBACK_INDEXES:
            cr.execute(SQL("DROP INDEX IF EXISTS %s", SQL.identifier(index)))

    @api.model
    def _item_tracking_create_name_key_fallback(self):
        cr = self.env.cr
        company_index, shared_index = NAME_KEY_FALLBACK_INDEXES
        cr.execute(
            SQL(
                """CREATE UNIQUE INDEX IF NOT EXISTS %s
                       ON stock_lot (product_id, name_key, company_id)
                    WHERE company_id IS NOT NULL""",
                SQL.identifier(company_index),
            )
        )
        cr.execute(
            SQL(
                """CREATE UNIQUE INDEX IF NOT EXISTS %s ON stock_lot (product_id, name_key)
                    WHERE company_id IS NULL""",
                SQL.identifier(shared_index),
            )
        )

    # ------------------------------------------------------------------
    # Python checks: Odoo's first, then the keys of products with a code
    # ------------------------------------------------------------------
    @api.constrains("name", "product_id", "company_id")
    def _check_unique_lot(self):
        res = super()._check_unique_lot()
        coded = self.sudo()._item_tracking_coded_lots()
        keys = {lot.id: lot_number_key(lot.name) for lot in coded}
        # A lot whose key is in the database already passed the constraint, which is this
        # check (the key was written with the lot, see `_item_tracking_prefill_name_keys`).
        coded = coded.filtered(lambda lot: lot.name_key != keys[lot.id])
        if not coded:
            return res
        candidates = [
            (lot.id, lot.product_id.id, lot.company_id.id, lot.name, keys[lot.id]) for lot in coded
        ]
        self.env.cr.execute(
            SQL(
                """SELECT id, product_id, company_id, name, name_key FROM stock_lot
                    WHERE product_id = ANY(%s) AND name_key = ANY(%s) AND NOT id = ANY(%s)""",
                coded.product_id.ids,
                list(set(keys.values())),
                coded.ids,
            )
        )
        existing = self.env.cr.fetchall()
        lines = set()
        by_key = defaultdict(list)
        for row in existing + candidates:
            by_key[row[1], row[4]].append(row)
        for (product_id, _key), rows in by_key.items():
            new = [row for row in rows if row[0] in keys]
            for row in new:
                others = [
                    other
                    for other in rows
                    if other[0] != row[0] and companies_conflict(row[2], other[2])
                ]
                if others:
                    product = self.env["product.product"].sudo().browse(product_id)
                    lines.add(
                        self.env._(
                            " - Product: %(product)s, Lot/Serial Number: %(lot)s (same number "
                            "as %(others)s)",
                            product=product.display_name,
                            lot=row[3],
                            others=", ".join(sorted(other[3] for other in others)),
                        )
                    )
        if lines:
            raise ValidationError(
                self.env._(
                    "The combination of lot/serial number and product must be unique within a "
                    "company including when no company is defined.\nThe following combinations "
                    "contain duplicates:\n%(error_lines)s",
                    error_lines="\n".join(sorted(lines)),
                )
            )
        return res

    @api.constrains("name", "product_id")
    def _check_item_tracking_lot_number(self):
        """The number of a lot of a product with a code is clean (whatever path set it)."""
        bad = [
            lot.name
            for lot in self.sudo()._item_tracking_coded_lots()
            if check_lot_number(lot.name)[0] != lot.name
        ]
        if bad:
            raise ValidationError(self._item_tracking_bad_numbers_message(bad))

    def _item_tracking_coded_lots(self):
        products = self.product_id
        coded = products.filtered(lambda product: product.product_tmpl_id.item_tracking_code_id)
        if coded == products:
            return self
        return self.filtered(lambda lot: lot.product_id in coded)

    # ------------------------------------------------------------------
    # Clean numbers
    # ------------------------------------------------------------------
    @api.model
    def _item_tracking_bad_numbers_message(self, numbers, reasons=None):
        reasons = reasons or {}
        labels = {
            EMPTY: self.env._("empty"),
            INVISIBLE: self.env._("control or invisible character"),
            TOO_LONG: self.env._("more than %(max)s characters", max=MAX_LENGTH),
        }
        return self.env._(
            "Invalid lot/serial numbers (a number can't be empty, hold tabs, line breaks, "
            "control or zero-width characters, nor exceed %(max)s characters): %(numbers)s",
            max=MAX_LENGTH,
            numbers=", ".join(
                f"{number!r} ({labels[reasons[number]]})" if number in reasons else repr(number)
                for number in numbers
            ),
        )

    @api.model
    def _item_tracking_clean_numbers(self, numbers, unique=True):
        """The cleaned `numbers` (a list, as typed, scanned, pasted or generated), or a
        UserError naming every bad number and, if `unique`, every number given twice."""
        cleaned, bad, reasons = [], [], {}
        for number in numbers:
            clean, reason = check_lot_number(number)
            if reason:
                bad.append(number)
                reasons[number] = reason
            cleaned.append(clean)
        if bad:
            raise UserError(self._item_tracking_bad_numbers_message(bad, reasons))
        if unique:
            self._item_tracking_check_no_repeats(cleaned)
        return cleaned

    @api.model
    def _item_tracking_check_no_repeats(self, numbers, product=None):
        """Refuse `numbers` (of `product`, named in the message) that repeat a number."""
        groups = defaultdict(list)
        for number in numbers:
            groups[lot_number_key(number)].append(number)
        repeated = [names for names in groups.values() if len(names) > 1]
        if repeated:
            label = product.display_name if product else ""
            raise UserError(
                self.env._(
                    "These lot/serial numbers are given more than once%(product)s: %(numbers)s",
                    product=f" ({label})" if label else "",
                    numbers="; ".join(" = ".join(names) for names in repeated),
                )
            )

    @api.model
    def _item_tracking_coded_products(self, product_ids):
        products = _existing(self.env["product.product"].sudo().browse(product_ids))
        return products.filtered(lambda p: p.product_tmpl_id.item_tracking_code_id)

    @api.model
    def _item_tracking_clean_create_vals(self, vals_list):
        """Clean the numbers of new lots of products with a code; refuse bad numbers and a
        batch that repeats a number for a product (naming them all)."""
        default_product = self.env.context.get("default_product_id")
        coded = self._item_tracking_coded_products(
            {vals.get("product_id") or default_product for vals in vals_list} - {False, None}
        )
        if not coded:
            return vals_list
        names, bad = defaultdict(list), []
        for vals in vals_list:
            product_id = vals.get("product_id") or default_product
            if product_id not in coded.ids or "name" not in vals:
                continue
            clean, reason = check_lot_number(vals["name"])
            if reason:
                bad.append((vals["name"], reason))
                continue
            vals["name"] = clean
            names[product_id, vals.get("company_id") or False].append(clean)
        if bad:
            raise UserError(self._item_tracking_bad_numbers_message([b[0] for b in bad], dict(bad)))
        # Odoo's company rule: lots of two companies may share a number, a lot without
        # company conflicts with every company's.
        by_product = defaultdict(dict)
        for (product_id, company), product_names in names.items():
            by_product[product_id][company] = product_names
        for product_id, companies in by_product.items():
            product = self.env["product.product"].browse(product_id)
            shared = companies.get(False, [])
            for company, product_names in companies.items():
                self._item_tracking_check_no_repeats(
                    product_names + (shared if company else []), product
                )
        return vals_list

    # ------------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------------
    @api.model_create_multi
    def create(self, vals_list):
        if not self.env.su and any("name_key" in vals for vals in vals_list):
            raise UserError(self.env._("The number key of a lot/serial number is computed."))
        if "default_name_key" in self.env.context:
            # The key is the add-on's to give (a context default would reach the INSERT).
            context = dict(self.env.context)
            del context["default_name_key"]
            self = self.with_env(self.env(context=context))
        vals_list = self._item_tracking_clean_create_vals(vals_list)
        vals_list = self._item_tracking_prefill_name_keys(vals_list)
        try:
            with self.env.cr.savepoint(flush=False):
                lots = super().create(vals_list)
        except (errors.ExclusionViolation, errors.UniqueViolation) as exc:
            if exc.diag.constraint_name not in NAME_KEY_CONSTRAINTS:
                raise
            raise self._item_tracking_name_key_vals_error(vals_list, exc) from None
        lots._item_tracking_set_name_keys()
        return lots

    @api.model
    def _item_tracking_prefill_name_keys(self, vals_list):
        """Give the new lots their key in the INSERT itself (one row version instead of an
        INSERT and an UPDATE) when no lot of the database nor of the batch has it: then only
        a lot that another transaction creates at the same moment can conflict, and the
        database refuses that one. A number that may conflict gets no key here, so that
        Odoo's Python check speaks first; `_item_tracking_set_name_keys` writes it after.
        One query."""
        default_product = self.env.context.get("default_product_id")
        candidates = [
            (vals, vals.get("product_id") or default_product)
            for vals in vals_list
            if isinstance(vals.get("name"), str) and "name_key" not in vals
        ]
        candidates = [(vals, product_id) for vals, product_id in candidates if product_id]
        if not candidates:
            return vals_list
        coded = set(
            self._item_tracking_coded_products({product_id for _vals, product_id in candidates}).ids
        )
        by_key = defaultdict(list)
        for vals, product_id in candidates:
            key = lot_number_key(vals["name"]) if product_id in coded else vals["name"]
            by_key[product_id, key].append(vals)
        once = [pair for pair, group in by_key.items() if len(group) == 1]
        if not once:
            return vals_list
        self.env.cr.execute(
            SQL(
                """SELECT v.product_id, v.key
                     FROM unnest(%s::int4[], %s::varchar[]) AS v(product_id, key)
                    WHERE EXISTS (SELECT 1 FROM stock_lot l
                                   WHERE l.product_id = v.product_id AND l.name_key = v.key)""",
                [product_id for product_id, _key in once],
                [key for _product_id, key in once],
            )
        )
        taken = set(self.env.cr.fetchall())
        keyed = {id(by_key[pair][0]): pair[1] for pair in once if pair not in taken}
        return [
            {**vals, "name_key": keyed[id(vals)]} if id(vals) in keyed else vals
            for vals in vals_list
        ]

    def _item_tracking_name_key_vals_error(self, vals_list, exc):
        """Odoo's ValidationError for a number that another transaction created at the same
        moment (the database refused the INSERT), naming it."""
        detail = exc.diag.message_detail or ""
        named = [vals for vals in vals_list if f", {vals.get('name_key')}, " in detail]
        products = self.env["product.product"].sudo()
        default_product = self.env.context.get("default_product_id")
        return self._item_tracking_duplicates_error(
            (products.browse(vals.get("product_id") or default_product), vals.get("name"))
            for vals in named or vals_list
        )

    def write(self, vals):
        if not self.env.su and "name_key" in vals:
            raise UserError(self.env._("The number key of a lot/serial number is computed."))
        if isinstance(vals.get("name"), str) or vals.get("name") is False:
            product_ids = (
                {vals["product_id"]} if vals.get("product_id") else set(self.product_id.ids)
            )
            coded_products = self._item_tracking_coded_products(product_ids)
            if coded_products:
                coded = self.filtered(
                    lambda lot: (vals.get("product_id") or lot.product_id.id) in coded_products.ids
                )
                clean = self._item_tracking_clean_numbers([vals["name"]])[0]
                if coded != self:
                    res = super(StockLot, self - coded).write(vals)
                    return coded.write({**vals, "name": clean}) and res
                vals = {**vals, "name": clean}
        if not {"product_id", "company_id"} & vals.keys():
            res = super().write(vals)
            if "name" in vals:
                self._item_tracking_set_name_keys()
            return res
        # The key leaves the constraint while the ORM writes (Odoo's check flushes the
        # product/company first and must be the one to refuse), and comes back after.
        self.flush_recordset(["name_key"])
        self.env.cr.execute(
            SQL(
                "UPDATE stock_lot SET name_key = NULL WHERE id = ANY(%s) AND name_key IS NOT NULL"
                " RETURNING id",
                self.ids,
            )
        )
        keyed = self.browse(row[0] for row in self.env.cr.fetchall())
        self.invalidate_recordset(["name_key"])
        res = super().write(vals)
        keyed._item_tracking_set_name_keys()
        if keyed != self:
            self._item_tracking_fill_name_keys(self.product_id.ids)
        return res

    def unlink(self):
        products = self.product_id
        res = super().unlink()
        # A lot left out of the guarantee may be alone with its number now.
        self._item_tracking_fill_name_keys(products.ids)
        return res

    def _item_tracking_get_name_key(self):
        self.ensure_one()
        return self._item_tracking_name_keys()[self.id]

    def _item_tracking_name_keys(self):
        """{lot id: the number as the database compares it} (see the module's docstring)."""
        coded = set(self.sudo()._item_tracking_coded_lots().ids)
        return {lot.id: lot_number_key(lot.name) if lot.id in coded else lot.name for lot in self}

    def _item_tracking_set_name_keys(self, keyed_only=False):
        """Write the keys of these lots in SQL (after the ORM, whose Python checks spoke
        first). A number that another transaction committed at the same moment is refused
        here by the database, turned into Odoo's ValidationError naming the number.
        `keyed_only`: leave the lots without key (duplicates of before) without."""
        lots = _existing(self)
        keys = lots._item_tracking_name_keys()
        # Those written with their key (`_item_tracking_prefill_name_keys`) are left alone.
        lots = lots.filtered(lambda lot: lot.name_key != keys[lot.id])
        if not lots:
            return
        keys = {lot.id: keys[lot.id] for lot in lots}
        cr = self.env.cr
        try:
            with cr.savepoint(flush=False):
                lots.flush_recordset(["name", "product_id", "company_id"])
                cr.execute(
                    SQL(
                        """UPDATE stock_lot l SET name_key = v.key
                             FROM unnest(%s::int4[], %s::varchar[]) AS v(id, key)
                            WHERE l.id = v.id AND l.name_key IS DISTINCT FROM v.key %s""",
                        list(keys),
                        list(keys.values()),
                        SQL("AND l.name_key IS NOT NULL") if keyed_only else SQL(""),
                    )
                )
        except (errors.ExclusionViolation, errors.UniqueViolation) as exc:
            if exc.diag.constraint_name not in NAME_KEY_CONSTRAINTS:
                raise
            raise self._item_tracking_name_key_error(lots, keys, exc) from None
        lots.invalidate_recordset(["name_key"])

    def _item_tracking_name_key_error(self, lots, keys, exc):
        detail = exc.diag.message_detail or ""
        named = lots.filtered(lambda lot: f", {keys[lot.id]}, " in detail) or lots
        return self._item_tracking_duplicates_error(
            (lot.sudo().product_id, lot.name) for lot in named
        )

    @api.model
    def _item_tracking_duplicates_error(self, pairs):
        """Odoo's own ValidationError for duplicate numbers, from (product, number) pairs."""
        return ValidationError(
            self.env._(
                "The combination of lot/serial number and product must be unique within a "
                "company including when no company is defined.\nThe following combinations "
                "contain duplicates:\n%(error_lines)s",
                error_lines="\n".join(
                    self.env._(
                        " - Product: %(product)s, Lot/Serial Number: %(lot)s",
                        product=product.display_name,
                        lot=name,
                    )
                    for product, name in pairs
                ),
            )
        )

    # ------------------------------------------------------------------
    # Duplicates of before: listed and merged
    # ------------------------------------------------------------------
    def action_merge_duplicates(self):
        """Open the merge of these duplicates (the list action "Merge Duplicate Numbers", the
        Serial Integrity report's duplicate rows)."""
        self.env["stock.lot.merge"]._check_merge_access()
        self.env["stock.lot.merge"]._check_merge_companies(self)
        if len(self) < 2:
            raise UserError(self.env._("Select at least two lots/serial numbers to merge."))
        wizard = self.env["stock.lot.merge"].create({"lot_ids": [Command.set(self.ids)]})
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Merge Duplicate Numbers"),
            "res_model": "stock.lot.merge",
            "res_id": wizard.id,
            "view_mode": "form",
            "target": "new",
        }

    @api.model
    def _item_tracking_duplicate_groups(self):
        """[lots]: each lot left out of the guarantee (no key) with the lot it duplicates,
        the kept one first (for the integrity audit). Three queries."""
        self.flush_model(["name", "product_id", "company_id"])
        self.env.cr.execute("SELECT id FROM stock_lot WHERE name_key IS NULL ORDER BY id")
        left_out = self.sudo().browse([row[0] for row in self.env.cr.fetchall()])
        if not left_out:
            return []
        keys = left_out._item_tracking_name_keys()
        self.env.cr.execute(
            SQL(
                """SELECT v.id, k.id, k.company_id, v.company_id
                     FROM unnest(%s::int4[], %s::int4[], %s::varchar[], %s::int4[])
                          AS v(id, product_id, key, company_id)
                     JOIN stock_lot k ON k.product_id = v.product_id AND k.name_key = v.key""",
                left_out.ids,
                [lot.product_id.id for lot in left_out],
                [keys[lot.id] for lot in left_out],
                [lot.company_id.id or None for lot in left_out],
            )
        )
        groups = defaultdict(list)
        for dup_id, kept_id, kept_company, dup_company in self.env.cr.fetchall():
            if companies_conflict(kept_company, dup_company):
                groups[kept_id].append(dup_id)
        return [self.browse([kept, *dups]) for kept, dups in groups.items()]
