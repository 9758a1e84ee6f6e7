"""The shop's database backends: Django's own, with what the shop's load taught it (see each module)."""
