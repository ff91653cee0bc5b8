# Pure-Python helpers: standard library only, must never import odoo.
