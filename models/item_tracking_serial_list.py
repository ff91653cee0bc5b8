from odoo import api, models
from odoo.tools import formatLang

from ..tools.serial_ranges import compress_serials, format_serial_range, format_serials

DELIVERY_SLIP_LOT_GROUP = "stock.group_lot_on_delivery_slip"


class ItemTrackingSerialList(models.AbstractModel):
    """The serial number lists printed on delivery slips and invoices (R002-12): consecutive
    numbers compressed into ranges (``SN-0001 - SN-0100 (100)``), "Not readable"
    registrations printed as such. Both reports call these methods; each reads its serials
    with one grouped query and builds the strings in Python, never a query per serial."""

    _name = "item.tracking.serial.list"
    _description = "Printed Serial Number Lists"

    @api.model
    def _print_serial_rows_limit(self):
        """Up to this many serials tracked in stock, a report keeps Odoo's one row per serial;
        beyond, it prints them as ranges."""
        return 10

    @api.model
    def _format_serials(self, names, not_readable_count=0):
        """The printed lines of serial `names`: one string a range or single serial, then the
        "Not readable" registrations (`not_readable_count` of them)."""
        lines = format_serials(names)
        if not_readable_count == 1:
            lines.append(self.env._("Not readable"))
        elif not_readable_count > 1:
            lines.append(self.env._("Not readable (%(count)s)", count=not_readable_count))
        return lines

    @api.model
    def _registration_groups(self, domain, groupby):
        """Rows of (group key records..., serial names, "Not readable" count) of the sales
        process registrations matching `domain`, grouped by `groupby`: one query."""
        registrations = self.env["sale.serial.registration"]
        if not registrations.has_access("read"):
            return
        rows = registrations._read_group(domain, groupby, ["name:array_agg", "__count"])
        for *keys, names, count in rows:
            names = [name for name in names if name]
            yield *keys, names, count - len(names)

    # ------------------------------------------------------------------ delivery slip

    @api.model
    def _delivery_slip_serials(self, picking):
        """What the delivery slip of `picking` prints under its lines, as a dict:

        - ``by_move``: {move id: block} of the sales process serials of a move, printed under
          its first move (line) row: those delivered, less the reversed and those a done
          return brought back; on a return, those it brings back;
        - ``by_product``: {product id: block} of the same serials by product, for the
          aggregated lines, plus the ranges of the lots tracked in stock when they are
          compressed;
        - ``compress_lots``: whether the slip prints the lots tracked in stock as ranges under
          aggregated lines instead of Odoo's one row per serial (more serials than
          :meth:`_print_serial_rows_limit`, lots on delivery slips enabled, no packages).

        A block is ``{"label": str, "lines": [str]}``; the template pops the blocks it prints.
        """
        picking.ensure_one()
        moves = picking.move_ids
        by_move_names = {}
        by_product_names = {}
        for move, return_move, state, names, not_readable in self._registration_groups(
            ["|", ("move_id", "in", moves.ids), ("return_move_id", "in", moves.ids)],
            ["move_id", "return_move_id", "state"],
        ):
            if return_move in moves:
                move = return_move  # the serials that a return brings back
            elif move not in moves or state == "reversed" or return_move.state == "done":
                continue  # units since returned print on the return, not on the delivery
            for key, target in ((move.id, by_move_names), (move.product_id.id, by_product_names)):
                entry = target.setdefault(key, [[], 0])
                entry[0] += names
                entry[1] += not_readable
        label = self.env._("Serial Numbers:")
        result = {
            "by_move": {
                key: {"label": label, "lines": self._format_serials(*entry)}
                for key, entry in by_move_names.items()
            },
            "by_product": {
                key: {"label": label, "lines": self._format_serials(*entry)}
                for key, entry in by_product_names.items()
            },
            "compress_lots": False,
        }
        if picking.state == "done" and not picking.has_packages:
            lot_blocks = self._delivery_slip_lot_blocks(picking.move_line_ids)
            if lot_blocks:
                result["compress_lots"] = True
                result["by_product"].update(lot_blocks)
        return result

    @api.model
    def _delivery_slip_lot_blocks(self, move_lines):
        """{product id: block} of the lots tracked in stock of done `move_lines`, serials as
        ranges and lots with their quantity, when lots print on delivery slips and there are
        more serial rows than :meth:`_print_serial_rows_limit`; else an empty dict."""
        if not move_lines or not self.env.user.has_group(DELIVERY_SLIP_LOT_GROUP):
            return {}
        rows = self.env["stock.move.line"]._read_group(
            [("id", "in", move_lines.ids), ("lot_id", "!=", False)],
            ["product_id", "product_uom_id", "lot_id"],
            ["quantity:sum"],
        )
        serial_rows = sum(1 for product, *_rest in rows if product.tracking == "serial")
        if serial_rows <= self._print_serial_rows_limit():
            return {}
        serials = {}
        lots = {}
        for product, uom, lot, quantity in rows:
            if product.tracking == "serial":
                serials.setdefault(product.id, []).append(lot.name)
            else:
                qty = formatLang(self.env, quantity, dp="Product Unit of Measure")
                lots.setdefault(product.id, []).append(f"{lot.name} ({qty} {uom.name})")
        blocks = {}
        for product_id, names in serials.items():
            blocks[product_id] = {
                "label": self.env._("Serial Numbers:"),
                "lines": self._format_serials(names),
            }
        for product_id, lines in lots.items():
            blocks[product_id] = {"label": self.env._("Lots:"), "lines": lines}
        return blocks

    # ------------------------------------------------------------------ invoice

    @api.model
    def _invoice_serials_by_line(self, lines):
        """{invoice line id: block} of the sales process serials that the invoice `lines`
        invoice, or that credit note `lines` credit."""
        lines = lines.filtered(lambda line: line.display_type == "product")
        if not lines:
            return {}
        entries = {}
        for invoice_line, refund_line, names, not_readable in self._registration_groups(
            ["|", ("invoice_line_id", "in", lines.ids), ("refund_line_id", "in", lines.ids)],
            ["invoice_line_id", "refund_line_id"],
        ):
            line = refund_line if refund_line in lines else invoice_line
            entry = entries.setdefault(line.id, [[], 0])
            entry[0] += names
            entry[1] += not_readable
        label = self.env._("Serial Numbers:")
        return {
            key: {"label": label, "lines": self._format_serials(*entry)}
            for key, entry in entries.items()
        }

    @api.model
    def _compress_invoiced_lot_values(self, lot_values):
        """`lot_values` of ``account.move._get_invoiced_lot_values`` with the serials of a
        product, when more than :meth:`_print_serial_rows_limit`, merged into range rows
        (``lot_name`` ``SN-0001 - SN-0100 (100)``, ``quantity`` the count, ``lot_id`` False);
        lots, and the serials of products with few, unchanged."""
        lot_ids = [values["lot_id"] for values in lot_values if values.get("lot_id")]
        if len(lot_ids) <= self._print_serial_rows_limit():
            return lot_values
        # Like Odoo's own lot rows, read as superuser (an invoicing user may have no stock
        # access); only the ids of lots that `lot_values` already prints are read.
        serial_lot_ids = set(
            self.env["stock.lot"]
            .sudo()
            ._search([("id", "in", lot_ids), ("product_id.tracking", "=", "serial")])
        )
        groups = {}
        for values in lot_values:
            key = (values.get("product_name"), values.get("uom_name"))
            is_serial = values.get("lot_id") in serial_lot_ids
            groups.setdefault(key, {"lots": [], "serials": []})[
                "serials" if is_serial else "lots"
            ].append(values)
        result = []
        for (product_name, uom_name), group in groups.items():
            result += group["lots"]
            serials = group["serials"]
            row_by_name = {values["lot_name"]: values for values in serials}
            if len(serials) <= self._print_serial_rows_limit() or len(row_by_name) < len(serials):
                result += serials
                continue
            for serial_range in compress_serials(list(row_by_name)):
                if serial_range.count == 1:
                    result.append(row_by_name[serial_range.first])
                    continue
                result.append(
                    {
                        "product_name": product_name,
                        "quantity": formatLang(
                            self.env, serial_range.count, dp="Product Unit of Measure"
                        ),
                        "uom_name": uom_name,
                        "lot_name": format_serial_range(serial_range),
                        "lot_id": False,
                    }
                )
        return result
