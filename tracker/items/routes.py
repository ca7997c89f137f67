"""Pages of the ledger and of single items. Views validate, call a service, flash, redirect."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from tracker import clock, uow
from tracker.auth.decorators import allowed_if
from tracker.auth.models import Role
from tracker.errors import Conflict, Invalid, Refused
from tracker.extensions import db
from tracker.feedback import flash_expired, show_errors
from tracker.forms import PageForm
from tracker.items import batch, choices, conflicts, hooks, item_page, ledger, presentation, services, workflow
from tracker.items.forms import ActionForm, BulkForm, ItemForm, MilestoneForm, ProgressForm
from tracker.items.lights import Light
from tracker.items.models import Item, Status

bp = Blueprint("items", __name__)


@bp.get("/")
@login_required
def home():
    return redirect(url_for(LANDING[current_user.role]))


# Where each role starts: what it comes to do.
LANDING = {Role.ADMIN: "items.ledger_page", Role.INSPECTOR: "inspection.queue",
           Role.LEADER: "reports.dashboard_page", Role.HEAD: "items.my_items", Role.STAFF: "items.my_items"}


@bp.get("/items")
@login_required
def ledger_page():
    today = clock.today()
    flt = ledger.LedgerFilter.from_args(request.args)
    counts = ledger.status_counts(flt, current_user, today)
    pagination = ledger.page_of_items(flt, current_user, today, current_app.config["ITEMS_PER_PAGE"],
                                      load=ledger.plain_rows, counts=counts)
    return render_template(
        "items/ledger.html", flt=flt, pagination=pagination, counts=counts, today=today,
        options=choices.filter_options(flt.evaluation, flt.unit, flt.owner),
        statuses=list(Status), lights=[Light.RED, Light.YELLOW, Light.GREEN],
        bulk_form=PageForm.shown("bulk-choose") if current_user.role.can_administer() else None,
        operations=batch.OPERATIONS)


@bp.post("/items/bulk")
@allowed_if(Role.can_administer)
def bulk():
    """Many items at once (admin): from the ledger's selection to a check of what each item would
    get, then the confirmed change, all or nothing (tracker/items/batch.py)."""
    step = request.form.get("step", "check")
    form = BulkForm(meta={"id_prefix": "bulk"})
    operation = form.operation.data if form.operation.data in batch.OPERATIONS else "assign"
    form.operation.data = operation
    if not form.validate_on_submit():
        if form.csrf_token.errors:
            flash_expired()
            return redirect(url_for("items.ledger_page"))
    if step == "choose":  # from the ledger: the ticked rows, the page's rows or every match
        scope = request.form.get("scope", "selected")
        if scope == "filter":
            flt = ledger.LedgerFilter.from_args(request.form)
            ids = list(db.session.scalars(ledger.matching_ids(flt, current_user, clock.today())
                                          .limit(batch.MAX_ITEMS + 1)))
        else:
            ids = batch.chosen_ids(request.form.getlist("page_ids" if scope == "page" else "ids"))
        if not ids:
            flash(_("Choose at least one item."), "error")
            return redirect(request.form.get("back") or url_for("items.ledger_page"))
        form = BulkForm(formdata=None, meta={"id_prefix": "bulk"}, operation=operation)
    else:
        ids = batch.chosen_ids(request.form.getlist("ids"))
    planned = batch.plan(current_user, operation, ids, form.lead_unit_id.data, form.owner_id.data,
                         form.deadline.data if not form.deadline.errors else None)
    status = 200
    if step == "confirm":
        if form.checked.data != form.fingerprint():
            flash(_("The values changed since the check: check again, then confirm."), "error")
            status = 422
        elif planned.ok:
            try:
                batch.carry_out(current_user, planned)
                uow.commit()
            except Conflict as exc:
                flash(exc.message, "error")
                db.session.expire_all()
                planned = batch.plan(current_user, operation, ids, form.lead_unit_id.data, form.owner_id.data,
                                     form.deadline.data)
                status = 409
            else:
                flash(_("Done: %(summary)s", summary=planned.summary), "success")
                return redirect(url_for("items.ledger_page"))
        else:
            flash(_("Nothing was done: some of the chosen items cannot take this change."), "error")
            status = 409
    for name, message in planned.errors.items() if step != "choose" else ():
        if name in form:
            form[name].errors = list(form[name].errors) + [message]
    form.checked.data = form.fingerprint()
    form.load_choices(operation, {row.current["lead_unit_id"] for row in planned.rows})
    if status == 200 and (planned.errors or planned.problems or form.errors):
        status = 422 if step != "choose" else 200
    return render_template("items/bulk.html", form=form, plan=planned, ids=ids, operation=operation,
                           operations=batch.OPERATIONS, today=clock.today(),
                           confirmable=planned.ok and status == 200 and step != "choose"), status


@bp.get("/my")
@login_required
def my_items():
    """A head's home: the unit's items, what waits for the unit first (to acknowledge, returned),
    then reddest first."""
    today = clock.today()
    flt = ledger.LedgerFilter.from_args(request.args)
    flt.sort = request.args.get("sort") or "attention"
    if flt.sort.lstrip("-") not in (*ledger.SORTS, "light", "unit", "attention"):
        flt.sort = "attention"
    counts = ledger.status_counts(flt, current_user, today)
    pagination = ledger.page_of_items(flt, current_user, today, current_app.config["ITEMS_PER_PAGE"],
                                      load=ledger.plain_rows, counts=counts)
    return render_template("items/my.html", flt=flt, pagination=pagination, counts=counts, today=today,
                           signoff=Status.SIGNOFF, waiting=ledger.waiting_for_signoff(current_user),
                           parts_waiting=ledger.parts_to_acknowledge(current_user))


@bp.route("/items/new", methods=["GET", "POST"])
@allowed_if(Role.can_administer)
def create():
    form = ItemForm()
    form.load_choices()
    if request.method == "GET" and request.args.get("finding", "").isdigit():
        form.finding_id.data = int(request.args["finding"])
    if form.validate_on_submit():
        try:
            item = services.create_item(current_user, form.values())
            uow.commit()
        except Invalid as exc:
            show_errors(form, exc)
        else:
            flash(_("Item created as a draft. Assign it when it is ready."), "success")
            return redirect(url_for("items.detail", item_id=item.id))
    return render_template("items/form.html", form=form, item=None), 200 if not form.errors else 422


@bp.get("/items/<int:item_id>")
@login_required
def detail(item_id: int):
    item = services.item_for(current_user, item_id)
    return _render_detail(item)


def _render_detail(item: Item, progress_form=None, action_form=None, status=200, milestone_form=None):
    """The item page; a form posted with errors (`progress_form`, `action_form`...) is shown as posted."""
    user = current_user._get_current_object()
    can_post = item.can_post_progress(user)
    # Forms are built only where the page shows them: each costs more than a row of the page.
    if can_post:
        progress_form = progress_form or ProgressForm.shown()
        progress_form.fresh_key()
        if progress_form.percent.data is None:
            progress_form.percent.data = item.progress_percent
    if item.can_edit(user):
        milestone_form = milestone_form or MilestoneForm.shown()
    milestones = item_page.milestones(item.id)
    actions = workflow.available(item, user)
    action_forms = {t.action: ActionForm.shown(t.action) for t in actions}
    if action_form is not None:
        action_forms[action_form.meta.id_prefix] = action_form
    reached = item.can_complete_milestones(user)
    parts = hooks.page_context(item, user)  # evidence files, checklist, extensions, re-checks
    return render_template(
        "items/detail.html", item=item, today=clock.today(), milestones=milestones,
        updates=item_page.progress_updates(item.id), **parts,
        max_file_mb=current_app.config["UPLOAD_MAX_FILE_MB"],
        max_request_mb=current_app.config["UPLOAD_MAX_REQUEST_MB"],
        actions=actions, action_forms=action_forms, journal=item_page.journal(item.id),
        progress_form=progress_form, can_post=can_post, milestone_form=milestone_form,
        reached_forms={m.id: PageForm.shown(f"reached-{m.id}") for m in milestones if reached and not m.done},
        listed_form=PageForm.shown("listed") if item.can_supervise(user) else None,
        signoff_by_coordinator=item.status == Status.SIGNOFF and not services.has_active_head(item.lead_unit_id)), status


@bp.route("/items/<int:item_id>/edit", methods=["GET", "POST"])
@allowed_if(Role.can_administer)
def edit(item_id: int):
    item = services.item_for(current_user, item_id)
    if not item.can_edit(current_user):
        flash(_("A closed or cancelled item cannot be edited."), "error")
        return redirect(url_for("items.detail", item_id=item.id))
    form = ItemForm(obj=item)
    form.load_choices()
    if request.method == "GET":
        form.cooperating_unit_ids.data = [u.id for u in item.cooperating_units]
        form.version.data = item.version
        form.seen_entry.data = conflicts.latest_entry_id(item.id)
    if form.validate_on_submit():
        try:
            raw = request.form.get("version", "")  # as posted: the form falls back to the item's own
            if not raw.isdigit() or len(raw) > 10:
                abort(400)  # every edit form carries the version it was read at
            version = int(raw)
            changes = services.update_item(current_user, item, form.values(), expected_version=version)
            uow.commit(item.id)
        except Invalid as exc:
            show_errors(form, exc)
        except Conflict as exc:
            return _edit_conflict(form, exc)
        except Refused as exc:
            flash(exc.message, "error")
        else:
            flash(_("Saved.") if changes else _("Nothing changed."), "success")
            return redirect(url_for("items.detail", item_id=item.id))
    return render_template("items/form.html", form=form, item=item), 200 if not form.errors else 422


def _edit_conflict(form: ItemForm, exc: Conflict):
    """Someone saved the item first: show what they changed; keep the typed values for a second save."""
    flash(exc.message, "error")
    db.session.expire_all()
    item = services.item_for(current_user, exc.item_id)
    entries = conflicts.entries_since(item.id, form.seen_entry.data)
    form.version.data = item.version  # saving again now is a deliberate choice, made knowingly
    form.seen_entry.data = conflicts.latest_entry_id(item.id)
    return render_template("items/form.html", form=form, item=item,
                           conflict=presentation.journal_rows(entries)), 409


@bp.post("/items/<int:item_id>/progress")
@login_required
def post_progress(item_id: int):
    item = services.item_for(current_user, item_id)
    form = ProgressForm()
    if not form.validate_on_submit():
        return _render_detail(item, progress_form=form, status=422)
    try:
        _update, created = services.post_progress(current_user, item, form.body.data, form.percent.data,
                                                  form.submission_key.data, request.files.getlist("files"))
        uow.commit(item.id)
    except Conflict as exc:  # the item was submitted or closed meanwhile: the typed text stays
        flash(exc.message, "error")
        db.session.expire_all()
        return _render_detail(services.item_for(current_user, item_id), progress_form=form, status=409)
    except Refused as exc:
        flash(exc.message, "error")
        return redirect(url_for("items.detail", item_id=item.id))
    except Invalid as exc:
        show_errors(form, exc)
        return _render_detail(item, progress_form=form, status=422)
    flash(_("Progress posted.") if created else _("This progress update was already posted."),
          "success" if created else "info")
    return redirect(url_for("items.detail", item_id=item.id, _anchor="progress"))


@bp.post("/items/<int:item_id>/actions/<action>")
@login_required
def act(item_id: int, action: str):
    item = services.item_for(current_user, item_id)
    form = ActionForm(meta={"id_prefix": action})
    if not form.validate_on_submit():
        flash_expired()
        return redirect(url_for("items.detail", item_id=item.id))
    try:
        services.perform(current_user, item, action, reason=form.reason.data, result=form.result.data,
                         opinion=form.opinion.data, inputs=request.form.to_dict())
        uow.commit(item.id)
    except Refused as exc:
        flash(exc.message, "error")
    except Invalid as exc:
        # Next to the field where the action's box shows it, else at the top of the box.
        needs = workflow.BY_ACTION[action].needs
        for name, message in exc.errors.items():
            (form[name].errors if name in needs else form.form_errors).append(message)
        return _render_detail(item, action_form=form, status=422)
    else:
        label = workflow.BY_ACTION[action].label
        flash(_("Done: %(action)s.", action=label), "success")
    return redirect(url_for("items.detail", item_id=item.id))


@bp.post("/items/<int:item_id>/milestones")
@login_required
def add_milestone(item_id: int):
    item = services.item_for(current_user, item_id)
    form = MilestoneForm()
    if not form.validate_on_submit():
        return _render_detail(item, milestone_form=form, status=422)
    try:
        services.add_milestone(current_user, item, form.title.data, form.due_on.data)
        uow.commit(item.id)
    except Refused as exc:
        flash(exc.message, "error")
    except Invalid as exc:
        show_errors(form, exc)
        return _render_detail(item, milestone_form=form, status=422)
    else:
        flash(_("Milestone added."), "success")
    return redirect(url_for("items.detail", item_id=item.id, _anchor="milestones"))


@bp.post("/items/<int:item_id>/milestones/<int:milestone_id>/done")
@login_required
def complete_milestone(item_id: int, milestone_id: int):
    item = services.item_for(current_user, item_id)
    if not ActionForm().validate_on_submit():
        flash_expired()
    else:
        try:
            services.complete_milestone(current_user, item, milestone_id)
            uow.commit(item.id)
        except Refused as exc:
            flash(exc.message, "error")
        else:
            flash(_("Milestone marked as reached."), "success")
    return redirect(url_for("items.detail", item_id=item.id, _anchor="milestones"))
