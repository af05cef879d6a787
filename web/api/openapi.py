# Writes web/api/openapi.json, the OpenAPI 3.1 description of the API served at /api/v1/openapi.json
# (embedded by web/assets.manifest): python3 web/api/openapi.py > web/api/openapi.json. Keep it in step
# with src/serve/api.cc; tests/integration/test_api_spec.py checks real responses against it.
import json
S = lambda t, **k: {"type": t, **k}
num = S("number"); int_ = S("integer"); str_ = S("string")
date = S("string", pattern=r"^\d{4}-\d{2}-\d{2}$")
def null(s): return {"oneOf": [s, {"type": "null"}]} if "type" not in s else {**s, "type": [s["type"], "null"]}
def arr(items): return S("array", items=items)
def obj(props, required=None, extra=False):
    o = {"type": "object", "properties": props, "required": required if required is not None else list(props)}
    if not extra: o["additionalProperties"] = False
    return o
def p(name, schema, desc, required=False):
    return {"name": name, "in": "query", "required": required, "schema": schema, "description": desc}
dateq = lambda n, d: p(n, {"type": "string", "format": "date"}, d)
loc = p("location", str_, "a location id (see /api/v1/locations): US (default), a state (06), a county (06037, or 36:New York City), a country (FRA)")
ref = lambda n: {"$ref": "#/components/schemas/" + n}
def ok(schema_ref, ctype="application/json", desc="OK"):
    return {"description": desc, "headers": {"ETag": {"schema": str_}}, "content": {ctype: {"schema": schema_ref}}}
errs = {"400": {"description": "a bad parameter", "content": {"application/json": {"schema": ref("Error")}}},
        "503": {"description": "the database cannot be read", "content": {"application/json": {"schema": ref("Error")}}}}
def get(summary, params, resp200, extra=None):
    r = {"200": resp200, **errs}
    if extra: r.update(extra)
    return {"get": {"summary": summary, "parameters": params, "responses": r}}

series_cols = {
    "location": str_, "from": null(date), "to": null(date), "count": int_,
    "date": arr(date), "cases": arr(null(int_)), "deaths": arr(null(int_)), "recovered": arr(null(int_)),
    "new_cases": arr(null(int_)), "new_deaths": arr(null(int_)),
    "new_cases_avg7": arr(null(num)), "new_deaths_avg7": arr(null(num)),
    "new_cases_avg7_raw": arr(null(num)), "new_deaths_avg7_raw": arr(null(num)),
    "omitted": arr({"enum": [None, "cases", "deaths", "both"]}),
    "cases_per_100k": arr(null(num)), "deaths_per_100k": arr(null(num)),
    "new_cases_avg7_per_100k": arr(null(num)), "new_deaths_avg7_per_100k": arr(null(num)),
}
run_record = obj({"id": int_, "status": str_, "started_at": str_, "finished_at": null(str_), "stage": null(str_),
                  "error": null(str_), "inserted": int_, "updated": int_, "unchanged": int_, "missing": int_},
                 required=["id", "status", "started_at"], extra=True)
schemas = {
    "Error": obj({"status": int_, "error": str_, "message": str_}),
    "Index": obj({"version": int_, "openapi": str_, "endpoints": arr(obj({"method": str_, "path": str_, "description": str_}))}),
    "Series": obj(series_cols, required=["location", "from", "to", "count", "date"]),
    "Map": obj({
        "level": {"enum": ["state", "county", "country"]}, "metric": {"enum": ["cases", "deaths"]},
        "per_100k": S("boolean"), "state": null(str_), "first_date": null(date), "last_date": null(date),
        "from": null(date), "to": null(date), "count": int_, "dates": arr(date), "ids": arr(str_), "names": arr(str_),
        "population": arr(null(int_)),
        "shapes": S("object", additionalProperties=arr(str_), description="the shape ids (us-atlas FIPS codes, world-atlas ISO 3166-1 numeric codes) of the ids whose shapes are not their own id; an empty list: no shape (listed beside the map)"),
        "values": arr(arr(null(num)))}),
    "Locations": obj({"q": null(str_), "type": null(str_), "limit": int_, "total": int_, "count": int_,
                      "locations": arr(obj({"id": str_, "type": {"enum": ["nation", "state", "county", "country"]},
                                            "name": str_, "state": null(str_), "fips": null(str_), "label": str_,
                                            "source": null(str_), "population": null(int_)}))}),
    "States": obj({"date": null(date), "count": int_, "states": arr(obj({
        "id": str_, "name": str_, "date": null(date), "cases": null(int_), "deaths": null(int_),
        "new_cases_avg7": null(num), "new_deaths_avg7": null(num), "new_cases_avg7_14d_ago": null(num),
        "change_14d": null(num), "change_14d_pct": null(num), "new_cases_avg7_per_100k": null(num),
        "new_deaths_avg7_per_100k": null(num)}))}),
    "Rankings": obj({"level": {"enum": ["state", "county", "country"]}, "state": null(str_), "date": null(date),
                     "count": int_, "locations": arr(obj({
        "id": str_, "name": str_, "label": str_, "type": str_, "population": null(int_), "date": null(date),
        "cases": null(int_), "deaths": null(int_),
        **{f"new_{m}_avg7{x}": null(num) for m in ("cases", "deaths") for x in ("", "_per_100k", "_14d_ago", "_14d_ago_per_100k")},
        "cases_change_14d_pct": null(num), "deaths_change_14d_pct": null(num)}))}),
    "Annotations": obj({"location": str_, "annotations": arr(obj({
        "from": date, "to": date, "type": str_, "omit_from_average": S("boolean"), "omit_on_subgeographies": S("boolean"),
        "adjusted_count": null(int_), "text": str_}, required=["from", "to", "type", "text"], extra=True))}),
    "Summary": obj({"location": str_, "first_date": null(date), "last_date": null(date), "days": int_,
                    "latest": null(S("object")), "recovered_last_date": null(date), "last_run": null(S("object")),
                    "last_success": null(S("object")), "runs": S("object", additionalProperties=int_),
                    "sources": arr(S("object"))}, required=["location", "last_run", "last_success", "runs"], extra=True),
    "Runs": obj({"runs": arr(run_record)}),
    "Run": S("object", required=["status"], description="a run's summary, the JSON of `run --json`"),
    "Health": obj({"status": {"enum": ["ok", "degraded", "unavailable"]}, "message": str_, "last_run_status": str_},
                  required=["status"]),
}
paths = {
    "/api/v1": get("the endpoints", [], ok(ref("Index"))),
    "/api/v1/openapi.json": get("this document", [], ok(S("object"))),
    "/api/v1/series": get("one location's series in columns",
        [loc, dateq("from", "first date (inclusive)"), dateq("to", "last date (inclusive)"),
         p("fields", str_, "comma-separated columns to include (date always comes)")], ok(ref("Series"))),
    "/api/v1/map": get("every location of a level on a range of dates (for maps): ids once, dates, values[date][id]",
        [p("level", {"enum": ["state", "county", "country"], "default": "state"}, "the level"),
         p("metric", {"enum": ["cases", "deaths"], "default": "cases"}, "7-day average of new cases or new deaths"),
         p("per_100k", {"enum": ["true", "false"], "default": "true"}, "per 100,000 people (null without a population) or absolute"),
         dateq("from", "first date; with to (at most 400 days); neither: the level's last date only"),
         dateq("to", "last date; with from"),
         p("state", {"type": "string", "pattern": "^[0-9]{2}$"}, "with level=county: the counties of one state")],
        ok(ref("Map"))),
    "/api/v1/locations": get("search the locations",
        [p("type", {"enum": ["nation", "state", "county", "country"]}, "one type only"), p("q", str_, "text to match"),
         p("id", str_, "comma-separated ids (at most 100)"), p("limit", {"type": "integer", "minimum": 1, "maximum": 1000}, "at most this many (100)")],
        ok(ref("Locations"))),
    "/api/v1/states": get("every state's latest 7-day averages and 14-day change", [], ok(ref("States"))),
    "/api/v1/rankings": get("a level's locations by 7-day new cases and deaths, absolute and per 100,000, with the 14-day change",
        [p("level", {"enum": ["state", "county", "country"], "default": "state"}, "the level"),
         p("state", {"type": "string", "pattern": "^[0-9]{2}$"}, "with level=county (required): the counties of one state")],
        ok(ref("Rankings"))),
    "/api/v1/annotations": get("the NYT's notes on a location's anomalous days",
        [loc, dateq("from", "notes ending on or after"), dateq("to", "notes starting on or before")], ok(ref("Annotations"))),
    "/api/v1/summary": get("the latest date and values, and the data's freshness", [loc], ok(ref("Summary"))),
    "/api/v1/runs": {**get("the run history, newest first", [p("limit", {"type": "integer", "minimum": 1, "maximum": 1000}, "at most this many (50)")], ok(ref("Runs"))),
        "post": {"summary": "start a run (the daemon only, with its token; no CORS)", "security": [{"bearer": []}],
                 "responses": {"202": {"description": "started", "content": {"application/json": {"schema": obj({"id": int_}, extra=True)}}},
                               "401": {"description": "no or a wrong token", "content": {"application/json": {"schema": ref("Error")}}},
                               "404": {"description": "no trigger here (covid-etl serve)", "content": {"application/json": {"schema": ref("Error")}}},
                               "409": {"description": "a run is under way", "content": {"application/json": {"schema": S("object")}}},
                               "429": {"description": "too many wrong tokens", "content": {"application/json": {"schema": ref("Error")}}}}}},
    "/api/v1/runs/{id}": {"get": {"summary": "one run (the daemon only)",
        "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}],
        "responses": {"200": ok(ref("Run")), "404": {"description": "no such run", "content": {"application/json": {"schema": ref("Error")}}}, **errs}}},
    "/api/v1/export.csv": get("what `covid-etl export` prints",
        [loc, dateq("from", "first date"), dateq("to", "last date"), p("per_100k", {"enum": ["true", "false"]}, "add the rates per 100,000")],
        ok(S("string"), "text/csv; charset=utf-8")),
    "/healthz": {"get": {"summary": "whether the database can be read", "responses": {
        "200": {"description": "ok", "content": {"application/json": {"schema": ref("Health")}}},
        "503": {"description": "degraded or unavailable", "content": {"application/json": {"schema": ref("Health")}}}}}},
    "/metrics": {"get": {"summary": "Prometheus metrics", "responses": {"200": {"description": "Prometheus text",
        "content": {"text/plain; version=0.0.4; charset=utf-8": {"schema": S("string")}}}}}},
}
doc = {"openapi": "3.1.0",
       "info": {"title": "covid-etl API", "version": "1",
                "description": "The read-only JSON API of `covid-etl serve` (README: \"The dashboard and the API\"). Every GET under /api/v1 answers cross-origin reads (Access-Control-Allow-Origin: *); data responses carry an ETag and answer If-None-Match with 304."},
       "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
       "servers": [{"url": "/"}],
       "paths": paths,
       "components": {"schemas": schemas,
                      "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}}}
print(json.dumps(doc, indent=1))
