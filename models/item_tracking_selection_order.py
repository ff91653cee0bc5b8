from odoo import api, models
from odoo.tools import SQL


class ItemTrackingSelectionOrder(models.AbstractModel):
    """Selection fields grouped and sorted in the order of their selection, not by their
    technical value (Odoo orders groups by the stored value: "consumed" before "planned").

    The models list the fields in `_selection_order_fields`; their groups in lists, pivots
    and graphs (`_read_group`, with or without `group_expand`) and a list sorted by them
    (`search` order) follow the selection, e.g. the lots' lifecycle."""

    _name = "item.tracking.selection.order"
    _description = "Selection fields ordered as their selection"
    _selection_order_fields = ()

    @api.model
    def _selection_order_sql(self, fname, sql_field):
        """`sql_field` (the column of selection field `fname`) as its rank in the selection;
        an empty or unknown value last."""
        values = [value for value, _label in self._fields[fname]._description_selection(self.env)]
        return SQL(
            "CASE %s %s ELSE %s END",
            sql_field,
            SQL(" ").join(SQL("WHEN %s THEN %s", value, rank) for rank, value in enumerate(values)),
            len(values),
        )

    @api.model
    def _read_group_orderby(self, order, groupby_terms, query):
        terms = {
            spec: (
                self._selection_order_sql(spec, sql_field)
                if spec in self._selection_order_fields
                else sql_field
            )
            for spec, sql_field in groupby_terms.items()
        }
        return super()._read_group_orderby(order, terms, query)

    @api.model
    def _order_field_to_sql(self, alias, field_name, direction, nulls, query):
        if field_name not in self._selection_order_fields:
            return super()._order_field_to_sql(alias, field_name, direction, nulls, query)
        sql_field = self._field_to_sql(alias, field_name, query)
        if query.groupby:
            query.groupby = SQL("%s, %s", query.groupby, sql_field)
        return SQL("%s %s %s", self._selection_order_sql(field_name, sql_field), direction, nulls)
