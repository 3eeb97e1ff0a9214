"""The public map page (/map): one small HTML document, no Dash, no login.

A citizen opens it from the WeChat account on a phone, often on a slow connection, so it is
not a Dash page: Dash's own scripts are ~750 kB gzipped and need four round trips before the
first marker. This page is one document holding its CSS, Leaflet (BSD-2, shipped in
``static/``) and ``assets/places.js`` inline (~55 kB gzipped), so the first screen needs two
round trips in all: the page, and the GeoJSON it preloads from its head.
Every value put into the HTML is escaped; the configuration travels as JSON in a
``<script type="application/json">`` block (``<`` escaped) so no text can close it.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from markupsafe import escape

from dashboard.places.text import words

ASSETS = Path(__file__).resolve().parents[2] / "assets"
STATIC = Path(__file__).resolve().parent / "static"
DATA_URL = "/api/places.geojson"
REPORT_URL = "/api/places/{id}/report"


def _css() -> str:
    return (STATIC / "leaflet.css").read_text(encoding="utf-8") + \
        (ASSETS / "places.css").read_text(encoding="utf-8")


def _js() -> str:
    # "</script" cannot occur in either file; guard anyway so an edit cannot end the block.
    code = (STATIC / "leaflet.js").read_text(encoding="utf-8") + "\n" + \
        (ASSETS / "places.js").read_text(encoding="utf-8")
    return code.replace("</script", "<\\/script")


def _json_for_script(value: object) -> str:
    return json.dumps(value, ensure_ascii=False).replace("<", "\\u003c").replace(">", "\\u003e")


def render_map_page(*, lang: str, now: datetime, center: tuple[float, float],
                    directions_url: str, tile_url: str, tile_attribution: str,
                    max_text: int) -> str:
    """Return the whole /map document for ``lang`` (zh or en)."""
    w = words(lang)
    config = {"lang": lang, "words": w, "now": now.isoformat(timespec="seconds"),
              "center": [center[0], center[1]], "zoom": 14, "dataUrl": DATA_URL,
              "reportUrl": REPORT_URL, "directions": directions_url, "tileUrl": tile_url,
              "tileAttribution": tile_attribution, "maxText": max_text}
    e = {k: str(escape(v)) for k, v in w.items()}
    other = "/map" if lang == "en" else "/map?lang=en"

    def chip(kind: str, key: str, label: str) -> str:
        return (f'<button type="button" class="pm-chip pm-chip-{key}" data-kind="{kind}" '
                f'data-toggle="{key}" aria-pressed="false">{label}</button>')

    layers = "".join(chip("layer", key, e[f"layer_{key}"])
                     for key in ("toilet", "convenience", "culture"))
    facilities = "".join(chip("filter", key, e[key])
                         for key in ("accessible", "baby", "family", "free", "paper"))
    open_chip = chip("filter", "open", e["open_now"])
    html_lang, other_lang = ("zh-CN", "en") if lang == "zh" else ("en", "zh-CN")
    return f"""<!DOCTYPE html>
<html lang="{html_lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1, viewport-fit=cover">
<title>{e['title']} · {e['subtitle']}</title>
<link rel="icon" href="data:,">
<link rel="preload" href="{DATA_URL}" as="fetch" crossorigin="anonymous">
<style>{_css()}</style>
</head>
<body class="pm-body">
<header class="pm-top">
  <h1 class="pm-title">{e['title']}<small>{e['subtitle']}</small></h1>
  <a class="pm-lang" href="{other}" hreflang="{other_lang}">{e['other_lang']}</a>
</header>
<section class="pm-panel" aria-label="{e['filters']}">
  <div class="pm-searchrow">
    <input id="pm-search" class="pm-search" type="search" enterkeyhint="search"
      placeholder="{e['search']}" aria-label="{e['search']}" autocomplete="off">
    <button id="pm-near" type="button" class="pm-button pm-near">{e['near']}</button>
  </div>
  <div class="pm-chips" role="group" aria-label="{e['layers']}">{layers}{open_chip}</div>
  <div id="pm-facilities" class="pm-chips pm-facilities" role="group"
    aria-label="{e['filters']}">{facilities}</div>
  <p class="pm-statusline"><span id="pm-count" class="pm-count" data-count="">{e['loading']}</span>
    <span class="pm-legend"><i class="pm-dot pm-dot-toilet"></i>{e['layer_toilet']}
    <i class="pm-dot pm-dot-convenience"></i>{e['layer_convenience']}
    <i class="pm-dot pm-dot-culture"></i>{e['layer_culture']}
    <i class="pm-dot pm-dot-repair"></i>{e['repairing']}
    <i class="pm-dot pm-dot-closed"></i>{e['closed']}</span></p>
  <p id="pm-status" class="pm-status" role="status" aria-live="polite"></p>
  <p class="pm-help">{e['help']}</p>
  <div id="pm-results" class="pm-results" hidden></div>
</section>
<main id="pm-map" class="pm-map" aria-label="{e['title']}"></main>
<aside id="pm-card" class="pm-card" hidden aria-labelledby="pm-card-title"></aside>
<script type="application/json" id="pm-config">{_json_for_script(config)}</script>
<script>{_js()}
gridwatch.places.init(JSON.parse(document.getElementById("pm-config").textContent));</script>
</body>
</html>"""
