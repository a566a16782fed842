

def test_the_api_reads_auto_registration_from_its_environment_and_refuses_other_values() -> None:
    from api.settings import load_api_settings

    assert (load_api_settings({}).auto_register_devices,
            load_api_settings({"CARBONFLOW_AUTO_REGISTER_DEVICES": "on"}).auto_register_devices) == (False, True)
    with pytest.raises(SystemExit, match="api: CARBONFLOW_AUTO_REGISTER_DEVICES must be 'on' or 'off', got 'maybe'"):
        load_api_settings({"CARBONFLOW_AUTO_REGISTER_DEVICES": "maybe"})
