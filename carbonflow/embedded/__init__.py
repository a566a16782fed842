"""Embedded stand-ins for production infrastructure, used when no URL is configured."""

from carbonflow.embedded.kafka import tansu_command
from carbonflow.embedded.mqtt import MqttBrokerPlan, plan_mqtt_broker
from carbonflow.embedded.postgres import EmbeddedPostgres

__all__ = ["tansu_command", "MqttBrokerPlan", "plan_mqtt_broker", "EmbeddedPostgres"]
