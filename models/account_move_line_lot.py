from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import float_repr

# Move types whose lines store lots: customer invoices/credit notes, vendor bills/refunds.
LOT_ALLOCATION_MOVE_TYPES = ("out_invoice", "out_refund", "in_invoice", "in_refund")
BILL_MOVE_TYPES = ("in_invoice", "in_refund")


class AccountMoveLineLot(models.Model):
    """A lot/serial number tracked in stock and the quantity of it that an invoice line
    invoices (or a vendor bill line bills), stored so that a reprinted invoice never changes."""

    _name = "account.move.line.lot"
    _description = "Invoiced Lot/Serial Number"
    _order = "account_move_line_id, sequence, id"
    _check_company_auto = True

    sequence = fields.Integer(default=10)
    account_move_line_id = fields.Many2one(
        "account.move.line", "Invoice Line", required=True, index=True, ondelete="cascade"
    )
    account_move_id = fields.Many2one(
        related="account_move_line_id.move_id", string="Invoice", store=True, index=True
    )
    company_id = fields.Many2one(related="account_move_line_id.company_id", store=True, index=True)
    # The lot's product: the line's product, or a component of the kit that the line invoices.
    product_id = fields.Many2one(related="lot_id.product_id", store=True)
    lot_id = fields.Many2one(
        "stock.lot",
        "Lot/Serial Number",
        required=True,
        index=True,
        check_company=True,
        ondelete="restrict",
    )
    # Read as Odoo prints the lot of an invoice (lot.sudo()): invoicing users may lack stock
    # access; the record rule of this model already limits the reader to its companies.
    lot_name = fields.Char(related="lot_id.name", string="Lot/Serial Number Name")
    quantity = fields.Float(digits="Product Unit of Measure", required=True)
    product_uom_id = fields.Many2one(related="product_id.uom_id", string="Unit")

    @api.depends("lot_name", "quantity", "product_id.tracking")
    def _compute_display_name(self):
        for allocation in self:
            name = allocation.lot_name or ""
            if allocation.product_id.tracking != "serial" or allocation.quantity != 1:
                precision = self.env["decimal.precision"].precision_get("Product Unit of Measure")
                qty = float_repr(allocation.quantity, precision).rstrip("0").rstrip(".")
                name = f"{name} ({qty})"
            allocation.display_name = name

    @api.constrains("lot_id", "account_move_line_id")
    def _check_lot_product(self):
        """The lot is one of the products the line invoices (itself or a kit component)."""
        lines = self.account_move_line_id
        targets = lines._get_lot_allocation_targets()
        wrong = self.filtered(
            lambda a: a.lot_id.product_id not in targets.get(a.account_move_line_id, {})
        )
        if wrong:
            raise ValidationError(
                self.env._(
                    "Lots/serial numbers %(lots)s are not of a product that their invoice "
                    "line invoices.",
                    lots=", ".join(wrong.mapped("lot_name")),
                )
            )

    @api.model_create_multi
    def create(self, vals_list):
        if not self.env.su:
            # Refused before anything is read or written for the new rows.
            lines = self.env["account.move.line"].browse(
                {
                    vals["account_move_line_id"]
                    for vals in vals_list
                    if vals.get("account_move_line_id")
                }
            )
            self.browse()._check_lot_allocation_user_edit(create=True, moves=lines.move_id)
        allocations = super().create(vals_list)
        if not self.env.su:
            allocations.account_move_line_id._mark_lot_allocation_edited()
        return allocations

    def write(self, vals):
        if not self.env.su:
            self._check_lot_allocation_user_edit(lot_changed="lot_id" in vals)
        res = super().write(vals)
        if not self.env.su:
            self.account_move_line_id._mark_lot_allocation_edited()
        return res

    def unlink(self):
        lines = self.account_move_line_id
        if not self.env.su:
            self._check_lot_allocation_user_edit()
        res = super().unlink()
        if not self.env.su:
            lines.exists()._mark_lot_allocation_edited()
        return res

    def _check_lot_allocation_user_edit(self, create=False, lot_changed=False, moves=None):
        """A user changes the lots of draft invoices only; on vendor bills, the lots are those
        of the receipts (R001-39/40): only their quantities can be changed or lines deleted."""
        moves = self.account_move_id if moves is None else moves
        not_draft = moves.filtered(lambda m: m.state != "draft")
        if not_draft:
            raise UserError(
                self.env._(
                    "The lots/serial numbers of %(moves)s can no longer be changed: they are "
                    "not drafts.",
                    moves=", ".join(not_draft.mapped("display_name")),
                )
            )
        bills = moves.filtered(lambda m: m.move_type in BILL_MOVE_TYPES)
        if bills and (create or lot_changed):
            raise UserError(
                self.env._(
                    "The lots/serial numbers of vendor bills %(moves)s are those received on "
                    "their receipts: only their quantities can be changed, or lines deleted.",
                    moves=", ".join(bills.mapped("display_name")),
                )
            )
