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
  // A page that holds only part of the catalog (the home page, a list page) sorts by name or price
  // through its links, to the pre-sorted list pages of the whole catalog; the other columns, and
  // pages that hold every row, sort the rows in place.
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
        const ascending = th.getAttribute("aria-sort") !== "ascending";
        for (const other of table.tHead.rows[0].cells) other.removeAttribute("aria-sort");
        th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        const numeric = th.dataset.type === "num";
        const value = (row) => row.dataset[key] || "";
        const sorted = rows.slice().sort((a, b) => {
          const va = value(a), vb = value(b);
          if (numeric) {
            if (va === "" || vb === "") return va === vb ? 0 : va === "" ? 1 : -1; // unknown price last
            return ascending ? Number(va) - Number(vb) : Number(vb) - Number(va);
          }
          const c = va.localeCompare(vb);
          return ascending ? c : -c;
        });
        for (const row of sorted) tbody.appendChild(row);
      });
    }
  }

  // -- filters: category, network, price range, status, trust tier ------------------------
  const filters = document.getElementById("filters");
  function current() {
    if (!filters) return {};
    const f = new FormData(filters);
    return {
      category: f.get("category") || "", network: f.get("network") || "", status: f.get("status") || "",
      tier: f.get("tier") || "", min: f.get("min") === "" ? null : Number(f.get("min")),
      max: f.get("max") === "" ? null : Number(f.get("max")),
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
      if (ok && c.min !== null) ok = price !== null && price >= c.min;
      if (ok && c.max !== null) ok = price !== null && price <= c.max;
      row.hidden = !ok;
      if (ok) shown += 1;
    }
    if (countNote) {
      countNote.textContent = `Showing ${shown} of ${total} resources` +
        (rows.length < total ? ` (filters and sorting by category, status or trust apply to the ${rows.length} rows on this page; search covers all).` : ".");
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
    filters.addEventListener("input", applyFilters);
    filters.addEventListener("change", applyFilters);
    filters.addEventListener("reset", () => setTimeout(applyFilters, 0));
  }

  // -- search: pagefind's index, loaded on first use, offline ------------------------------
  const search = document.getElementById("search");
  const input = document.getElementById("q");
  const results = document.getElementById("search-results");
  const status = document.getElementById("search-status");
  let pagefind = null;
  let seq = 0;

  function plain(html) {
    // pagefind excerpts are HTML with <mark>; parse inertly and keep the text only
    return new DOMParser().parseFromString(html, "text/html").body.textContent || "";
  }

  async function runSearch() {
    const mine = ++seq;
    const term = input.value.trim();
    results.replaceChildren();
    if (!term) { status.textContent = ""; return; }
    try {
      if (!pagefind) {
        pagefind = await import(new URL((search.dataset.root || "") + "pagefind/pagefind.js", document.baseURI).href);
        // result URLs relative to where the site is served (a sub-path works too)
        await pagefind.options({ baseUrl: new URL(search.dataset.root || "./", document.baseURI).pathname });
        await pagefind.init();
      }
      const c = current();
      const wanted = {};
      if (c.category) wanted.category = c.category;
      if (c.network) wanted.network = c.network;
      const found = await pagefind.search(term, { filters: wanted });
      if (mine !== seq) return;
      const top = await Promise.all(found.results.slice(0, 20).map((r) => r.data()));
      if (mine !== seq) return;
      status.textContent = `${found.results.length} result${found.results.length === 1 ? "" : "s"} for “${term}”`;
      for (const item of top) {
        const li = document.createElement("li");
        const a = document.createElement("a");
        a.href = item.url;
        a.textContent = (item.meta && item.meta.title) || item.url;
        const p = document.createElement("p");
        p.className = "sub";
        p.textContent = plain(item.excerpt || "");
        li.append(a, p);
        results.append(li);
      }
    } catch (err) {
      status.textContent = "Search is not available here (the search index is served with the site, not from file://).";
    }
  }
  if (search && input) {
    search.hidden = false;
    let timer = null;
    input.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(runSearch, 150); });
    search.addEventListener("submit", (event) => { event.preventDefault(); runSearch(); });
    if (filters) filters.addEventListener("change", () => { if (input.value.trim()) runSearch(); });
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
