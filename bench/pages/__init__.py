"""Web pages benchmark: the server time of the dashboard at 1,000 monitors and of a monitor
page with 90 days of data, through Django's test client. `python -m bench.pages --help`."""
