"""TLS certificate expiry, noted as each HTTPS connection of a check is made."""

import ssl
from datetime import UTC, datetime

import requests
import requests.utils
import urllib3.connection
import urllib3.connectionpool
import urllib3.exceptions


class CertificateRecordingConnection(urllib3.connection.HTTPSConnection):
    """Notes the server certificate's expiry as the connection is made: by the time the
    response is seen, a server that closes the connection has taken the socket with it."""

    certificate_expires_at: datetime | None = None

    def connect(self) -> None:
        super().connect()
        getpeercert = getattr(self.sock, "getpeercert", None)
        certificate = getpeercert() if getpeercert else None
        if certificate and "notAfter" in certificate:
            seconds = ssl.cert_time_to_seconds(certificate["notAfter"])
            self.certificate_expires_at = datetime.fromtimestamp(seconds, UTC)


class CertificateRecordingPool(urllib3.connectionpool.HTTPSConnectionPool):
    ConnectionCls = CertificateRecordingConnection


class CertificateExpiries:
    """A response hook (called for every hop, redirects included) keeping the soonest expiry."""

    def __init__(self) -> None:
        self.soonest: datetime | None = None

    def record(self, response: requests.Response, **kwargs: object) -> None:
        expires_at = getattr(getattr(response.raw, "connection", None), "certificate_expires_at", None)
        if expires_at is not None and (self.soonest is None or expires_at < self.soonest):
            self.soonest = expires_at
