"""What a buyer must send to create or change jobs, profiles and reports (Kylie ``…_Create`` schemas).

Parsed with pydantic so a malformed request is a MEF 422 whose ``propertyPath`` points at the property;
the models keep unknown properties (``extra="allow"``) because Kylie documents are open.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

_OPEN = ConfigDict(extra="allow", populate_by_name=True)
Units = Literal["NS", "US", "MS", "SEC", "MIN", "HOUR", "DAY", "WEEK", "MONTH", "YEAR"]


class TimeDuration(BaseModel):
    timeDurationValue: int = Field(gt=0)
    timeDurationUnits: Units


class Typed(BaseModel):
    model_config = _OPEN
    type: str = Field(alias="@type", min_length=1)


class MonitoredObject(Typed):
    serviceId: str | None = None


class ScheduleDefinition(BaseModel):
    model_config = _OPEN
    scheduleDefinitionStartTime: datetime | None = None
    scheduleDefinitionEndTime: datetime | None = None
    executionDuration: TimeDuration | None = None


class JobSettings(BaseModel):
    """granularity, reporting period, job type and formats: a profile's, or a fault job's own."""

    model_config = _OPEN
    granularity: TimeDuration
    jobType: Literal["proactive", "on-demand", "passive"]
    outputFormat: Literal["json", "xml", "avro", "csv"]
    reportingPeriod: TimeDuration
    resultFormat: Literal["attachment", "payload"]
    serviceSpecificConfiguration: Typed
    jobPriority: int | None = Field(default=None, ge=1, le=10)

    @field_validator("jobType")
    @classmethod
    def _offered(cls, value: str) -> str:
        if value == "passive":
            raise ValueError("passive jobs are not offered: choose proactive or on-demand")
        return value

    @field_validator("outputFormat")
    @classmethod
    def _json_only(cls, value: str) -> str:
        if value != "json":
            raise ValueError("reports are produced as json")
        return value

    @field_validator("resultFormat")
    @classmethod
    def _payload_only(cls, value: str) -> str:
        if value != "payload":
            raise ValueError("reports are delivered as payload")
        return value


class PerformanceProfileCreate(JobSettings):
    lifecycleStatus: Literal["approved", "deprecated", "experimental", "pending"]
    description: str | None = None


class PerformanceProfileValue(JobSettings):
    type: Literal["PerformanceProfileValue"] = Field(alias="@type")


class PerformanceProfileRef(BaseModel):
    model_config = _OPEN
    type: Literal["PerformanceProfileRef"] = Field(alias="@type")
    performanceProfileId: str = Field(min_length=1)


class PerformanceJobCreate(BaseModel):
    model_config = _OPEN
    monitoredObject: MonitoredObject
    performanceProfile: dict[str, Any]
    scheduleDefinition: ScheduleDefinition
    description: str | None = None


class FaultManagementJobCreate(JobSettings):
    monitoredObject: MonitoredObject
    scheduleDefinition: ScheduleDefinition
    description: str | None = None


class ReportingTimeframe(BaseModel):
    model_config = _OPEN
    reportingStartDate: datetime
    reportingEndDate: datetime


class PerformanceReportCreate(BaseModel):
    model_config = _OPEN
    granularity: TimeDuration
    monitoredObject: list[MonitoredObject] = Field(min_length=1, max_length=10)
    outputFormat: Literal["json"]
    reportingTimeframe: ReportingTimeframe
    resultFormat: Literal["payload"]
    serviceSpecificConfiguration: Typed
    description: str | None = None
