"""One palette for every map the register leaves in: QGIS styles (QML) and KML styles.

Hazards are coloured by type (suspected orange, confirmed red) and drawn by
status (active solid, worked on hatched, closed or handed over outline
only), so a reviewer sees at a glance what is still dangerous. Released land
is green by release type; EO finds and accidents are coloured points.
"""

from __future__ import annotations

from dataclasses import dataclass
from xml.sax.saxutils import quoteattr

__all__ = ["CATEGORIES", "Category", "categories", "category_key", "qml"]

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
