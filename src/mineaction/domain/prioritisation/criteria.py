"""What a prioritisation criterion measures, and the catalogue of standard ones.

A ranking is only as defensible as the meaning of its columns, so every
criterion says what it measures, in which unit, and whether more of it makes a
hazard *more* urgent (a benefit criterion: releasing that land helps more
people) or *less* urgent (a cost criterion: the same money releases less land).
The catalogue lists the criteria mine action programmes commonly use (domain
primer, section 7); a programme picks some, may add its own, and weighs them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from types import MappingProxyType

from mineaction.errors import InvalidValue

__all__ = ["STANDARD_CRITERIA", "Criterion", "Direction", "directions_of"]


class Direction(str, Enum):
    """Whether a larger value of a criterion raises (benefit) or lowers (cost) priority."""

    BENEFIT = "benefit"
    COST = "cost"


@dataclass(frozen=True)
class Criterion:
    """One column of a prioritisation matrix, described so a reader can audit it.

    Parameters
    ----------
    name : str
        Short identifier, used as the column name in rankings and tables.
    measures : str
        What the number is, in a sentence a land user would understand.
    unit : str
        Unit of the raw value (before any normalisation).
    direction : Direction
        ``BENEFIT`` if more of it makes clearance more urgent, ``COST`` otherwise.

    Examples
    --------
    >>> c = Criterion("people_1km", "people living within 1 km", "persons", "benefit")
    >>> c.direction
    <Direction.BENEFIT: 'benefit'>
    """

    name: str
    measures: str
    unit: str
    direction: Direction

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "direction", Direction(self.direction))
        except ValueError:
            raise InvalidValue(
                f"criterion {self.name!r}: direction must be 'benefit' or 'cost', "
                f"not {self.direction!r}"
            ) from None


def _catalogue(items: Iterable[Criterion]) -> Mapping[str, Criterion]:
    return MappingProxyType({c.name: c for c in items})


STANDARD_CRITERIA: Mapping[str, Criterion] = _catalogue(
    [
        Criterion(
            "accidents_nearby",
            "EO accidents recorded within a set distance of the hazard since a set date",
            "accidents",
            Direction.BENEFIT,
        ),
        Criterion(
            "victims_nearby",
            "people killed or injured by EO within a set distance since a set date",
            "victims",
            Direction.BENEFIT,
        ),
        Criterion(
            "population_nearby",
            "residents within a set distance of the hazard boundary",
            "persons",
            Direction.BENEFIT,
        ),
        Criterion(
            "blocked_agriculture",
            "farmland (fields, orchards, pasture) the hazard keeps out of use",
            "m²",
            Direction.BENEFIT,
        ),
        Criterion(
            "blocked_housing",
            "homes or residential plots the hazard keeps people from using",
            "dwellings",
            Direction.BENEFIT,
        ),
        Criterion(
            "blocked_water",
            "water points, wells or irrigation the hazard blocks (1 if any, else 0)",
            "indicator",
            Direction.BENEFIT,
        ),
        Criterion(
            "blocked_roads",
            "length of road or track through or along the hazard",
            "m",
            Direction.BENEFIT,
        ),
        Criterion(
            "blocked_schools",
            "schools whose grounds or access the hazard blocks",
            "schools",
            Direction.BENEFIT,
        ),
        Criterion(
            "blocked_health",
            "health facilities whose grounds or access the hazard blocks",
            "facilities",
            Direction.BENEFIT,
        ),
        Criterion(
            "contamination_confidence",
            "strength of the evidence: 1 for a confirmed (CHA), 0.5 for a suspected (SHA) area",
            "score 0–1",
            Direction.BENEFIT,
        ),
        Criterion(
            "contamination_severity",
            "type of contamination scored by lethality to civilians (e.g. AP mines 3, "
            "cluster remnants 3, UXO 2, AXO 1)",
            "score",
            Direction.BENEFIT,
        ),
        Criterion(
            "residual_hazard",
            "probability that at least one functional mine remains (residual-hazard model)",
            "probability",
            Direction.BENEFIT,
        ),
        Criterion(
            "cost_per_m2",
            "expected cost of releasing one square metre, by the expected method",
            "currency/m²",
            Direction.COST,
        ),
    ]
)
"""The commonly used criteria, keyed by name (read-only)."""


def directions_of(criteria: Sequence[Criterion]) -> list[Direction]:
    """The directions of ``criteria``, in order, ready for a ranking method.

    >>> directions_of([STANDARD_CRITERIA["population_nearby"], STANDARD_CRITERIA["cost_per_m2"]])
    [<Direction.BENEFIT: 'benefit'>, <Direction.COST: 'cost'>]
    """
    return [c.direction for c in criteria]
