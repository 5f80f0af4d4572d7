"""``EndpointState.check`` remembers the operations that passed it (by text, kind and base IRI), so that
one the result cache cannot answer is not tokenised nor parsed again; what it refuses is checked anew
each time, and a pass for one base IRI or kind is not one for another."""

from __future__ import annotations

import pytest

from rkg import guard
from rkg.jobs import GuardJob, Kind, Outcome
from rkg.settings import Config
from rkg.web.state import REMEMBERED, EndpointState

ALLOWED = "http://example.org/sparql"


@pytest.fixture()
def state(monkeypatch: pytest.MonkeyPatch) -> EndpointState:
    s = EndpointState(Config(version="test", federation_allow=frozenset({ALLOWED}), max_depth=8))
    s.guarded: list[str] = []  # type: ignore[attr-defined]
    s.tokenised: list[str] = []  # type: ignore[attr-defined]

    def run(job: object, *_a, **_k) -> Outcome:  # the GuardJob's sandbox: guard.check's decision, here
        assert isinstance(job, GuardJob)
        s.guarded.append(job.text)  # type: ignore[attr-defined]
        try:
            return Outcome(Kind.ANSWER, extra={"network": guard.check(job.text, job.update, job.allow, job.base_iri)})
        except guard.Forbidden as e:
            return Outcome(Kind.REFUSED, message=str(e))
        except guard.Unreadable as e:
            return Outcome(Kind.BAD_INPUT, message=str(e))

    depth = guard.check_depth

    def counted(text: str, limit: int) -> None:
        s.tokenised.append(text)  # type: ignore[attr-defined]
        depth(text, limit)

    monkeypatch.setattr(s, "run", run)
    monkeypatch.setattr(guard, "check_depth", counted)
    return s


def test_a_passed_operation_is_not_checked_again(state: EndpointState) -> None:
    plain = "SELECT * WHERE { ?s ?p ?o }"
    federated = f"SELECT * WHERE {{ SERVICE <{ALLOWED}> {{ ?s ?p ?o }} }}"
    assert [state.check(plain, False, None, "http://h/sparql") for _ in range(3)] == [False] * 3
    assert [state.check(federated, False, None, "http://h/sparql") for _ in range(3)] == [True] * 3
    assert state.tokenised == [plain, federated] and state.guarded == [federated]  # type: ignore[attr-defined]
    assert state.check(federated, False, None, "http://other/sparql") is True  # another base: checked
    with pytest.raises(guard.Unreadable):  # the same text as an update: checked (and no update)
        state.check(federated, True, None, "http://h/sparql")
    assert state.guarded == [federated] * 3  # type: ignore[attr-defined]


def test_what_is_refused_is_checked_each_time(state: EndpointState) -> None:
    forbidden = "SELECT * WHERE { SERVICE <http://example.com/sparql> { ?s ?p ?o } }"
    deep = "SELECT * WHERE " + "{ " * 10 + "}" * 10
    for _ in range(2):
        with pytest.raises(guard.Forbidden):
            state.check(forbidden, False, None)
        with pytest.raises(guard.TooDeep):
            state.check(deep, False, None)
    assert state.guarded == [forbidden, forbidden]  # type: ignore[attr-defined]
    assert state.tokenised == [forbidden, deep] * 2  # type: ignore[attr-defined]


def test_the_memory_is_bounded(state: EndpointState) -> None:
    for i in range(REMEMBERED + 10):
        state.check(f"ASK {{}} # {i}", False, None)
    assert len(state._checked) == REMEMBERED
