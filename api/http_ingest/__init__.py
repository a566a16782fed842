"""http_ingest: the HTTP door of the ingest stage; readings go to Kafka as the MQTT bridge sends them."""

__all__: list[str] = []
