from . import report_lot_history
from . import stock_lot_unit_cost_report
