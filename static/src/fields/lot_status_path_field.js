import { registry } from "@web/core/registry";
import { StatusBarField, statusBarField } from "@web/views/fields/statusbar/statusbar_field";

/**
 * The lot card's status bar: the statuses of this lot's own path (`status_path`, computed
 * from its status history), in lifecycle order; a rejected lot that was never shipped
 * shows no Shipped.
 */
export class LotStatusPathField extends StatusBarField {
    getAllItems() {
        const items = super.getAllItems();
        const path = this.props.record.data.status_path;
        if (!path) {
            return items;
        }
        const visible = path.split(",");
        return items.filter((item) => item.isSelected || visible.includes(item.value));
    }
}

export const lotStatusPathField = {
    ...statusBarField,
    component: LotStatusPathField,
};

registry.category("fields").add("stock_lot_status_path", lotStatusPathField);
