"""Mosquitto ACL files, read and applied outside Mosquitto, so the amqtt fallback enforces the same file.

Only the lines carbonflow writes and their close kin are understood: `user <name>`, `topic [read|write|
readwrite|deny] <topic>` and `pattern [...] <topic>` with `%u` (username) and `%c` (client id). Any other line
is refused with its number, so that a rule is never silently dropped. As in Mosquitto, `topic` lines before the
first `user` line belong to clients without a username, `pattern` lines apply to everyone, a matching `deny`
wins over any grant, and a `%u`/`%c` that holds `/`, `+` or `#` never matches (it could widen the pattern).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["MosquittoAcl", "AclError", "topic_matches", "filters_overlap"]

_ACCESS = ("read", "write", "readwrite", "deny")


class AclError(ValueError):
    """An ACL line that this reader does not understand."""


@dataclass(frozen=True)
class _Rule:
    access: str
    topic: str


def topic_matches(topic: str, topic_filter: str) -> bool:
    """Whether a concrete topic matches an MQTT filter (`+` one level, `#` this level and below)."""
    levels, wanted = topic.split("/"), topic_filter.split("/")
    for i, want in enumerate(wanted):
        if want == "#":
            return True
        if i >= len(levels) or (want != "+" and want != levels[i]):
            return False
    return len(levels) == len(wanted)


def filters_overlap(first: str, second: str) -> bool:
    """Whether some concrete topic matches both filters."""
    a, b = first.split("/"), second.split("/")
    for i in range(max(len(a), len(b))):
        x = a[i] if i < len(a) else None
        y = b[i] if i < len(b) else None
        if x == "#" or y == "#":
            return True
        if x is None or y is None:
            return False
        if x != "+" and y != "+" and x != y:
            return False
    return True


def _shared_filter(topic_filter: str) -> str:
    """`$share/<group>/<filter>` names the filter `<filter>`; anything else is itself."""
    if topic_filter.startswith("$share/"):
        parts = topic_filter.split("/", 2)
        return parts[2] if len(parts) == 3 else topic_filter
    return topic_filter


@dataclass(frozen=True)
class MosquittoAcl:
    anonymous: tuple[_Rule, ...] = ()
    users: dict[str, tuple[_Rule, ...]] = field(default_factory=dict)
    patterns: tuple[_Rule, ...] = ()

    @classmethod
    def read(cls, path: Path) -> MosquittoAcl:
        return cls.parse(path.read_text(), source=str(path))

    @classmethod
    def parse(cls, text: str, *, source: str = "ACL") -> MosquittoAcl:
        anonymous: list[_Rule] = []
        users: dict[str, list[_Rule]] = {}
        patterns: list[_Rule] = []
        current: list[_Rule] = anonymous
        for number, raw in enumerate(text.splitlines(), start=1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            keyword, _, rest = line.partition(" ")
            rest = rest.strip()
            if keyword == "user" and rest:
                current = users.setdefault(rest, [])
                continue
            if keyword not in ("topic", "pattern") or not rest:
                raise AclError(f"{source} line {number}: {line!r} is not a user, topic or pattern line")
            access, _, topic = rest.partition(" ")
            if access not in _ACCESS or not topic.strip():
                access, topic = "readwrite", rest
            rule = _Rule(access, topic.strip())
            (patterns if keyword == "pattern" else current).append(rule)
        return cls(tuple(anonymous), {u: tuple(r) for u, r in users.items()}, tuple(patterns))

    def _rules(self, username: str | None, client_id: str | None) -> list[_Rule]:
        rules = list(self.anonymous if username is None else self.users.get(username, ()))
        for rule in self.patterns:
            topic = rule.topic
            for marker, value in (("%u", username), ("%c", client_id)):
                if marker in topic:
                    if not value or any(c in value for c in "/+#"):
                        break
                    topic = topic.replace(marker, value)
            else:
                rules.append(_Rule(rule.access, topic))
        return rules

    def _allowed(self, username: str | None, client_id: str | None, grants: tuple[str, ...],
                 fits: Callable[[str], bool]) -> bool:
        matching = [r for r in self._rules(username, client_id) if fits(r.topic)]
        return not any(r.access == "deny" for r in matching) and any(r.access in grants for r in matching)

    def may_publish(self, username: str | None, client_id: str | None, topic: str) -> bool:
        return self._allowed(username, client_id, ("write", "readwrite"), lambda f: topic_matches(topic, f))

    def may_receive(self, username: str | None, client_id: str | None, topic: str) -> bool:
        return self._allowed(username, client_id, ("read", "readwrite"), lambda f: topic_matches(topic, f))

    def may_subscribe(self, username: str | None, client_id: str | None, topic_filter: str) -> bool:
        """Whether the filter could deliver any topic the client may read (deliveries are checked one by one).

        Mosquitto grants every subscription and filters deliveries; refusing a filter that can deliver nothing
        tells the client at once. A shared subscription is judged by its inner filter."""
        wanted = _shared_filter(topic_filter)
        rules = self._rules(username, client_id)
        return any(r.access in ("read", "readwrite") and (filters_overlap(wanted, r.topic) or r.topic == topic_filter)
                   for r in rules)
