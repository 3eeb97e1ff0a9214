"""Each case read keeps exactly its scope's cases: worked by hand on ``tests.scope_city``."""

from __future__ import annotations

from datetime import datetime

import pytest
from flask import Flask, g
from sqlalchemy.orm import Session

from queries.cases import case_detail, case_exists, newest_cases, open_cases
from queries.grid_view import grid_view
from queries.periods import parse_period
from queries.quality import location_samples, quality_report, quarantine_samples
from queries.scope import Scope
from security.identity import (
    ANONYMOUS,
    ROLE_AREA,
    ROLE_DEPARTMENT,
    ROLE_LEADER,
    ROLE_SCREEN,
    Identity,
)
from security.scoping import request_scope, wall_scope
from tests.scope_city import ScopeCity, build_scope_city

NOW = datetime(2026, 11, 20, 12, 0)


@pytest.fixture
def city(session: Session) -> ScopeCity:
    return build_scope_city(session)


def scopes(city: ScopeCity) -> dict[str, Scope]:
    return {"all": Scope.everything(), "none": Scope.nothing(),
            "dept_a": Scope.department(city.department_a),
            "dept_b": Scope.department(city.department_b),
            "street_s1": Scope.area(city.areas["S1"]),
            "grid_g4": Scope.area(city.areas["G4"]),
            "community_c3": Scope.area(city.areas["C3"])}


# Open cases, oldest first: A1 (11-10), A2 (11-11), B1 (11-12), B2 (11-13); B3 is closed.
@pytest.mark.parametrize(("scope", "expected"), [
    ("all", ["SCOPE-A-001", "SCOPE-A-002", "SCOPE-B-SECRET-001", "SCOPE-B-SECRET-002"]),
    ("none", []),
    ("dept_a", ["SCOPE-A-001", "SCOPE-A-002"]),
    ("dept_b", ["SCOPE-B-SECRET-001", "SCOPE-B-SECRET-002"]),
    ("street_s1", ["SCOPE-A-001", "SCOPE-B-SECRET-002"]),
    ("grid_g4", ["SCOPE-A-002", "SCOPE-B-SECRET-001"]),
    ("community_c3", ["SCOPE-A-002", "SCOPE-B-SECRET-001"]),
])
def test_open_cases_keep_the_scope(session: Session, city: ScopeCity, scope: str,
                                   expected: list[str]) -> None:
    found = open_cases(session, scope=scopes(city)[scope])
    assert [c.external_id for c in found] == expected


# Newest first, closed ones too: B3 (11-14), B2, B1, A2, A1.
@pytest.mark.parametrize(("scope", "expected"), [
    ("all", ["SCOPE-B-SECRET-003", "SCOPE-B-SECRET-002", "SCOPE-B-SECRET-001"]),
    ("none", []),
    ("dept_a", ["SCOPE-A-002", "SCOPE-A-001"]),
    ("street_s1", ["SCOPE-B-SECRET-002", "SCOPE-A-001"]),
    ("community_c3", ["SCOPE-B-SECRET-003", "SCOPE-B-SECRET-001", "SCOPE-A-002"]),
])
def test_newest_cases_keep_the_scope(session: Session, city: ScopeCity, scope: str,
                                     expected: list[str]) -> None:
    found = newest_cases(session, scope=scopes(city)[scope], limit=3)
    assert [c.external_id for c in found] == expected


@pytest.mark.parametrize(("scope", "readable"), [
    ("all", {"A1", "A2", "B1", "B2", "B3"}),
    ("none", set()),
    ("dept_a", {"A1", "A2"}),
    ("street_s1", {"A1", "B2"}),
    ("grid_g4", {"A2", "B1"}),
])
def test_case_detail_only_inside_the_scope(session: Session, city: ScopeCity, scope: str,
                                           readable: set[str]) -> None:
    for key, case_id in city.cases.items():
        detail = case_detail(session, case_id, scope=scopes(city)[scope])
        assert (detail is not None) == (key in readable), key
        assert case_exists(session, case_id)
    a1 = case_detail(session, city.cases["A1"], scope=Scope.department(city.department_a))
    assert a1 is not None
    assert (a1.external_id, a1.address, a1.description) == ("SCOPE-A-001", "甲部门一路1号",
                                                             "甲部门案件一")
    assert case_detail(session, 999_999, scope=Scope.everything()) is None
    assert not case_exists(session, 999_999)


def test_an_empty_department_or_area_scope_reads_nothing(session: Session,
                                                         city: ScopeCity) -> None:
    for scope in (Scope.department(), Scope.area()):
        assert open_cases(session, scope=scope) == []
        assert case_detail(session, city.cases["A1"], scope=scope) is None


def test_grid_page_lists_only_the_scopes_open_cases(session: Session, city: ScopeCity) -> None:
    period = parse_period("2026-11", NOW)
    everything = grid_view(session, "", period, NOW, scope=Scope.everything())
    head = grid_view(session, "", period, NOW, scope=Scope.department(city.department_a))
    street = grid_view(session, "330199002", period, NOW, scope=Scope.area(city.areas["S1"]))
    assert everything is not None and head is not None and street is not None
    # Deadlines: A1 11-11, A2 11-12, B1 11-13, B2 11-14 — all past NOW, so all overdue.
    assert [r.external_id for r in everything.open_cases.rows] == [
        "SCOPE-A-001", "SCOPE-A-002", "SCOPE-B-SECRET-001", "SCOPE-B-SECRET-002"]
    assert (everything.open_cases.total, everything.open_cases.overdue) == (4, 4)
    assert [r.external_id for r in head.open_cases.rows] == ["SCOPE-A-001", "SCOPE-A-002"]
    assert (head.open_cases.total, head.open_cases.overdue) == (2, 2)
    # S1's manager looking at street S2: none of S2's cases is theirs.
    assert street.open_cases.rows == [] and street.open_cases.total == 0
    # The aggregates stay area-wide for everyone: 上报数 of November is 5 for every caller.
    assert everything.current.reported == head.current.reported == 5


def test_quality_samples_keep_the_scope(session: Session, city: ScopeCity) -> None:
    everything = Scope.everything()
    head = Scope.department(city.department_a)
    assert [s.external_id for s in location_samples(session, scope=everything)] == [
        "SCOPE-A-002", "SCOPE-B-SECRET-002"]
    assert [s.external_id for s in location_samples(session, scope=head)] == ["SCOPE-A-002"]
    assert [s.external_id for s in location_samples(
        session, scope=Scope.area(city.areas["S1"]))] == ["SCOPE-B-SECRET-002"]
    assert [s.external_id for s in quarantine_samples(session, scope=everything)] == [
        "SCOPE-B-SECRET-Q"]
    assert quarantine_samples(session, scope=head) == []
    report = quality_report(session, scope=head, now=NOW)
    # The counts are city-wide (2 imprecise, 1 quarantined); the samples are the head's.
    assert sum(c.cases for c in report.imprecise) == 2
    assert sum(q.rows for q in report.quarantine) == 1
    assert [s.external_id for s in report.location_samples] == ["SCOPE-A-002"]
    assert report.quarantine_samples == []


def test_the_wall_reads_the_whole_city_only_for_its_own_screen() -> None:
    """A kiosk token and the open demo wall read everything there; a person reads their own."""
    app = Flask(__name__)
    head = Identity("head-a", ROLE_DEPARTMENT, Scope.department(7))
    for who, wall, page in [
            (Identity("token:hall", ROLE_SCREEN, Scope.nothing()), Scope.everything(),
             Scope.nothing()),
            (ANONYMOUS, Scope.everything(), Scope.nothing()),
            (head, Scope.department(7), Scope.department(7)),
            (Identity("mgr-s1", ROLE_AREA, Scope.area(2)), Scope.area(2), Scope.area(2)),
            (Identity("boss", ROLE_LEADER, Scope.everything()), Scope.everything(),
             Scope.everything())]:
        with app.test_request_context("/"):
            g.identity = who
            assert (wall_scope(), request_scope()) == (wall, page), who
    with app.test_request_context("/"):  # before any login hook ran: anonymous
        assert request_scope() == Scope.nothing()
