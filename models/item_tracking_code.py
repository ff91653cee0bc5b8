from contextlib import suppress

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError

from odoo.addons.base.models.ir_model import MODULE_UNINSTALL_FLAG

from ..tools.date_formula import (
    MAX_REACH_YEARS,
    DateFormulaError,
    apply_date_formula,
    check_date_formula_reach,
    find_backward_date,
    normalize_date_formula,
)

# Options that only make sense for numbers kept in stock (cleared by scope "sales", R002-05).
INVENTORY_ONLY_OPTIONS = (
    "specific_tracking",
    "strict_expiration",
    "expiration_date_required",
    "ignore_expiration",
    "warranty_formula",
    "warranty_date_required",
)


class ItemTrackingCode(models.Model):
    """A reusable serial/lot tracking policy assigned to products (BC Item Tracking Code)."""

    _name = "item.tracking.code"
    _description = "Item Tracking Code"
    _inherit = ["mail.thread"]
    _order = "name, id"
    _check_company_auto = True

    name = fields.Char(required=True, tracking=True)
    description = fields.Text()
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company",
        index=True,
        help="Leave empty to share the code between companies, like products.",
    )
    tracking = fields.Selection(
        [("serial", "By Unique Serial Number"), ("lot", "By Lots")],
        required=True,
        default="serial",
        tracking=True,
        help="Tracking mode of the products that use this code.",
    )
    scope = fields.Selection(
        [("inventory", "Inventory"), ("sales", "Sales process only")],
        required=True,
        default="inventory",
        tracking=True,
        help="Inventory: numbers are tracked from receipt to issue.\n"
        "Sales process only: serial numbers are registered on the delivery or the invoice; "
        "the product is not tracked in stock.",
    )
    specific_tracking = fields.Boolean(
        tracking=True,
        help="Every unit delivered or consumed must use an existing number that is on hand at "
        "the source location; lot quantities can't go negative.",
    )
    strict_expiration = fields.Boolean(
        string="Strict Expiration Posting",
        tracking=True,
        help="A number whose expiration date has passed can't be delivered to a customer or "
        "consumed in manufacturing (scrapping stays allowed).",
    )
    expiration_date_required = fields.Boolean(
        string="Manual Expiration Date Required",
        tracking=True,
        help="A receipt can't be validated until every new number has an expiration date "
        "entered by hand; no date is proposed.",
    )
    ignore_expiration = fields.Boolean(
        string="Ignore Expiration Dates",
        tracking=True,
        help="No expiration dates are computed for the products using this code.",
    )
    warranty_formula = fields.Char(
        tracking=True,
        help="Date formula applied to the delivery date to set the warranty date of the "
        "delivered numbers, e.g. 1Y, 6M, CM+1M, 1Y-1D (D, W, M, Q, Y; C = end of the "
        "current period).",
    )
    warranty_date_required = fields.Boolean(
        string="Manual Warranty Date Required",
        tracking=True,
        help="A delivery can't be validated until every delivered number has a warranty date "
        "entered on the operation.",
    )
    blank_issue_allowed = fields.Boolean(
        tracking=True,
        help="Sales process only: products may be delivered and invoiced with fewer registered "
        "serial numbers than the quantity.",
    )
    product_tmpl_ids = fields.One2many("product.template", "item_tracking_code_id", "Products")
    product_count = fields.Integer(compute="_compute_product_count")

    def _compute_product_count(self):
        counts = dict(
            self.env["product.template"]._read_group(
                [("item_tracking_code_id", "in", self.ids)],
                ["item_tracking_code_id"],
                ["__count"],
            )
        )
        for code in self:
            code.product_count = counts.get(code, 0)

    @api.constrains("name", "company_id")
    def _check_name_unique(self):
        duplicates = self.with_context(active_test=False)._read_group(
            [
                ("name", "in", self.mapped("name")),
                ("company_id", "in", self.company_id.ids + [False]),
            ],
            ["name", "company_id"],
            ["__count"],
            having=[("__count", ">", 1)],
        )
        if duplicates:
            raise ValidationError(
                self.env._(
                    "An item tracking code named %(names)s already exists in this company.",
                    names=", ".join(name for name, _company, _count in duplicates),
                )
            )

    @api.constrains("warranty_formula")
    def _check_warranty_formula(self):
        """Refuse invalid formulas, those that can move a date by more than 100 years
        (`check_date_formula_reach`), which would make deliveries fail, and those that give
        a warranty date before the delivery date (`-1Y`, `-CM`; negative terms inside a
        formula that ends on or after the delivery, as `1Y-1D` or `-CM+1Y`, are valid)."""
        for code in self.filtered("warranty_formula"):
            try:
                check_date_formula_reach(code.warranty_formula, MAX_REACH_YEARS)
                backward = find_backward_date(code.warranty_formula)
            except DateFormulaError as error:
                raise ValidationError(
                    self.env._(
                        "Invalid warranty date formula on %(code)s: %(reason)s",
                        code=code.display_name,
                        reason=error,
                    )
                ) from error
            if backward:
                raise ValidationError(
                    self.env._(
                        "Invalid warranty date formula on %(code)s: %(formula)s gives a "
                        "warranty date before the delivery date (a delivery on %(delivery)s "
                        "would get a warranty ending on %(warranty)s).",
                        code=code.display_name,
                        formula=code.warranty_formula,
                        delivery=backward[0].isoformat(),
                        warranty=backward[1].isoformat(),
                    )
                )

    @api.constrains("scope", "tracking", "blank_issue_allowed", *INVENTORY_ONLY_OPTIONS)
    def _check_scope_options(self):
        for code in self:
            if code.scope == "sales":
                if code.tracking != "serial":
                    raise ValidationError(
                        self.env._(
                            "%(code)s: serials in the sales process are tracked by unique "
                            "serial number.",
                            code=code.display_name,
                        )
                    )
                set_options = [opt for opt in INVENTORY_ONLY_OPTIONS if code[opt]]
                if set_options:
                    raise ValidationError(
                        self.env._(
                            "%(code)s: the options %(options)s only apply to numbers tracked "
                            "in inventory.",
                            code=code.display_name,
                            options=", ".join(code._fields[o].string for o in set_options),
                        )
                    )
            elif code.blank_issue_allowed:
                raise ValidationError(
                    self.env._(
                        "%(code)s: blank issue is only allowed for serials registered in the "
                        "sales process.",
                        code=code.display_name,
                    )
                )
            if code.ignore_expiration and (code.strict_expiration or code.expiration_date_required):
                raise ValidationError(
                    self.env._(
                        "%(code)s: expiration dates can't be both ignored and required or "
                        "strictly enforced.",
                        code=code.display_name,
                    )
                )

    @api.onchange("scope")
    def _onchange_scope(self):
        if self.scope == "sales":
            self.tracking = "serial"
            for option in INVENTORY_ONLY_OPTIONS:
                self[option] = False
        else:
            self.blank_issue_allowed = False

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            self._sanitize_vals(vals)
        return super().create(vals_list)

    def write(self, vals):
        self._sanitize_vals(vals)
        if {"tracking", "scope"} & vals.keys():
            changing = self.filtered(
                lambda c: c.tracking != vals.get("tracking", c.tracking)
                or c.scope != vals.get("scope", c.scope)
            )
            if changing:
                self.env["product.template"].with_context(active_test=False).search(
                    [("item_tracking_code_id", "in", changing.ids)]
                )._check_tracking_unlocked()
        return super().write(vals)

    @api.model
    def _sanitize_vals(self, vals):
        """Apply the implications of the scope (R002-04/05) to create/write values.

        Scope "sales" implies serial tracking and clears the inventory-only options; any other
        scope clears "blank issue allowed". Done here rather than in an onchange so that imports
        and RPC get the same result as the form.
        """
        if vals.get("scope") == "sales":
            vals["tracking"] = "serial"
            vals.update(dict.fromkeys(INVENTORY_ONLY_OPTIONS, False))
        elif vals.get("scope") == "inventory" and "blank_issue_allowed" not in vals:
            vals["blank_issue_allowed"] = False
        if vals.get("warranty_formula"):
            # An invalid formula is kept as typed: _check_warranty_formula refuses it with why.
            with suppress(DateFormulaError):
                vals["warranty_formula"] = normalize_date_formula(vals["warranty_formula"])

    def copy_data(self, default=None):
        vals_list = super().copy_data(default=default)
        for code, vals in zip(self, vals_list, strict=False):
            if "name" not in (default or {}):
                vals["name"] = self.env._("%s (copy)", code.name)
        return vals_list

    def action_view_products(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "stock.product_template_action_product"
        )
        action["domain"] = [("item_tracking_code_id", "=", self.id)]
        action["context"] = {"default_item_tracking_code_id": self.id}
        return action

    def unlink(self):
        if self.product_tmpl_ids and not self.env.context.get(MODULE_UNINSTALL_FLAG):
            raise UserError(
                self.env._(
                    "Item tracking codes %(codes)s are used by products; archive them instead.",
                    codes=", ".join(self.filtered("product_tmpl_ids").mapped("display_name")),
                )
            )
        return super().unlink()

    def _apply_warranty_formula(self, date, product):
        """The warranty date of `product`'s numbers delivered on `date`: this code's formula
        applied to `date` (False without a formula).

        Raise a UserError naming the product when the formula can't be applied (a formula
        saved before `_check_warranty_formula` refused it, or a date too close to the years
        1 or 9999), never a raw DateFormulaError or OverflowError.
        """
        self.ensure_one()
        if not self.warranty_formula:
            return False
        try:
            return apply_date_formula(self.warranty_formula, date)
        except (DateFormulaError, OverflowError) as error:
            raise UserError(
                self.env._(
                    "The warranty date of %(product)s can't be computed with the formula "
                    "%(formula)s of its item tracking code %(code)s: %(reason)s\n"
                    "Correct the formula of the code.",
                    product=product.display_name,
                    formula=self.warranty_formula,
                    code=self.display_name,
                    reason=error,
                )
            ) from error
