"""The application: one async handler per command, each returning ids and the new position."""

from __future__ import annotations

from program.application.cohorts import CohortCommands
from program.application.consents import ConsentCommands
from program.application.facilitators import FacilitatorCommands
from program.application.maintenance import MaintenanceCommands
from program.application.participants import ParticipantCommands
from program.application.partners import PartnerCommands
from program.application.programmes import ProgrammeCommands
from program.application.sessions import SessionCommands
from program.application.subject_access import SubjectAccessCommands


class Application(
    ProgrammeCommands,
    CohortCommands,
    FacilitatorCommands,
    ParticipantCommands,
    ConsentCommands,
    SessionCommands,
    PartnerCommands,
    MaintenanceCommands,
    SubjectAccessCommands,
):
    """Every command of the programme, behind one object the API and CLI share."""
