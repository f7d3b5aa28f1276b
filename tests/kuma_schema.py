"""Uptime Kuma's SQLite schema, written out for the import tests: the tables the import reads,
with Kuma's own table and column names and types, as Kuma 1.23 and 2.0 leave them.

Each step names the file of Kuma's public repository (louislam/uptime-kuma) it follows. 1.x
builds its database from the template db/kuma.db and the db/patch*.sql files (moved to
db/old_migrations/ in 2.x, which still applies them to SQLite), 2.x then runs
db/knex_migrations/*.js. Only the tables the import reads are here (no heartbeat, stats or
status pages)."""

import sqlite3
from pathlib import Path

# (Kuma file, SQL), in the order Kuma applies them.
SCHEMA_1_23: list[tuple[str, str]] = [
    (
        # The monitor table as patch6.sql leaves it (the template's, rebuilt by patch1-6).
        "db/kuma.db, db/patch1.sql to db/patch6.sql",
        """CREATE TABLE monitor (
            id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
            name VARCHAR(150),
            active BOOLEAN DEFAULT 1 NOT NULL,
            user_id INTEGER REFERENCES user ON UPDATE CASCADE ON DELETE SET NULL,
            interval INTEGER DEFAULT 20 NOT NULL,
            url TEXT,
            type VARCHAR(20),
            weight INTEGER DEFAULT 2000,
            hostname VARCHAR(255),
            port INTEGER,
            created_date DATETIME DEFAULT (DATETIME('now')) NOT NULL,
            keyword VARCHAR(255),
            maxretries INTEGER NOT NULL DEFAULT 0,
            ignore_tls BOOLEAN DEFAULT 0 NOT NULL,
            upside_down BOOLEAN DEFAULT 0 NOT NULL,
            maxredirects INTEGER DEFAULT 10 NOT NULL,
            accepted_statuscodes_json TEXT DEFAULT '["200-299"]' NOT NULL
        )""",
    ),
    ("db/patch7.sql", "ALTER TABLE monitor ADD dns_resolve_type VARCHAR(5)"),
    ("db/patch7.sql", "ALTER TABLE monitor ADD dns_resolve_server VARCHAR(255)"),
    ("db/patch8.sql", "ALTER TABLE monitor ADD dns_last_result VARCHAR(255)"),
    (
        "db/kuma.db, db/patch-notification-config.sql (config TEXT), db/patch9.sql (is_default)",
        """CREATE TABLE notification (
            id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
            name VARCHAR(255),
            active BOOLEAN NOT NULL DEFAULT 1,
            user_id INTEGER NOT NULL,
            is_default BOOLEAN DEFAULT 0 NOT NULL,
            config TEXT
        )""",
    ),
    (
        "db/kuma.db",
        """CREATE TABLE monitor_notification (
            id INTEGER PRIMARY KEY NOT NULL,
            monitor_id INTEGER NOT NULL REFERENCES monitor(id) ON DELETE CASCADE ON UPDATE CASCADE,
            notification_id INTEGER NOT NULL REFERENCES notification(id) ON DELETE CASCADE ON UPDATE CASCADE
        )""",
    ),
    (
        "db/patch10.sql",
        """CREATE TABLE tag (
            id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
            name VARCHAR(255) NOT NULL,
            color VARCHAR(255) NOT NULL,
            created_date DATETIME DEFAULT (DATETIME('now')) NOT NULL
        )""",
    ),
    (
        "db/patch10.sql",
        """CREATE TABLE monitor_tag (
            id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
            monitor_id INTEGER NOT NULL REFERENCES monitor(id) ON DELETE CASCADE ON UPDATE CASCADE,
            tag_id INTEGER NOT NULL REFERENCES tag(id) ON DELETE CASCADE ON UPDATE CASCADE,
            value TEXT
        )""",
    ),
    (
        "db/patch-setting-value-type.sql",
        """CREATE TABLE setting (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            key VARCHAR(200) NOT NULL UNIQUE,
            value TEXT,
            type VARCHAR(20)
        )""",
    ),
    ("db/patch-add-retry-interval-monitor.sql", "ALTER TABLE monitor ADD retry_interval INTEGER DEFAULT 0 NOT NULL"),
    ("db/patch-monitor-push_token.sql", "ALTER TABLE monitor ADD push_token VARCHAR(20) DEFAULT NULL"),
    ("db/patch-http-monitor-method-body-and-headers.sql", "ALTER TABLE monitor ADD method TEXT DEFAULT 'GET' NOT NULL"),
    ("db/patch-http-monitor-method-body-and-headers.sql", "ALTER TABLE monitor ADD body TEXT DEFAULT NULL"),
    ("db/patch-http-monitor-method-body-and-headers.sql", "ALTER TABLE monitor ADD headers TEXT DEFAULT NULL"),
    ("db/patch-monitor-basic-auth.sql", "ALTER TABLE monitor ADD basic_auth_user TEXT DEFAULT NULL"),
    ("db/patch-monitor-basic-auth.sql", "ALTER TABLE monitor ADD basic_auth_pass TEXT DEFAULT NULL"),
    ("db/patch-add-docker-columns.sql", "ALTER TABLE monitor ADD docker_host INTEGER"),
    ("db/patch-add-docker-columns.sql", "ALTER TABLE monitor ADD docker_container VARCHAR(255)"),
    ("db/patch-proxy.sql", "ALTER TABLE monitor ADD COLUMN proxy_id INTEGER"),
    ("db/patch-monitor-expiry-notification.sql", "ALTER TABLE monitor ADD expiry_notification BOOLEAN DEFAULT 1"),
    ("db/patch-added-mqtt-monitor.sql", "ALTER TABLE monitor ADD mqtt_topic TEXT"),
    ("db/patch-added-mqtt-monitor.sql", "ALTER TABLE monitor ADD mqtt_success_message VARCHAR(255)"),
    ("db/patch-added-mqtt-monitor.sql", "ALTER TABLE monitor ADD mqtt_username VARCHAR(255)"),
    ("db/patch-added-mqtt-monitor.sql", "ALTER TABLE monitor ADD mqtt_password VARCHAR(255)"),
    ("db/patch-add-sqlserver-monitor.sql", "ALTER TABLE monitor ADD database_connection_string VARCHAR(2000)"),
    ("db/patch-add-sqlserver-monitor.sql", "ALTER TABLE monitor ADD database_query TEXT"),
    ("db/patch-add-other-auth.sql", "ALTER TABLE monitor ADD auth_method VARCHAR(250)"),
    ("db/patch-add-other-auth.sql", "ALTER TABLE monitor ADD auth_domain TEXT"),
    ("db/patch-add-other-auth.sql", "ALTER TABLE monitor ADD auth_workstation TEXT"),
    ("db/patch-grpc-monitor.sql", "ALTER TABLE monitor ADD grpc_url VARCHAR(255) DEFAULT NULL"),
    ("db/patch-grpc-monitor.sql", "ALTER TABLE monitor ADD grpc_protobuf TEXT DEFAULT NULL"),
    ("db/patch-grpc-monitor.sql", "ALTER TABLE monitor ADD grpc_body TEXT DEFAULT NULL"),
    ("db/patch-grpc-monitor.sql", "ALTER TABLE monitor ADD grpc_metadata TEXT DEFAULT NULL"),
    ("db/patch-grpc-monitor.sql", "ALTER TABLE monitor ADD grpc_method VARCHAR(255) DEFAULT NULL"),
    ("db/patch-grpc-monitor.sql", "ALTER TABLE monitor ADD grpc_service_name VARCHAR(255) DEFAULT NULL"),
    ("db/patch-grpc-monitor.sql", "ALTER TABLE monitor ADD grpc_enable_tls BOOLEAN DEFAULT 0 NOT NULL"),
    ("db/patch-add-radius-monitor.sql", "ALTER TABLE monitor ADD radius_username VARCHAR(255)"),
    ("db/patch-add-radius-monitor.sql", "ALTER TABLE monitor ADD radius_password VARCHAR(255)"),
    ("db/patch-add-radius-monitor.sql", "ALTER TABLE monitor ADD radius_calling_station_id VARCHAR(50)"),
    ("db/patch-add-radius-monitor.sql", "ALTER TABLE monitor ADD radius_called_station_id VARCHAR(50)"),
    ("db/patch-add-radius-monitor.sql", "ALTER TABLE monitor ADD radius_secret VARCHAR(255)"),
    ("db/patch-monitor-add-resend-interval.sql", "ALTER TABLE monitor ADD resend_interval INTEGER DEFAULT 0 NOT NULL"),
    ("db/patch-ping-packet-size.sql", "ALTER TABLE monitor ADD packet_size INTEGER DEFAULT 56 NOT NULL"),
    (
        "db/patch-maintenance-table2.sql",
        """CREATE TABLE maintenance (
            id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
            title VARCHAR(150) NOT NULL,
            description TEXT NOT NULL,
            user_id INTEGER REFERENCES user(id) ON DELETE SET NULL ON UPDATE CASCADE,
            active BOOLEAN NOT NULL DEFAULT 1,
            strategy VARCHAR(50) NOT NULL DEFAULT 'single',
            start_date DATETIME,
            end_date DATETIME,
            start_time TIME,
            end_time TIME,
            weekdays VARCHAR2(250) DEFAULT '[]',
            days_of_month TEXT DEFAULT '[]',
            interval_day INTEGER
        )""",
    ),
    (
        "db/patch-maintenance-table2.sql",
        """CREATE TABLE monitor_maintenance (
            id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
            monitor_id INTEGER NOT NULL REFERENCES monitor(id) ON DELETE CASCADE ON UPDATE CASCADE,
            maintenance_id INTEGER NOT NULL REFERENCES maintenance(id) ON DELETE CASCADE ON UPDATE CASCADE
        )""",
    ),
    ("db/patch-add-gamedig-monitor.sql", "ALTER TABLE monitor ADD game VARCHAR(255)"),
    ("db/patch-http-body-encoding.sql", "ALTER TABLE monitor ADD http_body_encoding VARCHAR(25)"),
    ("db/patch-add-description-monitor.sql", "ALTER TABLE monitor ADD description TEXT DEFAULT NULL"),
    ("db/patch-monitor-tls.sql", "ALTER TABLE monitor ADD tls_ca TEXT DEFAULT NULL"),
    ("db/patch-monitor-tls.sql", "ALTER TABLE monitor ADD tls_cert TEXT DEFAULT NULL"),
    ("db/patch-monitor-tls.sql", "ALTER TABLE monitor ADD tls_key TEXT DEFAULT NULL"),
    # 1.23 dropped maintenance_timeslot: a schedule is a cron expression and a duration since.
    ("db/patch-maintenance-cron.sql", "ALTER TABLE maintenance ADD cron TEXT"),
    ("db/patch-maintenance-cron.sql", "ALTER TABLE maintenance ADD timezone VARCHAR(255)"),
    ("db/patch-maintenance-cron.sql", "ALTER TABLE maintenance ADD duration INTEGER"),
    (
        "db/patch-add-parent-monitor.sql",
        "ALTER TABLE monitor ADD parent INTEGER REFERENCES monitor(id) ON DELETE SET NULL ON UPDATE CASCADE",
    ),
    ("db/patch-add-invert-keyword.sql", "ALTER TABLE monitor ADD invert_keyword BOOLEAN DEFAULT 0 NOT NULL"),
    ("db/patch-added-json-query.sql", "ALTER TABLE monitor ADD json_path TEXT"),
    ("db/patch-added-json-query.sql", "ALTER TABLE monitor ADD expected_value VARCHAR(255)"),
    ("db/patch-added-kafka-producer.sql", "ALTER TABLE monitor ADD kafka_producer_topic VARCHAR(255)"),
    ("db/patch-added-kafka-producer.sql", "ALTER TABLE monitor ADD kafka_producer_brokers TEXT"),
    ("db/patch-added-kafka-producer.sql", "ALTER TABLE monitor ADD kafka_producer_sasl_options TEXT"),
    ("db/patch-added-kafka-producer.sql", "ALTER TABLE monitor ADD kafka_producer_message TEXT"),
    ("db/patch-monitor-oauth-cc.sql", "ALTER TABLE monitor ADD oauth_client_id TEXT DEFAULT NULL"),
    ("db/patch-monitor-oauth-cc.sql", "ALTER TABLE monitor ADD oauth_client_secret TEXT DEFAULT NULL"),
    ("db/patch-monitor-oauth-cc.sql", "ALTER TABLE monitor ADD oauth_token_url TEXT DEFAULT NULL"),
    ("db/patch-monitor-oauth-cc.sql", "ALTER TABLE monitor ADD oauth_scopes TEXT DEFAULT NULL"),
    ("db/patch-monitor-oauth-cc.sql", "ALTER TABLE monitor ADD oauth_auth_method TEXT DEFAULT NULL"),
    ("db/patch-add-timeout-monitor.sql", "ALTER TABLE monitor ADD timeout DOUBLE DEFAULT 0 NOT NULL"),
    (
        "db/patch-add-gamedig-given-port.sql",
        "ALTER TABLE monitor ADD gamedig_given_port_only BOOLEAN DEFAULT 1 NOT NULL",
    ),
    (
        "db/patch-fix-kafka-producer-booleans.sql",
        "ALTER TABLE monitor ADD COLUMN kafka_producer_ssl BOOLEAN DEFAULT 0 NOT NULL",
    ),
    (
        "db/patch-fix-kafka-producer-booleans.sql",
        "ALTER TABLE monitor ADD COLUMN kafka_producer_allow_auto_topic_creation BOOLEAN DEFAULT 0 NOT NULL",
    ),
    # Kuma 1.x's own schema version (server/database.js, latestVersion = 10).
    ("server/database.js", "INSERT INTO setting (key, value) VALUES ('database_version', '10')"),
]

# What Kuma 2.0.0's knex migrations add to the tables above (knex writes booleans as
# BOOLEAN, strings as VARCHAR(255), enums as TEXT with a CHECK).
SCHEMA_2_0: list[tuple[str, str]] = [
    *SCHEMA_1_23,
    (
        "knex's own bookkeeping table, created by its first migration run",
        """CREATE TABLE knex_migrations (
            id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
            name VARCHAR(255),
            batch INTEGER,
            migration_time DATETIME
        )""",
    ),
    (
        "db/knex_migrations/2023-10-08-0000-mqtt-query.js",
        "ALTER TABLE monitor ADD mqtt_check_type VARCHAR(255) NOT NULL DEFAULT 'keyword'",
    ),
    ("db/knex_migrations/2023-10-16-0000-create-remote-browsers.js", "ALTER TABLE monitor ADD remote_browser INTEGER"),
    ("db/knex_migrations/2024-04-26-0000-snmp-monitor.js", "ALTER TABLE monitor ADD snmp_oid VARCHAR(255)"),
    (
        "db/knex_migrations/2024-04-26-0000-snmp-monitor.js",
        "ALTER TABLE monitor ADD snmp_version TEXT CHECK (snmp_version IN ('1', '2c', '3')) DEFAULT '2c'",
    ),
    ("db/knex_migrations/2024-04-26-0000-snmp-monitor.js", "ALTER TABLE monitor ADD json_path_operator VARCHAR(255)"),
    (
        "db/knex_migrations/2024-08-24-000-add-cache-bust.js",
        "ALTER TABLE monitor ADD cache_bust BOOLEAN NOT NULL DEFAULT 0",
    ),
    (
        "db/knex_migrations/2024-08-24-0000-conditions.js",
        "ALTER TABLE monitor ADD conditions TEXT NOT NULL DEFAULT '[]'",
    ),
    ("db/knex_migrations/2024-10-1315-rabbitmq-monitor.js", "ALTER TABLE monitor ADD rabbitmq_nodes TEXT"),
    ("db/knex_migrations/2024-10-1315-rabbitmq-monitor.js", "ALTER TABLE monitor ADD rabbitmq_username VARCHAR(255)"),
    ("db/knex_migrations/2024-10-1315-rabbitmq-monitor.js", "ALTER TABLE monitor ADD rabbitmq_password VARCHAR(255)"),
    ("db/knex_migrations/2025-01-01-0000-add-smtp.js", "ALTER TABLE monitor ADD smtp_security VARCHAR(255)"),
    (
        "db/knex_migrations/2025-03-04-0000-ping-advanced-options.js",
        "ALTER TABLE monitor ADD ping_count INTEGER NOT NULL DEFAULT 1",
    ),
    (
        "db/knex_migrations/2025-03-04-0000-ping-advanced-options.js",
        "ALTER TABLE monitor ADD ping_numeric BOOLEAN NOT NULL DEFAULT 1",
    ),
    (
        "db/knex_migrations/2025-03-04-0000-ping-advanced-options.js",
        "ALTER TABLE monitor ADD ping_per_request_timeout INTEGER NOT NULL DEFAULT 2",
    ),
    # Added as a boolean, made a string by 2025-10-14-0000-add-ip-family-fix.js.
    ("db/knex_migrations/2025-06-03-0000-add-ip-family.js", "ALTER TABLE monitor ADD ip_family VARCHAR(4)"),
    # Added as a string, made a smallint by 2025-06-15-0001-manual-monitor-fix.js.
    ("db/knex_migrations/2025-06-11-0000-add-manual-monitor.js", "ALTER TABLE monitor ADD manual_status SMALLINT"),
    (
        "db/knex_migrations/2025-06-13-0000-maintenance-add-last-start.js",
        "ALTER TABLE maintenance ADD last_start_date DATETIME",
    ),
    (
        "db/knex_migrations/2025-06-24-0000-add-audience-to-oauth.js",
        "ALTER TABLE monitor ADD oauth_audience VARCHAR(255)",
    ),
    (
        "db/knex_migrations/2025-07-17-0000-mqtt-websocket-path.js",
        "ALTER TABLE monitor ADD mqtt_websocket_path VARCHAR(255)",
    ),
    (
        "db/knex_migrations/*.js: one row per migration run",
        "INSERT INTO knex_migrations (name, batch) VALUES ('2025-07-17-0000-mqtt-websocket-path.js', 1)",
    ),
]

SCHEMAS = {"1.23": SCHEMA_1_23, "2.0": SCHEMA_2_0}


def create_kuma_database(path: Path, version: str) -> sqlite3.Connection:
    """An empty Kuma database of `version` ("1.23" or "2.0") at `path`, open for inserts."""
    connection = sqlite3.connect(path)
    for _, sql in SCHEMAS[version]:
        connection.execute(sql)
    connection.commit()
    return connection


def insert(connection: sqlite3.Connection, table: str, **values) -> None:
    columns = ", ".join(f'"{name}"' for name in values)
    marks = ", ".join("?" for _ in values)
    connection.execute(f'INSERT INTO "{table}" ({columns}) VALUES ({marks})', list(values.values()))
