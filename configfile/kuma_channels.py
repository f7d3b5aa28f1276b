"""One Uptime Kuma notification as config file channels: webhook, Slack and email where the
kind matches, an Apprise URL for the services Apprise speaks, a note for what is left.

Kuma keeps each notification's settings as JSON in `notification.config`, with the keys of
its provider (server/notification-providers/<type>.js)."""

from collections.abc import Callable
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from apprise import Apprise, AppriseAsset

from .kuma_read import NotCarried

# Keys every notification's config has that are no setting of the service.
META_KEYS = {"name", "type", "isDefault", "applyExisting", "id", "active", "userId", "user_id", "is_default"}
# Values Kuma's form fills in that change nothing: not worth a note when left behind.
FORM_DEFAULTS = {
    "webhookContentType": "json",
    "discordChannelType": "channel",
    "ntfyAuthenticationMethod": "none",
    "smtpSecure": False,
}
# Kuma's SMTP server settings: our email channels go through this server's own mail settings.
SMTP_SERVER_KEYS = {
    "smtpHost",
    "smtpPort",
    "smtpSecure",
    "smtpIgnoreTLSError",
    "smtpUsername",
    "smtpPassword",
    "smtpFrom",
    "smtpDkimDomain",
    "smtpDkimKeySelector",
    "smtpDkimPrivateKey",
    "smtpDkimHashAlgo",
    "smtpDkimheaderFieldNames",
    "smtpDkimskipFields",
}
RECIPIENT_KEYS = ("smtpTo", "smtpCC", "smtpBCC")

# A service's channels: [(kind, field, value)], from its config; `used` collects the keys read.
Builder = Callable[[dict[str, Any], set[str], list[str]], list[tuple[str, str, str]]]


def convert_notification(config: dict[str, Any], notes: list[str]) -> list[dict[str, Any]]:
    """The channels (kind and target, without name) for one Kuma notification's config;
    NotCarried if its service has no counterpart. Settings left behind go to `notes`."""
    builder = BUILDERS.get(config.get("type") or "")
    if builder is None:
        raise NotCarried("this kind of notification has no counterpart here")
    used: set[str] = set()
    channels = [{"kind": kind, field: value} for kind, field, value in builder(config, used, notes)]
    left = [
        key
        for key, value in config.items()
        if key not in META_KEYS | used and value not in (None, "", False, [], {}) and FORM_DEFAULTS.get(key) != value
    ]
    if left:
        notes.append(f"its settings {', '.join(sorted(left))} are not carried")
    return channels


def _value(config: dict[str, Any], key: str, used: set[str]) -> str:
    used.add(key)
    value = config.get(key)
    return "" if value is None else str(value).strip()


def _required(config: dict[str, Any], key: str, used: set[str]) -> str:
    value = _value(config, key, used)
    if not value:
        raise NotCarried(f"its {key} is empty")
    return value


def _webhook(config, used, notes):
    url = _required(config, "webhookURL", used)
    content = _value(config, "webhookContentType", used) or "json"
    used.add("webhookCustomBody")
    if content != "json":
        notes.append(f"its {content} body is not carried: the webhook here posts Uptime's own JSON")
    return [("webhook", "url", url)]


def _slack(config, used, notes):
    return [("slack", "url", _required(config, "slackwebhookURL", used))]


def _smtp(config, used, notes):
    addresses: list[str] = []
    for key in RECIPIENT_KEYS:
        for address in _value(config, key, used).replace(";", ",").split(","):
            if address.strip() and address.strip() not in addresses:
                addresses.append(address.strip())
    if not addresses:
        raise NotCarried("it has no recipient")
    used.update(SMTP_SERVER_KEYS)
    host = _value(config, "smtpHost", used)
    notes.append(
        "it is sent through this server's mail settings (EMAIL_HOST, DEFAULT_FROM_EMAIL):"
        f" Kuma's SMTP server{f' {host}' if host else ''}, login and sender are not carried"
    )
    return [("email", "email", address) for address in addresses]


def _apprise(url: str) -> list[tuple[str, str, str]]:
    return [("apprise", "apprise_url", url)]


def _native(url: str, what: str) -> str:
    """The Apprise URL of a service's own webhook URL (https://discord.com/api/webhooks/...),
    as Apprise itself reads it."""
    plugin = Apprise.instantiate(url, asset=AppriseAsset(secure_logging=True), suppress_exceptions=True)
    if plugin is None:
        raise NotCarried(f"its {what} is not one Apprise reads")
    return plugin.url(privacy=False)


def _server(url: str, insecure: str, secure: str, what: str) -> tuple[str, str, str]:
    """An Apprise scheme, the host[:port] and the path of a self-hosted service's address."""
    parts = urlsplit(url if "://" in url else f"https://{url}")
    if not parts.hostname:
        raise NotCarried(f"its {what} has no host")
    return (secure if parts.scheme == "https" else insecure), parts.netloc.rpartition("@")[2], parts.path.rstrip("/")


def _telegram(config, used, notes):
    token = _required(config, "telegramBotToken", used)
    chat = _required(config, "telegramChatID", used)
    thread = _value(config, "telegramMessageThreadID", used)
    return _apprise(f"tgram://{token}/{chat}{f':{thread}' if thread else ''}")


def _discord(config, used, notes):
    return _apprise(_native(_required(config, "discordWebhookUrl", used), "Discord webhook URL"))


def _teams(config, used, notes):
    return _apprise(_native(_required(config, "webhookUrl", used), "Teams webhook URL"))


def _mattermost(config, used, notes):
    # Its incoming webhook URL, https://host[/prefix]/hooks/<token>: Apprise reads it natively
    # only on hosts named like Mattermost's own, so it is spelled out here.
    url = _required(config, "mattermostWebhookUrl", used)
    scheme, host, path = _server(url, "mmost", "mmosts", "Mattermost webhook URL")
    prefix, hooks, token = path.rpartition("/hooks/")
    if not hooks or not token or "/" in token:
        raise NotCarried("its Mattermost webhook URL is not a /hooks/ URL")
    query = {"channel": channel} if (channel := _value(config, "mattermostchannel", used)) else {}
    return _apprise(f"{scheme}://{host}{prefix}/{token}" + (f"?{urlencode(query)}" if query else ""))


def _ntfy(config, used, notes):
    scheme, host, path = _server(_required(config, "ntfyserverurl", used), "ntfy", "ntfys", "ntfy server URL")
    if path:
        raise NotCarried("an ntfy server under a path is not supported")
    topic = _required(config, "ntfytopic", used)
    method = _value(config, "ntfyAuthenticationMethod", used)
    user, password = _value(config, "ntfyusername", used), _value(config, "ntfypassword", used)
    token = _value(config, "ntfyaccesstoken", used)
    query = {"priority": _value(config, "ntfyPriority", used) or "5"}  # Kuma's default
    login = ""
    if method == "accessToken" or (not method and token and not user):
        login, query["auth"] = f"{quote(token, safe='')}@", "token"
    elif method == "usernamePassword" or (not method and user):
        login = f"{quote(user, safe='')}:{quote(password, safe='')}@"
    return _apprise(f"{scheme}://{login}{host}/{quote(topic, safe='')}?{urlencode(query)}")


def _gotify(config, used, notes):
    scheme, host, path = _server(_required(config, "gotifyserverurl", used), "gotify", "gotifys", "Gotify URL")
    token = _required(config, "gotifyapplicationToken", used)
    priority = _value(config, "gotifyPriority", used) or "8"  # Kuma's default
    return _apprise(f"{scheme}://{host}{path}/{quote(token, safe='')}?{urlencode({'priority': priority})}")


def _pushover(config, used, notes):
    user = _required(config, "pushoveruserkey", used)
    token = _required(config, "pushoverapptoken", used)
    device = _value(config, "pushoverdevice", used)
    query = {"priority": _value(config, "pushoverpriority", used), "sound": _value(config, "pushoversounds", used)}
    query = {key: value for key, value in query.items() if value}
    url = f"pover://{quote(user, safe='')}@{quote(token, safe='')}"
    if device:
        url += "/" + quote(device, safe="")
    return _apprise(url + (f"?{urlencode(query)}" if query else ""))


def _matrix(config, used, notes):
    scheme, host, _ = _server(_required(config, "homeserverUrl", used), "matrix", "matrixs", "homeserver URL")
    token = _required(config, "accessToken", used)
    room = _required(config, "internalRoomId", used)
    return _apprise(f"{scheme}://{quote(token, safe='')}@{host}/{quote(room, safe='')}")


def _kuma_apprise(config, used, notes):
    return _apprise(_required(config, "appriseURL", used))


BUILDERS: dict[str, Builder] = {
    "webhook": _webhook,
    "slack": _slack,
    "smtp": _smtp,
    "apprise": _kuma_apprise,
    "telegram": _telegram,
    "discord": _discord,
    "teams": _teams,
    "mattermost": _mattermost,
    "ntfy": _ntfy,
    "gotify": _gotify,
    "pushover": _pushover,
    "matrix": _matrix,
}
