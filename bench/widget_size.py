"""Widget budgets: JS + CSS gzipped (≤ 15 KB) and the launcher's first paint after the script loads (≤ 50 ms).

    .venv/bin/python bench/widget_size.py [--runs 30] [--cpu-throttle 4]

Size: the script as the bridge serves it (the CSS is inside it, applied in the shadow root), gzip level 9 as a
CDN would send it; the language files are listed apart (one is fetched per page, after the launcher shows).

First paint: Debian's headless Chromium (``/usr/bin/chromium``) loads a page embedding the script from a loopback
static server, ``--runs`` times in fresh contexts. The widget marks ``lb:start`` when its code starts running and
``lb:launcher-frame`` in the ``requestAnimationFrame`` callback of the first frame that holds the launcher (the
frame is painted right after its rAF callbacks), and ``lb:launcher-painted`` in a task queued from there (so after
that paint, plus whatever else waits in the task queue). Reported: script response end → launcher frame (the
budget: "after the script loads", download excluded, parse and compile included), script response end →
painted, and script start → frame (the widget's own work plus the wait for the browser's next frame).
``--cpu-throttle N`` slows the CPU N times through the DevTools protocol, as a budget phone would run it.
Prints figures; exits 1 when a budget is missed.
"""

from __future__ import annotations

import argparse
import gzip
import statistics
import sys
import threading
from pathlib import Path
from typing import Any

from playwright.sync_api import sync_playwright
from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

ROOT = Path(__file__).resolve().parents[1]
WIDGETS = ROOT / "widgets"
SIZE_BUDGET = 15 * 1024
PAINT_BUDGET_MS = 50.0

PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>bench</title>
<script src="/widget/v1/loyalty-bridge.js" data-shop="bench" async></script></head>
<body><h1>A shop page</h1><p>Some products.</p></body></html>"""

MEASURE = """() => {
  const start = performance.getEntriesByName('lb:start')[0];
  const frame = performance.getEntriesByName('lb:launcher-frame')[0];
  const painted = performance.getEntriesByName('lb:launcher-painted')[0];
  const script = performance.getEntriesByType('resource').find(e => e.name.endsWith('loyalty-bridge.js'));
  return {start: start.startTime, frame: frame.startTime, painted: painted.startTime, loaded: script.responseEnd};
}"""


def gz(path: Path) -> int:
    return len(gzip.compress(path.read_bytes(), compresslevel=9))


def sizes() -> int:
    script = WIDGETS / "loyalty-bridge.js"
    total = gz(script)
    print(f"loyalty-bridge.js (JS + CSS)  {script.stat().st_size:7,d} B raw  {total:6,d} B gzipped")
    for path in sorted((WIDGETS / "i18n").glob("*.json")):
        print(
            f"  i18n/{path.name:<22} {path.stat().st_size:7,d} B raw  {gz(path):6,d} B gzipped (fetched, not counted)"
        )
    verdict = "ok" if total <= SIZE_BUDGET else "OVER BUDGET"
    print(f"JS + CSS gzipped: {total / 1024:.1f} KB of {SIZE_BUDGET // 1024} KB budget: {verdict}")
    return total


def static_site(environ: dict[str, Any], start_response: Any) -> Any:
    """The page and the widget's files, as the bridge serves them (no API: the launcher needs none)."""
    path = Request(environ).path
    if path == "/":
        response = Response(PAGE, mimetype="text/html")
    elif path == "/widget/v1/loyalty-bridge.js":
        response = Response((WIDGETS / "loyalty-bridge.js").read_bytes(), mimetype="text/javascript")
    elif path.startswith("/widget/v1/i18n/") and (WIDGETS / "i18n" / Path(path).name).is_file():
        response = Response((WIDGETS / "i18n" / Path(path).name).read_bytes(), mimetype="application/json")
    else:
        response = Response(status=404)
    return response(environ, start_response)


class QuietHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


def first_paint(runs: int, throttle: float) -> dict[str, list[float]]:
    server = make_server("127.0.0.1", 0, static_site, threaded=True, request_handler=QuietHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/"
    figures: dict[str, list[float]] = {"loaded -> frame": [], "loaded -> painted": [], "starts -> frame": []}
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium", headless=True)
            for _ in range(runs + 1):  # the first run warms the disk cache and the browser: not counted
                context = browser.new_context()
                page = context.new_page()
                if throttle > 1:
                    cdp = context.new_cdp_session(page)
                    cdp.send("Emulation.setCPUThrottlingRate", {"rate": throttle})
                page.goto(url)
                page.wait_for_function("performance.getEntriesByName('lb:launcher-painted').length > 0")
                marks = page.evaluate(MEASURE)
                figures["loaded -> frame"].append(marks["frame"] - marks["loaded"])
                figures["loaded -> painted"].append(marks["painted"] - marks["loaded"])
                figures["starts -> frame"].append(marks["frame"] - marks["start"])
                context.close()
            browser.close()
    finally:
        server.shutdown()
    return {name: values[1:] for name, values in figures.items()}


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--cpu-throttle", type=float, default=1.0)
    args = parser.parse_args()

    total = sizes()
    figures = first_paint(args.runs, args.cpu_throttle)
    print(f"\nlauncher first paint, {args.runs} page loads, CPU throttle {args.cpu_throttle:g}x:")
    for name, values in figures.items():
        print(f"  script {name:<18} median {statistics.median(values):6.1f} ms   p95 {p95(values):6.1f} ms")
    ok_paint = statistics.median(figures["loaded -> frame"]) <= PAINT_BUDGET_MS
    print(f"first paint budget {PAINT_BUDGET_MS:g} ms (median): {'ok' if ok_paint else 'OVER BUDGET'}")
    return 0 if total <= SIZE_BUDGET and ok_paint else 1


if __name__ == "__main__":
    sys.exit(main())
