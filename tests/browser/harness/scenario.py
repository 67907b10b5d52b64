"""Drives the real app in headless Chromium with a fake camera; run inside `unshare -n` by tests/browser/harness/run.py.

python tests/browser/harness/scenario.py PLAN.json  ->  writes RESULT.json (path given in the plan)

The plan names the app's port, the join code, and one student per entry (display name, y4m clip).
Each student gets its own Chromium process (the fake camera is a per-process flag), joins, presses
START and streams for `stream_seconds`; meanwhile a teacher page is read. Screenshots go to `shots_dir`.
With `measure_seconds` > 0 the app process's CPU use is sampled for that long before anyone joins (idle) and
again once every student has streamed for `stream_seconds` (streaming).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Frame, Page, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeout

REPO = Path(__file__).resolve().parents[3]
if str(REPO) not in sys.path:  # run as a script: the app's packages for the admin's erasure (erase_student)
    sys.path.insert(0, str(REPO))

CHROMIUM_FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream", "--allow-loopback-in-peer-connection",
]

LOCAL_HOSTS = {"127.0.0.1", "127.0.0.2", "localhost", None}  # None: about:blank, data: and blob: URLs
MAIN = "section.main, [data-testid='stMain']"  # a Streamlit page's main area


def start_app(plan: dict) -> subprocess.Popen:  # type: ignore[type-arg]
    root = Path(plan["repo"])
    proc = subprocess.Popen(  # as scripts/run.sh starts it: one Streamlit process, or ENGAGE_INSTANCES behind HAProxy
        [sys.executable, "-m", "dashboard.serve", "--server.port", str(plan["port"]), "--server.address", "127.0.0.1"],
        cwd=root, env=plan["env"], stdout=open(plan["log"], "w"), stderr=subprocess.STDOUT,
    )
    deadline = time.time() + 90
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{plan['port']}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return proc
        except OSError:
            time.sleep(0.5)
    proc.kill()
    raise RuntimeError("the app did not become healthy within 90 s")


def process_tree(pid: int) -> dict[int, list[str]]:
    """/proc/PID/stat fields (after the command name) of a process and of every process it started, at this moment."""
    stats: dict[int, list[str]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            stats[int(stat.parent.name)] = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended meanwhile
            continue
    tree: set[int] = {pid}
    while grown := {child for child, fields in stats.items() if int(fields[1]) in tree} - tree:
        tree |= grown
    return {member: stats[member] for member in tree if member in stats}


def cpu_seconds(pid: int) -> float:
    """User + system CPU time so far of a process and all its threads, and of the processes it started (the app's
    instances behind HAProxy) while they run."""
    return sum(int(f[11]) + int(f[12]) for f in process_tree(pid).values()) / os.sysconf("SC_CLK_TCK")


def resident_mb(pid: int) -> list[float]:
    """Resident memory of a process and of each process it started, in MB, largest first."""
    page = os.sysconf("SC_PAGE_SIZE")
    return sorted((round(int(f[21]) * page / 2**20, 1) for f in process_tree(pid).values()), reverse=True)


def loopback_counters() -> tuple[int, int]:
    """Bytes and packets received on this namespace's loopback so far (every packet between two local addresses:
    the media both ways plus the pages' traffic). /proc/net/dev is per namespace; /sys/class/net is not."""
    for line in Path("/proc/net/dev").read_text().splitlines():
        name, _, counters = line.partition(":")
        if name.strip() == "lo":
            fields = counters.split()
            return int(fields[0]), int(fields[1])
    return 0, 0


def cores_used(pid: int, seconds: float) -> tuple[float, float, float]:
    """The process's CPU cores over `seconds`, and the loopback's kbit/s and packets/s meanwhile."""
    began, cpu, (nbytes, packets) = time.monotonic(), cpu_seconds(pid), loopback_counters()
    time.sleep(seconds)
    elapsed, (nbytes2, packets2) = time.monotonic() - began, loopback_counters()
    return (cpu_seconds(pid) - cpu) / elapsed, (nbytes2 - nbytes) * 8 / 1000 / elapsed, (packets2 - packets) / elapsed


# In the player's frame: the clicks it received (ms since it loaded, the button's text), and its fetch of the WebRTC
# adapter, which the START handler imports before anything else (ms since load, ms taken, HTTP status).
WATCH_CLICKS = """() => { if (!window.__engageClicks) { window.__engageClicks = [];
  document.addEventListener('click', e => window.__engageClicks.push([Math.round(performance.now()),
    ((e.target.closest && e.target.closest('button')) || e.target).textContent.trim().slice(0, 20)]), true); }
  return window.__engageClicks.length; }"""
PLAYER_TRACE = """() => ({clicks: window.__engageClicks || null, now: Math.round(performance.now()),
  adapter: performance.getEntriesByType('resource').filter(r => r.name.includes('adapter_core'))
    .map(r => [Math.round(r.startTime), Math.round(r.duration), r.responseStatus])})"""


def player_trace(page: Page, player: Frame | None) -> dict[str, object]:
    """Whether the player's frame that was pressed is still the page's (or was replaced), the clicks it received
    and its adapter fetch."""
    trace: dict[str, object] = {"players": page.locator("iframe[title*='webrtc']").count()}
    if player is None or player.is_detached():
        trace["pressed_player_detached"] = True
        return trace
    try:
        trace.update(player.evaluate(PLAYER_TRACE))
    except PlaywrightError as exc:
        trace["error"] = str(exc)[:200]
    return trace


def join(page: Page, plan: dict, student: dict, attempts: int = 3) -> list[dict[str, object]]:  # type: ignore[type-arg]
    """Join the lesson as `student` and start streaming, as a student would; returns one entry per START press.

    A press counts once the app's own page (outside the component) says the camera is shared: the server has seen
    the offer. The player's frame counts the clicks it receives: a click that Chromium delivered elsewhere (the
    page moved under the pointer; the player never saw it) is marked `missed` and pressed again at once, like a
    student whose tap missed. A press the player received that did not take is a defect: like a student, press
    STOP (if shown) and START again; its entry says what was seen and when (seconds after the press), the page's
    text, the console's last lines and the player's trace, so a test can report it. After the last failed press
    the scenario goes on: the test's own checks then fail with these entries in their message."""
    console: list[str] = []  # the pages' console (streamlit-webrtc logs "set component value" with its offer)
    page.on("console", lambda message: console.append(f"{message.type}: {message.text[:300]}"))
    page.on("pageerror", lambda error: console.append(f"uncaught: {str(error)[:300]}"))  # a rejected promise too
    outside = student.setdefault("external_requests", [])  # anything the page asks of a host that is not the app's
    local = LOCAL_HOSTS | {plan.get("host")}
    page.on("request", lambda request: outside.append(request.url[:200])
            if urllib.parse.urlsplit(request.url).hostname not in local else None)
    page.on("frameattached", lambda frame: console.append(f"frame attached: {frame.url[:100]}"))
    page.on("framedetached", lambda frame: console.append(f"frame detached: {frame.url[:100]}"))
    page.on("requestfailed", lambda request: console.append(f"request failed: {request.url[:200]} "
                                                            f"({request.failure})"))
    page.goto(f"{plan.get('scheme', 'http')}://{plan.get('host', '127.0.0.1')}:{plan['port']}/?code={plan['join_code']}")
    code = page.get_by_role("textbox", name="Join code")
    code.wait_for(timeout=60_000)
    student["prefilled"] = code.input_value() == plan["join_code"]
    if not student["prefilled"]:
        code.fill(plan["join_code"])
    page.get_by_role("textbox", name="Display name").fill(student["name"])
    page.get_by_role("button", name="Next").click()
    page.get_by_text("I have read this and agree to stream").click()
    page.get_by_role("button", name="Join", exact=True).click()
    page.get_by_text("You are in").wait_for(timeout=30_000)
    frame = page.frame_locator("iframe[title*='webrtc']").first
    presses: list[dict[str, object]] = []
    for attempt in range(1, attempts + 1):
        start = frame.get_by_role("button", name="START")
        start.wait_for(timeout=60_000)
        player = page.locator("iframe[title*='webrtc']").first.element_handle().content_frame()
        seen = player.evaluate(WATCH_CLICKS) if player is not None else None
        start.click(timeout=60_000)
        began, press = time.monotonic(), dict[str, object]()
        presses.append(press)
        try:
            received = player.evaluate(WATCH_CLICKS) - seen if player is not None and seen is not None else None
        except PlaywrightError:  # the pressed player's frame is gone
            received = None
        if received == 0:
            press["missed"] = True
            press["player"] = player_trace(page, player)
            continue
        try:
            frame.get_by_role("button", name="STOP").wait_for(timeout=20_000)
            press["stop_shown_s"] = round(time.monotonic() - began, 1)
            page.get_by_text("Your camera is shared").first.wait_for(timeout=30_000)
            press["server_saw_s"] = round(time.monotonic() - began, 1)
            return presses
        except PlaywrightTimeout:
            press["gave_up_s"] = round(time.monotonic() - began, 1)
            press["page_text"] = page.inner_text(MAIN)
            press["console"] = [line for line in console if "Unrecognized feature" not in line][-30:]
            press["player"] = player_trace(page, player)
            if attempt < attempts and frame.get_by_role("button", name="STOP").is_visible():
                frame.get_by_role("button", name="STOP").click()
    return presses


def sign_in(page: Page, plan: dict, path: str) -> None:  # type: ignore[type-arg]
    """Open a staff page and sign in with the plan's staff account, as staff do: the page's Sign in link, the
    sign-in form, and back to the page."""
    page.goto(f"{plan.get('scheme', 'http')}://{plan.get('host', '127.0.0.1')}:{plan['port']}/{path}")
    page.get_by_role("link", name="Sign in").click()
    page.get_by_role("textbox", name="Username").fill(plan["staff"]["username"])
    page.get_by_role("textbox", name="Password").fill(plan["staff"]["password"])
    page.get_by_role("button", name="Sign in").click()
    page.get_by_text("Signed in as").wait_for(timeout=30_000)


def erase_student(plan: dict, page: Page, student: dict[str, object], shots: Path) -> None:  # type: ignore[type-arg]
    """An admin erases this student's records (through the service the Administration page calls) while they
    stream; the entry gets how long their page took to say so and what it said."""
    from sqlalchemy import select

    from db.schema import Participant
    from db.session import open_database
    from services.administration import Administration
    from services.policy import Policy

    _engine, sessions = open_database(plan["env"]["ENGAGE_DATABASE_URL"])
    with sessions() as s:
        participant = s.scalar(select(Participant.id).where(Participant.display_name == student["name"]))
    Administration(sessions, Policy()).delete_participant(participant)  # type: ignore[arg-type]
    erased = time.monotonic()
    try:
        page.get_by_text("were deleted by the school").first.wait_for(timeout=30_000)
        student["erased_seen_s"] = round(time.monotonic() - erased, 1)
    except PlaywrightTimeout:
        student["erased_seen_s"] = None
    student["erased_text"] = page.inner_text(MAIN)
    student["player_after_erasure"] = page.locator("iframe[title*='webrtc']").count()
    page.screenshot(path=str(shots / f"{student['name']}-erased.png"), full_page=True)


def end_lesson(teacher: Page, pages: list[Page], joined: list[dict[str, object]], shots: Path) -> None:
    """The teacher presses End lesson; each student's entry gets how long their page took to say so (seconds after
    the press, or None) and what it said then."""
    teacher.get_by_role("button", name="End lesson").click()
    pressed = time.monotonic()
    for i, page in enumerate(pages):
        try:
            page.get_by_text("has ended").first.wait_for(timeout=30_000)
            joined[i]["ended_seen_s"] = round(time.monotonic() - pressed, 1)
        except PlaywrightTimeout:
            joined[i]["ended_seen_s"] = None
        joined[i]["ended_text"] = page.inner_text(MAIN)
        joined[i]["player_after_end"] = page.locator("iframe[title*='webrtc']").count()
        page.screenshot(path=str(shots / f"{joined[i]['name']}-ended.png"), full_page=True)


def main(plan_path: str) -> int:
    plan = json.loads(Path(plan_path).read_text())
    shots = Path(plan["shots_dir"])
    shots.mkdir(parents=True, exist_ok=True)
    app = start_app(plan)
    joined: list[dict[str, object]] = []
    result: dict[str, object] = {"students": joined}
    measure = float(plan.get("measure_seconds") or 0)
    if measure:
        time.sleep(3)  # start-up work settles
        result["app_idle_cores"] = cores_used(app.pid, measure)[0]
    try:
        with sync_playwright() as pw:
            browsers, pages = [], []
            for student in plan["students"]:
                browser = pw.chromium.launch(executable_path=plan["chromium"], headless=True, args=[
                    *CHROMIUM_FLAGS, f"--use-file-for-fake-video-capture={student['clip']}"])
                browsers.append(browser)
                page = browser.new_page(viewport={"width": 1200, "height": 1400})
                try:
                    presses = join(page, plan, student)
                    joined.append({"name": student["name"], "presses": presses, "prefilled": student["prefilled"],
                                   "external_requests": student["external_requests"],
                                   "instance": next((c["value"] for c in page.context.cookies() if c["name"] == "engage_instance"), None)})
                except Exception:
                    page.screenshot(path=str(shots / "failure.png"), full_page=True)
                    raise
                pages.append(page)
            time.sleep(plan["stream_seconds"])
            if measure:
                result["measured_from"] = time.time()
                cores, kbps, packets = cores_used(app.pid, measure)
                result.update(app_streaming_cores=cores, loopback_kbps=kbps, loopback_packets_per_s=packets,
                              app_resident_mb=resident_mb(app.pid))
                result["measured_to"] = time.time()
            for i, page in enumerate(pages):
                page.screenshot(path=str(shots / f"student{i}.png"), full_page=True)
                joined[i]["page_text"] = page.inner_text(MAIN)
            teacher = browsers[0].new_page(viewport={"width": 1400, "height": 1500})
            sign_in(teacher, plan, "teacher")
            teacher.get_by_text("Streaming now").wait_for(timeout=30_000)
            time.sleep(4)  # one live refresh
            teacher.screenshot(path=str(shots / "teacher.png"), full_page=True)
            result["teacher_text"] = teacher.inner_text(MAIN)
            if plan.get("erase_first"):
                erase_student(plan, pages[0], joined[0], shots)
            if plan.get("end_lesson"):
                first = 1 if plan.get("erase_first") else 0
                end_lesson(teacher, pages[first:], joined[first:], shots)
            for page in pages:
                page.close()
            for browser in browsers:
                browser.close()
    finally:
        app.terminate()
        app.wait(40)  # supervisord stops its instances first
    Path(plan["result"]).write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
