"""A paho client for the central service's broker settings (`GRAINLINK_MQTT_URL` and the
`mqtt_*` settings), through the one set-up every grainlink process shares
(common/mqtt_client.py): ingest, the alarm notifier and the command publisher use it."""

from __future__ import annotations

import paho.mqtt.client as mqtt

from common.mqtt_client import make_client

# paho's own reconnect delays (seconds) after a lost connection.
RECONNECT_DELAY_S = (1, 30)


def broker_client(settings, client_id: str, *, clean_session: bool = True,
                  manual_ack: bool = False) -> mqtt.Client:
    """A client (MQTT 3.1.1, not yet connected) with the settings' credentials and TLS."""
    user, password = settings.mqtt_credentials
    return make_client(client_id, clean_session=clean_session, manual_ack=manual_ack,
                       username=user, password=password, tls=settings.mqtt_tls,
                       ca_file=settings.mqtt_ca_file, reconnect_delay=RECONNECT_DELAY_S)
