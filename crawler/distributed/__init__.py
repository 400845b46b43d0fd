"""A crawl spread over machines: Redis holds the shared frontier (scrapy-redis, subclassed), PostgreSQL
is the one store, any number of workers crawl and one coordinator opens, watches and finishes a run.

    frontier.py     the run's keys in Redis: claims, leases, tasks, per-host slots (Lua scripts)
    codec.py        requests in the frontier as tagged JSON, never pickle
    spider.py       ProbeSpider with its memory in Redis; callbacks hold their request's lease
    components.py   scheduler, leased queue, fleet-wide host slots, the lease-releasing store pipeline
    worker.py       one Scrapy process per run (`x402-index worker`)
    coordinator.py  open, watch (dead workers, an emptied Redis, lost claims) and summarize a run
                    (`x402-index coordinate`)
"""
