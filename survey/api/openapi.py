"""The OpenAPI 3.1 document of the API, built from the same constants the endpoints check."""

from __future__ import annotations

import copy
from typing import Any

from survey.api.queries import BY_VALUES, METHODS

PROBLEM = "application/problem+json"
FHIR_JSON = "application/fhir+json"
LONG_FORMATS = ("json", "csv")
NULLABLE_INT = {"type": ["integer", "null"], "minimum": 0}
# A number that may be missing: a suppressed figure, or a quantity of a fit that gave no number
# (NaN), e.g. a standard error from a variance estimated as negative.
NULLABLE_NUMBER = {"type": ["number", "null"]}

ERRORS = {
    400: "The query is invalid; `detail` names the parameter.",
    401: "No valid credentials: send a personal API token (`Authorization: Bearer <token>`, made "
         "on the staff account page) or the staff session cookie. The `WWW-Authenticate` header "
         "names the Bearer scheme, with `error=\"invalid_token\"` for a malformed, unknown or "
         "revoked token.",
    403: "Signed in, but the role or trust does not give access.",
    404: "No such trust or study.",
    422: "The model cannot be fitted to these data; `detail` says why.",
}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _responses(ok: dict[str, Any], *codes: int) -> dict[str, Any]:
    """A 200 response and the problem responses of these status codes."""
    responses: dict[str, Any] = {"200": ok}
    for code in sorted({401, 403, *codes}):
        responses[str(code)] = {"$ref": f"#/components/responses/Problem{code}"}
    return responses


def _code(what: str, example: str) -> dict[str, Any]:
    return {"name": "code", "in": "path", "required": True, "description": f"The {what}'s code.",
            "schema": {"type": "string", "minLength": 1}, "example": example}


def _query(name: str, schema: dict[str, Any], description: str, required: bool = False,
           example: str | None = None) -> dict[str, Any]:
    parameter = {"name": name, "in": "query", "required": required, "description": description,
                 "schema": schema}
    if example is not None:
        parameter["example"] = example
    return parameter


def _object(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    return {"type": "object", "required": required if required is not None else list(properties),
            "properties": properties}


SCHEMAS: dict[str, Any] = {
    "Problem": _object({"status": {"type": "integer"}, "title": {"type": "string"},
                        "detail": {"type": "string"}}),
    "Wave": _object({
        "index": {"type": "integer"},
        "label": {"type": "string"},
        "offset_days": {"type": ["integer", "null"], "description": "Days after the anchor date."},
        "fixed_date": {"type": ["string", "null"], "format": "date"},
        "window_days": {"type": "integer"},
    }),
    "Study": _object({
        "code": {"type": "string"},
        "name": {"type": "string"},
        "status": {"type": "string", "enum": ["active", "paused"]},
        "timezone": {"type": "string"},
        "waves": {"type": "array", "items": _ref("Wave")},
    }),
    "StudyList": _object({"studies": {"type": "array", "items": _ref("Study")}}),
    "Cell": {
        "description": "A mean and the number of people behind it. A withheld cell (fewer than "
                       "min_group_size people, or withheld so that another cannot be derived) "
                       "carries neither.",
        "oneOf": [
            _object({"suppressed": {"const": False},
                     "n": {"type": ["integer", "null"], "minimum": 0,
                           "description": "null when it would reveal a withheld group's size"},
                     "value": {"type": ["number", "null"]}}),
            _object({"suppressed": {"const": True}, "n": {"type": "null"},
                     "value": {"type": "null"}}),
        ],
    },
    "RateRow": _object({
        "wave": {"type": "integer"},
        "label": {"type": "string"},
        "team": {"type": ["string", "null"], "description": "null for the whole trust"},
        "group": {"type": ["string", "null"], "description": "peer_workers or colleagues in the "
                                                            "breakdown by role, else null"},
        "suppressed": {"type": "boolean"},
        "invited": NULLABLE_INT,
        "completed": NULLABLE_INT,
        "completed_suppressed": {"type": "boolean", "description": "The number who answered "
                                 "(and so the rate) is withheld: it would give away the size of "
                                 "a group smaller than min_group_size."},
        "still_open": NULLABLE_INT,
        "rate": {"type": ["number", "null"], "minimum": 0, "maximum": 1,
                 "description": "To 3 decimal places."},
    }),
    "TrendRow": {"allOf": [
        _object({"scale": {"type": "string"}, "group": {"type": "string"},
                 "wave": {"type": "integer"},
                 "ci_low": {"type": ["number", "null"], "description":
                            "The mean's 95% confidence interval (t), to 1 decimal place; null "
                            "when the mean is withheld or rests on one person."},
                 "ci_high": {"type": ["number", "null"]}}),
        _ref("Cell"),
    ]},
    "GapRow": _object({
        "scale": {"type": "string"},
        "team": {"type": "string"},
        "peer_workers": _ref("Cell"),
        "colleagues": _ref("Cell"),
        "gap": {"type": ["number", "null"], "description": "Colleagues' mean minus peer workers'."},
    }),
    "Change": _object({
        "scale": {"type": "string"},
        "group": {"type": "string", "enum": ["peer_workers", "colleagues", "gap"],
                  "description": "gap: the colleagues' mean minus the peer workers'"},
        "since": {"type": "string", "enum": ["previous wave", "baseline"]},
        "wave_from": {"type": "integer"},
        "wave_to": {"type": "integer"},
        "suppressed": {"type": "boolean"},
        "value_from": NULLABLE_NUMBER,
        "value_to": NULLABLE_NUMBER,
        "estimate": {**NULLABLE_NUMBER, "description": "value_to minus value_from"},
        "ci_low": NULLABLE_NUMBER,
        "ci_high": NULLABLE_NUMBER,
        "verdict": {"type": ["string", "null"],
                    "enum": ["better", "worse", "no clear change", "narrowing", "widening", None]},
        "reason": {"type": ["string", "null"], "description": "Why it is withheld."},
    }),
    "Benchmark": _object({
        "scale": {"type": "string"},
        "group": {"type": "string"},
        "wave": {"type": "integer"},
        "suppressed": {"type": "boolean"},
        "trust_value": NULLABLE_NUMBER,
        "comparator_value": {**NULLABLE_NUMBER,
                             "description": "Every other trust of the study pooled."},
        "comparator_trusts": {"type": ["integer", "null"], "minimum": 3},
        "estimate": {**NULLABLE_NUMBER, "description": "Trust minus comparator."},
        "ci_low": NULLABLE_NUMBER,
        "ci_high": NULLABLE_NUMBER,
        "verdict": {"type": ["string", "null"],
                    "enum": ["significantly above", "significantly below", "similar", None]},
        "reason": {"type": ["string", "null"]},
    }),
    "Dashboard": _object({
        "trust": _object({"code": {"type": "string"}, "name": {"type": "string"}}),
        "team": {"oneOf": [{"type": "null"},
                           _object({"code": {"type": "string"}, "name": {"type": "string"}})]},
        "study": _object({"code": {"type": "string"}, "name": {"type": "string"}}),
        "min_group_size": {"type": "integer"},
        "published_at": {"type": ["string", "null"], "format": "date-time",
                         "description": "When the latest published wave was published. Figures "
                                        "are only of published waves (their answers closed), "
                                        "frozen then; means to 1 decimal place."},
        "published": {"type": "array", "items": _object({
            "wave": {"type": "integer"},
            "published_at": {"type": "string", "format": "date-time"}})},
        "open_waves": {"type": "array", "description": "Waves still open: the trust's response "
                       "rate to the nearest 10% only (null while fewer than min_group_size are "
                       "invited).", "items": _object({
                           "wave": {"type": "integer"}, "label": {"type": "string"},
                           "response_rate_percent": {"type": ["integer", "null"],
                                                     "minimum": 0, "maximum": 100}})},
        "waves": {"type": "array", "items": _object({"index": {"type": "integer"},
                                                     "label": {"type": "string"}})},
        "groups": {"type": "array", "items": _object({"id": {"type": "string"},
                                                      "label": {"type": "string"}})},
        "response_rates": {"type": "array", "items": _ref("RateRow")},
        "team_response_rates": {"type": "array", "items": _ref("RateRow")},
        "group_response_rates": {"type": "array", "items": _ref("RateRow")},
        "trends": {"type": "array", "items": _ref("TrendRow")},
        "gap_wave": {"type": ["integer", "null"]},
        "gaps": {"type": "array", "items": _ref("GapRow")},
        "current_wave": {"type": ["integer", "null"],
                         "description": "The latest wave with a figure shown; changes end here."},
        "summary": {"type": "array", "description": "What changed most, in words.",
                    "items": {"allOf": [_ref("Change"),
                                        _object({"text": {"type": "string"}})]}},
        "changes": {"type": "array", "items": _ref("Change")},
        "gap_trend": {"type": "array", "items": _object({"scale": {"type": "string"},
                                                         "wave": {"type": "integer"},
                                                         "gap": NULLABLE_NUMBER})},
        "gap_changes": {"type": "array", "items": _ref("Change")},
        "benchmarks": {"type": "array", "items": _ref("Benchmark")},
    }),
    "Agreement": _object({
        "study": {"type": "string"},
        "min_group_size": {"type": "integer"},
        "scales": {"type": "array", "items": _object({
            "instrument": {"type": "string"}, "version": {"type": "integer"},
            "scale": {"type": "string"},
            "waves": {"type": "array", "items": _object({
                "wave": {"type": "integer"}, "teams_left_out": {"type": "integer"},
                "error": {"type": "string", "description": "Why there are no figures, or empty."},
                "icc1": NULLABLE_NUMBER, "icc2": NULLABLE_NUMBER, "ranvar": NULLABLE_NUMBER,
                "n_groups": {"type": "integer"}, "rows_used": {"type": "integer"},
                "teams": {"type": "array", "items": _object({
                    "group": {"type": "string"}, "size": {"type": "integer"},
                    "rwg_j": NULLABLE_NUMBER})},
            }, required=["wave", "teams_left_out", "error"])},
        })},
    }),
    "ModelResults": _object({
        "formula": {"type": "string"},
        "method": {"type": "string", "enum": list(METHODS)},
        "n_obs": {"type": "integer"},
        "n_subjects": {"type": "integer"},
        "n_groups": {"type": ["integer", "null"]},
        "fixed_effects": {"type": "array", "items": _object({
            "term": {"type": "string"}, "estimate": NULLABLE_NUMBER, "se": NULLABLE_NUMBER,
            "ci_low": NULLABLE_NUMBER, "ci_high": NULLABLE_NUMBER, "p": NULLABLE_NUMBER,
        })},
        "random_effects": _object({
            "subject": _object({
                "sd": {"type": "object", "additionalProperties": NULLABLE_NUMBER},
                "corr": {"type": ["number", "null"]},
            }),
            "group": {"oneOf": [{"type": "null"},
                                _object({"sd": NULLABLE_NUMBER})]},
        }),
        "residual_sd": NULLABLE_NUMBER,
        "loglik": NULLABLE_NUMBER,
        "aic": NULLABLE_NUMBER,
        "bic": NULLABLE_NUMBER,
        "converged": {"type": "boolean"},
        "warnings": {"type": "array", "items": {"type": "string"}},
    }),
    "LongData": _object({
        "study": {"type": "string"},
        "columns": {"type": "array", "items": {"type": "string"}},
        "rows": {"type": "array", "items": _object({
            "participant": {"type": "string", "description": "Pseudonymous participant code."},
            "team": {"type": "string"},
            "trust": {"type": "string"},
            "role": {"type": "string", "enum": ["peer_worker", "colleague", "manager"]},
            "role_group": {"type": "string", "enum": ["peer_worker", "colleague"]},
            "wave": {"type": "integer"},
            "months": {"type": "number", "description": "From the anchor date to the answer."},
            "scale": {"type": "string"},
            "score": {**NULLABLE_NUMBER, "description": "null when too few items were answered"},
            "items_answered": {"type": "integer", "minimum": 0},
            "items_not_asked": {"type": "integer", "minimum": 0,
                                "description": "Items of the scale its conditions hid from this "
                                               "response (not asked: never counted as missing "
                                               "against the scale's minimum share)."},
        })},
    }),
    "QuestionnaireResponse": {
        "type": "object",
        "description": "A FHIR R4 QuestionnaireResponse, as in the export's "
                       "fhir/QuestionnaireResponse.ndjson; the subject is the participant's code.",
        "required": ["resourceType", "id", "questionnaire", "status", "subject", "authored"],
        "properties": {
            "resourceType": {"const": "QuestionnaireResponse"},
            "id": {"type": "string"},
            "questionnaire": {"type": "string"},
            "status": {"const": "completed"},
            "identifier": {"type": "object"},
            "subject": _object({"identifier": _object({"system": {"type": "string"},
                                                      "value": {"type": "string"}})}),
            "authored": {"type": "string"},
            "item": {"type": "array", "items": {"type": "object"}},
        },
    },
}

PATHS: dict[str, Any] = {
    "/openapi.json": {"get": {
        "operationId": "getOpenApi",
        "summary": "This document.",
        "responses": _responses({"description": "The OpenAPI document.",
                                 "content": {"application/json": {"schema": {"type": "object"}}}}),
    }},
    "/studies": {"get": {
        "operationId": "listStudies",
        "summary": "Every study with its waves. Any staff role.",
        "responses": _responses(_json(_ref("StudyList"), "The studies.")),
    }},
    "/trusts/{code}/dashboard": {"get": {
        "operationId": "getTrustDashboard",
        "summary": "One trust's dashboard figures for one study; small groups withheld. "
                   "Trust monitors may see only their own trust.",
        "parameters": [_code("trust", "NRT"),
                       _query("study", {"type": "string", "minLength": 1}, "The study's code.",
                              required=True, example="demo"),
                       _query("team", {"type": "string", "minLength": 1},
                              "A team's code: that team's figures, withheld together with its "
                              "sibling teams (no comparator).")],
        "responses": _responses(_json(_ref("Dashboard"), "The figures."), 400, 404),
    }},
    "/studies/{code}/model": {"get": {
        "operationId": "fitStudyModel",
        "summary": "A growth model (random intercept and slope per participant) of one scale. "
                   "Researchers and admins only.",
        "parameters": [
            _code("study", "demo"),
            _query("scale", {"type": "string", "minLength": 1},
                   "A scale of the study's instruments; one without scores yet gives 422.",
                   required=True, example="equality"),
            _query("by", {"type": "string", "enum": list(BY_VALUES), "default": "role_group"},
                   "Compare groups over time: role_group, role, or empty for everyone together."),
            _query("team_level", {"type": "boolean", "default": False},
                   "Add a random intercept per team."),
            _query("method", {"type": "string", "enum": list(METHODS), "default": "REML"},
                   "Estimation method."),
        ],
        "responses": _responses(_json(_ref("ModelResults"),
                                      "The fit, as `python -m analysis fit --json` prints it."),
                                400, 404, 422),
    }},
    "/studies/{code}/agreement": {"get": {
        "operationId": "getStudyAgreement",
        "summary": "Is it a team score? ICC(1), ICC(2) and rwg(j) of each scale per wave across "
                   "teams (R's multilevel formulas; `python -m analysis agreement`). Only teams "
                   "with at least the minimum group size take part. Researchers and admins only.",
        "parameters": [_code("study", "demo")],
        "responses": _responses(_json(_ref("Agreement"), "Agreement per scale and wave."), 404),
    }},
    "/studies/{code}/long": {"get": {
        "operationId": "getStudyLongData",
        "summary": "The export's long table: one row per participant, wave and scale (scale scores, "
                   "pseudonymous; never free text). Researchers and admins only; each read is audited.",
        "parameters": [
            _code("study", "demo"),
            _query("format", {"type": "string", "enum": list(LONG_FORMATS), "default": "json"},
                   "json, or csv (the export's long.csv)."),
        ],
        "responses": _responses({"description": "The long table.", "content": {
            "application/json": {"schema": _ref("LongData")},
            "text/csv": {"schema": {"type": "string"}},
        }}, 400, 404),
    }},
    "/studies/{code}/responses/{response}/fhir": {"get": {
        "operationId": "getResponseFhir",
        "summary": "One submitted response as a FHIR R4 QuestionnaireResponse (pseudonymous). "
                   "Researchers and admins only; each read is audited.",
        "parameters": [
            _code("study", "demo"),
            {"name": "response", "in": "path", "required": True,
             "description": "The participant's code and the wave: `<participant>-wave-<wave>`.",
             "schema": {"type": "string", "minLength": 1}, "example": "P0A1B2C3D4-wave-1"},
            _query("free_text", {"type": "boolean", "default": False},
                   "Include free-text answers (valueString); left out unless true."),
        ],
        "responses": _responses({"description": "The QuestionnaireResponse.", "content": {
            FHIR_JSON: {"schema": _ref("QuestionnaireResponse")}}}, 400, 404),
    }},
}


def document(cookie_name: str = "session") -> dict[str, Any]:
    """The OpenAPI document (a fresh dict each call)."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "PeerPulse API",
            "version": "1.0.0",
            "description": "Read-only JSON for staff: a personal API token "
                           "(`Authorization: Bearer <token>`, made on the staff account page; it "
                           "acts as its owner) or the staff session cookie. Errors are problem "
                           "objects (RFC 9457). Examples use the demo's codes.",
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"apiToken": []}, {"staffSession": []}],
        "paths": copy.deepcopy(PATHS),
        "components": {
            "securitySchemes": {
                "apiToken": {"type": "http", "scheme": "bearer",
                             "description": "A personal API token from the staff account page."},
                "staffSession": {"type": "apiKey", "in": "cookie", "name": cookie_name},
            },
            "schemas": copy.deepcopy(SCHEMAS),
            "responses": {
                f"Problem{code}": {"description": description,
                                   "content": {PROBLEM: {"schema": _ref("Problem")}}}
                for code, description in ERRORS.items()
            },
        },
    }
