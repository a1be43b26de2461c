"""Benchmark: a generated province served by gunicorn, measured under load from a second process.

Builds (once; later runs reuse it) a database with `manage.py generate_dataset` — 10,000 orgs / 100,000
members by default, 100,000 / 1,000,000 with ZHTJ_BENCH_FULL=1 or --full — serves it with gunicorn (3 sync
workers, DEBUG off, 127.0.0.1:ZHTJ_BENCH_PORT, default 8170) and drives each page as the province's root admin
with wrk (4 connections, ZHTJ_BENCH_SECONDS each, default 5) or, without wrk, 4 Python threads. Prints
throughput and p50/p95/p99 beside the target (read p95 < 200 ms). Org creation (leftmost, middle, rightmost
general branch of the tree) goes through the create view in-process, each in a transaction rolled back so the
tree stays as generated; its target is < 250 ms.

Database: with DATABASE_URL on PostgreSQL, `<name>_bench` (or `<name>_bench_full`) on the same server, kept for
the next run (--rebuild builds it again); otherwise a SQLite file in the system's temporary directory.

Run: .venv/bin/python bench/bench_scale.py [--full] [--rebuild] [--seconds S]
"""

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

READ_TARGET_MS, WRITE_TARGET_MS, CREATE_TARGET_MS = 200, 300, 250
WRK_SCRIPT = """
done = function(summary, latency, requests)
  io.write(string.format("JSON{\\"requests\\": %d, \\"seconds\\": %f, \\"non2xx\\": %d, \\"errors\\": %d,"
    .. " \\"p50\\": %f, \\"p95\\": %f, \\"p99\\": %f}\\n", summary.requests, summary.duration / 1e6,
    summary.errors.status, summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.timeout, latency:percentile(50) / 1e3, latency:percentile(95) / 1e3,
    latency:percentile(99) / 1e3))
end
"""


def database_url(full: bool) -> str:
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        base, _, name = url.rpartition("/")
        return f"{base}/{name}_bench{'_full' if full else ''}"
    return f"sqlite:///{Path(tempfile.gettempdir()) / ('zhtj-bench-scale' + ('-full' if full else '') + '.sqlite3')}"


def ensure_database(url: str, rebuild: bool) -> None:
    if url.startswith("postgres"):
        base, _, name = url.rpartition("/")
        admin = f"{base}/postgres"
        import psycopg

        with psycopg.connect(admin, autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
            if exists and rebuild:
                conn.execute(f'DROP DATABASE "{name}"')
                exists = None
            if not exists:
                conn.execute(f'CREATE DATABASE "{name}"')
            # The data sits in RAM/SSD: random reads cost about what sequential ones do. With the default 4 the
            # planner hash-joins every member for a 200-member subtree (163 ms against 1 ms; docs/performance.md).
            conn.execute(f'ALTER DATABASE "{name}" SET random_page_cost = 1.1')
    elif rebuild:
        Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)


def manage(env: dict, *args: str, capture: bool = False) -> str:
    result = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, text=True,
                            stdout=subprocess.PIPE if capture else None)
    return result.stdout or ""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", default=os.environ.get("ZHTJ_BENCH_FULL") == "1")
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--seconds", type=int, default=int(os.environ.get("ZHTJ_BENCH_SECONDS", "5")))
    parser.add_argument("--port", type=int, default=int(os.environ.get("ZHTJ_BENCH_PORT", "8170")))
    args, _unknown = parser.parse_known_args()
    orgs, members = (100_000, 1_000_000) if args.full else (10_000, 100_000)

    url = database_url(args.full)
    ensure_database(url, args.rebuild)
    static_root = Path(tempfile.gettempdir()) / "zhtj-bench-static"
    env = {**os.environ, "DATABASE_URL": url, "DEBUG": "0", "SECRET_KEY": "bench-only-" + "x" * 40,
           "ALLOWED_HOSTS": "127.0.0.1,localhost", "SECURE_SSL_REDIRECT": "0", "SESSION_COOKIE_SECURE": "0",
           "CSRF_COOKIE_SECURE": "0", "STATIC_ROOT": str(static_root), "DJANGO_SETTINGS_MODULE": "scale_settings",
           "PYTHONPATH": os.pathsep.join([str(ROOT / "bench"), str(ROOT)])}
    env.pop("REDIS_URL", None)  # sessions in the database, cache in-process: one machine, no cache server
    manage(env, "migrate", "--noinput", "-v0")
    manage(env, "collectstatic", "--noinput", "-v0")
    os.environ.update(env)
    import django

    django.setup()
    from orgs.models import Org

    build_s = None
    if Org.objects.count() != orgs:
        start = time.perf_counter()
        manage(env, "generate_dataset", "--orgs", str(orgs), "--members", str(members), "--force")
        build_s = time.perf_counter() - start
    from django.db import connection

    print(f"bench_scale: {orgs:,} orgs, {members:,} members on {connection.vendor}"
          + (f" (built in {build_s:.0f} s)" if build_s else " (reused)")
          + f"; gunicorn 3 sync workers; {'wrk' if shutil.which('wrk') else 'Python threads'}, 4 connections, "
            f"{args.seconds} s a page", flush=True)
    targets = pick_targets()
    cookie = session_cookie(targets["admin"], targets["root"])
    server = subprocess.Popen(
        [str(ROOT / ".venv/bin/gunicorn"), "zhtj.wsgi", "--bind", f"127.0.0.1:{args.port}", "--workers", "3",
         "--timeout", "120", "--log-level", "warning"], cwd=ROOT, env=env, start_new_session=True)
    try:
        wait_for(f"http://127.0.0.1:{args.port}/login/")
        rows = []
        for label, path in pages(targets):
            warm(f"http://127.0.0.1:{args.port}{path}", cookie)
            rows.append((label, load(f"http://127.0.0.1:{args.port}{path}", cookie, args.seconds)))
            print_row(label, rows[-1][1], READ_TARGET_MS)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(30)
    for label, result in org_creation(targets):
        print_row(label, result, CREATE_TARGET_MS)
    return 0


def pick_targets() -> dict:
    from members.models import Member
    from orgs.models import Org

    root = Org.objects.select_related("type").get(parent=None)
    gbs = list(Org.objects.filter(type__code="general_branch").order_by("lft").values_list("pk", flat=True))
    wc = Org.objects.filter(type__code="work_committee").order_by("lft").first()
    probe = Member.objects.select_related("person").order_by("pk")[len(gbs) * 7 % 1000]
    last = Member.objects.filter(status="active").order_by("person__name", "person__id").only("pk")[:1]
    # A cursor deep in the root's list: the member 20,000 places into the name order (page 400).
    deep = list(Member.objects.filter(status="active").order_by("person__name", "person__id")
                .values_list("pk", flat=True)[20_000:20_001]) or [m.pk for m in last]
    return {"root": root, "admin": root.admin_assignment.person, "wc": wc, "probe": probe, "deep": deep[0],
            "gbs": [gbs[0], gbs[len(gbs) // 2], gbs[-1]]}


def session_cookie(person, org) -> str:
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    from members.middleware import ACTING_ORG_SESSION_KEY

    session = SessionStore()
    session[SESSION_KEY] = str(person.pk)
    session[BACKEND_SESSION_KEY] = "members.backends.IdNumberBackend"
    session[HASH_SESSION_KEY] = person.get_session_auth_hash()
    session[ACTING_ORG_SESSION_KEY] = org.pk
    session.create()
    return f"sessionid={session.session_key}"


def pages(t: dict) -> list[tuple[str, str]]:
    root, probe = t["root"].pk, t["probe"]
    return [
        ("root: tree /orgs/", "/orgs/"),
        ("root: org page", f"/orgs/{root}/"),
        ("root: children", f"/orgs/{root}/children/"),
        ("root: tree search", "/orgs/?q=" + urllib.request.quote("机关")),
        ("root: member list page 1", f"/orgs/{root}/members/"),
        ("root: member list deep (page 400)", f"/orgs/{root}/members/?page=400&after={t['deep']}"),
        ("root: member search, name", f"/orgs/{root}/members/?q=" + urllib.request.quote(probe.person.name)),
        ("root: member search, ID last 4", f"/orgs/{root}/members/?q={probe.person.id_number[-4:]}"),
        ("root: member search, phone", f"/orgs/{root}/members/?q={probe.person.phone}"),
        ("work committee: member list", f"/orgs/{t['wc'].pk}/members/"),
        ("root: inbox", "/inbox/"),
        ("root: audit", "/audit/"),
        ("root: transfers", "/transfers/"),
    ]


def wait_for(url: str) -> None:
    for _ in range(100):
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except Exception:  # noqa: BLE001 - still starting
            time.sleep(0.2)
    raise SystemExit(f"gunicorn did not answer at {url}")


def warm(url: str, cookie: str) -> None:
    """A few requests first: every worker's caches, and the pages the query touches in shared_buffers."""
    for _ in range(6):
        with urllib.request.urlopen(urllib.request.Request(url, headers={"Cookie": cookie}), timeout=60) as r:
            r.read()


def load(url: str, cookie: str, seconds: int) -> dict:
    if shutil.which("wrk"):
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
            script.write(WRK_SCRIPT)
        out = subprocess.run(["wrk", "-t2", "-c4", f"-d{seconds}s", "--timeout", "30s", "-H", f"Cookie: {cookie}",
                              "-s", script.name, url], capture_output=True, text=True, check=True).stdout
        os.unlink(script.name)
        data = json.loads(out[out.index("JSON") + 4:].splitlines()[0])
        data["rps"] = data["requests"] / data["seconds"]
        return data
    return _threads(url, cookie, seconds)


def _threads(url: str, cookie: str, seconds: int) -> dict:
    times: list[float] = []
    bad = [0]
    stop = time.monotonic() + seconds

    def user() -> None:
        while time.monotonic() < stop:
            request = urllib.request.Request(url, headers={"Cookie": cookie})
            start = time.perf_counter()
            try:
                with urllib.request.urlopen(request, timeout=30) as response:
                    response.read()
                    bad[0] += response.status != 200
            except Exception:  # noqa: BLE001
                bad[0] += 1
            times.append((time.perf_counter() - start) * 1000)

    threads = [threading.Thread(target=user) for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    q = statistics.quantiles(times, n=100) if len(times) > 1 else [times[0]] * 99
    return {"requests": len(times), "rps": len(times) / seconds, "non2xx": bad[0], "errors": 0,
            "p50": q[49], "p95": q[94], "p99": q[98]}


def print_row(label: str, r: dict, target: float) -> None:
    met = "met" if r["p95"] < target and not r["non2xx"] and not r["errors"] else "NOT met"
    errors = f"  {r['non2xx']} non-2xx" if r["non2xx"] else ""
    print(f"  {label:<36} {r['rps']:6.1f} req/s  p50 {r['p50']:7.1f}  p95 {r['p95']:7.1f}  p99 {r['p99']:7.1f} ms"
          f"   target p95 < {target} ms: {met}{errors}", flush=True)


def org_creation(t: dict) -> list[tuple[str, dict]]:
    """Create a branch under the leftmost, middle and rightmost general branch through the create view, five
    times each, every one rolled back (the tree stays as generated)."""
    from django.db import transaction
    from django.test import Client
    from django.test.utils import override_settings

    from orgs.models import Org, OrgType
    from orgs.tree import tree_problems

    branch_type = OrgType.objects.get(code="branch").pk
    results = []
    with override_settings(ALLOWED_HOSTS=["testserver"]):
        client = Client()
        client.cookies["sessionid"] = session_cookie(t["admin"], t["root"]).split("=", 1)[1]
        for where, gb_pk in zip(("leftmost", "middle", "rightmost"), t["gbs"], strict=True):
            gb = Org.objects.get(pk=gb_pk)
            admin = gb.admin_assignment.person
            client.cookies["sessionid"] = session_cookie(admin, gb).split("=", 1)[1]
            times = []
            for i in range(5):
                with transaction.atomic():
                    start = time.perf_counter()
                    response = client.post(f"/orgs/{gb.pk}/children/new/", {
                        "type": branch_type, "short_name": f"基准新建{i}团支部", "full_name": f"基准新建{i}团支部"})
                    times.append((time.perf_counter() - start) * 1000)
                    if response.status_code != 302:
                        raise SystemExit(f"org creation answered {response.status_code}")
                    transaction.set_rollback(True)
            times.sort()
            results.append((f"org creation, {where}", {"rps": 1000 / statistics.median(times), "non2xx": 0,
                                                        "errors": 0, "p50": statistics.median(times),
                                                        "p95": times[-1], "p99": times[-1]}))
    if tree_problems():
        raise SystemExit("the tree is broken after the creation bench")
    return results


if __name__ == "__main__":
    raise SystemExit(main())
