"""Read back what rich printed: the rows of a boxed table under its title, cell by cell.

A row's first cell is never wrapped in trailguard's tables (a detection id, a violation level), so
a body line with an empty first cell continues the row above it; each cell keeps its lines.
"""

from __future__ import annotations


def table_rows(text: str, title: str) -> tuple[list[str], list[list[list[str]]]]:
    """(header cells, rows) of the first table titled `title`; each row is a list of cells and each
    cell the list of its non-empty lines."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == title)
    header: list[str] = []
    rows: list[list[list[str]]] = []
    for line in lines[start + 1:]:
        if line.startswith("┃"):
            cells = [cell.strip() for cell in line.strip().strip("┃").split("┃")]
            header = [" ".join(filter(None, pair)) for pair in zip(header, cells)] if header else cells
        elif line.startswith("│"):
            cells = [cell.strip() for cell in line.strip().strip("│").split("│")]
            if cells[0] or not rows:
                rows.append([[cell] if cell else [] for cell in cells])
            else:
                for pieces, cell in zip(rows[-1], cells):
                    if cell:
                        pieces.append(cell)
        elif line.startswith("└"):
            break
    return header, rows


def joined(pieces: list[str]) -> str:
    """A cell's text with its line breaks and spaces taken out: what a folded or wrapped cell held."""
    return "".join(pieces).replace(" ", "")


def violation_rows(text: str) -> list[tuple[str, str, str, str]]:
    """(level, policy, resource, message) per row of the policy violations table printed wide enough
    for the resource to fit its line (a pipe: 200 columns); the message wraps at spaces."""
    _, rows = table_rows(text, "Policy violations")
    return [(level[0], " ".join(policy), about[0], " ".join(about[1:])) for level, policy, about in rows]
