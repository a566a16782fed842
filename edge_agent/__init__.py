"""carbonflow: edge_agent - polls devices, spools every reading in SQLite, forwards over TLS MQTT.

Modules: `config` (the YAML file), `sources` (Modbus and OPC-UA pollers),
`spool` (durable store-and-forward), `publisher` (MQTT), `agent` (wiring,
SIGHUP reload), `metrics` and `status` (Prometheus endpoint and `carbonflow
edge status`), `clock` (clock synchronisation check), `key_files`
(the payload protection key file; signing and encryption themselves live in
`carbon_domain.protection`, shared with the cloud's receiver), `backoff` and
`errors`. See docs/edge.md.
"""
