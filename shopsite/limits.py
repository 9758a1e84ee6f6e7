"""The shop's one set of bounds on money and quantities.

Every place a price, a quantity or a number of lines enters the shop (the API,
the admin, the forms, the services behind them) checks these, and the message
contracts refuse anything beyond them. They are chosen so that the biggest
order they allow still fits the money columns of every service
(``DecimalField(max_digits=12, decimal_places=2)``, up to 9,999,999,999.99):
an order that was accepted can never fail a consumer or a page.
"""

from decimal import Decimal

#: The money columns' capacity: twelve digits, two of them after the point.
MONEY_DIGITS = 12
MONEY_PLACES = 2

#: The highest price of one product.
MAX_PRICE = Decimal("999999.99")
#: The most units of one product in one cart, and so in one order line.
MAX_QUANTITY = 100
#: The most different products in one cart, and so in one order.
MAX_LINES = 50
#: Units of one product on hand: far above any real shelf, well inside every database's integer column.
MAX_STOCK = 10_000_000
#: The biggest line total and order total these allow.
MAX_LINE_TOTAL = MAX_PRICE * MAX_QUANTITY
MAX_ORDER_TOTAL = MAX_LINE_TOTAL * MAX_LINES

assert MAX_ORDER_TOTAL < Decimal(10) ** (MONEY_DIGITS - MONEY_PLACES), "an order total must fit the money columns"

#: The longest field of a postal address (the name on it, a street line, a city, a region, a postal code).
ADDRESS_NAME_LENGTH = 150
ADDRESS_LINE_LENGTH = 200
ADDRESS_CITY_LENGTH = 100
ADDRESS_REGION_LENGTH = 100
ADDRESS_POSTAL_CODE_LENGTH = 20
#: An address written as free text, from before addresses had fields: the checkout took at most this much.
ADDRESS_TEXT_LENGTH = 500
#: The most addresses a customer keeps in their address book.
MAX_SAVED_ADDRESSES = 20
