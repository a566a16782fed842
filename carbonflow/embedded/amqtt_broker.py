"""The amqtt fallback broker, made to authenticate gateways as the generated Mosquitto configuration does.

amqtt 0.12 asks TLS clients for a certificate but accepts a connection without one (its listener context is
CERT_OPTIONAL and cannot be configured otherwise), and has no plugin that reads a Mosquitto ACL. So:

- `CertificateBroker` requires a client certificate signed by the listener's `cafile` (the TLS handshake fails
  without one), and re-reads the certificate of every new connection, also when it resumes a persistent session;
- `CertificateIdentityPlugin` makes the certificate's common name the username (Mosquitto's
  `use_identity_as_username`) and refuses a client id whose session belongs to another identity;
- `AclFilePlugin` applies the same ACL file Mosquitto would get (carbonflow.embedded.mqtt_acl) to publishing,
  subscribing and delivery; like Mosquitto 2.0, it drops a forbidden publish and disconnects its sender, and
  SIGHUP makes it read the file again.

Run as `python -m carbonflow.embedded.amqtt_broker -c amqtt.yaml` (plan_mqtt_broker writes the file).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from amqtt.broker import Broker
from amqtt.contexts import Action, BaseContext, ListenerConfig
from amqtt.plugins.base import BaseAuthPlugin, BaseTopicPlugin
from amqtt.session import Session
from amqtt.utils import read_yaml_config

from carbonflow.embedded.mqtt_acl import AclError, MosquittoAcl

__all__ = ["CertificateBroker", "CertificateIdentityPlugin", "AclFilePlugin", "main"]

log = logging.getLogger("carbonflow.amqtt")

_IDENTITY = "carbonflow.identity"  # the certificate CN a session was first authenticated as
_DENIED_PUBLISH = "carbonflow.denied_publish"


def certificate_identity(ssl_object: ssl.SSLObject | None) -> str | None:
    """The common name of a verified peer certificate, or None without one."""
    if ssl_object is None:
        return None
    try:
        certificate = ssl_object.getpeercert()
    except ValueError:  # the handshake has not completed
        return None
    subject: tuple[tuple[tuple[str, str], ...], ...] = (certificate or {}).get("subject", ())  # type: ignore[assignment]
    return next((value for rdn in subject for key, value in rdn if key == "commonName"), None)


class CertificateBroker(Broker):
    """An amqtt broker whose TLS listeners require a client certificate signed by their `cafile`."""

    @staticmethod
    def _create_ssl_context(listener: ListenerConfig) -> ssl.SSLContext:
        if not listener.get("cafile"):
            raise SystemExit("amqtt broker: a TLS listener needs `cafile`, the CA that signs client certificates")
        context = Broker._create_ssl_context(listener)
        context.verify_mode = ssl.CERT_REQUIRED
        context.minimum_version = ssl.TLSVersion.TLSv1_2  # as the generated Mosquitto configuration
        return context

    async def _initialize_client_session(self, reader: Any, writer: Any, remote_address: str,
                                         remote_port: int) -> tuple[Any, Session]:
        handler, session = await super()._initialize_client_session(reader, writer, remote_address, remote_port)
        # amqtt keeps a resumed session's TLS object from its first connection: authenticate this one instead
        session.ssl_object = writer.get_ssl_info()
        return handler, session

    async def _handle_message_delivery(self, client_session: Session, handler: Any, wait_deliver: Any) -> bool:
        keep = await super()._handle_message_delivery(client_session, handler, wait_deliver)
        if client_session.attributes.pop(_DENIED_PUBLISH, None) is None:
            return keep
        closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        closed.set_result(None)
        await self._handle_disconnect(client_session, handler, closed)
        return False


class CertificateIdentityPlugin(BaseAuthPlugin):
    """Authenticates a client by its certificate's common name, which becomes its username."""

    @dataclass
    class Config:
        pass

    async def authenticate(self, *, session: Session) -> bool | None:
        identity = certificate_identity(session.ssl_object)
        if identity is None:
            log.warning("refused client %r from %s: no client certificate", session.client_id, session.remote_address)
            return False
        earlier = session.attributes.get(_IDENTITY)
        if earlier is not None and earlier != identity:
            log.warning("refused client %r: its session belongs to %r, the certificate names %r",
                        session.client_id, earlier, identity)
            return False
        session.attributes[_IDENTITY] = identity
        session.username = identity
        return True


class AclFilePlugin(BaseTopicPlugin):
    """Applies a Mosquitto ACL file to every publish, subscription and delivery."""

    @dataclass
    class Config:
        acl_file: str

    def __init__(self, context: BaseContext) -> None:
        super().__init__(context)
        self._acl = MosquittoAcl.read(Path(self.config.acl_file))

    def reload(self) -> None:
        """Read the ACL file again (`carbonflow gateways` rewrote it); keep the old rules if it is unreadable."""
        try:
            self._acl = MosquittoAcl.read(Path(self.config.acl_file))
        except (OSError, AclError) as exc:
            log.error("ACL not reloaded, the previous rules stay: %s", exc)
            return
        log.warning("ACL reloaded from %s", self.config.acl_file)

    async def topic_filtering(self, *, session: Session | None = None, topic: str | None = None,
                              action: Action | None = None) -> bool:
        if session is None or topic is None:
            return False
        username, client_id = session.attributes.get(_IDENTITY), session.client_id
        if action == Action.PUBLISH:
            if self._acl.may_publish(username, client_id, topic):
                return True
            log.warning("denied publish by %r (%s) to %s: disconnecting it", client_id, username, topic)
            session.attributes[_DENIED_PUBLISH] = topic
            return False
        if action == Action.SUBSCRIBE:
            allowed = self._acl.may_subscribe(username, client_id, topic)
            if not allowed:
                log.warning("denied subscription by %r (%s) to %s", client_id, username, topic)
            return allowed
        return self._acl.may_receive(username, client_id, topic)


async def _serve(config: dict[str, Any]) -> None:
    broker = CertificateBroker(config)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await broker.start()
    acl = broker.plugins_manager.get_plugin(AclFilePlugin.__name__)
    if isinstance(acl, AclFilePlugin):  # SIGHUP re-reads the ACL, as it makes Mosquitto do
        loop.add_signal_handler(signal.SIGHUP, acl.reload)
    await stop.wait()
    await broker.shutdown()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="carbonflow's amqtt broker: client certificates and a Mosquitto ACL")
    parser.add_argument("-c", "--config", required=True, type=Path, help="amqtt YAML configuration")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    for noisy in ("transitions", "amqtt"):  # amqtt logs every connection at INFO
        logging.getLogger(noisy).setLevel(logging.WARNING)
    asyncio.run(_serve(read_yaml_config(args.config)))


if __name__ == "__main__":
    # run the imported module's main, not this __main__ copy: the plugins amqtt loads by dotted path are the
    # imported module's classes, and the SIGHUP handler looks them up by class
    from carbonflow.embedded.amqtt_broker import main as _main

    _main()
