"""Broker outages: the slots owed while the broker could not take them, sent oldest first
once it is back."""

import logging
from datetime import datetime, timedelta

logger = logging.getLogger(__name__)


class BrokerOutages:
    """Since when slots the broker could not take are owed, so that once it is back they are
    sent, oldest first, each stamped with its slot, rather than skipped.

    Nothing is held per slot: an entry whose check the broker refused is not advanced, so
    it stays due in the heap, and once the broker is back it is sent once per slot it owes,
    in slot order. The debt is settled when nothing is due any more. Slots older than
    `keep_seconds` are not made up (the watchdog records them as missed): after a long
    outage so many late checks would crowd out the current ones.
    """

    def __init__(self, keep_seconds: float):
        self.keep_seconds = keep_seconds
        self.began: datetime | None = None
        self.broker_away = False

    def kept_since(self, now: datetime) -> datetime | None:
        if self.began is None or self.keep_seconds <= 0:
            return None
        return max(self.began, now - timedelta(seconds=self.keep_seconds))

    def away(self, since: datetime) -> None:
        if not self.broker_away:
            logger.warning("beat: the broker is away; keeping the slots due from %s", since.isoformat())
        self.broker_away = True
        if self.began is None or since < self.began:
            self.began = since

    def back(self) -> None:
        if self.broker_away:
            logger.warning("beat: the broker is back; sending the slots it missed, oldest first")
        self.broker_away = False

    def settled(self) -> None:
        """Nothing is due: every slot owed has been sent (or another beat owes them)."""
        if not self.broker_away:
            self.began = None
