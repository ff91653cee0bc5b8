{
    "name": "Item Tracking",
    "summary": "Serial and lot tracking policies, information cards, assembly "
    "linking and serials in the sales process",
    "version": "18.0.1.0.0",
    "development_status": "Alpha",
    "category": "Inventory/Inventory",
    "website": "https://github.com/stock-item-tracking/stock_item_tracking",
    "author": "stock_item_tracking team",
    "maintainers": [],
    "license": "LGPL-3",
    "application": False,
    "installable": True,
    "depends": [
        "stock",
        "mrp",
        "sale_stock",
        "purchase_stock",
        "product_expiry",
        "stock_account",
        "mrp_product_expiry",
    ],
    "data": [
        "security/item_tracking_groups.xml",
        "security/ir.model.access.csv",
        "security/item_tracking_security.xml",
        "views/item_tracking_code_views.xml",
        "views/product_template_views.xml",
        "views/stock_lot_views.xml",
        "views/stock_move_line_views.xml",
        "views/res_config_settings_views.xml",
        "views/item_tracking_menus.xml",
    ],
    "demo": [
        "demo/item_tracking_demo.xml",
    ],
    "assets": {
        "web.assets_tests": [
            "stock_item_tracking/static/tests/tours/**/*",
        ],
    },
}
