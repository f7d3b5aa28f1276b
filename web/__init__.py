"""The web pages people open every day: the dashboard, monitor pages and forms; run by the web process."""
