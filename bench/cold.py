"""Time pages on their first read after a change (what is kept warm is of no help then), in process.

    DATABASE_URL=sqlite:////tmp/rectify-bench.sqlite3 .venv/bin/python bench/cold.py \
        --meta instance/bench-meta-100000.json --rounds 20

Each round changes one item with an UPDATE statement (as another worker, a job or the CLI would; it
sets the deadline to its own value, so the data stay as generated while the generations and the
unit's token are renewed), then reads each
page once through the Flask test client (the dashboard as admin, as the head of the changed item's
unit and as the head of a unit that does not see it), signed in like a browser; then reads each page again
(warm). Reports the median and the worst of both in ms, wall clock and this process's CPU time
(SQLite runs in the process; the CPU time moves less when others load the machine). Only the
local database is touched.
"""
from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--meta", required=True)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    meta = json.loads(Path(args.meta).read_text())

    from sqlalchemy import update

    from tracker import create_app
    from tracker.demo import DEMO_PASSWORD
    from tracker.extensions import db
    from tracker.items.models import Item

    app = create_app()
    with app.app_context():
        # A head whose unit does not lead, hold a part of or cooperate on the item changed.
        from sqlalchemy import select
        from tracker.auth.models import Role, User
        from tracker.items.ledger import visible_to
        changed = db.session.get(Item, meta["item_id"])
        heads = db.session.scalars(select(User).where(User.role == Role.HEAD).order_by(User.id).limit(50)).all()
        other = next(h.username for h in heads if changed.id not in db.session.scalars(
            visible_to(h).with_only_columns(Item.id).where(Item.id == changed.id)).all())
    pages = {"dashboard (admin)": ("admin", "/reports/"),
             "dashboard (head of its unit)": (f"head-{meta['unit_code']}", "/reports/"),
             "dashboard (head of another unit)": (other, "/reports/"),
             "ledger page 1 (filter lists)": ("admin", "/items")}
    clients = {}
    for who, _path in pages.values():
        if who not in clients:
            clients[who] = client = app.test_client()
            token = TOKEN.search(client.get("/login").text).group(1)
            client.post("/login", data={"csrf_token": token, "username": who, "password": DEMO_PASSWORD})
    times = {name: ([], [], [], []) for name in pages}  # wall after a change, warm; CPU likewise
    item = meta["item_id"]
    for _ in range(args.rounds):
        with app.app_context():
            db.session.execute(update(Item).where(Item.id == item).values(deadline=Item.deadline))
            db.session.commit()
        for warm in (0, 1):
            for name, (who, path) in pages.items():
                started, cpu = time.perf_counter(), time.process_time()
                response = clients[who].get(path)
                times[name][warm].append((time.perf_counter() - started) * 1000)
                times[name][2 + warm].append((time.process_time() - cpu) * 1000)
                if response.status_code != 200:
                    raise SystemExit(f"{name}: {path} answered {response.status_code}")
    print(f"ms, {args.rounds} rounds: median / max      after a change, wall    warm, wall"
          "    after a change, CPU    warm, CPU")
    for name, series in times.items():
        print(f"{name:<32}" + "".join(f"{statistics.median(s):>11.1f} /{max(s):>6.1f}" for s in series))


if __name__ == "__main__":
    main()
