"""Moving over from Uptime Kuma: a Kuma 1.23 or 2.0 database (built here from Kuma's schema,
tests/kuma_schema.py) or a 1.x JSON backup becomes a config document, and what cannot come
over is listed, one line per item with the reason."""

import json
from pathlib import Path

import pytest
from django.core.management import call_command

from configfile.kuma import KumaImportError, document_from_kuma
from monitors.models import MaintenanceWindow, Monitor
from notifications.models import Channel
from tests.factories import personal
from tests.kuma_schema import create_kuma_database, insert

pytestmark = pytest.mark.django_db

REGIONS = ["europe", "india", "usa"]  # every region of a fresh install (monitors/migrations/0002)
TELEGRAM_TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"

NOTIFICATIONS = [
    (
        1,
        "Ops hook",
        False,
        {"type": "webhook", "webhookURL": "https://hooks.example.com/kuma", "webhookContentType": "json"},
    ),
    (
        2,
        "Slack alerts",
        False,
        {"type": "slack", "slackwebhookURL": "https://hooks.slack.com/services/T0/B0/XX", "slackchannel": "#ops"},
    ),
    (
        3,
        "Ops mail",
        True,
        {
            "type": "smtp",
            "smtpHost": "smtp.example.com",
            "smtpPort": 587,
            "smtpSecure": False,
            "smtpUsername": "kuma",
            "smtpPassword": "mail-secret",
            "smtpFrom": "kuma@example.com",
            "smtpTo": "ops@example.com, oncall@example.com",
        },
    ),
    (
        4,
        "Team chat",
        False,
        {"type": "telegram", "telegramBotToken": TELEGRAM_TOKEN, "telegramChatID": "-1001234567890"},
    ),
    (5, "Phone", False, {"type": "signal", "signalURL": "http://signal.example.com", "signalNumber": "+15550100"}),
]

# Kuma monitor rows (its column names); ids give the order.
MONITORS = [
    {"id": 1, "name": "Web", "type": "group", "interval": 60},
    {
        "id": 2,
        "name": "Shop",
        "type": "http",
        "url": "https://shop.example.com/",
        "method": "POST",
        "body": '{"item": 1}',
        "http_body_encoding": "json",
        "headers": '{"X-Check": "1"}',
        "accepted_statuscodes_json": '["200-299", "301"]',
        "maxredirects": 0,
        "interval": 60,
        "timeout": 10,
        "maxretries": 2,
        "retry_interval": 10,
        "auth_method": "basic",
        "basic_auth_user": "kuma",
        "basic_auth_pass": "s3cret",
        "parent": 1,
    },
    {
        "id": 3,
        "name": "Blog",
        "type": "keyword",
        "url": "https://blog.example.com/",
        "keyword": "Welcome",
        "invert_keyword": 1,
        "interval": 20,
        "timeout": 16,
        "active": 0,
        "expiry_notification": 0,
    },
    {"id": 4, "name": "Database", "type": "port", "hostname": "db.example.com", "port": 5432, "interval": 120},
    {"id": 5, "name": "DNS check", "type": "dns", "hostname": "example.com", "dns_resolve_server": "1.1.1.1"},
    {"id": 6, "name": "Shop", "type": "http", "url": "https://shop2.example.com/", "interval": 60, "timeout": 48},
]
LINKS = [(2, 1), (2, 2), (3, 3), (4, 4), (5, 5)]

MAINTENANCE = [
    # Kuma keeps a maintenance's dates as wall-clock time in its time zone: 03:00 in Berlin
    # in January is 02:00 UTC.
    {
        "id": 1,
        "title": "Database upgrade",
        "strategy": "single",
        "start_date": "2027-01-12 03:00:00",
        "end_date": "2027-01-12 05:00:00",
        "timezone": "Europe/Berlin",
        "monitors": [2, 3],
    },
    {
        "id": 2,
        "title": "Nightly backup",
        "strategy": "recurring-weekday",
        "weekdays": "[1, 3]",
        "start_time": "02:00",
        "end_time": "02:30",
        "timezone": "UTC",
        "cron": "0 2 * * 1,3",
        "duration": 1800,
        "monitors": [4],
    },
    {"id": 3, "title": "Switch-over", "strategy": "manual", "monitors": [2]},
]


def kuma_database(
    directory: Path,
    version: str,
    monitors=MONITORS,
    notifications=NOTIFICATIONS,
    maintenance=None,
    server_timezone=None,
) -> Path:
    path = directory / f"kuma-{version}.db"
    db = create_kuma_database(path, version)
    for id_, name, is_default, config in notifications:
        insert(db, "notification", id=id_, name=name, user_id=1, is_default=is_default, config=json.dumps(config))
    for row in monitors:
        insert(db, "monitor", user_id=1, **row)
    for monitor_id, notification_id in LINKS:
        if any(row["id"] == monitor_id for row in monitors):
            insert(db, "monitor_notification", monitor_id=monitor_id, notification_id=notification_id)
    # The tag and the maintenance go with the monitors of MONITORS.
    if monitors is MONITORS:
        insert(db, "tag", id=1, name="prod", color="#059669")
        insert(db, "monitor_tag", monitor_id=2, tag_id=1, value="")
    if maintenance is None:
        maintenance = MAINTENANCE if monitors is MONITORS else []
    if server_timezone:
        insert(db, "setting", key="serverTimezone", value=server_timezone, type="general")
    for row in maintenance:
        values = {key: value for key, value in row.items() if key != "monitors"}
        insert(db, "maintenance", description="", user_id=1, **values)
        for monitor_id in row["monitors"]:
            insert(db, "monitor_maintenance", monitor_id=monitor_id, maintenance_id=row["id"])
    db.commit()
    db.close()
    return path


SHOP = {
    "name": "Shop",
    "kind": "http",
    "url": "https://shop.example.com/",
    "interval_seconds": 60,
    "timeout_seconds": 10,
    "retries": 2,
    "retry_interval_seconds": 10,
    "method": "POST",
    "expected_status": "200-299,301",
    "follow_redirects": False,
    "auth_username": "kuma",
    "auth_password": "s3cret",
    "request_headers": {"X-Check": "1"},
    "request_body": '{"item": 1}',
    "request_content_type": "application/json",
    "keyword": "",
    "keyword_mode": "present",
    "regions": REGIONS,
    "paused": False,
    "channels": ["Ops hook", "Slack alerts"],
}
BLOG = {
    "name": "Blog",
    "kind": "http",
    "url": "https://blog.example.com/",
    "interval_seconds": 20,
    "timeout_seconds": 16,
    "retries": 0,
    # Kuma retries at the interval when it has no retry interval of its own.
    "retry_interval_seconds": 20,
    "method": "GET",
    "expected_status": "200-299",
    "follow_redirects": True,
    "auth_username": "",
    "auth_password": "",
    "request_headers": {},
    "request_body": "",
    "request_content_type": "",
    "keyword": "Welcome",
    "keyword_mode": "absent",
    "tls_expiry_warning_days": 0,
    "regions": REGIONS,
    "paused": True,
    "channels": ["Ops mail (ops@example.com)", "Ops mail (oncall@example.com)"],
}
DATABASE = {
    "name": "Database",
    "kind": "tcp",
    "url": "tcp://db.example.com:5432",
    "interval_seconds": 120,
    # No timeout in Kuma: 80% of the interval, as Kuma times out.
    "timeout_seconds": 60,
    "retries": 0,
    "retry_interval_seconds": 120,
    "regions": REGIONS,
    "paused": False,
    "channels": ["Team chat"],
}

EXPECTED_NOT_CARRIED = [
    'notification "Slack alerts" (slack): its settings slackchannel are not carried',
    'notification "Ops mail" (smtp): it is sent through this server\'s mail settings (EMAIL_HOST,'
    " DEFAULT_FROM_EMAIL): Kuma's SMTP server smtp.example.com, login and sender are not carried",
    'notification "Phone" (signal): this kind of notification has no counterpart here',
    'monitor "Web" (group): this kind of monitor is not supported',
    'monitor "Shop" (http): its place in group "Web" is not carried: a group is not a dependency here',
    'monitor "Shop" (http): its tags (prod) are not carried',
    'monitor "Database" (port): timeout 96 s changed to 60 s, the most allowed here',
    'monitor "DNS check" (dns): this kind of monitor is not supported',
    'monitor "Shop" (http): named "Shop (2)" here: another monitor has its name',
    'maintenance "Switch-over" (manual): manual maintenance has no times: it lasts until switched off by hand',
]


@pytest.mark.parametrize("version", ["1.23", "2.0"])
def test_kuma_database_becomes_a_document(tmp_path, version):
    result = document_from_kuma(kuma_database(tmp_path, version))

    document = result.document
    assert document["version"] == 1
    assert document["channels"] == [
        {"name": "Ops hook", "kind": "webhook", "url": "https://hooks.example.com/kuma", "is_default": False},
        {
            "name": "Slack alerts",
            "kind": "slack",
            "url": "https://hooks.slack.com/services/T0/B0/XX",
            "is_default": False,
        },
        {"name": "Ops mail (ops@example.com)", "kind": "email", "email": "ops@example.com", "is_default": True},
        {"name": "Ops mail (oncall@example.com)", "kind": "email", "email": "oncall@example.com", "is_default": True},
        {
            "name": "Team chat",
            "kind": "apprise",
            "apprise_url": f"tgram://{TELEGRAM_TOKEN}/-1001234567890",
            "is_default": False,
        },
    ]
    monitors = {monitor["name"]: monitor for monitor in document["monitors"]}
    assert list(monitors) == ["Shop", "Blog", "Database", "Shop (2)"]
    assert monitors["Shop"] == SHOP
    assert monitors["Blog"] == BLOG
    assert monitors["Database"] == DATABASE
    assert monitors["Shop (2)"]["url"] == "https://shop2.example.com/"
    assert monitors["Shop (2)"]["channels"] == []
    assert document["maintenance_windows"] == [
        {
            "name": "Database upgrade",
            "monitors": ["Shop", "Blog"],
            "starts_at": "2027-01-12T02:00:00Z",
            "ends_at": "2027-01-12T04:00:00Z",
            "recurrence": "none",
        },
        # One weekly window per day; Kuma's 1 and 3 are Monday and Wednesday (0 is Sunday).
        {
            "name": "Nightly backup (Mon)",
            "monitors": ["Database"],
            "starts_at": "2024-01-01T02:00:00Z",
            "ends_at": "2024-01-01T02:30:00Z",
            "recurrence": "weekly",
        },
        {
            "name": "Nightly backup (Wed)",
            "monitors": ["Database"],
            "starts_at": "2024-01-03T02:00:00Z",
            "ends_at": "2024-01-03T02:30:00Z",
            "recurrence": "weekly",
        },
    ]
    assert result.not_carried == EXPECTED_NOT_CARRIED
    assert result.source == f"Uptime Kuma {version[0]}.x database"


def test_kuma_json_backup_becomes_a_document(tmp_path):
    # A 1.x backup as Settings > Backup > Export writes it: notifications with their config
    # as a JSON string, monitors as Monitor.toJSON gives them (camelCase, codes as a list).
    backup = {
        "version": "1.23.16",
        "notificationList": [
            {
                "id": id_,
                "name": name,
                "config": json.dumps({"name": name, **config}),
                "active": 1,
                "is_default": default,
            }
            for id_, name, default, config in NOTIFICATIONS
            if id_ in (1, 4)
        ],
        "monitorList": [
            {
                "id": 2,
                "name": "Shop",
                "type": "keyword",
                "url": "https://shop.example.com/",
                "method": "GET",
                "interval": 60,
                "timeout": 10,
                "retryInterval": 30,
                "maxretries": 1,
                "keyword": "In stock",
                "invertKeyword": False,
                "ignoreTls": True,
                "upsideDown": False,
                "active": True,
                "maxredirects": 10,
                "accepted_statuscodes": ["200-299"],
                "authMethod": None,
                "headers": None,
                "body": None,
                "notificationIDList": {"1": True, "4": True},
                "tags": [{"name": "team", "value": "web"}],
            },
            {"id": 3, "name": "Heartbeat", "type": "push", "interval": 60, "pushToken": "abc"},
        ],
    }
    path = tmp_path / "Uptime_Kuma_Backup.json"
    path.write_text(json.dumps(backup))

    result = document_from_kuma(path)

    assert [channel["name"] for channel in result.document["channels"]] == ["Ops hook", "Team chat"]
    [shop] = result.document["monitors"]
    assert shop == {
        "name": "Shop",
        "kind": "http",
        "url": "https://shop.example.com/",
        "interval_seconds": 60,
        "timeout_seconds": 10,
        "retries": 1,
        "retry_interval_seconds": 30,
        "method": "GET",
        "expected_status": "200-299",
        "follow_redirects": True,
        "auth_username": "",
        "auth_password": "",
        "request_headers": {},
        "request_body": "",
        "request_content_type": "",
        "keyword": "In stock",
        "keyword_mode": "present",
        "regions": REGIONS,
        "paused": False,
        "channels": ["Ops hook", "Team chat"],
    }
    assert result.document["maintenance_windows"] == []
    assert result.not_carried == [
        'monitor "Shop" (keyword): ignore TLS errors is not carried: checks here always verify certificates',
        'monitor "Shop" (keyword): its tags (team:web) are not carried',
        'monitor "Heartbeat" (push): this kind of monitor is not supported',
    ]
    assert result.source == "Uptime Kuma 1.23.16 JSON backup"


def test_values_outside_our_limits_are_brought_in_and_listed(tmp_path, settings):
    settings.MONITOR_MIN_INTERVAL_SECONDS = 30
    settings.CHECK_MAX_SECONDS = 240
    rows = [
        # Kuma's shortest interval, 20 s, is shorter than ours.
        {"id": 1, "name": "Fast", "type": "http", "url": "https://fast.example.com/", "interval": 20, "timeout": 16},
        # 5 retries a minute apart with a 48 s timeout: longer than one check may take here.
        {
            "id": 2,
            "name": "Patient",
            "type": "http",
            "url": "https://patient.example.com/",
            "interval": 600,
            "timeout": 48,
            "maxretries": 5,
            "retry_interval": 60,
        },
        {
            "id": 3,
            "name": "Rare",
            "type": "port",
            "hostname": "10.0.0.9",
            "port": 22,
            "interval": 172800,
            "maxretries": 9,
        },
    ]

    result = document_from_kuma(kuma_database(tmp_path, "2.0", monitors=rows, notifications=[]))

    timings = {
        monitor["name"]: tuple(
            monitor[key] for key in ("interval_seconds", "timeout_seconds", "retries", "retry_interval_seconds")
        )
        for monitor in result.document["monitors"]
    }
    assert timings == {"Fast": (30, 16, 0, 20), "Patient": (600, 48, 3, 16), "Rare": (86400, 60, 2, 30)}
    assert result.not_carried == [
        'monitor "Fast" (http): interval 20 s changed to 30 s, the least allowed here',
        'monitor "Patient" (http): 5 retries 60 s apart with a 48 s timeout take longer than one check may here'
        " (240 s, CHECK_MAX_SECONDS): now 3 retries 16 s apart",
        'monitor "Rare" (port): interval 172800 s changed to 86400 s, the most allowed here',
        'monitor "Rare" (port): timeout 138240 s changed to 60 s, the most allowed here',
        'monitor "Rare" (port): retries 9 changed to 5, the most allowed here',
        'monitor "Rare" (port): retry interval 172800 s changed to 300 s, the most allowed here',
        'monitor "Rare" (port): 5 retries 300 s apart with a 60 s timeout take longer than one check may here'
        " (240 s, CHECK_MAX_SECONDS): now 2 retries 30 s apart",
    ]


def test_monitors_our_checks_cannot_make_are_listed(tmp_path, settings):
    settings.ALLOW_PRIVATE_TARGETS = False
    rows = [
        {"id": 1, "name": "Put", "type": "http", "url": "https://api.example.com/", "method": "PUT"},
        {"id": 2, "name": "Windows", "type": "http", "url": "https://intra.example.com/", "auth_method": "ntlm"},
        {"id": 3, "name": "Flipped", "type": "http", "url": "https://down.example.com/", "upside_down": 1},
        {"id": 4, "name": "Router", "type": "http", "url": "http://192.168.1.1/"},
        {"id": 5, "name": "Ping", "type": "ping", "hostname": "192.0.2.1"},
        {
            "id": 6,
            "name": "Odd request",
            "type": "http",
            "url": "https://user:pa%40ss@93.184.215.14/status",
            "body": "ignored",
            "headers": '{"Host": "other.example.com", "Accept": "text/plain"}',
        },
    ]

    result = document_from_kuma(kuma_database(tmp_path, "1.23", monitors=rows, notifications=[]))

    [odd] = result.document["monitors"]
    assert (odd["url"], odd["auth_username"], odd["auth_password"]) == ("https://93.184.215.14/status", "user", "pa@ss")
    assert (odd["request_headers"], odd["request_body"]) == ({"Accept": "text/plain"}, "")
    assert result.not_carried[:5] == [
        'monitor "Put" (http): method PUT is not supported (only GET, HEAD and POST)',
        'monitor "Windows" (http): ntlm authentication is not supported (only basic)',
        'monitor "Flipped" (http): upside down mode (up when the check fails) is not supported',
        'monitor "Router" (http): not carried, refused here: url: '
        + result.not_carried[3].split("url: ", 1)[1],  # our own guard's words
        'monitor "Ping" (ping): this kind of monitor is not supported',
    ]
    assert "private" in result.not_carried[3]
    assert result.not_carried[5:] == [
        'monitor "Odd request" (http): the user and password in its URL are sent as basic auth instead',
        'monitor "Odd request" (http): request header "Host" is not carried: The check sets "Host" itself.',
        'monitor "Odd request" (http): its request body is not carried: only POST requests send a body here, not GET',
    ]


def test_maintenance_schedules_become_windows_or_are_listed(tmp_path):
    shop = {"id": 1, "name": "Shop", "type": "http", "url": "https://shop.example.com/", "interval": 60, "timeout": 10}
    maintenance = [
        # Every day from 23:30 to 00:30: seven weekly windows of an hour.
        {
            "id": 1,
            "title": "Daily",
            "strategy": "recurring-interval",
            "interval_day": 1,
            "start_time": "23:30",
            "end_time": "00:30",
            "timezone": "UTC",
        },
        # 01:30 New York time on weekdays, from 1 March 2027 (before daylight saving time: UTC-5).
        {
            "id": 2,
            "title": "Cron",
            "strategy": "cron",
            "cron": "30 1 * * 1-5",
            "duration": 3600,
            "start_date": "2027-03-01 00:00:00",
            "timezone": "America/New_York",
        },
        {"id": 3, "title": "Monthly", "strategy": "recurring-day-of-month", "days_of_month": "[1]", "timezone": "UTC"},
        {"id": 4, "title": "Every 3 days", "strategy": "recurring-interval", "interval_day": 3, "timezone": "UTC"},
        {
            "id": 5,
            "title": "Old",
            "strategy": "single",
            "start_date": "2020-01-01 00:00:00",
            "end_date": "2020-01-01 01:00:00",
            "timezone": "UTC",
        },
        {
            "id": 6,
            "title": "Off",
            "strategy": "single",
            "active": 0,
            "start_date": "2027-01-01 00:00:00",
            "end_date": "2027-01-01 01:00:00",
        },
        # Same as server: Kuma's server time zone, from its settings (India is UTC+5:30).
        {
            "id": 7,
            "title": "Server time",
            "strategy": "single",
            "start_date": "2027-06-01 10:00:00",
            "end_date": "2027-06-01 11:00:00",
            "timezone": "SAME_AS_SERVER",
        },
    ]
    for row in maintenance:
        row["monitors"] = [1]

    result = document_from_kuma(
        kuma_database(
            tmp_path,
            "2.0",
            monitors=[shop],
            notifications=[],
            maintenance=maintenance,
            server_timezone="Asia/Kolkata",
        )
    )

    windows = {window["name"]: window for window in result.document["maintenance_windows"]}
    assert list(windows) == [
        *(f"Daily ({day})" for day in ("Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat")),
        *(f"Cron ({day})" for day in ("Mon", "Tue", "Wed", "Thu", "Fri")),
        "Server time",
    ]
    assert {key: windows["Daily (Sun)"][key] for key in ("starts_at", "ends_at", "recurrence")} == {
        "starts_at": "2024-01-07T23:30:00Z",
        "ends_at": "2024-01-08T00:30:00Z",
        "recurrence": "weekly",
    }
    assert (windows["Cron (Mon)"]["starts_at"], windows["Cron (Mon)"]["ends_at"]) == (
        "2027-03-01T06:30:00Z",
        "2027-03-01T07:30:00Z",
    )
    assert windows["Cron (Fri)"]["starts_at"] == "2027-03-05T06:30:00Z"
    assert (windows["Server time"]["starts_at"], windows["Server time"]["ends_at"]) == (
        "2027-06-01T04:30:00Z",
        "2027-06-01T05:30:00Z",
    )
    assert all(window["monitors"] == ["Shop"] for window in windows.values())
    assert result.not_carried == [
        'maintenance "Cron" (cron): its weekly times stay the same in UTC here: an hour off America/New_York'
        " time for part of the year (daylight saving time)",
        'maintenance "Monthly" (recurring-day-of-month): its schedule (recurring-day-of-month) has no weekly'
        " equivalent here",
        'maintenance "Every 3 days" (recurring-interval): every 3 days has no weekly equivalent here',
        'maintenance "Old" (single): it ended at 2020-01-01T01:00:00Z',
        'maintenance "Off" (single): it is switched off in Kuma',
    ]


@pytest.mark.parametrize(
    ("config", "apprise_url"),
    [
        (
            {"type": "discord", "discordWebhookUrl": "https://discord.com/api/webhooks/1234567/tok_EN"},
            "discord://1234567/tok_EN/",
        ),
        (
            {
                "type": "ntfy",
                "ntfyserverurl": "https://ntfy.example.com",
                "ntfytopic": "alerts",
                "ntfyPriority": 4,
                "ntfyAuthenticationMethod": "usernamePassword",
                "ntfyusername": "bob",
                "ntfypassword": "p@ss",
            },
            "ntfys://bob:p%40ss@ntfy.example.com/alerts?priority=4",
        ),
        (
            {"type": "gotify", "gotifyserverurl": "https://push.example.com/gotify/", "gotifyapplicationToken": "AbC"},
            "gotifys://push.example.com/gotify/AbC?priority=8",
        ),
        (
            {
                "type": "pushover",
                "pushoveruserkey": "u" * 30,
                "pushoverapptoken": "a" * 30,
                "pushoverpriority": "1",
                "pushoversounds": "siren",
            },
            f"pover://{'u' * 30}@{'a' * 30}?priority=1&sound=siren",
        ),
        (
            {
                "type": "matrix",
                "homeserverUrl": "https://matrix.example.org",
                "accessToken": "syt_abc",
                "internalRoomId": "!room:example.org",
            },
            "matrixs://syt_abc@matrix.example.org/%21room%3Aexample.org",
        ),
        (
            {
                "type": "mattermost",
                "mattermostWebhookUrl": "https://chat.example.com/team/hooks/abc123",
                "mattermostchannel": "ops",
            },
            "mmosts://chat.example.com/team/abc123?channel=ops",
        ),
        (
            {
                "type": "teams",
                "webhookUrl": "https://contoso.webhook.office.com/webhookb2/a-b@c-d/IncomingWebhook/e1/f-g",
            },
            "msteams://contoso/a-b%40c-d/e1/f-g/",
        ),
        (
            {"type": "apprise", "appriseURL": "json://alerts.example.com/kuma"},
            "json://alerts.example.com/kuma",
        ),
    ],
    ids=["discord", "ntfy", "gotify", "pushover", "matrix", "mattermost", "teams", "apprise"],
)
def test_apprise_services_become_apprise_channels(tmp_path, config, apprise_url):
    result = document_from_kuma(
        kuma_database(tmp_path, "2.0", monitors=[], notifications=[(1, "Alerts", False, config)])
    )

    [channel] = result.document["channels"]
    assert channel["kind"] == "apprise"
    # Apprise's own spelling of a service's webhook URL carries its default options.
    assert channel["apprise_url"].split("?")[0] == apprise_url.split("?")[0]
    if "?" in apprise_url:
        assert channel["apprise_url"] == apprise_url
    assert result.not_carried == []


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such file"),
        (b"hello", "neither an SQLite database nor a JSON file"),
        (b'{"version": "2.0.0", "monitorList": []}', "only 1.x backups are read"),
        (b'{"monitors": []}', "not an Uptime Kuma backup"),
    ],
)
def test_what_is_no_kuma_data_is_refused_in_one_line(tmp_path, content, message):
    path = tmp_path / "kuma.db"
    if content is not None:
        path.write_bytes(content)

    with pytest.raises(KumaImportError, match=message) as raised:
        document_from_kuma(path)
    assert "\n" not in str(raised.value)


def test_other_sqlite_databases_and_old_kuma_ones_are_refused(tmp_path):
    import sqlite3

    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE things (id INTEGER)")
    old = tmp_path / "old-kuma.db"
    with sqlite3.connect(old) as db:
        for table in ("monitor", "notification", "monitor_notification"):
            db.execute(f"CREATE TABLE {table} (id INTEGER, name TEXT, type TEXT, url TEXT, interval INTEGER)")

    with pytest.raises(KumaImportError, match="not an Uptime Kuma database"):
        document_from_kuma(other)
    with pytest.raises(KumaImportError, match="older than 1.23"):
        document_from_kuma(old)


def test_import_applies_and_a_second_import_changes_nothing(tmp_path, alice, capsys):
    path = kuma_database(tmp_path, "2.0")

    call_command("uptime", "import-kuma", str(path), "--owner", alice.email, "--apply")

    shop = Monitor.objects.get(organization=personal(alice), name="Shop")
    assert (shop.url, shop.method, shop.request_body, shop.request_content_type) == (
        "https://shop.example.com/",
        "POST",
        '{"item": 1}',
        "application/json",
    )
    assert (shop.expected_status, shop.follow_redirects, shop.request_headers) == (
        "200-299,301",
        False,
        {"X-Check": "1"},
    )
    assert (shop.auth_username, shop.auth_password, shop.retries, shop.retry_interval_seconds) == (
        "kuma",
        "s3cret",
        2,
        10,
    )
    assert sorted(shop.channels.values_list("name", flat=True)) == ["Ops hook", "Slack alerts"]
    assert sorted(shop.regions.values_list("slug", flat=True)) == REGIONS
    blog = Monitor.objects.get(organization=personal(alice), name="Blog")
    assert (blog.keyword, blog.keyword_mode, blog.is_active, blog.tls_expiry_warning_days) == (
        "Welcome",
        "absent",
        False,
        0,
    )
    database = Monitor.objects.get(organization=personal(alice), name="Database")
    assert (database.kind, database.url, database.interval_seconds) == ("tcp", "tcp://db.example.com:5432", 120)
    assert Monitor.objects.filter(organization=personal(alice)).count() == 4
    team_chat = Channel.objects.get(organization=personal(alice), name="Team chat")
    assert (team_chat.kind, team_chat.apprise_url) == ("apprise", f"tgram://{TELEGRAM_TOKEN}/-1001234567890")
    assert Channel.objects.get(organization=personal(alice), name="Ops mail (ops@example.com)").is_default
    windows = MaintenanceWindow.objects.filter(organization=personal(alice)).order_by("name")
    assert [(w.name, w.recurrence, sorted(w.monitors.values_list("name", flat=True))) for w in windows] == [
        ("Database upgrade", "none", ["Blog", "Shop"]),
        ("Nightly backup (Mon)", "weekly", ["Database"]),
        ("Nightly backup (Wed)", "weekly", ["Database"]),
    ]
    output = capsys.readouterr().out
    assert "Not carried over from Kuma:" in output
    assert '  - monitor "DNS check" (dns): this kind of monitor is not supported' in output

    call_command("uptime", "import-kuma", str(path), "--owner", alice.email)

    assert "No changes: the account matches the file." in capsys.readouterr().out


def test_the_file_written_from_kuma_holds_placeholders_not_its_secrets(tmp_path, alice, monkeypatch):
    path, written = kuma_database(tmp_path, "2.0"), tmp_path / "from-kuma.yaml"

    call_command("uptime", "import-kuma", str(path), "--owner", alice.email, "-o", str(written))

    text = written.read_text()
    assert "s3cret" not in text and TELEGRAM_TOKEN not in text
    assert "auth_password: ${UPTIME_MONITOR_SHOP_AUTH_PASSWORD}" in text
    assert "#   UPTIME_CHANNEL_TEAM_CHAT_APPRISE_URL" in text
    # Given the secrets, the file applies as the import would have.
    monkeypatch.setenv("UPTIME_MONITOR_SHOP_AUTH_PASSWORD", "s3cret")
    monkeypatch.setenv("UPTIME_CHANNEL_TEAM_CHAT_APPRISE_URL", f"tgram://{TELEGRAM_TOKEN}/-1001234567890")
    call_command("uptime", "apply", "-f", str(written), "--owner", alice.email)
    assert Monitor.objects.get(organization=personal(alice), name="Shop").auth_password == "s3cret"

    call_command("uptime", "import-kuma", str(path), "--owner", alice.email, "-o", str(written), "--with-secrets")
    assert "auth_password: s3cret" in written.read_text()
