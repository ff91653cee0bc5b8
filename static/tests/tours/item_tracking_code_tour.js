import { registry } from "@web/core/registry";

// Inventory > Configuration > Item Tracking Codes: create a sales-process serial code and
// check that the form applies the scope's implications (R002-04/05) before saving.
registry.category("web_tour.tours").add("stock_item_tracking_code_tour", {
    steps: () => [
        {
            trigger: ".o_list_button_add",
            run: "click",
        },
        {
            trigger: ".o_field_widget[name=name] input",
            run: "edit Tour sales serials",
        },
        {
            trigger: ".o_field_widget[name=tracking] input[data-value=lot]",
            run: "click",
        },
        {
            trigger: ".o_field_widget[name=specific_tracking] input",
            run: "click",
        },
        {
            trigger: ".o_field_widget[name=scope] input[data-value=sales]",
            run: "click",
        },
        {
            content: "scope 'sales' selected serial tracking and hid the inventory options",
            trigger: ".o_field_widget[name=tracking] input[data-value=serial]:checked",
        },
        {
            trigger: ".o_field_widget[name=blank_issue_allowed] input",
            run: "click",
        },
        {
            trigger: ".o_form_button_save",
            run: "click",
        },
        {
            trigger: ".o_form_saved",
        },
    ],
});

// Lot form: an Item Tracking Manager blocks a lot with a reason.
registry.category("web_tour.tours").add("stock_item_tracking_block_tour", {
    steps: () => [
        {
            trigger: ".o_field_widget[name=blocked] input",
            run: "click",
        },
        {
            trigger: ".o_field_widget[name=blocked_reason] textarea",
            run: "edit Tour: dented casing",
        },
        {
            trigger: ".o_form_button_save",
            run: "click",
        },
        {
            trigger: ".o_form_saved",
        },
        {
            content: "the blocked ribbon is shown",
            trigger: ".ribbon:contains(Blocked)",
        },
    ],
});
