import itertools
import os
import secrets
from decimal import Decimal

from django.core.management.base import BaseCommand
from django.db import IntegrityError

from accounts import services as accounts
from catalog import services as catalog
from shopsite import contracts
from shopsite.errors import ApplicationError

CATEGORIES = {
    "kitchen": ["Mug", "Teapot", "Chef's Knife", "Cutting Board", "Espresso Cups", "Salad Bowl"],
    "home": ["Throw Blanket", "Scented Candle", "Table Lamp", "Wall Clock", "Cushion", "Plant Pot"],
    "outdoor": ["Water Bottle", "Daypack", "Camping Mug", "Head Torch", "Picnic Blanket", "Trail Map"],
    "stationery": ["Notebook", "Fountain Pen", "Desk Organiser", "Sketchbook", "Pencil Set", "Planner"],
    "apparel": ["T-Shirt", "Hoodie", "Beanie", "Socks", "Tote Bag", "Rain Jacket"],
}
FINISHES = ["Classic", "Oak"]
DEMO_ADDRESS = contracts.Address(
    name="Casey Customer", line1="742 Evergreen Terrace", city="Springfield", region="OR", postal_code="97477",
    country="US",
)


def demo_products():
    """A few dozen products with stable SKUs, prices and stock, so loading twice changes nothing."""
    for number, (finish, (category, names)) in enumerate(itertools.product(FINISHES, CATEGORIES.items())):
        for offset, name in enumerate(names):
            seed = number * 6 + offset
            yield {
                "sku": f"{category[:3].upper()}-{finish[:2].upper()}-{offset + 1:02d}",
                "name": f"{finish} {name}",
                "price": Decimal(5 + (seed * 37) % 95) + Decimal("0.99"),
                "stock": 5 + (seed * 13) % 46,
                "category": category,
                "description": f"A {finish.lower()} {name.lower()} from the demo catalog.",
            }


class Command(BaseCommand):
    help = "Load the demo catalog and the demo users (customer and staff); safe to run again."

    def add_arguments(self, parser):
        parser.add_argument("--password", default=os.environ.get("DEMO_PASSWORD"),
                            help="password of the demo users (default: $DEMO_PASSWORD, else a random one)")
        parser.add_argument("--products", type=int, default=None, help="load only this many products")

    def handle(self, *args, password, products, **options):
        password = password or secrets.token_urlsafe(9)
        users = [
            {"email": "staff@shop.test", "name": "Sam Staff", "role": "staff", "is_staff": True,
             "is_superuser": True},
            {"email": "customer@shop.test", "name": "Casey Customer", "role": "customer", "is_staff": False},
        ]
        for user in users:
            try:
                registered = accounts.user_register(password=password, **user)
                self.stdout.write(f"user {user['email']} / {password}")
                if not registered.is_staff:
                    accounts.address_create(user_id=registered.id, address=DEMO_ADDRESS)
            except ApplicationError:
                self.stdout.write(f"user {user['email']} exists already (password unchanged)")
        created = 0
        for product in itertools.islice(demo_products(), products):
            try:
                catalog.product_create(**product)
                created += 1
            except (ApplicationError, IntegrityError):
                pass
        self.stdout.write(f"{created} demo products created")
