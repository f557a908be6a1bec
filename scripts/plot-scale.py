#!/usr/bin/env python3
"""Renders the LP bulk scale curve (microseconds per row against rows loaded, log scale) as an SVG
from the output of `cargo bench -p apogee-gateway --bench lp_bulk -- N` runs, each preceded by a
`### N` line (the way docs/benchmarks.md says to run them); with `--rss`, the gateway's peak RSS
against rows loaded. No dependency beyond Python.

    python3 scripts/plot-scale.py scale.txt > docs/lp-bulk-scale.svg
    python3 scripts/plot-scale.py --rss scale.txt > docs/lp-bulk-rss.svg
"""
import math
import re
import sys

SERIES = [
    ("gateway bulk, SQLite:", "gateway, SQLite, partial", "#1f77b4", ""),
    ("gateway bulk, SQLite, atomic mode:", "gateway, SQLite, atomic", "#2ca02c", ""),
    ("gateway bulk, PostgreSQL:", "gateway, PostgreSQL", "#d62728", ""),
    ("raw SQLite multi-row upsert", "baseline: raw SQLite upsert", "#1f77b4", "6,4"),
    ("raw PostgreSQL COPY:", "baseline: PostgreSQL COPY", "#d62728", "6,4"),
]


def parse(text, rss=False):
    points = {s[0]: [] for s in SERIES}
    n = None
    for line in text.splitlines():
        m = re.match(r"### (\d+)", line)
        if m:
            n = int(m.group(1))
            continue
        for prefix, *_ in SERIES:
            if line.startswith(prefix) and n:
                if rss:
                    mb = re.search(r"peak RSS ([\d.]+) MB", line)
                    if mb:
                        points[prefix].append((n, float(mb.group(1))))
                    continue
                rate = re.search(r":\s*([\d.]+) rows/s", line)
                if rate:
                    points[prefix].append((n, 1e6 / float(rate.group(1))))
    return points


def svg(points, rss=False):
    title = ("LP bulk load: peak RSS of the gateway against rows in the file" if rss
             else "LP bulk load: time per row against rows in the file")
    unit = "peak RSS (MB)" if rss else "µs per row"
    w, h, left, right, top, bottom = 720, 420, 70, 230, 30, 50
    xs = [x for p in points.values() for x, _ in p]
    ys = [y for p in points.values() for _, y in p]
    if not xs:
        sys.exit("no measure found")
    x0, x1 = math.log10(min(xs)), math.log10(max(xs))
    x1 = x1 if x1 > x0 else x0 + 1
    y1 = max(ys) * 1.1
    X = lambda x: left + (math.log10(x) - x0) / (x1 - x0) * (w - left - right)
    Y = lambda y: top + (1 - y / y1) * (h - top - bottom)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="12">',
           f'<rect width="{w}" height="{h}" fill="white"/>',
           f'<text x="{left}" y="18" font-size="14">{title}</text>',
           f'<line x1="{left}" y1="{h-bottom}" x2="{w-right}" y2="{h-bottom}" stroke="black"/>',
           f'<line x1="{left}" y1="{top}" x2="{left}" y2="{h-bottom}" stroke="black"/>',
           f'<text x="{(left + w - right) / 2}" y="{h-12}" text-anchor="middle">rows (log scale)</text>',
           f'<text x="16" y="{(top + h - bottom) / 2}" transform="rotate(-90 16 {(top + h - bottom) / 2})" text-anchor="middle">{unit}</text>']
    for e in range(int(math.floor(x0)), int(math.ceil(x1)) + 1):
        if x0 <= e <= x1:
            out.append(f'<text x="{X(10**e):.1f}" y="{h-bottom+16}" text-anchor="middle">{10**e:,}</text>')
    step = 10 ** math.floor(math.log10(y1 / 2)) if y1 > 0 else 1
    t = 0.0
    while t <= y1:
        out.append(f'<line x1="{left-4}" y1="{Y(t):.1f}" x2="{w-right}" y2="{Y(t):.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{left-8}" y="{Y(t)+4:.1f}" text-anchor="end">{t:g}</text>')
        t += step
    for i, (prefix, label, color, dash) in enumerate(SERIES):
        p = sorted(points[prefix])
        if not p:
            continue
        d = " ".join(f"{X(x):.1f},{Y(y):.1f}" for x, y in p)
        out.append(f'<polyline points="{d}" fill="none" stroke="{color}" stroke-width="2" stroke-dasharray="{dash}"/>')
        for x, y in p:
            out.append(f'<circle cx="{X(x):.1f}" cy="{Y(y):.1f}" r="3" fill="{color}"/>')
        ly = top + 20 + i * 20
        out.append(f'<line x1="{w-right+15}" y1="{ly}" x2="{w-right+40}" y2="{ly}" stroke="{color}" stroke-width="2" stroke-dasharray="{dash}"/>')
        out.append(f'<text x="{w-right+45}" y="{ly+4}">{label}</text>')
    out.append("</svg>")
    return "\n".join(out)


if __name__ == "__main__":
    rss = "--rss" in sys.argv[1:]
    path = [a for a in sys.argv[1:] if a != "--rss"][0]
    print(svg(parse(open(path, encoding="utf-8").read(), rss), rss))
