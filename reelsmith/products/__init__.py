"""The products, each one typed thing in a module of its own: its requests, the params its
tasks store and its pipeline receives, prices and limits, and its Akool answers' shapes.

Every module of this package that declares a ``PRODUCT`` is a product: adding one is adding its
module (docs/extending.md), with its service, routes and pipeline named after it.
"""

from __future__ import annotations

import importlib
import pkgutil

from reelsmith.products.common import Product


def _discovered() -> dict[str, Product]:
    found: dict[str, Product] = {}
    for module_info in sorted(pkgutil.iter_modules(__path__), key=lambda info: info.name):
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        product = getattr(module, "PRODUCT", None)
        if isinstance(product, Product):
            found[product.name] = product
    return found


PRODUCTS: dict[str, Product] = _discovered()


class UnknownProduct(LookupError):
    """A task names a product this server does not have (a newer server wrote it, or the row
    was edited): its tasks must fail plainly, never be shown in another product's shape."""


def product_named(name: str) -> Product:
    """The product called ``name`` (the task table's ``product``); raises :class:`UnknownProduct`."""
    try:
        return PRODUCTS[name]
    except KeyError:
        raise UnknownProduct(f"no product named {name!r} on this server") from None


def product_of_engine(engine: str) -> Product | None:
    """The product whose pipeline runs as ``engine`` (a REELSMITH_ENGINES name), if any."""
    return next((product for product in PRODUCTS.values() if product.engine == engine), None)
