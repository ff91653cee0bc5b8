import { registry } from "@web/core/registry";
import { useService } from "@web/core/utils/hooks";
import { BooleanField, booleanField } from "@web/views/fields/boolean/boolean_field";

/**
 * The Blocked checkbox of the lots list: ticking it asks for the reason (the Block wizard,
 * `stock.lot.action_open_block`) instead of blocking at once; unticking it unblocks
 * (`stock.lot.action_unblock`). The server keeps both rules (managers only, a reason).
 */
export class LotBlockToggleField extends BooleanField {
    setup() {
        super.setup();
        this.action = useService("action");
        this.orm = useService("orm");
    }

    async refresh() {
        const record = this.props.record;
        await record.load();
        this.state.value = record.data[this.props.name];
    }

    async onChange(newValue) {
        const record = this.props.record;
        this.state.value = newValue;
        try {
            if (newValue) {
                const action = await this.orm.call(record.resModel, "action_open_block", [
                    [record.resId],
                ]);
                await this.action.doAction(action, { onClose: () => this.refresh() });
                return;
            }
            await this.orm.call(record.resModel, "action_unblock", [[record.resId]]);
        } catch (error) {
            await this.refresh();
            throw error;
        }
        await this.refresh();
    }
}

export const lotBlockToggleField = {
    ...booleanField,
    component: LotBlockToggleField,
    // Clickable in a read-only list row too (as boolean_toggle): only the view's readonly
    // modifier (not an Item Tracking Manager) disables it.
    extractProps(fieldInfo, dynamicInfo) {
        return { readonly: dynamicInfo.readonly };
    },
};

registry.category("fields").add("stock_lot_block_toggle", lotBlockToggleField);
