"""Docs on a sibling host of the same registrable domain (Public Suffix List, tldextract's bundled
snapshot, never fetched), and endpoints a page names only in prose (docs-mention candidates)."""

from __future__ import annotations

from crawler.discovery.llms import parse_llms_txt
from crawler.spiders.origins import mentioned_candidates
from index.docs.links import _PSL, find_links, is_sibling, registrable_domain
from index.docs.page import extract_page


def test_registrable_domains_follow_the_public_suffix_list() -> None:
    assert registrable_domain("docs.example.co.uk") == "example.co.uk"
    assert registrable_domain("api.example.com") == "example.com"
    assert registrable_domain("a.b.github.io") == "b.github.io"  # a private suffix: each user is its own site
    assert registrable_domain("127.0.0.1") is None and registrable_domain("co.uk") is None
    assert _PSL.suffix_list_urls == ()  # the bundled snapshot only: nothing is ever downloaded


def test_siblings_share_a_registrable_domain_and_a_scheme() -> None:
    assert is_sibling("https://docs.example.com/x", "https://api.example.com/")
    assert not is_sibling("https://api.example.com/x", "https://api.example.com/")  # same host
    assert not is_sibling("https://example.com.evil.net/x", "https://api.example.com/")
    assert not is_sibling("https://alice.github.io/x", "https://bob.github.io/")
    assert not is_sibling("http://docs.example.com/x", "https://api.example.com/")


def test_homepage_links_to_sibling_docs_are_kept_and_marked() -> None:
    links = find_links([("https://docs.example.com/api", "API docs", False), ("https://shop.example.com/cart", "Shop", False),
                        ("https://other.net/docs", "Docs", False)], None, "https://api.example.com/")
    assert links == [{"url": "https://docs.example.com/api", "text": "API docs", "kind": "api", "sibling": True}]


def test_llms_txt_links_sibling_docs() -> None:
    found = parse_llms_txt("# API\n- [Reference](https://docs.example.com/reference/)\n- [Blog](https://blog.example.com/post)\n",
                           "https://api.example.com/llms.txt")
    assert found.docs_links == ["https://docs.example.com/reference/"]
    assert found.candidates == []


def test_prose_only_endpoints_are_docs_mention_candidates() -> None:
    page = extract_page(b"# API\n\n## POST /v1/pro/chat\n\nPro tier chat completions, paid per call in USDC.\n\n"
                        b"## GET /v1/items/{id}\n\nOne item by id, paid per call.\n\n"
                        b"## POST /v1/chat\n\n```\ncurl -X POST https://api.example.com/v1/chat -d '{\"q\": \"hi\"}'\n```\n",
                        "https://api.example.com/docs", "text/markdown")
    cands = mentioned_candidates(page, "https://api.example.com/docs")
    assert cands == [{"url": "https://api.example.com/v1/pro/chat", "method": "POST",
                      "source": {"kind": "docs-mention", "url": "https://api.example.com/docs"}}]


def test_an_endpoint_named_in_another_endpoints_line_takes_no_section_description() -> None:
    """`GET /v1/models lists every model.` inside POST /v1/chat/completions's paragraph: the chat
    endpoint's section is not the models endpoint's (seed 001's text form)."""
    page = extract_page(b"POST /v1/chat/completions Chat completions over x402. GET /v1/models lists every model.\n\n"
                        b"model * | string | The model |\n\nThe response is HTTP 402 with the payment requirements.\n",
                        "https://a.example/docs", "text/plain")
    described = {(e["method"], e["path"]): e["description"] for e in page["endpoints"]}
    assert described[("POST", "/v1/chat/completions")].startswith("Chat completions over x402.")
    assert described[("GET", "/v1/models")] is None


def test_doc_site_includes_name_the_openapi_document() -> None:
    """GitBook's {% openapi src=… %}, Redoc's <redoc spec-url>, Swagger UI's url: the document each
    embeds is an `openapi` link (same origin only), which the origin spider reads as OpenAPI."""
    html = (b'<html><body><redoc spec-url="/spec/openapi.yaml"></redoc><rapi-doc spec-url="https://evil.example/o.json">'
            b'</rapi-doc><script>window.ui = SwaggerUIBundle({ dom_id: "#ui", url: "/v2/swagger.json" })</script></body></html>')
    links = extract_page(html, "https://api.example.com/reference", "text/html")["links"]
    assert [(link["url"], link["kind"]) for link in links] == [
        ("https://api.example.com/spec/openapi.yaml", "openapi"), ("https://api.example.com/v2/swagger.json", "openapi")]
    md = extract_page(b'# Chat\n\n{% openapi src="openapi.yaml" path="/v1/chat" method="post" %}\n{% endopenapi %}\n',
                      "https://docs.example.com/api/chat.md", "text/markdown")["links"]
    assert md == [{"url": "https://docs.example.com/api/openapi.yaml", "text": "OpenAPI", "kind": "openapi"}]
