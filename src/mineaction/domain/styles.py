"""One palette for every map the register leaves in: QGIS styles (QML) and KML styles.

Hazards are coloured by type (suspected orange, confirmed red) and drawn by
status (active solid, worked on hatched, closed or handed over outline
only), so a reviewer sees at a glance what is still dangerous. Released land
is green by release type; EO finds and accidents are coloured points.

The register carries these styles itself (QGIS's ``layer_styles`` table,
written at creation) as its GeoPackage exports do, so the definitions live
here, below both storage and the exports.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from xml.sax.saxutils import quoteattr

from mineaction.domain.entities import ENTITIES

__all__ = ["CATEGORIES", "Category", "LayerStyle", "categories", "category_key", "layer_styles", "qml", "vocabularies"]

_TYPE_COLOURS = {"SHA": (253, 141, 60), "CHA": (215, 25, 28)}
_STATUS_STYLE = {"active": "solid", "worked_on": "b_diagonal", "closed": "no", "handed_over": "no"}
_RELEASE_COLOURS = {"cancelled": (199, 233, 192), "reduced": (116, 196, 118), "cleared": (35, 139, 69)}
_EO_COLOURS = {"ap_mine": (215, 25, 28), "at_mine": (166, 54, 3), "submunition": (123, 50, 148),
               "uxo": (253, 174, 97), "axo": (255, 255, 51), "ied": (0, 0, 0), "other": (150, 150, 150)}
_POINT_COLOUR = (44, 123, 182)

#: entity -> the fields its colour depends on
CATEGORIES: dict[str, tuple[str, ...]] = {
    "hazard": ("hazard_type", "status"),
    "released_part": ("release_type",),
    "eo_find": ("category",),
    "accident": ("accident_type",),
    "eore_session": ("eore_method",),
}


@dataclass(frozen=True)
class Category:
    key: str  # e.g. "SHA / active"
    label: str
    rgb: tuple[int, int, int]
    fill: str  # QGIS brush style: solid, b_diagonal, no


@dataclass(frozen=True)
class LayerStyle:
    """One layer's QGIS style, as a row of the ``layer_styles`` table holds it."""

    table: str
    name: str  # e.g. "hazard by hazard_type, status"
    qml: str


def vocabularies(entity_name: str) -> dict[str, str]:
    """Field -> the vocabulary its codes come from, for each field an entity's colour depends on."""
    spec = ENTITIES[entity_name]
    return {f: spec.field_map[f].vocabulary or f for f in CATEGORIES.get(entity_name, ())}


def category_key(values: dict[str, object], fields: tuple[str, ...]) -> str:
    return " / ".join(str(values.get(f) or "") for f in fields)


def categories(entity_name: str, labels: dict[str, dict[str, str]]) -> list[Category]:
    """Every category of an entity's map, labelled from the register's vocabularies.

    ``labels`` maps each field of :data:`CATEGORIES` to its code -> label.
    """
    fields = CATEGORIES.get(entity_name, ())
    if entity_name == "hazard":
        return [
            Category(f"{t} / {s}", f"{labels['hazard_type'].get(t, t)} — {labels['status'].get(s, s)}",
                     _TYPE_COLOURS.get(t, _POINT_COLOUR), _STATUS_STYLE.get(s, "solid"))
            for t in labels["hazard_type"] for s in labels["status"]
        ]
    if not fields:
        return []
    colours = _RELEASE_COLOURS if entity_name == "released_part" else _EO_COLOURS if entity_name == "eo_find" else {}
    return [Category(code, label, colours.get(code, _POINT_COLOUR), "solid") for code, label in labels[fields[0]].items()]


def _symbol(index: int, geometry: str, category: Category) -> str:
    r, g, b = category.rgb
    if geometry == "POINT":
        layer = (f'<layer class="SimpleMarker" enabled="1" locked="0" pass="0"><Option type="Map">'
                 f'<Option type="QString" name="color" value="{r},{g},{b},255"/>'
                 f'<Option type="QString" name="name" value="circle"/>'
                 f'<Option type="QString" name="size" value="2.6"/>'
                 f'<Option type="QString" name="outline_color" value="35,35,35,255"/>'
                 f'</Option></layer>')
        kind = "marker"
    else:
        layer = (f'<layer class="SimpleFill" enabled="1" locked="0" pass="0"><Option type="Map">'
                 f'<Option type="QString" name="color" value="{r},{g},{b},170"/>'
                 f'<Option type="QString" name="style" value="{category.fill}"/>'
                 f'<Option type="QString" name="outline_color" value="{r},{g},{b},255"/>'
                 f'<Option type="QString" name="outline_width" value="0.5"/>'
                 f'</Option></layer>')
        kind = "fill"
    return f'<symbol type="{kind}" name="{index}" alpha="1" clip_to_extent="1" force_rhr="0">{layer}</symbol>'


def qml(entity_name: str, geometry: str, labels: dict[str, dict[str, str]]) -> str | None:
    """A QGIS categorised style for an entity's layer, or None when it has none."""
    cats = categories(entity_name, labels)
    if not cats:
        return None
    fields = CATEGORIES[entity_name]
    expression = " || ' / ' || ".join(f'"{f}"' for f in fields)
    rows = "".join(
        f"<category symbol={quoteattr(str(i))} value={quoteattr(c.key)} label={quoteattr(c.label)} render=\"true\"/>"
        for i, c in enumerate(cats)
    )
    symbols = "".join(_symbol(i, geometry, c) for i, c in enumerate(cats))
    return (
        "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>"
        '<qgis version="3.28" styleCategories="Symbology">'
        f'<renderer-v2 type="categorizedSymbol" attr={quoteattr(expression)} symbollevels="0" '
        f'enableorderby="0" forceraster="0"><categories>{rows}</categories><symbols>{symbols}</symbols>'
        "</renderer-v2></qgis>"
    )


def layer_styles(layers: Iterable[tuple[str, str]], labels: Callable[[str], dict[str, str]]) -> list[LayerStyle]:
    """The styles of the given ``(entity, geometry type)`` layers that have one.

    ``labels(vocabulary)`` gives a vocabulary's code -> label, in its order,
    as the register stores it.
    """
    out = []
    for name, geometry in layers:
        style = qml(name, geometry, {f: labels(v) for f, v in vocabularies(name).items()})
        if style is not None:
            out.append(LayerStyle(name, f"{name} by {', '.join(CATEGORIES[name])}", style))
    return out
