"""Seeding the controlled vocabularies from the packaged YAML into the database."""

from __future__ import annotations

from importlib import resources

import sqlalchemy as sa
import yaml

__all__ = ["labels", "load_packaged_vocabularies", "seed_vocabularies"]


def load_packaged_vocabularies() -> dict[str, dict[str, tuple[str, str]]]:
    text = resources.files("mineaction.data").joinpath("vocabularies.yaml").read_text("utf-8")
    data = yaml.safe_load(text)
    return {vocab: {str(code): (labels[0], labels[1]) for code, labels in terms.items()} for vocab, terms in data.items()}


def seed_vocabularies(connection: sa.Connection, table: sa.Table) -> int:
    """Add packaged terms missing from the database; never remove or rename one. Returns count added."""
    present = {(v, c) for v, c in connection.execute(sa.select(table.c.vocabulary, table.c.code))}
    rows = [
        {"vocabulary": vocab, "code": code, "label_en": en, "label_uk": uk, "sort_order": order}
        for vocab, terms in load_packaged_vocabularies().items()
        for order, (code, (en, uk)) in enumerate(terms.items())
        if (vocab, code) not in present
    ]
    if rows:
        connection.execute(table.insert(), rows)
    return len(rows)


def labels(connection: sa.Connection, table: sa.Table, vocabulary: str, language: str = "en") -> dict[str, str]:
    """Code -> label in ``language`` ("en" or "uk"), in the vocabulary's order."""
    column = table.c.label_uk if language == "uk" else table.c.label_en
    query = sa.select(table.c.code, column).where(table.c.vocabulary == vocabulary).order_by(table.c.sort_order)
    return dict(connection.execute(query).all())
