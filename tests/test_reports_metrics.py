"""The pure report functions on plain rows: no server, no database."""
from __future__ import annotations

from datetime import date

import pytest

from chatserver.reports import figures as report_figures
from chatserver.reports import parameters
from chatserver.reports.charts import bar_chart, line_chart, nice_ticks
from chatserver.reports.csv_export import csv_text

DAY = parameters.ReportParams(date(2025, 3, 3), date(2025, 3, 3), None)
T0 = DAY.start_ts


def conversation(cid=1, **fields) -> dict:
    row = {"id": cid, "created_at": T0 + 3600, "first_visitor_message_at": T0 + 3600, "queued_at": None,
           "first_assigned_at": None, "first_agent_response_at": None, "closed_at": T0 + 4000, "resolution": "resolved",
           "handoff_reason": None, "agent_name": None, "department": None, "csat": None, "ces": None, "nps": None,
           "comment": None, "survey_at": None}
    row.update(fields)
    return row


def test_median_and_nearest_rank_p90():
    assert report_figures.median([]) is None and report_figures.p90([]) is None
    assert report_figures.median([5]) == 5 and report_figures.p90([5]) == 5
    assert report_figures.median([1, 3, 2, 10]) == 2.5
    assert report_figures.p90(range(1, 11)) == 9          # ceil(0.9 * 10) = 9th value
    assert report_figures.p90(range(1, 12)) == 10         # ceil(9.9) = 10th value
    assert report_figures.p90([7, 1000]) == 1000


def test_nps_counts_promoters_passives_detractors():
    rows = [conversation(i, nps=n, survey_at=T0) for i, n in enumerate([10, 9, 8, 7, 6, 0, 9, 10], start=1)]
    figures = report_figures.satisfaction_figures(rows)
    assert (figures["promoters"], figures["passives"], figures["detractors"]) == (4, 2, 2)
    assert figures["nps"] == 25.0
    assert report_figures.satisfaction_figures([conversation(nps=6, survey_at=T0)])["nps"] == -100.0
    empty = report_figures.satisfaction_figures([conversation()])
    assert (empty["nps"], empty["csat_pct"], empty["response_rate"]) == (None, None, 0.0)


@pytest.mark.parametrize("query, error", [
    ({"from": "2025-02-30"}, "invalid_date"),
    ({"to": "20250301"}, "invalid_date"),
    ({"from": "2025-03-02", "to": "2025-03-01"}, "invalid_range"),
    ({"group_by": "hour"}, "invalid_group_by"),
])
def test_parse_params_refuses_bad_input(query, error):
    with pytest.raises(parameters.ReportError) as caught:
        parameters.parse_params(query, date(2025, 3, 31))
    assert caught.value.code == error


def test_parse_params_defaults_to_the_last_30_days():
    params = parameters.parse_params({}, date(2025, 3, 31))
    assert (params.start, params.end, params.group_by) == (date(2025, 3, 2), date(2025, 3, 31), None)
    assert params.end_ts - params.start_ts == 30 * 86400


def test_first_response_counts_from_joining_the_queue_after_time_with_the_bot():
    chat = conversation(queued_at=T0 + 3700, first_assigned_at=T0 + 3720, first_agent_response_at=T0 + 3730)
    assert report_figures.first_response_seconds(chat) == 30
    assert report_figures.queue_seconds(chat) == 20
    assert report_figures.response_after_assignment_seconds(chat) == 10
    assert report_figures.handled_by(chat) == "agent"
    assert report_figures.handled_by(conversation()) == "bot"
    left = conversation(queued_at=T0 + 3700, closed_at=T0 + 3790, resolution="abandoned")
    assert report_figures.handled_by(left) == "queue"
    assert report_figures.sla_breach(left, 60, T0 + 10**6) == 90
    assert report_figures.sla_breach(left, 100, T0 + 10**6) is None


def test_article_flagged_when_often_suggested_and_rarely_helpful():
    rows = [conversation(i) for i in range(1, 7)]
    events = [{"conversation_id": i, "slug": "vague", "type": "suggested", "reason": None, "created_at": T0}
              for i in range(1, 7)]
    events += [{"conversation_id": 1, "slug": "vague", "type": "not_helpful", "reason": " Too long ", "created_at": T0}]
    events += [{"conversation_id": i, "slug": "good", "type": t, "reason": None, "created_at": T0}
               for i in range(1, 7) for t in ("suggested", "helpful")]
    funnel = {a["slug"]: a for a in report_figures.article_funnel(events, rows)}
    assert funnel["vague"]["flagged"] is True and funnel["vague"]["helpful_pct"] == 0.0
    assert funnel["vague"]["not_helpful_reasons"] == [{"reason": "Too long", "count": 1}]
    assert funnel["good"]["flagged"] is False
    assert report_figures.funnel_totals(events, rows) == {"suggested": 6, "opened": 0, "helpful": 6, "not_helpful": 1,
                                                   "escalated": 0}


def test_gap_list_groups_wordings_and_keeps_different_topics_apart():
    texts = ["Do you offer gift wrapping?", "Can I pay with bitcoin?", "do you offer gift wrapping",
             "gift wrapping available?", "Do you have a store in Berlin?", "store in berlin"]
    questions = [{"id": i, "conversation_id": i, "text": t, "best_slug": None, "created_at": T0 + i}
                 for i, t in enumerate(texts)]
    gaps = report_figures.gap_list(questions)
    assert [(g["question"], g["count"]) for g in gaps] == [
        ("Do you offer gift wrapping?", 3), ("Do you have a store in Berlin?", 2), ("Can I pay with bitcoin?", 1)]


def test_peak_concurrency_per_day_carries_over_midnight():
    params = parameters.ReportParams(date(2025, 3, 3), date(2025, 3, 4), None)
    start = params.start_ts
    peaks = report_figures._peaks_by_day([(start + 3600, start + 90000), (start + 7200, start + 7300),
                                   (start + 7300, start + 7400)], params)
    # The long one runs into Tuesday; the two short ones touch but do not overlap each other.
    assert peaks == {"2025-03-03": 2, "2025-03-04": 1}


def test_rolling_window_uses_the_previous_days():
    params = parameters.ReportParams(date(2025, 3, 3), date(2025, 3, 5), "day")
    rows = [conversation(1, csat=5, survey_at=T0), conversation(2, created_at=T0 + 86400 + 10, csat=1, survey_at=T0)]
    figures = report_figures.rolling(rows, params, report_figures.satisfaction_figures, window_days=2)
    assert [f["csat_count"] for f in figures] == [1, 2, 1]


def test_csv_cells_never_start_a_formula():
    text = csv_text(["comment", "score"],
                    [{"comment": "=HYPERLINK(\"x\")", "score": -1}, {"comment": None, "score": 2.5}])
    assert text.splitlines() == ["comment,score", "\"'=HYPERLINK(\"\"x\"\")\",-1", ",2.5"]


def test_charts_escape_labels_and_handle_no_data():
    chart = line_chart("<b>title</b>", ["<x>"], [("<series>", [5.0])])
    assert "<b>" not in chart and "&lt;b&gt;title&lt;/b&gt;" in chart and "&lt;series&gt;" in chart
    assert "No data in this range" in line_chart("t", ["a", "b"], [("s", [None, None])])
    assert "No data" in bar_chart("t", ["a"], [0], "n")
    assert nice_ticks(0, 93) == [0, 25, 50, 75, 100]
