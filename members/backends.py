"""Authentication by resident ID number, with the initial password as an activation-only credential."""

from django.contrib.auth.backends import ModelBackend
from django.utils.crypto import constant_time_compare

from orgs.models import OrgAdmin

from . import idnumber
from .models import Person, initial_password_expired, initial_password_for


class IdNumberBackend(ModelBackend):
    """Looks people up by their normalised ID number; throttling is the caller's job (members.accounts)."""

    def authenticate(self, request, id_number=None, password=None, **kwargs):
        if id_number is None:
            id_number = kwargs.get(Person.USERNAME_FIELD)
        if not id_number or not password:
            return None
        number = idnumber.normalize(id_number)
        try:
            person = Person.objects.get(id_number=number)
        except Person.DoesNotExist:
            # Spend the same time as a real check so timing does not reveal who exists.
            Person().set_password(password)
            return None
        if person.needs_password:
            # Anyone who knows an ID number knows this password: it only opens the activation step.
            # Hash once anyway, so answering takes as long as for a real password or an unknown ID.
            Person().set_password(password)
            # An admin never logs in with it: the role needs a password of their own (registration or reset code).
            ok = constant_time_compare(
                idnumber.normalize(password), initial_password_for(person)
            ) and not initial_password_expired(person) and not OrgAdmin.objects.filter(person=person).exists()
        else:
            ok = person.check_password(password)
        if ok and self.user_can_authenticate(person):
            return person
        return None
