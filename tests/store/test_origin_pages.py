"""Origin metadata fallbacks: OpenAPI info and an api. subdomain's parent homepage fill what is missing."""

from index.store.engine import init_db
from index.store.pages import record_origin_pages
from index.store.models import Origin
from sqlmodel import Session, select
def test_borrow(tmp_path):
    eng = init_db(f"sqlite:///{tmp_path}/b.db")
    record_origin_pages(eng, [
        {"origin": "https://api.example.com", "url": "https://api.example.com/openapi.json", "page_kind": "openapi", "status": 200,
         "extracted": {"info": {"title": "Spec title", "description": "From OpenAPI"}}},
        {"origin": "https://api.example.com", "url": "https://example.com/", "page_kind": "parent_homepage", "status": 200,
         "extracted": {"title": "Example Inc", "favicon": "https://example.com/f.ico"}},
    ])
    with Session(eng) as s:
        o = s.exec(select(Origin)).one()
        assert (o.title, o.description, o.favicon) == ("Example Inc", "From OpenAPI", "https://example.com/f.ico")
