"""The report as a table (people), CSV (spreadsheets) or JSON (programs)."""

from __future__ import annotations

import csv
import io
import json

from amplifier.results.report import Report

COLUMNS = (
    "group", "posts", "counted", "young", "gone", "likes", "reposts", "replies", "quotes",
    "engagements", "per_post", "impressions",
)  # fmt: skip


def _cell(value: object) -> str:
    return "" if value is None else str(value)


def as_csv(report: Report) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([report.by if c == "group" else c for c in COLUMNS])
    for group in report.groups:
        row = group.as_dict()
        writer.writerow([_cell(row[c]) for c in COLUMNS])
    return out.getvalue()


def as_json(report: Report) -> str:
    body = {
        "by": report.by,
        "age": report.age or "latest",
        "groups": [group.as_dict() for group in report.groups],
    }
    return json.dumps(body, indent=2, ensure_ascii=False) + "\n"


def as_table(report: Report) -> str:
    if not report.groups:
        return "no published posts match; nothing to report yet\n"
    rows = [[report.by if c == "group" else c.replace("_", " ") for c in COLUMNS]]
    for group in report.groups:
        values = group.as_dict()
        rows.append(["-" if values[c] is None else str(values[c]) for c in COLUMNS])
    widths = [max(len(r[i]) for r in rows) for i in range(len(COLUMNS))]
    lines = []
    for row in rows:
        cells = [row[0].ljust(widths[0])]
        cells += [cell.rjust(width) for cell, width in zip(row[1:], widths[1:], strict=True)]
        lines.append("  ".join(cells).rstrip())
    age = report.age or "each post's latest snapshot"
    lines.append("")
    lines.append(
        f"counts: {age}; engagements = likes + reposts + replies + quotes (interactions, not "
        "reach); per post = engagements / counted; young = not at the last age yet"
    )
    return "\n".join(lines) + "\n"


FORMATS = {"table": as_table, "csv": as_csv, "json": as_json}
