"""Fake Splunk, Kibana and Elasticsearch servers for the deploy tests: real HTTP on 127.0.0.1,
the documented request and response contracts of the endpoints `dac deploy` uses, every
request body validated, and faults on demand (429, 5xx, slow, trickled, oversized or
malformed answers, dropped connections)."""
