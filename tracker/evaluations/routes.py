"""Evaluation rounds: their indicator framework and findings."""
from flask import Blueprint, abort, render_template
from flask_login import current_user, login_required
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from tracker.evaluations.models import Evaluation, Finding
from tracker.extensions import db
from tracker.items.models import Item, OPEN_STATUSES

bp = Blueprint("evaluations", __name__, url_prefix="/evaluations")


@bp.get("/")
@login_required
def index():
    evaluations = db.session.scalars(select(Evaluation).order_by(Evaluation.year.desc())).all()
    return render_template("evaluations/index.html", evaluations=evaluations)


@bp.get("/<int:evaluation_id>")
@login_required
def detail(evaluation_id: int):
    evaluation = db.session.get(Evaluation, evaluation_id) or abort(404)
    findings = db.session.scalars(select(Finding).where(Finding.evaluation_id == evaluation.id)
                                  .options(selectinload(Finding.indicator)).order_by(Finding.id)).all()
    rows = db.session.execute(
        select(Item.finding_id, func.count(), func.sum(Item.status.in_(OPEN_STATUSES).cast(db.Integer)))
        .where(Item.finding_id.in_([f.id for f in findings])).group_by(Item.finding_id)).all()
    item_counts = {finding_id: (total, open_ or 0) for finding_id, total, open_ in rows}
    by_indicator = {indicator_id: (total, open_ or 0) for indicator_id, total, open_ in db.session.execute(
        select(Finding.indicator_id, func.count(Item.id),
               func.sum(Item.status.in_(OPEN_STATUSES).cast(db.Integer)))
        .join(Item, Item.finding_id == Finding.id)
        .where(Finding.evaluation_id == evaluation.id, Finding.indicator_id.is_not(None))
        .group_by(Finding.indicator_id)).all()}
    ratings: dict = {}
    for indicator in evaluation.indicators:
        if indicator.level == 3 and indicator.self_rating:
            ratings[indicator.self_rating] = ratings.get(indicator.self_rating, 0) + 1
    return render_template("evaluations/detail.html", evaluation=evaluation, findings=findings,
                           item_counts=item_counts, ratings=ratings, by_indicator=by_indicator,
                           may_rerate=current_user.role.can_decide())
