// x402-index: progressive enhancement of static pages. Without this file every page still works:
// the table is complete HTML, the list pages are pre-sorted, the category pages filter.
// No innerHTML with data: every text goes through textContent.
"use strict";

(function () {
  const table = document.getElementById("resources");
  const tbody = table ? table.tBodies[0] : null;
  const rows = tbody ? Array.from(tbody.rows) : [];
  const countNote = document.getElementById("table-count");
  const total = table ? Number(table.dataset.total || rows.length) : 0;

  // -- sorting: click a column head; a second click reverses ------------------------------
  // A page that holds only part of the catalog (the home page, a list page) sorts by name, price or
  // uptime through its links, to the pre-sorted list pages of the whole catalog; the other columns,
  // and pages that hold every row, sort the rows in place. data-first="desc": best first on the
  // first click (uptime, newest check). Unknown values sort last either way.
  if (table) {
    for (const th of table.tHead.rows[0].cells) {
      const key = th.dataset.sort;
      if (!key) continue;
      const link = th.querySelector("a");
      if (link && rows.length < total) continue;
      if (!link) {
        th.tabIndex = 0;
        th.classList.add("sortable");
        th.addEventListener("keydown", (event) => {
          if (event.key === "Enter" || event.key === " ") { event.preventDefault(); th.click(); }
        });
      }
      (link || th).addEventListener("click", (event) => {
        event.preventDefault();
        const now = th.getAttribute("aria-sort");
        const ascending = now ? now !== "ascending" : th.dataset.first !== "desc";
        for (const other of table.tHead.rows[0].cells) other.removeAttribute("aria-sort");
        th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        const numeric = th.dataset.type === "num";
        const value = (row) => row.dataset[key] || "";
        const sorted = rows.slice().sort((a, b) => {
          const va = value(a), vb = value(b);
          if (va === "" || vb === "") {
            if (va !== vb) return va === "" ? 1 : -1;
            // uptime too thin for a percentage: more probes answered first
            return key === "uptime" ? Number(b.dataset.up || 0) - Number(a.dataset.up || 0) : 0;
          }
          const c = numeric ? Number(va) - Number(vb) : va.localeCompare(vb);
          return ascending ? c : -c;
        });
        for (const row of sorted) tbody.appendChild(row);
      });
    }
  }

  // -- one table: the search and the filters narrow the same rows ----------------------------
  const filters = document.getElementById("filters");
  const search = document.getElementById("search");
  const input = document.getElementById("q");
  const status = document.getElementById("search-status");
  let matched = null; // null: no search; else Map slug -> excerpt of the rows the search found
  let term = "";
  let found = 0;

  function current() {
    if (!filters) return {};
    const f = new FormData(filters);
    const num = (name) => (f.get(name) === null || f.get(name) === "" ? null : Number(f.get(name)));
    return {
      category: f.get("category") || "", network: f.get("network") || "", status: f.get("status") || "",
      tier: f.get("tier") || "", min: num("min"), max: num("max"), uptime: num("uptime"),
    };
  }
  function applyFilters() {
    const c = current();
    let shown = 0;
    for (const row of rows) {
      const d = row.dataset;
      const price = d.price === "" ? null : Number(d.price);
      let ok = (!c.category || d.category === c.category) && (!c.status || d.status === c.status) &&
        (!c.tier || d.tier === c.tier) && (!c.network || d.networks.split(" ").includes(c.network));
      if (ok && c.min !== null && c.min !== undefined) ok = price !== null && price >= c.min;
      if (ok && c.max !== null && c.max !== undefined) ok = price !== null && price <= c.max;
      if (ok && c.uptime !== null && c.uptime !== undefined) ok = d.uptime !== "" && Number(d.uptime) >= c.uptime;
      if (ok && matched) ok = matched.has(d.slug);
      row.hidden = !ok;
      const old = row.cells[0].querySelector(".match");
      if (old) old.remove();
      if (ok && matched && matched.get(d.slug)) {
        const excerpt = document.createElement("div");
        excerpt.className = "sub match";
        excerpt.textContent = matched.get(d.slug);
        row.cells[0].append(excerpt);
      }
      if (ok) shown += 1;
    }
    if (countNote) {
      const what = matched ? ` matching “${term}”` : "";
      countNote.textContent = `Showing ${shown} of ${total} resources${what}` +
        (rows.length < total ? ` (filters${matched ? ", search" : ""} and sorting by latency, status or trust apply to the ${rows.length} rows on this page).` : ".");
      if (matched && found > matched.size) countNote.append(` The ${matched.size} best of ${found} matches are shown.`);
      showElsewhere();
      // a page with part of the catalog: the category's own page lists all of it
      if (rows.length < total && c.category) {
        const link = document.createElement("a");
        link.href = `${table.dataset.root || ""}c/${encodeURIComponent(c.category)}.html`;
        link.textContent = "every resource in this category";
        link.id = "category-link";
        countNote.append(" See ", link, ".");
      }
    }
  }
  if (filters) {
    filters.hidden = false;
    // a search narrowed by category or network runs again when either changes; other filters apply to its rows
    const refilter = (event) => {
      if (matched && (event.target.name === "category" || event.target.name === "network")) runSearch();
      else applyFilters();
    };
    filters.addEventListener("input", refilter);
    filters.addEventListener("change", refilter);
    filters.addEventListener("reset", () => setTimeout(() => {
      if (input) input.value = "";
      matched = null;
      term = "";
      if (status) status.textContent = "";
      applyFilters();
    }, 0));
  }

  // -- search: pagefind's index, loaded on first use, offline; it names the matching pages -----
  const MAX_MATCHES = 200; // pages whose excerpt is fetched (one small file each)
  let pagefind = null;

  // The index is in parts, each a pagefind bundle, listed in pagefind/parts.json (index/site/search.py):
  // the first part's pagefind.js searches, the others are merged into it, so results and filters
  // span every part. The list is read on the first search, so a build that adds, drops or rebuilds
  // parts changes no page.
  async function loadIndex() {
    const root = new URL(search.dataset.root || "./", document.baseURI);
    const answer = await fetch(new URL("pagefind/parts.json", root), { cache: "no-cache" });
    if (!answer.ok) throw new Error(`parts.json: ${answer.status}`);
    const parts = (await answer.json()).parts;
    if (!Array.isArray(parts) || !parts.length) throw new Error("parts.json lists no parts");
    const bundle = (name) => new URL(`pagefind/${encodeURIComponent(name)}/`, root);
    const found = await import(new URL("pagefind.js", bundle(parts[0])).href);
    // result URLs relative to where the site is served (a sub-path works too)
    const options = { baseUrl: root.pathname };
    await found.options(options);
    await found.init();
    await Promise.all(parts.slice(1).map((name) => found.mergeIndex(bundle(name).pathname, options)));
    return found;
  }
  let seq = 0;

  // On a page with part of the catalog, matches whose rows are on other list pages: linked below the
  // count (the search's category and network apply to them, the other filters cannot: their rows are not here).
  const onPage = new Set(rows.map((row) => row.dataset.slug));
  const titles = new Map();
  function showElsewhere() {
    let more = document.getElementById("search-more");
    if (more) more.remove();
    if (!matched || !countNote) return;
    const away = [...matched.keys()].filter((slug) => !onPage.has(slug));
    if (!away.length) return;
    more = document.createElement("p");
    more.id = "search-more";
    more.className = "sub";
    more.append(`${away.length} more match${away.length === 1 ? "" : "es"} beyond the rows of this page (of the filters, only category and network apply to them): `);
    away.slice(0, 20).forEach((slug, i) => {
      const link = document.createElement("a");
      link.href = `${table.dataset.root || ""}r/${encodeURIComponent(slug)}.html`;
      link.textContent = titles.get(slug) || slug;
      more.append(...(i ? [", ", link] : [link]));
    });
    if (away.length > 20) more.append(", …");
    countNote.after(more);
  }

  function plain(html) {
    // pagefind excerpts are HTML with <mark>; parse inertly and keep the text only
    return new DOMParser().parseFromString(html, "text/html").body.textContent || "";
  }
  function slugOf(url) {
    const m = /\/r\/([^/]+)\.html$/.exec(new URL(url, document.baseURI).pathname);
    return m ? decodeURIComponent(m[1]) : null;
  }

  async function runSearch() {
    const mine = ++seq;
    const wanted = input.value.trim();
    if (!wanted) { matched = null; term = ""; status.textContent = ""; applyFilters(); return; }
    try {
      if (!pagefind) pagefind = loadIndex();
      const index = await pagefind;
      // the category and network chosen narrow the search itself (pagefind filters, every part's
      // pages): its best matches are in them, and so are the matches linked beyond this page's rows
      const c = current();
      const narrow = {};
      if (c.category) narrow.category = c.category;
      if (c.network) narrow.network = c.network;
      const result = await index.search(wanted, { filters: narrow });
      if (mine !== seq) return;
      const pages = await Promise.all(result.results.slice(0, MAX_MATCHES).map((r) => r.data()));
      if (mine !== seq) return;
      const next = new Map();
      for (const page of pages) {
        const slug = slugOf(page.url);
        if (slug) next.set(slug, plain(page.excerpt || ""));
        if (slug && page.meta && page.meta.title) titles.set(slug, page.meta.title);
      }
      matched = next;
      term = wanted;
      found = result.results.length;
      status.textContent = found ? "" : `Nothing matches “${wanted}”.`;
      applyFilters();
    } catch (err) {
      pagefind = null; // tried again on the next search
      status.textContent = "Search is not available here (the search index is served with the site, not from file://).";
    }
  }
  if (search && input) {
    search.hidden = false;
    let timer = null;
    input.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(runSearch, 150); });
    search.addEventListener("submit", (event) => { event.preventDefault(); runSearch(); });
  }

  // -- copy buttons, inside the code blocks they copy -----------------------------------------
  for (const pre of document.querySelectorAll("pre[data-copy]")) {
    const source = pre.querySelector("code") || pre;
    const text = source.textContent;
    const button = document.createElement("button");
    button.type = "button";
    button.className = "copy-button";
    button.textContent = pre.dataset.copyLabel || "Copy";
    button.setAttribute("aria-label", pre.dataset.copyLabel || "Copy this command");
    button.addEventListener("click", async () => {
      try {
        await navigator.clipboard.writeText(text);
        button.textContent = "Copied";
      } catch (err) {
        button.textContent = "Select and copy";
      }
    });
    pre.classList.add("has-button");
    pre.append(button);
  }
})();
