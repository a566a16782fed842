

def test_ingest_reads_auto_registration_from_its_environment() -> None:
    from ingest.bridge import bridge_config_from_env

    base = {"MQTT_URL": "mqtts://broker:8883", "KAFKA_BOOTSTRAP": "kafka:9092"}
    assert (bridge_config_from_env(base).auto_register,
            bridge_config_from_env({**base, "CARBONFLOW_AUTO_REGISTER_DEVICES": "on"}).auto_register) == (False, True)
