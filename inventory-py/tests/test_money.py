"""Money is exact: Decimal in, Decimal out, scale included; never a float."""

from decimal import Decimal

import pytest

import inventory


@pytest.mark.parametrize(
    "price",
    [
        Decimal("0.10"),
        Decimal("19.99"),
        Decimal("1500.00"),
        Decimal("0"),
        Decimal("0.0001"),
        Decimal("99999999999.9999"),
        Decimal("12345678901"),
        Decimal("1E+3"),
    ],
)
def test_decimal_round_trips_exactly(inv, price):
    p = inv.create_product(name="P", sku="P1", price=price)
    for got in (p.price, inv.get_product(p.id).product.price, inv.list_products()[0].price):
        assert isinstance(got, Decimal)
        assert got == price
        # The scale survives too, except that an exponent form comes back written out.
        if "E" not in str(price):
            assert str(got) == str(price)


def test_scale_is_kept(inv):
    p = inv.create_product(name="P", sku="P1", price=Decimal("0.10"))
    assert str(p.price) == "0.10" and p.price.as_tuple().exponent == -2
    assert str(inv.update_product(p.id, price=Decimal("19.990")).price) == "19.990"


@pytest.mark.parametrize("text, expected", [("19.99", "19.99"), ("0.10", "0.10"), ("+2.50", "2.50"), ("7", "7")])
def test_numeric_strings(inv, text, expected):
    assert str(inv.create_product(name="P", sku="P1", price=text).price) == expected


def test_integer_prices_are_exact_decimals(inv):
    assert inv.create_product(name="P", sku="P1", price=42).price == Decimal(42)
    assert inv.create_product(name="P", sku="P2", price=99_999_999_999).price == Decimal("99999999999")


def test_negative_zero_is_zero(inv):
    p = inv.create_product(name="P", sku="P1", price=Decimal("-0"))
    assert p.price == 0 and not p.price.is_signed()


def test_float_is_refused(inv):
    with pytest.raises(TypeError, match="float"):
        inv.create_product(name="P", sku="P1", price=19.99)
    p = inv.create_product(name="P", sku="P1", price="19.99")
    with pytest.raises(TypeError):
        inv.update_product(p.id, price=0.1)
    assert inv.get_product(p.id).product.price == Decimal("19.99")
