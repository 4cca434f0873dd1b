"""Change history of volunteers, including bulk approvals (queryset update, no signals)."""

import pytest

from teams.models import Volunteer, VolunteerStatus
from teams.services import approve_applicants, change_volunteer_status

from .conftest import VolunteerFactory


@pytest.mark.django_db
def test_bulk_approval_and_status_change_record_volunteer_history(siming_staff, siming):
    village = siming.children.first().children.first()
    applicants = [VolunteerFactory(federation=village, status=VolunteerStatus.APPLIED) for _ in range(3)]
    approve_applicants(Volunteer.objects.filter(pk__in=[v.pk for v in applicants]), by=siming_staff)
    for volunteer in applicants:
        latest = volunteer.history.first()
        assert (latest.status, latest.history_user) == ("active", siming_staff)
    change_volunteer_status(volunteer=applicants[0], to=VolunteerStatus.SUSPENDED, by=siming_staff)
    assert applicants[0].history.first().status == "suspended"
