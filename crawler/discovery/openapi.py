"""An origin's OpenAPI document (`/openapi.json`, `/openapi.yaml`): its paid operations as candidates.

An operation is paid when it carries `x-payment-info` (read by crawler.discovery.openapi_payment) or
documents a `402` response. Each becomes a candidate with the operation's method, an example body
(the document's example, else a minimal body built from the request schema), index.protocol.hints-shaped
hints (source "openapi") and what the document declares about its price.

The document is loaded and its local `$ref`s resolved by crawler.discovery.openapi_load, within its
bounds. Same-origin rule: the server URL must be on the document's own origin.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

from crawler.discovery import MAX_KEPT_BYTES, Candidate, Discovered, page_origin, resolve_url, same_origin, source_of
from crawler.discovery.openapi_load import Refs, load_document
from crawler.discovery.openapi_payment import payment_declared
from index.findings import finding
from index.probe.samples import sample_from_schema
from index.protocol.hints import HINT_TRIM_ORDER, bounded_hints
from index.protocol.networks import BODY_METHODS
from index.protocol.v1_hints import body_type
from index.untrusted import clean_text, kept_value
from index.urls import canonical_url

OPENAPI_PATHS = ("/openapi.json", "/openapi.yaml")
MAX_PATHS = 2000
MAX_OPERATIONS = 1000
MAX_PARAMETERS = 100
MAX_TEXT = 2000
MAX_SHORT = 200
MAX_SMALL_BYTES = 4096  # a parameter schema or example small enough to fold one into the other

# the operations of an OpenAPI path item, read in the order the specification lists them (the set is
# networks.HTTP_METHODS; tests/protocol/test_facts_parsing.py checks it)
OPERATION_METHODS = ("get", "put", "post", "delete", "options", "head", "patch")
_PATH_VARIABLE = re.compile(r"\{([^{}/]{1,100})\}")
_SERVER_VARIABLE = re.compile(r"\{([^{}]{1,100})\}")


def parse_openapi(body: bytes, page_url: str) -> Discovered:
    """Candidates for the paid operations of an OpenAPI (3.x, or Swagger 2) document, JSON or YAML.

    info: {"title", "description", "external_docs", "guidance"?, "ownership_proofs"?,
    "templated_skipped": operations skipped because a path variable has no example,
    "operations_truncated"}. docs_links: externalDocs.url when it is on the same origin.
    """
    found = Discovered()
    doc, problem = load_document(body)
    if problem is not None:
        found.findings.append(finding("discovery_doc_invalid", page_url, problem))
        return found
    if not isinstance(doc, dict) or not isinstance(doc.get("paths"), dict) \
            or not any(k in doc for k in ("openapi", "swagger")):
        found.findings.append(finding("discovery_doc_invalid", page_url, "not an OpenAPI document"))
        return found
    try:
        _read(doc, page_url, found)
    except Exception as exc:  # noqa: BLE001 - last resort: a hostile document must never stop the crawl
        found.findings.append(finding("discovery_doc_invalid", page_url, f"internal error: {type(exc).__name__}"))
    return found


def _read(doc: dict[str, Any], page_url: str, found: Discovered) -> None:
    found.info = _info(doc, page_url, found)
    found.info["templated_skipped"] = 0
    found.info["operations_truncated"] = 0
    base = _base_url(doc, page_url, found)
    if base is None:
        return
    refs = Refs(doc)
    seen: set[tuple[str, str]] = set()
    for path, path_item in list(doc["paths"].items())[:MAX_PATHS]:
        if not isinstance(path, str) or not path.startswith("/") or len(path) > 1000:
            continue
        path_item = refs.deref(path_item)
        if not isinstance(path_item, dict):
            continue
        for method in OPERATION_METHODS:
            op = path_item.get(method)
            if not isinstance(op, dict) or not _is_paid(path_item, op):
                continue
            if len(found.candidates) >= MAX_OPERATIONS:
                found.info["operations_truncated"] += 1
                continue
            cand = _operation(path, method.upper(), path_item, op, base, page_url, refs, doc)
            if cand == "templated":
                found.info["templated_skipped"] += 1
            elif isinstance(cand, dict):
                key = (canonical_url(cand["url"]), method)
                if key not in seen:
                    seen.add(key)
                    found.candidates.append(cand)


def _info(doc: dict[str, Any], page_url: str, found: Discovered) -> dict[str, Any]:
    meta = doc.get("info") if isinstance(doc.get("info"), dict) else {}
    info: dict[str, Any] = {"title": clean_text(meta.get("title"), MAX_SHORT),
                            "description": clean_text(meta.get("description"), MAX_TEXT),
                            "external_docs": None}
    docs = doc.get("externalDocs") if isinstance(doc.get("externalDocs"), dict) else None
    if docs is None and isinstance(meta.get("externalDocs"), dict):
        docs = meta["externalDocs"]
    docs_url = resolve_url(docs.get("url"), page_url) if docs else None
    if docs_url:
        info["external_docs"] = docs_url
        if same_origin(docs_url, page_url):
            found.docs_links.append(docs_url)
    guidance = clean_text(meta.get("x-guidance", doc.get("x-guidance")), 4000)
    if guidance:
        info["guidance"] = guidance
    discovery = doc.get("x-discovery") if isinstance(doc.get("x-discovery"), dict) else {}
    proofs = discovery.get("ownershipProofs")
    if isinstance(proofs, list):
        kept = [p for p in (clean_text(v, 600) for v in proofs[:10]) if p]
        if kept:
            info["ownership_proofs"] = kept
    return info


# ---------------------------------------------------------------------------------------------
# servers

def _server_url(server: Any) -> str | None:
    """servers[i].url with its {variables} replaced by their defaults; None when one has no default."""
    if not isinstance(server, dict) or not isinstance(server.get("url"), str):
        return None
    variables = server.get("variables") if isinstance(server.get("variables"), dict) else {}

    def value(match: re.Match[str]) -> str:
        var = variables.get(match.group(1))
        default = var.get("default") if isinstance(var, dict) else None
        if not isinstance(default, str | int) or isinstance(default, bool):
            raise KeyError(match.group(1))
        return str(default)

    try:
        return _SERVER_VARIABLE.sub(value, server["url"][:2048])
    except KeyError:
        return None


def _base_url(doc: dict[str, Any], page_url: str, found: Discovered) -> str | None:
    """The same-origin base URL operations hang from (no trailing slash), or None (finding given)."""
    origin = page_origin(page_url)
    if origin is None:
        return None
    servers = doc.get("servers") if isinstance(doc.get("servers"), list) else []
    written: list[str] = []
    for server in servers[:20]:
        raw = _server_url(server)
        url = resolve_url(raw, page_url) if raw is not None else None
        if url is None:
            continue
        written.append(raw or url)
        if same_origin(url, page_url):
            parts = urlsplit(url)
            return urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/"), "", ""))
    if written:
        found.findings.append(finding("cross_origin_entry", "servers[0]", written[0][:200]))
        return None
    if "swagger" in doc:  # Swagger 2: host + basePath
        host = doc.get("host")
        base_path = doc.get("basePath") if isinstance(doc.get("basePath"), str) else ""
        base = resolve_url(f"//{host}{base_path}" if isinstance(host, str) and host else (base_path or "/"), page_url)
        if base is None:
            return origin
        if not same_origin(base, page_url):
            found.findings.append(finding("cross_origin_entry", "host", base[:200]))
            return None
        return base.rstrip("/")
    return origin


# ---------------------------------------------------------------------------------------------
# operations


def _is_paid(path_item: dict[str, Any], op: dict[str, Any]) -> bool:
    if op.get("x-payment-info") is not None or path_item.get("x-payment-info") is not None:
        return True
    responses = op.get("responses")
    return isinstance(responses, dict) and "402" in responses


def _operation(path: str, method: str, path_item: dict[str, Any], op: dict[str, Any], base: str,
               page_url: str, refs: Refs, doc: dict[str, Any]) -> Candidate | None | str:
    """One paid operation → a Candidate; "templated" when a path variable has no example; None when the
    URL is unusable."""
    params = _parameters(path_item, op, refs)
    filled = _fill_path(path, params, refs)
    if filled is None:
        return "templated"
    url = resolve_url(base + filled, page_url)
    if url is None or not same_origin(url, page_url):
        return None
    source = source_of("openapi", page_url)
    cand: Candidate = {"url": url, "method": method, "source": source}

    inp: dict[str, Any] = {"type": "http", "method": method}
    schema_props: dict[str, Any] = {}
    query_props: dict[str, Any] = {}
    query_required: list[str] = []
    query_examples: dict[str, Any] = {}
    for param in params:
        if param.get("in") != "query":
            continue
        name = param["name"][:200]
        query_props[name] = _param_schema(param, refs)
        if param.get("required") is True:
            query_required.append(name)
            if "example" in query_props[name] and _scalar(query_props[name]["example"]):
                query_examples[name] = query_props[name]["example"]
    if query_props:
        query_schema: dict[str, Any] = {"type": "object", "properties": query_props}
        if query_required:
            query_schema["required"] = query_required
        schema_props["queryParams"] = query_schema
    if query_examples:
        inp["queryParams"] = query_examples

    kind, has_body, body, body_schema = _request_body(op, params, refs, op.get("consumes", doc.get("consumes")))
    if kind is not None and method in BODY_METHODS:
        inp["bodyType"] = kind
        body_size = refs.size(body) if has_body else None
        if body_size is not None and body_size <= MAX_KEPT_BYTES:
            inp["body"] = body
            ok, plain = kept_value(body, MAX_KEPT_BYTES)
            if ok:
                cand["body"] = plain
        if body_schema:
            schema_props["body"] = body_schema

    output = _output(op, refs)
    cand["hints"] = _hints(inp, schema_props, output, refs)
    declared = payment_declared(op.get("x-payment-info", path_item.get("x-payment-info"))) or {}
    about = next((t for t in (op.get("description"), op.get("summary")) if isinstance(t, str) and t.strip()), None)
    if about:  # the operation's own words: a record's summary when the 402 and the docs say nothing
        declared["description"] = clean_text(about, MAX_TEXT)
    if declared:
        cand["declared"] = declared
    return cand


def _scalar(value: Any) -> bool:
    return isinstance(value, str | int | float) and not isinstance(value, bool) and len(str(value)) <= 500


def _example_of(holder: Any, refs: Refs) -> tuple[bool, Any]:
    """(found, value): `example`, else the first of `examples` (OpenAPI Example objects or a JSON
    Schema list), else the schema's example / default / first enum value."""
    if not isinstance(holder, dict):
        return False, None
    if "example" in holder:
        return True, holder["example"]
    examples = holder.get("examples")
    if isinstance(examples, list) and examples:
        return True, examples[0]
    if isinstance(examples, dict) and examples:
        first = refs.deref(next(iter(examples.values())))
        if isinstance(first, dict) and "value" in first:
            return True, first["value"]
    schema = refs.deref(holder.get("schema"))
    if isinstance(schema, dict):
        if "example" in schema:
            return True, schema["example"]
        if isinstance(schema.get("examples"), list) and schema["examples"]:
            return True, schema["examples"][0]
        if "default" in schema:
            return True, schema["default"]
        if isinstance(schema.get("enum"), list) and schema["enum"]:
            return True, schema["enum"][0]
    return False, None


def _parameters(path_item: dict[str, Any], op: dict[str, Any], refs: Refs) -> list[dict[str, Any]]:
    """Path-level and operation-level parameters, the operation's winning on (name, in)."""
    merged: dict[tuple[str, str], dict[str, Any]] = {}
    for holder in (path_item, op):
        raw = holder.get("parameters")
        for entry in raw[:MAX_PARAMETERS] if isinstance(raw, list) else []:
            param = refs.deref(entry)
            if isinstance(param, dict) and isinstance(param.get("name"), str) and isinstance(param.get("in"), str):
                merged[(param["name"], param["in"])] = param
    return list(merged.values())


def _param_schema(param: dict[str, Any], refs: Refs) -> dict[str, Any]:
    """A parameter's JSON Schema (Swagger 2 keeps type/format on the parameter itself), with its
    example folded in so a schema-built sample uses it."""
    schema = refs.inline(param.get("schema")) if "schema" in param else None
    if not isinstance(schema, dict):
        schema = {k: param[k] for k in ("type", "format", "enum", "default", "minimum", "maximum", "items")
                  if k in param}
    found, example = _example_of(param, refs)
    if found and "example" not in schema and _small(refs.size(schema)) and _small(refs.size(example)):
        schema = {**schema, "example": example}
    return schema


def _small(size: int | None) -> bool:
    return size is not None and size <= MAX_SMALL_BYTES


def _fill_path(path: str, params: list[dict[str, Any]], refs: Refs) -> str | None:
    """The path with every {variable} replaced by its parameter's example; None when one has none."""
    values: dict[str, str] = {}
    for param in params:
        if param.get("in") == "path":
            found, example = _example_of(param, refs)
            if found and _scalar(example):
                values[param["name"]] = quote(str(example), safe="")
    missing = False

    def fill(match: re.Match[str]) -> str:
        nonlocal missing
        name = match.group(1)
        if name not in values:
            missing = True
            return match.group(0)
        return values[name]

    filled = _PATH_VARIABLE.sub(fill, path)
    if missing or "{" in filled or "}" in filled:
        return None
    return filled


def _media(content: Any) -> tuple[str | None, dict[str, Any] | None]:
    """(media type, media object) of a request body: application/json, else any JSON type, else the first."""
    if not isinstance(content, dict) or not content:
        return None, None
    keys = [k for k in content if isinstance(content.get(k), dict)][:50]
    for key in keys:
        if key.split(";")[0].strip().lower() == "application/json":
            return key, content[key]
    for key in keys:
        if "json" in key.lower():
            return key, content[key]
    return (keys[0], content[keys[0]]) if keys else (None, None)


def _request_body(op: dict[str, Any], params: list[dict[str, Any]], refs: Refs,
                  consumes: Any) -> tuple[str | None, bool, Any, dict[str, Any] | None]:
    """(bodyType or None, whether a body value is known, the body value, the body's JSON Schema)."""
    request = refs.deref(op.get("requestBody"))
    if isinstance(request, dict):
        media_type, media = _media(request.get("content"))
        if media is None:
            return None, False, None, None
        kind = body_type(media_type)
        schema = refs.inline(media.get("schema"))
        schema = schema if isinstance(schema, dict) else None
        found, example = _example_of(media, refs)
        if not found and kind == "json" and schema:
            example = sample_from_schema(schema)
            found = example is not None
        return kind, found, example, schema
    body_param = next((p for p in params if p.get("in") == "body"), None)  # Swagger 2
    if body_param is None:
        return None, False, None, None
    schema = refs.inline(body_param.get("schema"))
    schema = schema if isinstance(schema, dict) else None
    kind = body_type(consumes[0]) if isinstance(consumes, list) and consumes and isinstance(consumes[0], str) else "json"
    found, example = _example_of(body_param, refs)
    if not found and schema:
        example = sample_from_schema(schema)
        found = example is not None
    return kind, found, example, schema


def _output(op: dict[str, Any], refs: Refs) -> dict[str, Any] | None:
    """{"type": "json", "example": …} from the first 2xx JSON response that gives an explicit example."""
    responses = op.get("responses") if isinstance(op.get("responses"), dict) else {}
    for code in ("200", "201", "202", "2XX", "default"):
        response = refs.deref(responses.get(code))
        if not isinstance(response, dict):
            continue
        media_type, media = _media(response.get("content"))
        if media is not None and media_type and "json" in media_type.lower():
            found, example = _example_of({k: v for k, v in media.items() if k != "schema"}, refs)
            if found:
                return {"type": "json", "example": example}
        if "examples" in response and isinstance(response["examples"], dict):  # Swagger 2
            example = response["examples"].get("application/json")
            if example is not None:
                return {"type": "json", "example": example}
    return None


# the parts of HINT_TRIM_ORDER an OpenAPI operation's hints have, by the names _hints measures them under
_TRIMMED_PARTS = tuple(path[-1] for path in HINT_TRIM_ORDER if path[-1] in ("output", "input_schema", "body", "queryParams"))


def _hints(inp: dict[str, Any], schema_props: dict[str, Any], output: dict[str, Any] | None,
           refs: Refs) -> dict[str, Any]:
    """index.protocol.hints-shaped hints within MAX_KEPT_BYTES, as an independent plain copy. Parts are measured
    once each (shared schemas once per document) and given up in index.protocol.hints.HINT_TRIM_ORDER."""
    too_big = MAX_KEPT_BYTES + 1

    def size(value: Any) -> int:
        measured = refs.size(value)
        return too_big if measured is None else measured

    schema_size = 0
    for key, value in schema_props.items():
        if key == "queryParams":  # built per operation around shared parameter schemas
            schema_size += sum(size(sub) for sub in value["properties"].values())
        else:
            schema_size += size(value)
    sizes = {
        "output": size(output) if output is not None else 0,
        "input_schema": schema_size,
        "body": size(inp["body"]) if "body" in inp else 0,
        "queryParams": size(inp["queryParams"]) if "queryParams" in inp else 0,
    }
    total = sum(sizes.values()) + 512
    dropped: set[str] = set()
    for part in _TRIMMED_PARTS:
        if total <= MAX_KEPT_BYTES:
            break
        if sizes[part]:
            dropped.add(part)
            total -= sizes[part]
    hints: dict[str, Any] = {"source": "openapi", "input": {k: v for k, v in inp.items() if k not in dropped}}
    if output is not None and "output" not in dropped:
        hints["output"] = output
    if schema_props and "input_schema" not in dropped:
        hints["input_schema"] = {"type": "object", "properties": schema_props}
    ok, plain = kept_value(hints, MAX_KEPT_BYTES)
    if ok:
        return plain
    ok, plain = kept_value(bounded_hints({"source": "openapi", "input": hints["input"]}, limit=MAX_KEPT_BYTES),
                           MAX_KEPT_BYTES)
    return plain if ok and plain.get("input") else {"source": "openapi", "input": {"type": "http", "method": inp.get("method")}}
