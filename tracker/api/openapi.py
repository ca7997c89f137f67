"""The OpenAPI 3 description of /api/v1/, served at /api/v1/openapi.json.

Written by hand next to representations.py; tests/api/test_schemathesis.py checks that the
application answers as described here."""
from __future__ import annotations

from tracker.items.lights import Light
from tracker.items.ledger import SORTS
from tracker.items.models import ClosureResult, ItemKind, Status
from tracker.items.workflow import TRANSITIONS


def _nullable(schema: dict) -> dict:
    return {**schema, "nullable": True}


STRING = {"type": "string"}
INTEGER = {"type": "integer"}
BOOLEAN = {"type": "boolean"}
DATE = {"type": "string", "format": "date"}
DATETIME = {"type": "string", "format": "date-time"}
REF = {"type": "object", "required": ["id", "name"], "additionalProperties": False,
       "properties": {"id": INTEGER, "name": STRING}}


def _object(properties: dict, optional: tuple = ()) -> dict:
    return {"type": "object", "additionalProperties": False, "properties": properties,
            "required": [name for name in properties if name not in optional]}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


NUMBER = {"type": "number"}
_STAT_NUMBERS = ("assigned", "cancelled", "closed", "closed_on_time", "closed_late", "open", "overdue",
                 "overdue_days", "longest_overdue", "acknowledged", "returns", "extensions_asked",
                 "extensions_granted", "reminders", "escalations", "listed")
_STAT_PROPERTIES = {**{name: {"type": "integer", "minimum": 0} for name in _STAT_NUMBERS},
                    "on_time_rate": _nullable(NUMBER), "completion_rate": _nullable(NUMBER),
                    "average_acknowledge_days": _nullable(NUMBER)}
_STAT_UNIT = {"unit": {"$ref": "#/components/schemas/UnitRef"}, "rank": _nullable({"type": "integer", "minimum": 1})}

SCHEMAS = {
    "Error": _object({"error": _object({
        "code": STRING, "message": STRING,
        "fields": {"type": "object", "additionalProperties": STRING},
        # a version_conflict: the item's latest journal entries, newest first
        "changes": {"type": "array", "items": _object({
            "action": STRING, "at": STRING, "by": _nullable(STRING),
            "changes": {"type": "object", "additionalProperties": {"type": "array"}}})}},
        optional=("changes",))}),
    "UnitRef": REF,
    # tracker/reports/stats.py UnitStats; README "Unit statistics" says how each number is counted.
    "UnitStatisticsPart": _object({**_STAT_UNIT, **_STAT_PROPERTIES}),
    "UnitStatistics": _object({**_STAT_UNIT, **_STAT_PROPERTIES, "parts": {
        "type": "array", "items": {"$ref": "#/components/schemas/UnitStatisticsPart"}}}),
    "StatisticsTotal": _object(_STAT_PROPERTIES),
    "UserRef": REF,
    "Unit": _object({"id": INTEGER, "name": STRING, "code": STRING, "parent_id": _nullable(INTEGER),
                     "active": BOOLEAN}),
    "Evaluation": _object({"id": INTEGER, "title": STRING, "year": INTEGER, "issuing_body": STRING,
                           "issued_on": _nullable(DATE)}),
    "ItemSummary": _object(ITEM_PROPERTIES := {
        "id": INTEGER, "title": STRING, "status": {"type": "string", "enum": [s.value for s in Status]},
        "kind": {"type": "string", "enum": [k.value for k in ItemKind]},
        "deadline": DATE, "original_deadline": DATE,
        "progress_percent": {"type": "integer", "minimum": 0, "maximum": 100},
        "light": {"type": "string", "enum": [light.value for light in Light]},
        "overdue": BOOLEAN, "listed_supervision": BOOLEAN,
        "lead_unit": _ref("UnitRef"), "cooperating_units": {"type": "array", "items": _ref("UnitRef")},
        "owner": {"allOf": [_ref("UserRef")], "nullable": True},
        "finding": _object({"id": INTEGER, "text": STRING}),
        "evaluation": _object({"id": INTEGER, "title": STRING}),
        "updated_at": DATETIME, "version": INTEGER}),
    "Milestone": _object({"id": INTEGER, "title": STRING, "due_on": DATE, "done": BOOLEAN,
                          "done_at": _nullable(DATETIME)}),
    "Progress": _object({"id": INTEGER, "body": STRING, "percent": INTEGER, "author": STRING,
                         "created_at": DATETIME}),
    "Evidence": _object({"id": INTEGER, "name": STRING, "size": INTEGER, "content_type": STRING,
                         "sha256": STRING, "progress_update_id": _nullable(INTEGER), "uploaded_by": STRING,
                         "uploaded_at": DATETIME, "withdrawn": BOOLEAN, "withdraw_reason": _nullable(STRING),
                         "download_url": STRING}),
}
SCHEMAS["Part"] = _object({
    "id": INTEGER, "unit": _ref("UnitRef"), "request": STRING, "deadline": DATE,
    "status": {"type": "string", "enum": ["pending", "in_progress", "done", "returned", "cancelled"]},
    "light": {"type": "string", "enum": [light.value for light in Light]},
    "last_activity_on": DATE, "acknowledged_at": _nullable(DATETIME), "done_at": _nullable(DATETIME),
    "statement": _nullable(STRING), "return_reason": _nullable(STRING), "override_reason": _nullable(STRING),
    "version": INTEGER,
    "actions": {"type": "array", "items": {"type": "string", "enum": ["acknowledge", "progress", "done", "return"]}}})
SCHEMAS["ItemDetail"] = _object({
    **ITEM_PROPERTIES,
    "measures": STRING, "target": STRING, "responsible_leader": STRING,
    "return_reason": _nullable(STRING), "acceptance_opinion": _nullable(STRING),
    "closure_result": {"type": "string", "enum": [r.value for r in ClosureResult], "nullable": True},
    "closed_at": _nullable(DATETIME), "submitted_at": _nullable(DATETIME),
    "milestones": {"type": "array", "items": _ref("Milestone")},
    "progress": {"type": "array", "items": _ref("Progress")},
    "evidence": {"type": "array", "items": _ref("Evidence")},
    "actions": {"type": "array", "items": _object({"action": STRING, "needs": {"type": "array", "items": STRING}})},
    "can_post_progress": BOOLEAN,
    "parts": {"type": "array", "items": _ref("Part")}})


def _error(description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": _ref("Error")}}}


def _json(schema: dict, description: str = "OK") -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


COMMON_ERRORS = {"401": _error("No valid token (missing, unknown, revoked, expired, or its user is deactivated)"),
                 "429": _error("Too many requests; see Retry-After")}
ITEM_ERRORS = {**COMMON_ERRORS, "404": _error("No such item, or the caller may not see it")}
WRITE_ERRORS = {**ITEM_ERRORS,
                "400": _error("Malformed JSON"),
                "403": _error("The caller's role may never do this"),
                "409": _error("Refused now (code `refused`: the item's state) or changed by someone else "
                              "(code `version_conflict`, with `changes`: the item's latest changes)"),
                "413": _error("Body too large"),
                "415": _error("Wrong content type"),
                "422": _error("Invalid values; `fields` says which")}
ITEM_ID = {"name": "item_id", "in": "path", "required": True,
           "schema": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}}
SORT_KEYS = [*SORTS, "light", "unit"]


def _query(name: str, schema: dict, description: str) -> dict:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


LIST_PARAMETERS = [
    _query("q", {"type": "string", "maxLength": 100}, "Text in the title, measures or finding"),
    _query("evaluation", {"type": "integer", "minimum": 1}, "Evaluation id"),
    _query("unit", {"type": "integer", "minimum": 1}, "Lead or cooperating unit id"),
    _query("status", {"type": "string", "enum": [s.value for s in Status]}, "Status"),
    _query("light", {"type": "string", "enum": [Light.RED.value, Light.YELLOW.value, Light.GREEN.value]},
           "Traffic light"),
    _query("overdue", {"type": "string", "enum": ["1", "true"]}, "Only overdue items"),
    _query("open", {"type": "string", "enum": ["1", "true"]}, "Only open items (neither closed nor cancelled)"),
    _query("owner", {"type": "integer", "minimum": 1}, "Owner (responsible person) id"),
    _query("mine", {"type": "string", "enum": ["1", "true"]}, "Only items the caller owns"),
    _query("sort", {"type": "string", "enum": SORT_KEYS + ["-" + key for key in SORT_KEYS]},
           "Sort key; a leading '-' sorts descending"),
    _query("page", {"type": "integer", "minimum": 1}, "Page number"),
    _query("per_page", {"type": "integer", "minimum": 1, "maximum": 100}, "Items per page"),
]

PROGRESS_JSON = {"type": "object", "required": ["body", "percent"], "properties": {
    "body": {"type": "string", "minLength": 1, "maxLength": 5000},
    "percent": {"type": "integer", "minimum": 0, "maximum": 100},
    "submission_key": {"type": "string", "maxLength": 64,
                       "description": "Repeat it to make a retried request harmless"},
    "version": {"type": "integer", "description": "Accepted and ignored: progress is appended, it never "
                                                 "conflicts with another change"}}}
PROGRESS_FORM = {"type": "object", "required": ["body", "percent"], "properties": {
    "body": {"type": "string"}, "percent": {"type": "integer", "minimum": 0, "maximum": 100},
    "submission_key": {"type": "string", "maxLength": 64},
    "files": {"type": "array", "items": {"type": "string", "format": "binary"}}}}
ACTION_JSON = {"type": "object", "properties": {
    "reason": {"type": "string", "maxLength": 2000,
               "description": "Also the reason to submit for closure while parts are not done (lead head)"},
    "parts": {"type": "object", "description": "assign: each cooperating unit's line, by unit id",
              "additionalProperties": {"type": "object", "properties": {
                  "request": {"type": "string", "maxLength": 5000}, "deadline": DATE}}},
    "result": {"type": "string", "enum": [r.value for r in ClosureResult]},
    "version": {"type": "integer"}}}


def document() -> dict:
    """The OpenAPI document (a fresh dict each time)."""
    progress_created = _json(_object({"progress": _ref("Progress"), "created": BOOLEAN,
                                      "item": _ref("ItemSummary")}), "Posted")
    return {
        "openapi": "3.0.3",
        "info": {"title": "Rectify API", "version": "1",
                 "description": "Rectification items (整改事项): the ledger, progress, evidence, workflow."},
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer",
                                                      "description": "A personal token from the profile page"}},
                       "schemas": SCHEMAS},
        "paths": {
            "/api/v1/me": {"get": {"operationId": "me", "summary": "The token's user", "responses": {
                "200": _json(_object({"id": INTEGER, "username": STRING, "name": STRING, "role": STRING,
                                      "unit": {"allOf": [_ref("UnitRef")], "nullable": True}})),
                **COMMON_ERRORS}}},
            "/api/v1/items": {"get": {
                "operationId": "listItems", "summary": "The ledger, as on /items", "parameters": LIST_PARAMETERS,
                "responses": {"200": _json(_object({"items": {"type": "array", "items": _ref("ItemSummary")},
                                                    "page": INTEGER, "per_page": INTEGER, "pages": INTEGER,
                                                    "total": INTEGER})), **COMMON_ERRORS}}},
            "/api/v1/items/{item_id}": {"get": {
                "operationId": "getItem", "summary": "An item with milestones, progress and evidence",
                "parameters": [ITEM_ID], "responses": {"200": _json(_ref("ItemDetail")), **ITEM_ERRORS}}},
            "/api/v1/items/{item_id}/progress": {"post": {
                "operationId": "postProgress", "summary": "Post a progress update (files: multipart)",
                "parameters": [ITEM_ID],
                "requestBody": {"required": True, "content": {
                    "application/json": {"schema": PROGRESS_JSON},
                    "multipart/form-data": {"schema": PROGRESS_FORM}}},
                "responses": {"201": progress_created, "200": _json(progress_created["content"][
                    "application/json"]["schema"], "Already posted with this submission_key"), **WRITE_ERRORS}}},
            "/api/v1/items/{item_id}/evidence": {"post": {
                "operationId": "uploadEvidence", "summary": "Attach evidence files", "parameters": [ITEM_ID],
                "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
                    "type": "object", "required": ["files"], "properties": {
                        "files": {"type": "array", "items": {"type": "string", "format": "binary"}}}}}}},
                "responses": {"201": _json(_object({"evidence": {"type": "array", "items": _ref("Evidence")},
                                                    "duplicates": {"type": "array", "items": STRING}}), "Attached"),
                              **WRITE_ERRORS}}},
            "/api/v1/items/{item_id}/evidence/{evidence_id}": {"get": {
                "operationId": "downloadEvidence", "summary": "Download an evidence file",
                "parameters": [ITEM_ID, {**ITEM_ID, "name": "evidence_id"}],
                "responses": {"200": {"description": "The file", "content": {"*/*": {
                    "schema": {"type": "string", "format": "binary"}}}}, "304": {"description": "Not modified"},
                    **ITEM_ERRORS}}},
            "/api/v1/items/{item_id}/actions/{action}": {"post": {
                "operationId": "performAction", "summary": "Take a workflow action",
                "parameters": [ITEM_ID, {"name": "action", "in": "path", "required": True,
                                         "schema": {"type": "string", "enum": [t.action for t in TRANSITIONS]}}],
                "requestBody": {"required": False, "content": {"application/json": {"schema": ACTION_JSON}}},
                "responses": {"200": _json(_ref("ItemDetail"), "Done; the item as it is now"), **WRITE_ERRORS}}},
            "/api/v1/items/{item_id}/parts/{part_id}/{step}": {"post": {
                "operationId": "partStep", "summary": "A step on a cooperating unit's part",
                "parameters": [ITEM_ID, {**ITEM_ID, "name": "part_id"},
                               {"name": "step", "in": "path", "required": True,
                                "schema": {"type": "string", "enum": ["acknowledge", "progress", "done", "return"]}}],
                "requestBody": {"required": False, "content": {"application/json": {"schema": {
                    "type": "object", "properties": {
                        "text": {"type": "string", "maxLength": 5000,
                                 "description": "progress: what was done; done: the statement; return: the reason"},
                        "version": {"type": "integer", "description": "The part's version as read"}}}}}},
                "responses": {"200": _json(_object({"part": _ref("Part")}), "Done; the part as it is now"),
                              **WRITE_ERRORS, "404": _error("No such item or part, or the caller may not see it")}}},
            "/api/v1/units": {"get": {"operationId": "listUnits", "summary": "All units", "responses": {
                "200": _json(_object({"units": {"type": "array", "items": _ref("Unit")}})), **COMMON_ERRORS}}},
            "/api/v1/statistics": {"get": {
                "operationId": "unitStatistics", "summary": "Per unit: assigned, closed on time, overdue, "
                                                            "reminders ... (the statistics page)",
                "parameters": [
                    _query("start", {"type": "string", "format": "date"}, "Items handed out from (included)"),
                    _query("end", {"type": "string", "format": "date"}, "Items handed out until (included)"),
                    _query("evaluation", {"type": "integer", "minimum": 1}, "Evaluation id")],
                "responses": {"200": _json(_object({
                    "as_of": DATE, "start": _nullable(DATE), "end": _nullable(DATE),
                    "evaluation": _nullable(_object({"id": INTEGER, "title": STRING})),
                    "ranking_rule": STRING,
                    "units": {"type": "array", "items": _ref("UnitStatistics")},
                    "total": _ref("StatisticsTotal"),
                    "weeks": {"type": "array", "items": _object({
                        "start": DATE, "closures": INTEGER, "new_overdue": INTEGER, "open_at_end": INTEGER})}})),
                    "403": _error("Only leaders, inspectors and admins read the statistics"),
                    "422": _error("Invalid values; `fields` says which (a period ending before it starts, "
                                  "an evaluation that does not exist)"),
                    **COMMON_ERRORS}}},
            "/api/v1/evaluations": {"get": {"operationId": "listEvaluations", "summary": "Evaluation rounds",
                                            "responses": {"200": _json(_object({"evaluations": {
                                                "type": "array", "items": _ref("Evaluation")}})),
                                                **COMMON_ERRORS}}},
            "/api/v1/openapi.json": {"get": {"operationId": "openapi", "summary": "This document", "security": [],
                                             "responses": {"200": {"description": "OpenAPI 3",
                                                                   "content": {"application/json": {}}}}}},
        },
    }
