"""Evidence uploads: safe types only, intact and attributable bytes, no swapping after the fact."""
import datetime as dt
import hashlib
import io
import re
from pathlib import Path

import pytest

from tests.evidence import samples
from tracker.auth.models import Role, User
from tracker.evidence.models import Evidence
from tracker.items.models import Item, ProgressUpdate, Status
from tracker.journal import JournalEntry


@pytest.fixture
def case(make, login_as):
    lead = make.unit("县教育局")
    item = make.item(status=Status.IN_PROGRESS, lead_unit=lead)
    head = login_as(make.user(Role.HEAD, unit=lead))
    return {"item": item, "lead": lead, "head": head}


def upload(browser, item, *files, url=None):
    data = {"files": [(io.BytesIO(content), name) for name, content in files]}
    return browser.post(url or f"/items/{item.id}/evidence", data, content_type="multipart/form-data",
                        follow_redirects=True)


def stored_files(app):
    from pathlib import Path
    root = Path(app.config["UPLOAD_DIR"])
    return [p for p in root.rglob("*") if p.is_file()]


def test_round_trip_keeps_bytes_name_and_hash(case, db):
    content = samples.pdf()
    page = upload(case["head"], case["item"], ("整改报告.pdf", content))
    assert "已上传 1 个文件" in page.text or "1" in page.text
    evidence = db.session.query(Evidence).one()
    assert evidence.original_name == "整改报告.pdf" and evidence.content_type == "application/pdf"
    assert evidence.sha256 == hashlib.sha256(content).hexdigest() and evidence.size == len(content)
    assert "整改报告.pdf" not in evidence.storage_key
    response = case["head"].get(f"/items/{case['item'].id}/evidence/{evidence.id}")
    assert response.status_code == 200 and response.data == content
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment") and "filename*=UTF-8''" in disposition
    assert evidence.sha256[:12] in case["head"].get(f"/items/{case['item'].id}").text


@pytest.mark.parametrize("name,content,expected_type", [
    ("photo.jpg", samples.jpeg(), "image/jpeg"), ("scan.png", samples.png(), "image/png"),
    ("方案.docx", samples.docx(), "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ("名单.txt", samples.TEXT, "text/plain"), ("材料.zip", samples.plain_zip(), "application/zip"),
])
def test_allowed_types_are_detected_from_content(case, db, name, content, expected_type):
    upload(case["head"], case["item"], (name, content))
    assert db.session.query(Evidence).one().content_type == expected_type


@pytest.mark.parametrize("name,content,message", [
    ("report.pdf", samples.HTML, "网页"), ("logo.svg", samples.SVG, "网页"), ("setup.pdf", samples.EXE, "程序"),
    ("tool.pdf", samples.ELF, "程序"), ("run.txt", samples.SCRIPT, "程序"), ("empty.pdf", b"", "空"),
    ("bomb.zip", samples.zip_bomb(), "压缩包"), ("many.zip", samples.zip_many(), "压缩包"),
    ("broken.docx", b"PK\x03\x04garbage", "压缩包"),
])
def test_dangerous_or_broken_files_are_refused(app, case, db, name, content, message):
    page = upload(case["head"], case["item"], (name, content))
    assert message in page.text
    assert db.session.query(Evidence).count() == 0
    assert stored_files(app) == []


def test_renamed_file_is_shown_with_its_real_type(case, db):
    upload(case["head"], case["item"], ("照片.pdf", samples.png()))
    evidence = db.session.query(Evidence).one()
    assert evidence.content_type == "image/png" and evidence.original_name == "照片.png"


@pytest.mark.parametrize("raw,shown", [
    ("../../etc/passwd", "passwd.pdf"), ("a\x00.pdf", "a.pdf"), ("...", "file.pdf"), ("   .pdf", "file.pdf"),
    ("evil\u202efdp.exe", "evilfdp.pdf"), ("C:/temp/整改方案.pdf", "整改方案.pdf"),
])
def test_hostile_file_names_are_neutralised(case, db, raw, shown):
    upload(case["head"], case["item"], (raw, samples.pdf(raw)))
    assert db.session.query(Evidence).one().original_name == shown


def test_very_long_names_are_shortened(case, db):
    upload(case["head"], case["item"], ("长" * 400 + ".pdf", samples.pdf()))
    name = db.session.query(Evidence).one().original_name
    assert len(name) <= 120 and name.endswith(".pdf")


def test_same_file_twice_is_stored_once(app, case, db):
    content = samples.pdf()
    upload(case["head"], case["item"], ("a.pdf", content))
    page = upload(case["head"], case["item"], ("copy.pdf", content))
    assert "不会重复保存" in page.text
    assert db.session.query(Evidence).count() == 1 and len(stored_files(app)) == 1


def test_same_bytes_on_two_items_share_storage(app, case, db, make):
    other = make.item(status=Status.IN_PROGRESS, lead_unit=case["lead"])
    upload(case["head"], case["item"], ("a.pdf", samples.pdf()))
    upload(case["head"], other, ("a.pdf", samples.pdf()))
    assert db.session.query(Evidence).count() == 2 and len(stored_files(app)) == 1


def test_file_over_the_limit_is_refused_clearly(app, case, db):
    app.config["UPLOAD_MAX_FILE_MB"] = 1
    try:
        page = upload(case["head"], case["item"], ("big.pdf", samples.pdf() + b"0" * (1024 * 1024 + 10)))
    finally:
        app.config["UPLOAD_MAX_FILE_MB"] = 50
    assert "1 MB" in page.text
    assert db.session.query(Evidence).count() == 0 and stored_files(app) == []


def test_request_over_the_limit_gets_a_page_not_a_bare_413(app, case, db):
    app.config["MAX_CONTENT_LENGTH"] = 1024
    try:
        response = case["head"].post(f"/items/{case['item'].id}/evidence",
                                     {"files": [(io.BytesIO(samples.pdf() + b"0" * 4096), "a.pdf")]},
                                     content_type="multipart/form-data")
    finally:
        app.config["MAX_CONTENT_LENGTH"] = 200 * 1024 * 1024
    assert response.status_code == 413 and "MB" in response.text and "整改通" in response.text
    assert db.session.query(Evidence).count() == 0


def test_progress_with_files_keeps_them_together(case, db):
    data = {"body": "已完成选址", "percent": "30", "submission_key": "k1",
            "files": [(io.BytesIO(samples.pdf()), "批复.pdf"), (io.BytesIO(samples.jpeg()), "现场.jpg")]}
    response = case["head"].post(f"/items/{case['item'].id}/progress", data, content_type="multipart/form-data")
    assert response.status_code == 302
    update = db.session.query(ProgressUpdate).one()
    assert sorted(e.original_name for e in db.session.query(Evidence)) == ["批复.pdf", "现场.jpg"]
    assert {e.progress_update_id for e in db.session.query(Evidence)} == {update.id}


def test_bad_file_in_progress_form_saves_nothing_and_keeps_the_text(app, case, db):
    data = {"body": "我写了很长的进展说明", "percent": "30", "submission_key": "k1",
            "files": [(io.BytesIO(samples.pdf()), "ok.pdf"), (io.BytesIO(samples.HTML), "bad.pdf")]}
    page = case["head"].post(f"/items/{case['item'].id}/progress", data, content_type="multipart/form-data")
    assert page.status_code == 422 and "我写了很长的进展说明" in page.text
    assert db.session.query(ProgressUpdate).count() == 0 and db.session.query(Evidence).count() == 0
    assert stored_files(app) == []


def test_upload_without_csrf_token_is_refused(case, db):
    response = case["head"].client.post(f"/items/{case['item'].id}/evidence",
                                        data={"files": [(io.BytesIO(samples.pdf()), "a.pdf")]},
                                        content_type="multipart/form-data", follow_redirects=True)
    assert db.session.query(Evidence).count() == 0


@pytest.mark.parametrize("role,same_unit,visible", [
    (Role.ADMIN, False, True), (Role.INSPECTOR, False, True), (Role.LEADER, False, True),
    (Role.HEAD, True, True), (Role.STAFF, True, True), (Role.HEAD, False, False), (Role.STAFF, False, False),
])
def test_download_permission_follows_the_item(case, db, make, login_as, role, same_unit, visible):
    upload(case["head"], case["item"], ("a.pdf", samples.pdf()))
    evidence = db.session.query(Evidence).one()
    user = make.user(role, unit=case["lead"] if same_unit else None)
    response = login_as(user).get(f"/items/{case['item'].id}/evidence/{evidence.id}")
    assert response.status_code == (200 if visible else 404)


def test_evidence_id_under_another_item_is_404(case, db, make):
    other = make.item(status=Status.IN_PROGRESS, lead_unit=case["lead"])
    upload(case["head"], case["item"], ("a.pdf", samples.pdf()))
    evidence = db.session.query(Evidence).one()
    assert case["head"].get(f"/items/{other.id}/evidence/{evidence.id}").status_code == 404


def test_other_units_head_cannot_upload(case, db, make, login_as):
    stranger = login_as(make.user(Role.HEAD))
    response = stranger.post(f"/items/{case['item'].id}/evidence",
                             {"files": [(io.BytesIO(samples.pdf()), "a.pdf")]}, content_type="multipart/form-data")
    assert response.status_code == 404 and db.session.query(Evidence).count() == 0


def test_inspector_and_leader_cannot_upload(case, db, make, login_as):
    for role in (Role.INSPECTOR, Role.LEADER):
        page = upload(login_as(make.user(role)), case["item"], ("a.pdf", samples.pdf()))
        assert 'class="flash flash-error"' in page.text
    assert db.session.query(Evidence).count() == 0


def test_preview_only_for_images_and_pdf(case, db):
    upload(case["head"], case["item"], ("a.png", samples.png()), ("b.docx", samples.docx()),
           ("c.pdf", samples.pdf()))
    png, docx, pdf = sorted(db.session.query(Evidence), key=lambda e: e.original_name)
    for shown in (png, pdf):  # a PDF can carry scripts too: it is sandboxed like an image
        preview = case["head"].get(f"/items/{case['item'].id}/evidence/{shown.id}/preview")
        assert preview.status_code == 200 and preview.headers["Content-Disposition"].startswith("inline")
        assert preview.headers["Content-Security-Policy"].endswith("; sandbox")
    assert case["head"].get(f"/items/{case['item'].id}/evidence/{docx.id}/preview").status_code == 404


def test_withdrawal_keeps_the_file_and_journals_the_reason(app, case, db):
    upload(case["head"], case["item"], ("wrong.pdf", samples.pdf()))
    evidence = db.session.query(Evidence).one()
    url = f"/items/{case['item'].id}/evidence/{evidence.id}/withdraw"
    page = case["head"].post(url, {"reason": ""})
    assert page.status_code == 422 and "wrong.pdf" in page.text  # asked again, on its own page
    case["head"].post(url, {"reason": "传错了文件"})
    db.session.expire_all()
    evidence = db.session.get(Evidence, evidence.id)
    assert evidence.withdrawn and evidence.withdraw_reason == "传错了文件"
    assert len(stored_files(app)) == 1  # kept
    entry = db.session.query(JournalEntry).filter_by(action="withdraw_evidence").one()
    assert entry.changes["withdrawn"] == [False, True] and "传错了文件" in entry.note
    assert case["head"].get(f"/items/{case['item'].id}/evidence/{evidence.id}").status_code == 200


def test_closed_item_freezes_evidence(case, db, make, login_as):
    upload(case["head"], case["item"], ("a.pdf", samples.pdf()))
    evidence = db.session.query(Evidence).one()
    item = case["item"]
    item.status, item.closed_at, item.closed_by_id = Status.CLOSED, item.created_at, make.user(Role.INSPECTOR).id
    from tracker.items.models import ClosureResult
    item.closure_result = ClosureResult.RECTIFIED
    db.session.commit()
    admin = login_as(make.user(Role.ADMIN))
    page = upload(admin, item, ("b.pdf", samples.pdf("新")))
    assert "已冻结" in page.text or "不能" in page.text
    admin.post(f"/items/{item.id}/evidence/{evidence.id}/withdraw", {"reason": "x"})
    db.session.expire_all()
    assert db.session.query(Evidence).count() == 1 and not db.session.get(Evidence, evidence.id).withdrawn


def test_submission_needs_current_evidence(case, db):
    item = case["item"]
    page = case["head"].post(f"/items/{item.id}/actions/submit_for_closure", follow_redirects=True)
    assert "佐证材料" in page.text
    upload(case["head"], item, ("a.pdf", samples.pdf()))
    evidence = db.session.query(Evidence).one()
    case["head"].post(f"/items/{item.id}/evidence/{evidence.id}/withdraw", {"reason": "错了"})
    page = case["head"].post(f"/items/{item.id}/actions/submit_for_closure", follow_redirects=True)
    assert "佐证材料" in page.text
    upload(case["head"], item, ("b.pdf", samples.pdf("新的")))
    case["head"].post(f"/items/{item.id}/actions/submit_for_closure")
    db.session.expire_all()
    from tracker.items.models import Item
    assert db.session.get(Item, item.id).status == Status.SUBMITTED


def test_failing_disk_leaves_no_row_and_no_file(app, case, db, monkeypatch):
    from tracker.evidence import storage as storage_module

    def disk_full(self, key, source):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(storage_module.LocalStorage, "put_file", disk_full)
    page = upload(case["head"], case["item"], ("a.pdf", samples.pdf()))
    assert "存储" in page.text
    assert db.session.query(Evidence).count() == 0 and stored_files(app) == []


def test_a_failed_upload_leaves_its_bytes_to_the_sweep(app, case, db, monkeypatch):
    from tracker.evidence import services as evidence_services
    real_record = evidence_services.journal.record

    def broken(*args, **kw):
        raise RuntimeError("database went away")
    monkeypatch.setattr(evidence_services.journal, "record", broken)
    with pytest.raises(RuntimeError):  # the test client re-raises what a user sees as the 500 page
        case["head"].post(f"/items/{case['item'].id}/evidence",
                          {"files": [(io.BytesIO(samples.pdf()), "a.pdf")]}, content_type="multipart/form-data")
    monkeypatch.setattr(evidence_services.journal, "record", real_record)
    assert db.session.query(Evidence).count() == 0
    assert len([p for p in stored_files(app) if ".incoming" not in p.parts]) == 1  # placed, kept for now
    from tracker import clock
    assert evidence_services.sweep(clock.real_now() + dt.timedelta(days=2)) == 1
    assert stored_files(app) == []


def test_evidence_verify_detects_altered_and_missing_files(app, case, db):
    upload(case["head"], case["item"], ("a.pdf", samples.pdf("一")), ("b.pdf", samples.pdf("二")))
    runner = app.test_cli_runner()
    assert runner.invoke(args=["evidence", "verify"]).exit_code == 0
    a, b = sorted(db.session.query(Evidence), key=lambda e: e.original_name)
    from pathlib import Path
    root = Path(app.config["UPLOAD_DIR"])
    path_a = root / a.storage_key
    path_a.chmod(0o640)
    path_a.write_bytes(b"%PDF-1.4 swapped")
    (root / b.storage_key).unlink()
    result = runner.invoke(args=["evidence", "verify"])
    assert result.exit_code != 0
    assert re.search(r"altered.*a\.pdf", result.output) and re.search(r"missing.*b\.pdf", result.output)


@pytest.mark.parametrize("raw,extension,shown", [
    ("C:\\Users\\王\\整改方案.docx", "docx", "整改方案.docx"), ("报告\r\nBcc: x.pdf", "pdf", "报告Bcc: x.pdf"),
    ("..", "png", "file.png"), ("photo.JPEG", "jpg", "photo.jpeg"), ("notes", "txt", "notes.txt"),
])
def test_display_name_rules(raw, extension, shown):
    from tracker.evidence.names import display_name
    assert display_name(raw, extension) == shown


def test_only_the_uploaders_unit_or_an_admin_withdraws_a_file(case, db, make, login_as):
    helper_unit = make.unit("县财政局")
    item = case["item"]
    item.cooperating_units = [helper_unit]
    db.session.commit()
    upload(case["head"], item, ("lead.pdf", samples.pdf()))
    evidence = db.session.query(Evidence).one()
    helper = login_as(make.user(Role.HEAD, unit=helper_unit))
    item_page = helper.get(f"/items/{item.id}").text
    assert "lead.pdf" in item_page and f"/evidence/{evidence.id}/withdraw" not in item_page  # not offered
    page = helper.post(f"/items/{item.id}/evidence/{evidence.id}/withdraw", {"reason": "不对"}, follow_redirects=True)
    assert "只有上传文件的单位可以撤回该文件。" in page.text
    db.session.expire_all()
    assert not db.session.get(Evidence, evidence.id).withdrawn
    upload(helper, item, ("helper.pdf", samples.pdf("配合")))
    own = db.session.query(Evidence).filter_by(original_name="helper.pdf").one()
    assert f"/evidence/{own.id}/withdraw" in helper.get(f"/items/{item.id}").text  # its own file: offered
    helper.post(f"/items/{item.id}/evidence/{own.id}/withdraw", {"reason": "重传"})
    admin = login_as(make.user(Role.ADMIN))
    admin.post(f"/items/{item.id}/evidence/{evidence.id}/withdraw", {"reason": "管理员撤回"})
    db.session.expire_all()
    assert db.session.get(Evidence, own.id).withdrawn and db.session.get(Evidence, evidence.id).withdrawn


def test_a_failed_upload_never_deletes_bytes_another_upload_is_about_to_commit(app, case, db, make):
    """Two uploads of the same new file to two items: the first fails after placing the bytes, the
    second has found them placed and added its row, not yet committed."""
    from werkzeug.datastructures import FileStorage
    from tracker.evidence import services
    other = make.item(lead_unit=case["lead"])
    uploader = make.user(Role.HEAD, unit=case["lead"])
    item_ids, uploader_id = (case["item"].id, other.id), uploader.id
    content = samples.pdf("同一份文件")

    def staged_rows(item_id):
        files = [FileStorage(io.BytesIO(content), "通知.pdf")]
        staged = services.stage(files)
        services.add_rows(db.session.get(User, uploader_id), db.session.get(Item, item_id), staged)
        return staged

    with app.app_context():               # the first upload: places the bytes, then fails
        first = staged_rows(item_ids[0])
        assert first[0].placed
        db.session.rollback()
        with app.app_context():           # the second: finds the bytes, adds its row, commits later
            staged_rows(item_ids[1])
            services.discard(first)        # the first request cleans up meanwhile
            db.session.commit()
    db.session.expire_all()
    assert [e.item_id for e in db.session.query(Evidence)] == [item_ids[1]]
    assert services.verify() == []        # its bytes are there
    assert services.sweep() == 0          # referenced: kept


def test_the_sweep_deletes_unreferenced_bytes_only_after_a_day(app, case, db):
    from tracker import clock
    from tracker.evidence import services
    upload(case["head"], case["item"], ("kept.pdf", samples.pdf("保留")))
    orphan = Path(app.config["UPLOAD_DIR"]) / "ab" / "cd" / ("abcd" + "0" * 60)
    orphan.parent.mkdir(parents=True, exist_ok=True)
    orphan.write_bytes(b"left by a failed upload")
    assert services.sweep() == 0 and orphan.exists()          # it may still be about to be referenced
    assert services.sweep(clock.real_now() + dt.timedelta(hours=25)) == 1
    assert not orphan.exists() and services.verify() == []     # the referenced file stays
