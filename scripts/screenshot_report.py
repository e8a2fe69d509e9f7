"""Render a back-test HTML report from a made-up incident and photograph it in headless Chromium.

    .venv/bin/python scripts/screenshot_report.py [--out DIR] [--browser chromium] [--width 1100]

Writes DIR/report.html (default: a new temporary directory) and DIR/report.png, and prints their
paths. The input is the back-test fixtures' events reshaped into one day: a 55-minute burst of
security-group changes that crosses an hour boundary, a StopLogging, a few root calls, a file
that is not CloudTrail, and an event name carrying markup; it is replayed with `--stack prod` so
the header has a stack and a profile. Look at the PNG after changing trailguard/backtest/html.py:
unit tests check the page's structure, only a browser shows whether it reads well.

Needs a Chromium (`apt-get install chromium`) or Chrome binary; exits 1 naming the binary when
there is none. Not part of CI (a browser is a large install); see docs/backtest.md.
"""

from __future__ import annotations

import argparse
import gzip
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
EVENTS = REPO / "tests" / "fixtures" / "backtest" / "events.json"
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def incident_events() -> list[dict]:
    """One day of reshaped fixture events (see the module docstring)."""
    base = {event["eventName"]: event for event in json.loads(EVENTS.read_text())}
    events = []
    for minute in range(55):  # 09:40 to 10:34: one incident across the hour boundary
        hour, rest = divmod(40 + minute, 60)
        events.append(dict(base["AuthorizeSecurityGroupIngress"], eventTime=f"2025-03-04T{9 + hour:02d}:{rest:02d}:05Z"))
    events.append(dict(base["StopLogging"], eventTime="2025-03-04T13:12:30Z"))
    for hour in (2, 2, 17):
        events.append(dict(base["ListBuckets"], eventTime=f"2025-03-04T{hour:02d}:31:00Z"))
    events.append(dict(base["ConsoleLogin"], eventTime="2025-03-04T00:00:10Z"))
    events.append(dict(base["ScheduleKeyDeletion"], eventTime="2025-03-04T23:58:00Z",
                       eventName="ScheduleKeyDeletion<script>alert(1)</script>",
                       userAgent="<script>alert(2)</script>"))
    return events


def write_inputs(directory: Path) -> list[str]:
    """Delivery files and one rejected file under `directory`; the sources to pass."""
    logs = directory / "AWSLogs"
    logs.mkdir(parents=True)
    (logs / "incident.json.gz").write_bytes(gzip.compress(json.dumps({"Records": incident_events()}).encode(), mtime=0))
    (logs / "truncated.json").write_text('{"Records": [{"eventVersion": "1.08", "eventName": ')  # rejected: not JSON
    return [str(logs)]


def render(directory: Path) -> Path:
    """Run `trailguard backtest --stack prod --html` on the made-up inputs; the page's path."""
    page = directory / "report.html"
    sources = write_inputs(directory)
    command = [sys.executable, "-m", "trailguard", "backtest", *sources, "--stack", "prod",
               "--project-dir", str(REPO), "--since", "2025-03-04", "--until", "2025-03-04",
               "--html", str(page), "--no-progress"]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return page


def screenshot(page: Path, png: Path, browser: str, width: int, height: int) -> None:
    subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
         f"--window-size={width},{height}", f"--screenshot={png}", page.as_uri()],
        check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120,
    )
    if not png.is_file():
        raise SystemExit(f"error: {browser} wrote no screenshot at {png}")


def find_browser(name: str | None) -> str:
    for candidate in ([name] if name else BROWSERS):
        found = shutil.which(candidate)
        if found:
            return found
    wanted = name or " or ".join(BROWSERS)
    raise SystemExit(f"error: no browser found ({wanted}); install one, e.g. apt-get install chromium, "
                     "or name it with --browser")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, help="directory for report.html and report.png (default: a new temp dir)")
    parser.add_argument("--browser", help=f"browser binary (default: the first of {', '.join(BROWSERS)} on PATH)")
    parser.add_argument("--width", type=int, default=1100, help="window width in pixels (default 1100)")
    parser.add_argument("--height", type=int, default=1600, help="window height in pixels (default 1600)")
    args = parser.parse_args(argv)
    browser = find_browser(args.browser)
    out = args.out or Path(tempfile.mkdtemp(prefix="trailguard-report-"))
    out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="trailguard-inputs-"))
    try:
        page = render(work)
        shutil.copy(page, out / "report.html")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    png = out / "report.png"
    screenshot(out / "report.html", png, browser, args.width, args.height)
    print(out / "report.html")
    print(png)
    return 0


if __name__ == "__main__":
    sys.exit(main())
