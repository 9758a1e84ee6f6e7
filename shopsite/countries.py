"""The countries an address may name: ISO 3166-1 alpha-2 codes, with the names people use (from pycountry).

The contracts check codes against this table, so it imports nothing of Django.
"""

from __future__ import annotations

import unicodedata

import pycountry

#: Code -> name; pycountry's common name where it has one ("Bolivia", not "Bolivia, Plurinational State of").
COUNTRIES: dict[str, str] = {c.alpha_2: getattr(c, "common_name", c.name) for c in pycountry.countries}


def _sort_key(item: tuple[str, str]) -> str:
    # "Åland Islands" sorts among the A's, "Türkiye" among the T's.
    return "".join(c for c in unicodedata.normalize("NFKD", item[1]) if not unicodedata.combining(c)).casefold()


#: (code, name) by name, for a select.
COUNTRY_CHOICES: list[tuple[str, str]] = sorted(COUNTRIES.items(), key=_sort_key)


def country_name(code: str) -> str:
    return COUNTRIES.get(code, code)
