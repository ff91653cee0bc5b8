from . import stock_lot_reject
from . import stock_lot_recall
from . import stock_lot_recall_line
