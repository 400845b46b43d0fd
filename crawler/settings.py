"""Every crawl default, in one place. X402_* settings are ours; the rest are Scrapy's.

The README's "Settings" section documents each X402_* setting (a test checks it).
"""

from index import PROJECT_URL, __version__
from index.paths import DEFAULT_DB_URL

BOT_NAME = "x402-index"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"

# Identity: a non-browser UA naming the project, so servers answer JSON, not an HTML paywall.
USER_AGENT = f"x402-index/{__version__} (+{PROJECT_URL})"
DEFAULT_REQUEST_HEADERS = {"Accept": "application/json"}

# Politeness. Probes of registry-listed endpoints skip robots.txt (recorded per request);
# HTML crawling obeys it.
ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS = 64
CONCURRENT_REQUESTS_PER_DOMAIN = 2
DOWNLOAD_DELAY = 0.25
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 0.25
AUTOTHROTTLE_MAX_DELAY = 30
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0

# Bounded cost per request: time, size (after decompression), redirects.
DOWNLOAD_TIMEOUT = 15
DNS_TIMEOUT = 10
DOWNLOAD_MAXSIZE = 2 * 1024 * 1024
DOWNLOAD_WARNSIZE = 512 * 1024
REDIRECT_MAX_TIMES = 5
METAREFRESH_ENABLED = False
RETRY_ENABLED = True
RETRY_TIMES = 1
RETRY_HTTP_CODES = [500, 502, 504, 522, 524, 408]  # 429 and 503: RetryAfterMiddleware honours Retry-After
RETRY_GIVE_UP_LOG_LEVEL = "INFO"  # a server that keeps failing is data (its outcome), not our error
COOKIES_ENABLED = False

# Safety: TLS certificates verified; only http(s) handlers; no control consoles.
DOWNLOAD_VERIFY_CERTIFICATES = True
DOWNLOAD_HANDLERS = {"file": None, "data": None, "ftp": None, "s3": None,
                     # Scrapy's HTTP/1.1 handler plus limits on response heads and body pieces
                     "http": "crawler.download.LimitedHTTP11DownloadHandler",
                     "https": "crawler.download.LimitedHTTP11DownloadHandler"}
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False

# The SSRF guard: URL rules per request and per redirect hop, and a resolver that refuses names
# resolving to non-global addresses (the address checked is the address connected).
TWISTED_DNS_RESOLVER = "crawler.resolver.GuardedResolver"
DOWNLOADER_MIDDLEWARES = {
    "crawler.middlewares.SSRFGuardMiddleware": 50,
    # Scrapy's robots.txt middleware, fixed for requests that wait on the same robots.txt
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "crawler.middlewares.RobotsTxtMiddleware": 100,
    "crawler.middlewares.RetryAfterMiddleware": 580,
}
ITEM_PIPELINES = {
    "crawler.pipelines.StorePipeline": 500,
}
EXTENSIONS = {
    "crawler.extensions.ProgressReporter": 500,
    "crawler.extensions.WorldLogs": 0,
}

# Per-response item work is tiny; a high value only multiplies asyncio tasks (see hardening ref §7).
CONCURRENT_ITEMS = 1
# Scrapy re-reads and re-parses a callback's source (inspect + ast) to warn about `return value` in a
# generator, each time its small per-callable cache misses: about 1 ms per miss for parse_probe, a
# third of all responses in the probe bench. Our callbacks are checked by review and tests instead.
WARN_ON_GENERATOR_RETURN_VALUE = False
LOG_LEVEL = "INFO"
REQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"

# ---- ours -------------------------------------------------------------------------------------
# Database URL the pipeline writes to (any SQLAlchemy URL; the default lives in index.paths).
X402_DB_URL = DEFAULT_DB_URL
# Refuse private, loopback, link-local and other non-global addresses (SSRF guard) unless True.
X402_ALLOW_PRIVATE = False
# Hosts the SSRF guard lets through even when they are private (e.g. your own facilitator).
X402_ALLOW_HOSTS: list[str] = []
# 429/503 answers: retries honouring Retry-After, and the longest wait we honour (seconds).
X402_RETRY_AFTER_TIMES = 2
X402_RETRY_AFTER_MAX = 30.0
# Probe results written per database transaction (one batch sent to the writer process at a time;
# 100 measured faster than 200 and 50 in bench/probe.py).
X402_STORE_BATCH = 100
# Bytes of a probe's body and of each header value kept in the observation row.
X402_RAW_BODY_LIMIT = 64 * 1024
# Read what each origin says about itself (/.well-known/x402, OpenAPI, llms.txt, homepage, docs).
X402_DISCOVER_ORIGINS = True
# Docs pages read per origin beyond its homepage (links to docs/API reference/pricing, llms.txt targets).
X402_DOCS_PAGES = 5
# DNS TXT `_x402.<host>` of each origin met (crawler/discovery/dns.py): on/off, the nameservers to ask
# ("ip:port" strings; empty: the system's resolvers) and the seconds one lookup may take.
X402_DNS_DISCOVERY = True
X402_DNS_NAMESERVERS: list[str] = []
X402_DNS_TIMEOUT = 3.0
# Facilitator discovery page size (the spec allows 1..100).
X402_DISCOVERY_PAGE_SIZE = 100
# Seconds between progress reports, sent as the crawler.extensions.progress_snapshot signal (0: none).
X402_PROGRESS_INTERVAL = 1.0
# Crawl-run id the pipeline stamps on every observation (set by crawler.run).
X402_CRAWL_RUN_ID = None

# The frontier of a single-process crawl. A crawl over many workers (`x402-index worker` and
# `coordinate`) shares one in Redis instead: crawler/distributed/ sets its own scheduler (scrapy-redis,
# requests as tagged JSON) and per-host slots for the whole fleet; its settings live there.
SCHEDULER = "scrapy.core.scheduler.Scheduler"
