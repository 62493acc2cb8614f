"""REST of the supervisors' report (chat_svc.reports) under /api/v4/customer-service/reports.

- `GET /reports/summary?from=YYYY-MM-DD&to=YYYY-MM-DD`: ReportData, Beijing days, both included.
- `GET /reports/summary.csv?from=&to=`: the same figures as CSV (total row, then one row per agent).
Supervisors only (agents: 403 `supervisors_only`).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from servicekit.http import CurrentAdmin
from servicekit.openapi import raises

from chat_svc.agents import SupervisorsOnly
from chat_svc.domain import InvalidInput
from chat_svc.reports import ReportData, Reports, as_csv

router = APIRouter(prefix="/api/v4/customer-service/reports", tags=["reports"])


async def _reports(request: Request) -> Reports:
    return request.app.state.reports


ReportsDep = Annotated[Reports, Depends(_reports)]
FromDate = Annotated[date, Query(alias="from", description="First Beijing day (YYYY-MM-DD)")]
ToDate = Annotated[date, Query(alias="to", description="Last Beijing day, included (YYYY-MM-DD)")]
_REFUSALS = raises(SupervisorsOnly("forbidden: only supervisors read reports"),
                   InvalidInput("to", "a report covers at most <n> days (this range has <m>)"))


@router.get("/summary", response_model=ReportData, responses=_REFUSALS)
async def summary(from_date: FromDate, to_date: ToDate, principal: CurrentAdmin, reports: ReportsDep) -> ReportData:
    """Sessions opened / assigned / closed, first response and resolution (p50, p90), messages per session,
    satisfaction and the share answered within the first reply deadline, in total, per agent and per day
    (chat-svc README, "Reports")."""
    return await reports.summary(principal, from_date, to_date)


@router.get("/summary.csv", response_class=Response, responses={
    200: {"content": {"text/csv": {"schema": {"type": "string"}}}, "description": "The figures as CSV"},
    **_REFUSALS})
async def summary_csv(from_date: FromDate, to_date: ToDate, principal: CurrentAdmin, reports: ReportsDep) -> Response:
    """The total and per-agent figures of `/summary` as CSV (UTF-8 with BOM), for spreadsheets."""
    report = await reports.summary(principal, from_date, to_date)
    filename = f"report-{from_date.isoformat()}-{to_date.isoformat()}.csv"
    return Response(as_csv(report), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})
