from . import report_lot_history
