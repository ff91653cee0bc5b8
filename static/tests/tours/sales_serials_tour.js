import { registry } from "@web/core/registry";

// Delivery of two units of a sales-process serial product: Validate opens the registration
// dialog; three serials are scanned (a scanner types the serial and sends Enter or Tab), one
// is scanned again in Remove mode, and the delivery is validated with the two left.
registry.category("web_tour.tours").add("stock_item_tracking_sales_serials_tour", {
    steps: () => [
        {
            trigger: ".o_form_statusbar button[name=button_validate]:visible",
            run: "click",
        },
        {
            content: "the dialog asks for two serials",
            trigger: ".modal .o_field_widget[name=summary]:contains(0 of 2 registered)",
        },
        {
            content: "a scanner ending with Enter",
            trigger: ".modal .o_field_widget[name=scan] input",
            run: "edit TOUR-SN-1 && press Enter",
        },
        {
            trigger: ".modal .o_field_widget[name=scan_message]:contains(TOUR-SN-1 added)",
        },
        {
            content: "a scanner ending with Tab",
            trigger: ".modal .o_field_widget[name=scan] input",
            run: "edit TOUR-SN-2 && press Tab",
        },
        {
            trigger: ".modal .o_field_widget[name=scan_message]:contains(TOUR-SN-2 added)",
        },
        {
            trigger: ".modal .o_field_widget[name=scan] input",
            run: "edit TOUR-SN-3 && press Enter",
        },
        {
            content: "one serial too many is listed",
            trigger: ".modal .o_field_widget[name=summary]:contains(3 of 2 registered)",
        },
        {
            trigger: ".modal .o_field_widget[name=scan_mode] input[data-value=remove]",
            run: "click",
        },
        {
            trigger: ".modal .o_field_widget[name=scan] input",
            run: "edit TOUR-SN-2 && press Enter",
        },
        {
            trigger: ".modal .o_field_widget[name=scan_message]:contains(TOUR-SN-2 removed)",
        },
        {
            content: "two serials are left, TOUR-SN-2 is gone",
            trigger: ".modal .o_field_widget[name=summary]:contains(2 of 2 registered)",
        },
        {
            trigger: ".modal .o_data_row:contains(TOUR-SN-3)",
        },
        {
            trigger: ".modal:not(:has(.o_data_row:contains(TOUR-SN-2)))",
        },
        {
            trigger: ".modal button[name=action_confirm]:contains(Register and Validate)",
            run: "click",
        },
        {
            trigger: "body:not(:has(.modal))",
        },
        {
            content: "the delivery is done",
            trigger: ".o_statusbar_status button.o_arrow_button_current:contains(Done)",
        },
        {
            trigger: ".o_form_view .oe_stat_button[name=action_view_serial_registrations]:contains(2)",
        },
    ],
});

// The sales order: Create Invoice proposes the delivered serials on the invoice line.
registry.category("web_tour.tours").add("stock_item_tracking_sales_serials_invoice_tour", {
    steps: () => [
        {
            trigger: ".o_form_statusbar button#create_invoice",
            run: "click",
        },
        {
            trigger: ".modal button[name=create_invoices]",
            run: "click",
        },
        {
            content: "the draft invoice shows the delivered serials on its line",
            trigger:
                ".o_field_widget[name=invoice_line_ids] .o_data_row " +
                "td[name=serial_registration_ids]:contains(TOUR-SN-1):contains(TOUR-SN-3)",
        },
        {
            trigger:
                ".o_field_widget[name=invoice_line_ids]:not(:has(.o_tag:contains(TOUR-SN-2)))",
        },
        {
            trigger: ".oe_stat_button[name=action_view_serial_registrations]:contains(2)",
        },
    ],
});
