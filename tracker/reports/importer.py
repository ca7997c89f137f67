"""Importing a ledger (findings and items) or an indicator framework from xlsx.

The upload is kept under IMPORT_DIR with a random token and the uploader's id beside it; the
preview and the confirmation both re-read that file on the server, so nothing the browser sends
back is trusted. `preview_*` only reads; `confirm` validates everything again and writes every row
in one transaction with journal entries, or nothing at all.
"""
from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import json
import logging
import re
import secrets
import time
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

from flask import abort, current_app
from flask_babel import gettext as _
from sqlalchemy import select

from tracker import clock, journal, uow
from tracker.auth.models import User
from tracker.errors import Invalid, Refused
from tracker.evaluations.models import Evaluation, Finding, Indicator, Rating
from tracker.evidence import detect
from tracker.extensions import db
from tracker.items import services as item_services
from tracker.items.models import LIMITS, OPEN_STATUSES, Item, ItemKind
from tracker.items.presentation import KIND_LABELS, RATING_LABELS
from tracker.reports import sheets_in
from tracker.reports.models import ImportClaim
from tracker.reports.sheet import INDICATOR_COLUMNS, LEDGER_COLUMNS, Column
from tracker.units.models import CODE_MAX, NAME_MAX, Unit

log = logging.getLogger(__name__)

KINDS = ("ledger", "indicators")
TOKEN = re.compile(r"^[A-Za-z0-9_-]{32}$")
KEEP_SECONDS = 24 * 3600
_SPLIT_UNITS = re.compile(r"[、,，;；/\n]+")
KIND_WORDS = {"立行立改": ItemKind.IMMEDIATE, "限期整改": ItemKind.DEADLINE, "长期坚持": ItemKind.LONG_TERM,
              **{str(k.value): k for k in ItemKind}}
# What an imported ledger may carry besides the exported columns: 挂牌督办 marked with 是 or √.
IMPORT_LEDGER_COLUMNS = LEDGER_COLUMNS + (
    Column("listed", "挂牌督办", "Listed supervision", 8, ("是否挂牌督办", "挂牌", "是否挂牌", "督办")),)
# The fields a column can be mapped to in the preview (the others are not imported).
MAPPABLE = ("seq", "source", "problem", "title", "target", "measures", "responsible_leader", "lead_unit",
            "cooperating_units", "owner", "deadline", "kind", "progress", "remarks", "listed")
YES_WORDS = frozenset({"是", "√", "✓", "✔", "y", "yes", "1", "true", "挂牌", "挂牌督办", "已挂牌"})
RATING_WORDS = {"完全落实": Rating.FULLY, "基本落实": Rating.BASICALLY, "尚未落实": Rating.NOT_YET,
                "未落实": Rating.NOT_YET, **{str(r.value): r for r in Rating}}


def _settings() -> tuple[int, int, Path]:
    cfg = current_app.config
    folder = Path(cfg.get("IMPORT_DIR") or Path(current_app.instance_path) / "imports")
    return cfg.get("IMPORT_MAX_ROWS", 2000), cfg.get("IMPORT_MAX_MB", 10), folder


# -- the stored upload ------------------------------------------------------------------------

@dataclass
class Upload:
    token: str
    path: Path
    user_id: int
    evaluation_id: int
    kind: str
    filename: str
    new_evaluation: dict | None = None   # {"title", "year"}: the evaluation the confirm creates


def stash(actor: User, file_storage, evaluation_id: int, kind: str, new_evaluation: dict | None = None) -> str:
    """Keep an uploaded workbook for preview and confirmation; return its token. Refused when the
    file is not an xlsx workbook or too large. With `new_evaluation` ({"title", "year"}) and no
    evaluation chosen, the evaluation is created when the import is confirmed."""
    if not actor.role.can_administer():
        raise Refused(_("Only an administrator may import."))
    if new_evaluation and not evaluation_id:
        title = (new_evaluation.get("title") or "").strip()
        year = new_evaluation.get("year")
        if not title or not isinstance(year, int) or not 1990 <= year <= 2100:
            raise Refused(_("Give the new evaluation a name and a year."))
        new_evaluation = {"title": title[:200], "year": year}
        evaluation_id = 0
    elif kind not in KINDS or db.session.get(Evaluation, evaluation_id) is None:
        raise Refused(_("Choose an evaluation and what the sheet holds."))
    else:
        new_evaluation = None
    if kind not in KINDS:
        raise Refused(_("Choose an evaluation and what the sheet holds."))
    max_rows, max_mb, folder = _settings()
    folder.mkdir(parents=True, exist_ok=True)
    _forget_old(folder)
    token = secrets.token_urlsafe(24)
    path = folder / f"{token}.xlsx"
    file_storage.save(path)
    try:
        if path.stat().st_size > max_mb * 1024 * 1024:
            raise Refused(_("The file is larger than %(n)d MB.", n=max_mb))
        sheets_in.convert_legacy(path, file_storage.filename or "", max_rows)
        limits = detect.ZipLimits(1000, 100, 512 * 1024 * 1024)
        try:
            kind_found = detect.detect(path, limits)
        except detect.Refusal:
            kind_found = None
        if kind_found != detect.XLSX:
            raise Refused(_("This file is not an Excel workbook (.xlsx). Open it in Excel or WPS, "
                            "save it as .xlsx (not .xls or .csv) and try again."))
    except sheets_in.SheetError as exc:
        path.unlink(missing_ok=True)
        raise Refused(exc.message)
    except Refused:
        path.unlink(missing_ok=True)
        raise
    meta = {"user_id": actor.id, "evaluation_id": evaluation_id, "kind": kind,
            "filename": (file_storage.filename or "")[:200], "new_evaluation": new_evaluation}
    (folder / f"{token}.json").write_text(json.dumps(meta))
    return token


def upload_for(user: User, token: str) -> Upload:
    """The stored upload when it exists and is `user`'s own; 404 otherwise."""
    _rows, _mb, folder = _settings()
    if not TOKEN.match(token or ""):
        abort(404)
    path, meta_path = folder / f"{token}.xlsx", folder / f"{token}.json"
    if not path.exists() or not meta_path.exists():
        abort(404)
    meta = json.loads(meta_path.read_text())  # as `stash` wrote it
    if meta.get("user_id") != user.id:
        abort(404)
    return Upload(token, path, **meta)


def _beside(upload: Upload, what: str) -> Path:
    """The file of the preview's `what` ("dates", "choices") kept beside the upload."""
    return upload.path.with_name(f"{upload.token}.{what}.json")


def _kept(upload: Upload, what: str) -> dict:
    path = _beside(upload, what)
    return json.loads(path.read_text()) if path.exists() else {}


def chosen_dates(upload: Upload) -> dict[str, dt.date]:
    """Row number -> the date the admin chose in the preview (a phrase without a year, 长期坚持)."""
    return {row: dt.date.fromisoformat(day) for row, day in _kept(upload, "dates").items()}


def choose_dates(upload: Upload, form: dict) -> None:
    """Keep the dates picked in the preview (fields `date-<row>`, ISO dates; others ignored)."""
    dates = {k: v.isoformat() for k, v in chosen_dates(upload).items()}
    for name, value in form.items():
        m = re.fullmatch(r"date-(\d{1,6})", name)
        if m and value:
            try:
                dates[m.group(1)] = dt.date.fromisoformat(value).isoformat()
            except ValueError:
                continue
    _beside(upload, "dates").write_text(json.dumps(dates))


def chosen(upload: Upload) -> dict:
    """What the admin chose in the preview besides dates: `sheet` (a worksheet's name), `mapping`
    (header text -> field key, "" to ignore), `titles` (row -> title), `units` (name in the sheet ->
    unit id) and `update` (rows already imported whose text is updated rather than skipped)."""
    data = _kept(upload, "choices")
    return {"sheet": data.get("sheet"), "mapping": data.get("mapping", {}), "titles": data.get("titles", {}),
            "units": data.get("units", {}), "update": data.get("update", [])}


def choose(upload: Upload, form) -> None:
    """Keep the choices made in the preview: the sheet, column mapping (`map-<n>` for the n-th
    mappable header), titles (`title-<row>`), close unit matches (`unit-<n>`), re-imported rows
    (`again-<row>`: update or skip) and dates (`date-<row>`). A new sheet or mapping is read again."""
    choose_dates(upload, form)
    before = preview(upload)
    choices = chosen(upload)
    parse_again = False
    names = sheets_in.sheet_names(upload.path)
    if form.get("sheet") in names and form.get("sheet") != (choices["sheet"] or names[0]):
        choices["sheet"], parse_again = form.get("sheet"), True
        choices["mapping"], choices["titles"], choices["update"] = {}, {}, []  # another sheet, other columns
    else:
        for n, text in enumerate(before.mappable):
            key = form.get(f"map-{n}")
            if key is None or (key and key not in before.mapping_choices(text)):
                continue
            if choices["mapping"].get(text, "") != key:
                choices["mapping"][text] = key
                parse_again = True
        for row in before.rows:
            title = (form.get(f"title-{row.number}") or "").strip()
            default = row.values.get("default_title")
            if title and title != default:
                choices["titles"][str(row.number)] = title
            elif f"title-{row.number}" in form:
                choices["titles"].pop(str(row.number), None)
            if row.values.get("updatable") and f"again-{row.number}" in form:
                update = form.get(f"again-{row.number}") == "update"
                rows = set(choices["update"]) - {row.number}
                choices["update"] = sorted(rows | {row.number} if update else rows)
        for n, (name, units) in enumerate(before.suggestions):
            picked = form.get(f"unit-{n}")
            if picked is None:
                continue
            if picked.isdigit() and int(picked) in {u.id for u in units}:
                choices["units"][name] = int(picked)
            else:
                choices["units"].pop(name, None)
    _beside(upload, "choices").write_text(json.dumps(choices, ensure_ascii=False))
    if parse_again:
        sheets_in.forget_parsed(upload.path)


def discard(upload: Upload) -> None:
    for path in (_beside(upload, "choices"), _beside(upload, "dates"), upload.path, upload.path.with_suffix(".json"),
                 sheets_in.parsed_path(upload.path)):
        path.unlink(missing_ok=True)


def _forget_old(folder: Path) -> None:
    cutoff = time.time() - KEEP_SECONDS
    for path in folder.iterdir():
        if path.suffix in (".xlsx", ".json") and path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)


# -- the preview --------------------------------------------------------------------------------

@dataclass
class RowOutcome:
    number: int
    values: dict = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    ask_date: bool = False               # the preview offers a date picker for this row


@dataclass
class Preview:
    kind: str
    evaluation: Evaluation
    filename: str
    rows: list[RowOutcome] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    ignored: list[str] = field(default_factory=list)
    unknown_units: list[str] = field(default_factory=list)
    notes: list[list] = field(default_factory=list)   # [row, text] of rows that are not items, ignored
    problem: str | None = None           # the sheet as a whole cannot be imported
    sheets: list[str] = field(default_factory=list)   # the workbook's worksheets
    sheet: str = ""                      # the one read
    mapping: dict[str, str] = field(default_factory=dict)   # header text -> key the admin chose
    suggestions: list[tuple[str, list]] = field(default_factory=list)  # unknown name -> close units
    accepted: dict[str, int] = field(default_factory=dict)  # name -> unit id the admin accepted
    columns: tuple = ()

    @property
    def mappable(self) -> list[str]:
        """Header texts the admin may map: those not placed, and those the admin mapped."""
        return list(dict.fromkeys([*self.ignored, *self.mapping]))

    def mapping_choices(self, text: str) -> list[str]:
        """The field keys a header may be mapped to: those no other column holds ("" ignores it)."""
        mine = self.mapping.get(text)
        taken = {k for k in self.headers if k != mine}
        keys = MAPPABLE if self.kind == "ledger" else [c.key for c in INDICATOR_COLUMNS]
        return ["", *(k for k in keys if k not in taken)]

    def column_name(self, key: str) -> str:
        return next((f"{c.zh} ({c.en})" for c in self.columns if c.key == key), key)

    @property
    def error_count(self) -> int:
        return sum(1 for r in self.rows if r.errors)

    @property
    def ready(self) -> bool:
        return self.problem is None and bool(self.rows) and self.error_count == 0


def _evaluation(upload: Upload) -> Evaluation:
    """The upload's evaluation; for one the import creates, an unsaved Evaluation to show."""
    if upload.new_evaluation:
        return Evaluation(title=upload.new_evaluation["title"], year=upload.new_evaluation["year"], issuing_body="")
    evaluation = db.session.get(Evaluation, upload.evaluation_id)
    if evaluation is None:
        abort(404)
    return evaluation


def preview(upload: Upload) -> Preview:
    evaluation = _evaluation(upload)
    result = Preview(upload.kind, evaluation, upload.filename)
    max_rows, _mb, _folder = _settings()
    columns, required = (IMPORT_LEDGER_COLUMNS, "problem") if upload.kind == "ledger" else (INDICATOR_COLUMNS, "code")
    choices = chosen(upload)
    result.sheets = sheets_in.sheet_names(upload.path)
    result.sheet = choices["sheet"] if choices["sheet"] in result.sheets else (result.sheets or [""])[0]
    result.mapping = {t: k for t, k in choices["mapping"].items() if k}
    result.columns = columns
    try:
        sheet = sheets_in.read(upload.path, columns, required, max_rows, result.sheet or None, result.mapping)
    except sheets_in.SheetError as exc:
        result.problem = exc.message
        return result
    result.headers, result.ignored, result.notes = sheet.headers, sheet.ignored, sheet.notes
    result.mapping = {t: k for t, k in result.mapping.items() if result.headers.get(k) == t}
    check = _check_ledger_row if upload.kind == "ledger" else _check_indicator_row
    context = _Context(evaluation, chosen_dates(upload), choices)
    for row in sheet.rows:
        outcome = RowOutcome(row.number)
        for key in row.formula_errors:
            outcome.errors.append(_("The column “%(column)s” holds a formula without a value; "
                                    "paste the values instead.", column=sheet.headers[key]))
        if row.formulas:
            outcome.notes.append(_("Formulas were replaced by their values."))
        check(row.values, outcome, context)
        result.rows.append(outcome)
    result.unknown_units = sorted(context.unknown_units)
    for name in sorted(context.unknown_units | set(context.choice_units)):
        units = context.close_units(name)
        if units:
            result.suggestions.append((name, units))
    result.accepted = {name: unit.id for name, unit in context.accepted.items()}
    if not result.rows:
        result.problem = _("The sheet has a header row but no data rows.")
    return result


class _Context:
    """What the rows are checked against, loaded once per preview."""

    def __init__(self, evaluation: Evaluation, dates: dict[str, dt.date], choices: dict):
        self.evaluation = evaluation
        self.units: dict[str, Unit] = {}
        active = list(db.session.scalars(select(Unit).where(Unit.active.is_(True))))
        for unit in active:  # official names first: an alias never hides another unit's name
            self.units[_unit_key(unit.name)] = unit
        for unit in active:
            for alias in unit.alias_list:
                self.units.setdefault(_unit_key(alias), unit)
        by_id = {u.id: u for u in active}
        self.accepted: dict[str, Unit] = {}           # names matched by the admin to a close unit
        self.choice_units = {n: by_id[uid] for n, uid in choices["units"].items() if uid in by_id}
        self.titles: dict[str, str] = choices["titles"]
        self.update_rows = set(choices["update"])
        ours = Finding.evaluation_id == (evaluation.id or 0)   # a new evaluation has nothing yet
        self.indicators = {i.code: i for i in db.session.scalars(select(Indicator).where(
            Indicator.evaluation_id == (evaluation.id or 0)))}
        self.findings = {f.text: f for f in db.session.scalars(select(Finding).where(ours))}
        self.existing: dict[tuple, int] = {}
        self.closed: set[int] = set()   # closed or cancelled items: their text is not updated
        for item_id, finding_id, measures, status in db.session.execute(
                select(Item.id, Item.finding_id, Item.measures, Item.status).join(Finding).where(ours)):
            self.existing[(finding_id, measures.strip())] = item_id
            if status not in OPEN_STATUSES:
                self.closed.add(item_id)
        self.users = list(db.session.scalars(select(User).where(User.active.is_(True))))
        self.unknown_units: set[str] = set()
        self.sheet_codes: set[str] = set()
        self.immediate_days = current_app.config.get("IMPORT_IMMEDIATE_DAYS", 15)
        self.dates = dates

    def close_units(self, name: str) -> list[Unit]:
        """Up to three active units whose name or alias is close to `name` (an unknown name)."""
        keys = list(self.units)
        found = difflib.get_close_matches(_unit_key(name), keys, n=6, cutoff=0.6)
        return list(dict.fromkeys(self.units[k] for k in found))[:3]


def _unit_key(name: str) -> str:
    """A unit name compared without spaces and without a trailing (牵头)/(配合) remark."""
    return re.sub(r"[\s\u3000]+|[(（][^)）]{0,6}[)）]$", "", name)


def _unit(name: str, outcome: RowOutcome, ctx: _Context) -> Unit | None:
    unit = ctx.units.get(_unit_key(name))
    if unit is not None and unit.name != name and _unit_key(name) != _unit_key(unit.name):
        outcome.notes.append(_("“%(name)s” is another name of %(unit)s.", name=name, unit=unit.name))
    if unit is None and name in ctx.choice_units:
        unit = ctx.accepted[name] = ctx.choice_units[name]
        outcome.notes.append(_("“%(name)s” taken as %(unit)s (accepted in the preview).", name=name, unit=unit.name))
    if unit is None:
        ctx.unknown_units.add(name)
        outcome.errors.append(_("Unknown unit “%(name)s”.", name=name))
    return unit


def _meaning(text: str, words: dict, labels: dict):
    """The kind or rating a cell names: in the sheets' words, or as the interface labels it; else None."""
    return words.get(text) or {str(label): value for value, label in labels.items()}.get(text)


def _check_ledger_row(values: dict, outcome: RowOutcome, ctx: _Context) -> None:
    text = {key: sheets_in.as_text(values.get(key)) for key in
            ("source", "problem", "title", "target", "measures", "responsible_leader", "lead_unit",
             "cooperating_units", "owner", "kind", "seq", "remarks", "progress", "listed")}
    clean: dict = {"problem": text["problem"]}
    if not text["problem"]:
        outcome.errors.append(_("The problem text is missing."))
    missing = {"target": _("The target is missing."), "measures": _("The measures are missing.")}
    for key in ("target", "measures"):
        clean[key] = text[key]
        if not text[key]:
            outcome.errors.append(missing[key])
        elif len(text[key]) > LIMITS[key]:
            outcome.errors.append(_("The column “%(column)s” is longer than %(n)d characters.",
                                    column=next(c.zh for c in LEDGER_COLUMNS if c.key == key), n=LIMITS[key]))
    clean["default_title"] = (text["title"] or sheets_in.short_title(text["measures"])
                              or text["problem"].split("\n")[0])[:LIMITS["title"]]
    clean["title"] = clean["default_title"]
    edited = ctx.titles.get(str(outcome.number))
    if edited:
        if len(edited) > LIMITS["title"]:
            outcome.errors.append(_("The title is longer than %(n)d characters.", n=LIMITS["title"]))
        clean["title"] = edited[:LIMITS["title"]]
        outcome.notes.append(_("Title edited in the preview."))
    clean["listed"] = text["listed"].lower() in YES_WORDS
    if clean["listed"]:
        outcome.notes.append(_("Listed for supervision (挂牌督办), as the sheet marks it."))
    clean["responsible_leader"] = text["responsible_leader"][:LIMITS["responsible_leader"]]

    lead = _unit(text["lead_unit"], outcome, ctx) if text["lead_unit"] else None
    if not text["lead_unit"]:
        outcome.errors.append(_("The lead unit is missing."))
    clean["lead_unit"] = lead
    names = [n.strip() for n in _SPLIT_UNITS.split(text["cooperating_units"]) if n.strip()]
    clean["cooperating"] = [u for u in (_unit(n, outcome, ctx) for n in dict.fromkeys(names))
                            if u is not None and u is not lead]

    clean["kind"] = ItemKind.DEADLINE
    kind_given = None
    if text["kind"]:
        kind_given = _meaning(text["kind"], KIND_WORDS, KIND_LABELS)
        if kind_given is None:
            outcome.errors.append(_("Unknown item type “%(value)s” (立行立改, 限期整改 or 长期坚持).",
                                    value=text["kind"]))

    raw_deadline = values.get("deadline")
    clean["deadline"], hint = None, None
    clean["deadline_text"] = sheets_in.as_text(raw_deadline)[:LIMITS["deadline_text"]]
    chosen = ctx.dates.get(str(outcome.number))
    if raw_deadline is None and chosen is None:
        outcome.errors.append(_("The deadline is missing."))
    elif raw_deadline is not None:
        try:
            clean["deadline"], hint = sheets_in.deadline_phrase(raw_deadline)
        except sheets_in.NeedsYear:
            outcome.ask_date = True
            if chosen is None:
                outcome.errors.append(_("The deadline “%(value)s” has no year: choose the date below.",
                                        value=sheets_in.as_text(raw_deadline)))
        except (ValueError, OverflowError):
            outcome.ask_date = True
            if chosen is None:
                outcome.errors.append(_("The deadline “%(value)s” is not a date we can read; choose the date "
                                        "below, or write it as 2024-06-30 or 2024年6月30日.",
                                        value=sheets_in.as_text(raw_deadline)))
    if hint == "immediate":
        clean["kind"] = ItemKind.IMMEDIATE
        clean["deadline"] = clock.today() + dt.timedelta(days=ctx.immediate_days)
        outcome.notes.append(_("立行立改: due %(n)d days after the import.", n=ctx.immediate_days))
    elif hint == "long_term":
        clean["kind"] = ItemKind.LONG_TERM
        outcome.ask_date = True
        if chosen is None:
            outcome.errors.append(_("长期坚持: a long-term item has no fixed deadline; choose the date of its "
                                    "first review below."))
    if chosen is not None and (outcome.ask_date or clean["deadline"] is None):
        outcome.ask_date = True
        clean["deadline"] = chosen
        outcome.notes.append(_("Date chosen in the preview."))
    if clean["deadline"] is not None and clean["deadline"] < clock.today():
        outcome.notes.append(_("The deadline has already passed."))
    if kind_given is not None:
        clean["kind"] = kind_given

    clean["ledger_no"] = text["seq"][:LIMITS["ledger_no"]]
    clean["remarks"] = text["remarks"][:LIMITS["remarks"]]
    clean["progress"] = text["progress"][:LIMITS["body"]]
    clean["owner"] = None
    if text["owner"] and lead is not None:
        clean["owner"] = next((u for u in ctx.users if u.name == text["owner"] and u.unit_id == lead.id), None)
        if clean["owner"] is None:
            outcome.notes.append(_("No user “%(name)s” in the lead unit: the name is kept on the item.",
                                   name=text["owner"]))
    clean["owner_text"] = "" if clean["owner"] else text["owner"][:LIMITS["owner_text"]]

    code = re.match(r"\s*([0-9A-Za-z]+(?:\.[0-9]+)*)", text["source"])
    clean["indicator"] = ctx.indicators.get(code.group(1)) if code else None
    finding = ctx.findings.get(text["problem"])
    clean["finding"] = finding
    clean["existing"] = ctx.existing.get((finding.id, text["measures"])) if finding else None
    clean["updatable"] = bool(clean["existing"]) and clean["existing"] not in ctx.closed
    clean["update"] = clean["updatable"] and outcome.number in ctx.update_rows
    if clean["existing"] and not clean["updatable"]:
        outcome.notes.append(_("Already imported (item #%(id)d, closed or cancelled): this row is skipped.",
                               id=clean["existing"]))
    elif clean["update"]:
        outcome.notes.append(_("Already imported (item #%(id)d): its text is updated from this row.",
                               id=clean["existing"]))
    elif clean["existing"]:
        outcome.notes.append(_("Already imported (item #%(id)d): this row is skipped, nothing is added twice.",
                               id=clean["existing"]))
    elif text["problem"]:
        outcome.notes.append(_("Adds to the existing finding.") if finding else _("New finding."))
    outcome.values = clean


def _check_indicator_row(values: dict, outcome: RowOutcome, ctx: _Context) -> None:
    code = sheets_in.as_text(values.get("code")).rstrip(".").replace("．", ".")
    name = sheets_in.as_text(values.get("name"))
    clean: dict = {"code": code, "name": name, "level": code.count(".") + 1 if code else 0}
    if not re.fullmatch(r"[0-9A-Za-z]{1,6}(\.[0-9]{1,4}){0,2}", code):
        outcome.errors.append(_("The code “%(code)s” is not like 1, 1.2 or 1.2.3.", code=code))
    elif code in ctx.indicators:
        outcome.errors.append(_("The indicator %(code)s already exists in this evaluation.", code=code))
    elif code in ctx.sheet_codes:
        outcome.errors.append(_("The code %(code)s appears twice in the sheet.", code=code))
    elif "." in code:
        parent = code.rsplit(".", 1)[0]
        if parent not in ctx.indicators and parent not in ctx.sheet_codes:
            outcome.errors.append(_("Its parent indicator %(code)s is neither in the sheet above it nor "
                                    "in the evaluation.", code=parent))
    ctx.sheet_codes.add(code)
    if not name:
        outcome.errors.append(_("The indicator name is missing."))
    elif len(name) > 300:
        outcome.errors.append(_("The indicator name is longer than 300 characters."))
    rating_text = sheets_in.as_text(values.get("self_rating"))
    clean["self_rating"] = None
    if rating_text:
        clean["self_rating"] = _meaning(rating_text, RATING_WORDS, RATING_LABELS)
        if clean["self_rating"] is None:
            outcome.errors.append(_("Unknown rating “%(value)s” (完全落实, 基本落实 or 尚未落实).", value=rating_text))
    clean["score"] = None
    score = sheets_in.as_text(values.get("score"))
    if score:
        try:
            clean["score"] = Decimal(score).quantize(Decimal("0.01"))
            if abs(clean["score"]) >= 10000:
                raise InvalidOperation
        except InvalidOperation:
            outcome.errors.append(_("The score “%(value)s” is not a number.", value=score))
    outcome.values = clean


# -- writing ------------------------------------------------------------------------------------

def confirm(actor: User, upload: Upload) -> int:
    """Write every row of the upload in one transaction (or nothing); return the number of rows."""
    if not actor.role.can_administer():
        raise Refused(_("Only an administrator may import."))
    result = preview(upload)
    if not result.ready:
        raise Refused(_("Nothing was imported: the sheet still has errors. Correct them and upload it again."))
    note = _("Imported from %(file)s", file=upload.filename or "xlsx")
    with uow.settled():  # the claim first: a second confirm of this upload stops here, a Conflict
        db.session.add(ImportClaim(token=upload.token, user_id=actor.id, claimed_at=clock.now()))
        db.session.flush()
    if upload.new_evaluation:  # the evaluation the upload form named (the preview's), created with the rows
        evaluation = result.evaluation
        db.session.add(evaluation)
        db.session.flush()
        journal.record(actor, "create", evaluation, {"title": [None, evaluation.title],
                                                     "year": [None, evaluation.year]}, note=note)
        upload.evaluation_id = evaluation.id
    _remember_aliases(actor, result)
    if upload.kind == "ledger":
        written = _write_ledger(actor, result, note)
    else:
        _write_indicators(actor, result, note)
        written = len(result.rows)
    db.session.flush()  # the page commits, then discards the stored sheet
    log.info("%s imported %d %s rows from %s", actor.username, written, upload.kind, upload.filename)
    return written


def _remember_aliases(actor: User, result: Preview) -> None:
    """A close match the admin accepted becomes an alternative name of the unit, for next time."""
    for name, unit_id in result.accepted.items():
        unit = db.session.get(Unit, unit_id)
        if unit is None or name in unit.alias_list:
            continue
        aliases = "\n".join([*unit.alias_list, name])
        if len(aliases) <= 2000:  # the admin page's limit
            journal.record(actor, "update", unit, journal.apply_changes(unit, {"aliases": aliases}))


def _refused(row: RowOutcome, exc: Invalid | Refused) -> Refused:
    """A row the preview passed that the services still refuse stops the whole import."""
    message = "; ".join(exc.errors.values()) if isinstance(exc, Invalid) else exc.message
    return Refused(_("Nothing was imported: row %(n)d: %(errors)s", n=row.number, errors=message))


def _update_text(actor: User, row: RowOutcome) -> None:
    """Update an imported item's text from its row again (title, target, leader, remarks, 序号)."""
    v = row.values
    item = db.session.get(Item, v["existing"])
    values = {"finding_id": item.finding_id, "title": v["title"], "measures": item.measures, "target": v["target"],
              "kind": item.kind, "lead_unit_id": item.lead_unit_id, "owner_id": item.owner_id,
              "cooperating_unit_ids": [u.id for u in item.cooperating_units],
              "responsible_leader": v["responsible_leader"] or item.responsible_leader,
              "deadline": item.deadline, "listed_supervision": item.listed_supervision,
              "ledger_no": v["ledger_no"] or item.ledger_no, "remarks": v["remarks"] or item.remarks,
              "owner_text": item.owner_text, "deadline_text": item.deadline_text}
    try:
        item_services.update_item(actor, item, values)
    except (Invalid, Refused) as exc:
        raise _refused(row, exc)


def _write_ledger(actor: User, result: Preview, note: str) -> int:
    new_findings: dict[str, Finding] = {}
    written = 0
    for row in result.rows:
        v = row.values
        if v.get("update"):
            _update_text(actor, row)
            written += 1
            continue
        if v.get("existing"):
            continue  # the same problem and measure imported before: never a silent duplicate
        finding = v["finding"] or new_findings.get(v["problem"])
        if finding is None:
            finding = Finding(evaluation_id=result.evaluation.id, text=v["problem"], category="",
                              indicator_id=v["indicator"].id if v["indicator"] else None)
            db.session.add(finding)
            db.session.flush()
            new_findings[v["problem"]] = finding
            journal.record(actor, "create", finding, {"text": [None, v["problem"][:200]]}, note=note)
        values = {"finding_id": finding.id, "title": v["title"], "measures": v["measures"], "target": v["target"],
                  "kind": v["kind"], "lead_unit_id": v["lead_unit"].id,
                  "owner_id": v["owner"].id if v["owner"] else None,
                  "cooperating_unit_ids": [u.id for u in v["cooperating"]],
                  "responsible_leader": v["responsible_leader"], "deadline": v["deadline"],
                  "ledger_no": v["ledger_no"], "owner_text": v["owner_text"], "remarks": v["remarks"],
                  "deadline_text": v["deadline_text"], "listed_supervision": v["listed"],
                  "confirm_past_deadline": True}  # the preview showed the sheet's dates; confirming takes them
        try:
            item = item_services.create_item(actor, values, note=f"{note}, {_('row %(n)d', n=row.number)}")
            if v["progress"]:
                item_services.record_imported_progress(actor, item, v["progress"])
            written += 1
        except Invalid as exc:  # the preview checks what the form checks
            raise _refused(row, exc)
    return written


def _write_indicators(actor: User, result: Preview, note: str) -> None:
    by_code = {i.code: i for i in db.session.scalars(
        select(Indicator).where(Indicator.evaluation_id == result.evaluation.id))}
    for row in result.rows:
        v = row.values
        parent = by_code.get(v["code"].rsplit(".", 1)[0]) if "." in v["code"] else None
        indicator = Indicator(evaluation_id=result.evaluation.id, parent=parent, level=v["level"],
                              code=v["code"], sort_key=Indicator.sort_key_for(v["code"]), name=v["name"],
                              self_rating=v["self_rating"], score=v["score"])
        db.session.add(indicator)
        by_code[v["code"]] = indicator
        journal.record(actor, "create", indicator, {"code": [None, v["code"]], "name": [None, v["name"]],
                                                    "self_rating": [None, journal.plain(v["self_rating"])]},
                       note=note)


def create_units(actor: User, names: list[str]) -> list[Unit]:
    """Create the units a sheet names but the database does not know (admin; journaled; the caller commits)."""
    if not actor.role.can_administer():
        raise Refused(_("Only an administrator may create units."))
    existing = set(db.session.scalars(select(Unit.name)))
    codes = set(db.session.scalars(select(Unit.code)))
    created = []
    for name in dict.fromkeys(n.strip() for n in names):
        if not name or name in existing:
            continue
        if len(name) > NAME_MAX:
            raise Refused(_("The unit name “%(name)s” is longer than %(n)d characters.", name=name[:40], n=NAME_MAX))
        code = "u-" + hashlib.sha1(name.encode()).hexdigest()[:8]
        while code in codes:
            code = "u-" + secrets.token_hex(4)
        codes.add(code)
        unit = Unit(name=name, code=code[:CODE_MAX], active=True)
        db.session.add(unit)
        journal.record(actor, "create", unit, {"name": [None, name], "code": [None, unit.code]})
        created.append(unit)
    db.session.flush()  # the page commits
    return created
