"""Logging in and out: the generic failure message, captcha, throttling and lockout per account and per
address, the initial password as an activation-only credential, session rotation and logout."""

import datetime as dt

import pytest
from captcha.conf import settings as captcha_settings
from captcha.models import CaptchaStore
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy

from audit.models import AuditEntry
from members import accounts, throttle
from members.middleware import ACTING_ORG_SESSION_KEY
from members.models import Person

from . import factories as f

PASSWORD = "Str0ng-pass!"


def zh(message) -> str:
    """The message as a Chinese user sees it (English until the catalog is compiled)."""
    with translation.override("zh-hans"):
        return translation.gettext(message) if isinstance(message, str) else str(message)


GENERIC = zh(accounts.GENERIC_LOGIN_FAILURE)


def account_locked(minutes: int = 15) -> str:
    return zh(accounts.ACCOUNT_LOCKED) % {"minutes": minutes}


def address_locked(minutes: int = 15) -> str:
    return zh(accounts.ADDRESS_LOCKED) % {"minutes": minutes}


@pytest.fixture(autouse=True)
def _captcha_test_mode(monkeypatch):
    # simple-captcha reads its settings at import; patch its copy (the brief's documented way).
    monkeypatch.setattr(captcha_settings, "CAPTCHA_TEST_MODE", True)


@pytest.fixture(autouse=True)
def _limits(settings):
    settings.ZHTJ_LOGIN_MAX_FAILURES = 3
    settings.ZHTJ_LOGIN_MAX_FAILURES_PER_IP = 5
    settings.ZHTJ_LOGIN_LOCK_MINUTES = 15


def post_login(client, id_number, password, *, captcha="PASSED", ip="10.0.0.1", follow=False, **extra):
    data = {"id_number": id_number, "password": password, "captcha_0": "anykey", "captcha_1": captcha, **extra}
    return client.post(reverse("login"), data, REMOTE_ADDR=ip, follow=follow)


def form_errors(response) -> list[str]:
    form = response.context["form"]
    return [str(e) for e in form.non_field_errors()]


def logged_in_id(client) -> int | None:
    value = client.session.get("_auth_user_id")
    return int(value) if value is not None else None


# --- the page ----------------------------------------------------------------------------------------------


def test_login_page_is_chinese_with_captcha_refresh_and_help(client, db):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "智慧团建" in html
    for name in ('name="id_number"', 'name="password"', 'name="captcha_0"', 'name="captcha_1"'):
        assert name in html
    assert reverse("captcha-refresh") in html
    assert "/register/admin/" in html
    # The three usual causes.
    for cause in (
        "You are not registered yet: your branch's admin has to add you first.",
        "The ID number is mistyped: check all 18 characters (a final X may be typed as x).",
        "The password is wrong: ask your organization's admin for a reset code.",
    ):
        assert zh(gettext_lazy(cause)) in html


def test_captcha_refresh_endpoint_gives_a_new_image(client, db):
    response = client.get(reverse("captcha-refresh"), HTTP_X_REQUESTED_WITH="XMLHttpRequest")
    data = response.json()
    assert CaptchaStore.objects.filter(hashkey=data["key"]).exists()
    assert data["image_url"].startswith("/captcha/image/")


# --- success, redirects, acting org ------------------------------------------------------------------------


def test_plain_member_with_password_logs_in_and_goes_home(client, db):
    person = f.make_person(password=PASSWORD)
    response = post_login(client, person.id_number, PASSWORD)
    assert response.status_code == 302 and response.url == reverse("home")
    assert logged_in_id(client) == person.pk
    assert ACTING_ORG_SESSION_KEY not in client.session
    assert AuditEntry.objects.filter(action="login.succeeded", target_id=str(person.pk)).exists()


def test_id_number_is_normalised_fullwidth_spaces_lower_x(client, db):
    number = next(n for n in (f.next_id_number() for _ in range(200)) if n.endswith("X"))
    person = f.make_person(id_number=number, password=PASSWORD)
    fullwidth = "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c for c in number[:-1]).lower()
    typed = f" {fullwidth[:6]} {fullwidth[6:]}x "
    response = post_login(client, typed, PASSWORD)
    assert response.status_code == 302
    assert logged_in_id(client) == person.pk


def test_admin_of_one_org_acts_for_it_at_once(client, tree):
    response = post_login(client, tree.branch_admin.id_number, PASSWORD)
    assert response.status_code == 302 and response.url == reverse("home")
    assert client.session[ACTING_ORG_SESSION_KEY] == tree.branch.pk


def test_admin_of_several_orgs_is_sent_to_choose(client, tree):
    f.make_admin(tree.other_root, person=tree.branch_admin)
    response = post_login(client, tree.branch_admin.id_number, PASSWORD)
    assert response.url == reverse("choose_org")
    assert ACTING_ORG_SESSION_KEY not in client.session


def test_next_is_kept_only_when_on_site(client, db):
    person = f.make_person(password=PASSWORD)
    response = post_login(client, person.id_number, PASSWORD, next="/password/change/")
    assert response.url == "/password/change/"
    client.post(reverse("logout"))
    response = post_login(client, person.id_number, PASSWORD, next="https://evil.example/")
    assert response.url == reverse("home")


def test_pages_require_login(client, db):
    for name in ("password_change", "password_set", "choose_org", "home"):
        response = client.get(reverse(name))
        assert response.status_code == 302 and response.url.startswith(reverse("login")), name


# --- the one generic failure message -----------------------------------------------------------------------


def test_wrong_password_unknown_id_and_malformed_id_give_the_same_message(client, db):
    person = f.make_person(password=PASSWORD)
    unknown = f.next_id_number()
    answers = []
    for number, password, ip in (
        (person.id_number, "wrong-password", "10.0.0.1"),
        (unknown, PASSWORD, "10.0.0.2"),
        ("12345", PASSWORD, "10.0.0.3"),
        (person.id_number[:-1] + ("0" if person.id_number[-1] != "0" else "1"), PASSWORD, "10.0.0.4"),
    ):
        response = post_login(client, number, password, ip=ip)
        assert response.status_code == 200
        answers.append(form_errors(response))
        assert response.context["form"].errors.keys() == {"__all__"}
    assert answers == [[GENERIC]] * 4
    assert logged_in_id(client) is None
    assert AuditEntry.objects.filter(action="login.failed").count() == 4


def test_generic_message_in_english(client, db):
    client.cookies["django_language"] = "en"
    response = post_login(client, f.next_id_number(), "whatever1", HTTP_ACCEPT_LANGUAGE="en")
    assert form_errors(response) == ["The ID number or password is incorrect."]


def test_inactive_person_is_refused_with_the_generic_message(client, db):
    person = f.make_person(password=PASSWORD, is_active=False)
    response = post_login(client, person.id_number, PASSWORD)
    assert form_errors(response) == [GENERIC]
    assert logged_in_id(client) is None


# --- captcha ---------------------------------------------------------------------------------------------


def test_wrong_captcha_refuses_without_checking_password(client, db, monkeypatch):
    monkeypatch.setattr(captcha_settings, "CAPTCHA_TEST_MODE", False)
    person = f.make_person(password=PASSWORD)
    store = CaptchaStore.objects.get(hashkey=CaptchaStore.generate_key())
    response = client.post(reverse("login"), {
        "id_number": person.id_number, "password": PASSWORD,
        "captcha_0": store.hashkey, "captcha_1": store.response + "zz",
    })
    assert response.status_code == 200
    assert "captcha" in response.context["form"].errors
    assert logged_in_id(client) is None
    # A captcha answer is good for one try: the store is gone even after a wrong answer.
    assert not CaptchaStore.objects.filter(hashkey=store.hashkey).exists()
    assert throttle.failures(accounts.LOGIN_SCOPE, kind=throttle.ACCOUNT, ident=person.id_number) == 0


def test_right_captcha_without_test_mode_logs_in(client, db, monkeypatch):
    monkeypatch.setattr(captcha_settings, "CAPTCHA_TEST_MODE", False)
    person = f.make_person(password=PASSWORD)
    store = CaptchaStore.objects.get(hashkey=CaptchaStore.generate_key())
    client.post(reverse("login"), {"id_number": person.id_number, "password": PASSWORD,
                                   "captcha_0": store.hashkey, "captcha_1": store.response.upper()})
    assert logged_in_id(client) == person.pk


def test_passed_is_refused_when_test_mode_is_off(client, db, monkeypatch):
    monkeypatch.setattr(captcha_settings, "CAPTCHA_TEST_MODE", False)
    person = f.make_person(password=PASSWORD)
    response = post_login(client, person.id_number, PASSWORD)
    assert "captcha" in response.context["form"].errors
    assert logged_in_id(client) is None


def test_missing_fields_are_required(client, db):
    response = client.post(reverse("login"), {})
    assert set(response.context["form"].errors) == {"id_number", "password", "captcha"}


# --- throttling and lockout --------------------------------------------------------------------------------


def test_account_locks_after_n_failures_even_with_the_right_password(client, db):
    person = f.make_person(password=PASSWORD)
    for attempt in range(2):
        assert form_errors(post_login(client, person.id_number, "nope", ip=f"10.1.0.{attempt}")) == [GENERIC]
    errors = form_errors(post_login(client, person.id_number, "nope", ip="10.1.0.9"))
    assert errors == [account_locked(15)]
    response = post_login(client, person.id_number, PASSWORD, ip="10.1.0.10")
    assert form_errors(response) == [account_locked(15)]
    assert logged_in_id(client) is None
    assert AuditEntry.objects.filter(action="login.locked", target_id=str(person.pk)).count() == 1
    assert AuditEntry.objects.filter(action="login.refused_locked").count() == 1


def test_unknown_id_locks_exactly_like_a_real_one(client, db):
    person = f.make_person(password=PASSWORD)
    unknown = f.next_id_number()
    real, fake = [], []
    for attempt in range(4):
        real.append(form_errors(post_login(client, person.id_number, "nope", ip=f"10.2.0.{attempt}")))
        fake.append(form_errors(post_login(client, unknown, "nope", ip=f"10.3.0.{attempt}")))
    assert real == fake
    assert fake[-2:] == [[account_locked()]] * 2


def test_lock_is_per_account_other_accounts_still_log_in(client, db):
    victim = f.make_person(password=PASSWORD)
    other = f.make_person(password=PASSWORD)
    for attempt in range(3):
        post_login(client, victim.id_number, "nope", ip=f"10.4.0.{attempt}")
    post_login(client, other.id_number, PASSWORD, ip="10.4.0.1")
    assert logged_in_id(client) == other.pk


def test_address_locks_after_n_failures_across_accounts(client, db):
    person = f.make_person(password=PASSWORD)
    for _ in range(5):
        post_login(client, f.next_id_number(), "nope", ip="10.9.9.9")
    response = post_login(client, person.id_number, PASSWORD, ip="10.9.9.9")
    assert form_errors(response) == [address_locked()]
    assert logged_in_id(client) is None
    # The same person from another address is not affected.
    post_login(client, person.id_number, PASSWORD, ip="10.9.9.10")
    assert logged_in_id(client) == person.pk


def _login_via_proxy(client, id_number, password, forwarded_for: str, *, proxy="127.0.0.1"):
    data = {"id_number": id_number, "password": password, "captcha_0": "anykey", "captcha_1": "PASSED"}
    return client.post(reverse("login"), data, REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR=forwarded_for)


def test_behind_a_proxy_a_spoofed_forwarded_address_does_not_escape_the_address_lock(client, db, settings):
    # The proxy appends the address it saw; whatever the client put before it is not believed.
    settings.USE_X_FORWARDED_FOR = True
    person = f.make_person(password=PASSWORD)
    for attempt in range(5):
        _login_via_proxy(client, f.next_id_number(), "nope", f"198.51.100.{attempt}, 203.0.113.7")
    response = _login_via_proxy(client, person.id_number, PASSWORD, "198.51.100.99, 203.0.113.7")
    assert form_errors(response) == [address_locked()]
    assert logged_in_id(client) is None
    # Another real client behind the same proxy is not affected.
    response = _login_via_proxy(client, person.id_number, PASSWORD, "203.0.113.8")
    assert response.status_code == 302 and logged_in_id(client) == person.pk


def test_forwarded_address_is_ignored_unless_configured(client, db, settings):
    settings.USE_X_FORWARDED_FOR = False
    person = f.make_person(password=PASSWORD)
    for attempt in range(5):
        _login_via_proxy(client, f.next_id_number(), "nope", f"198.51.100.{attempt}", proxy="10.7.7.7")
    response = _login_via_proxy(client, person.id_number, PASSWORD, "198.51.100.50", proxy="10.7.7.7")
    assert form_errors(response) == [address_locked()]


def test_lock_expires_after_the_lock_minutes(client, db, monkeypatch):
    person = f.make_person(password=PASSWORD)
    for attempt in range(3):
        post_login(client, person.id_number, "nope", ip=f"10.5.0.{attempt}")
    assert form_errors(post_login(client, person.id_number, PASSWORD, ip="10.5.1.1")) == [account_locked()]
    start = throttle._clock()
    monkeypatch.setattr(throttle, "_clock", lambda: start + 14 * 60)
    assert form_errors(post_login(client, person.id_number, PASSWORD, ip="10.5.1.2")) == [account_locked(1)]
    monkeypatch.setattr(throttle, "_clock", lambda: start + 15 * 60 + 1)
    post_login(client, person.id_number, PASSWORD, ip="10.5.1.3")
    assert logged_in_id(client) == person.pk


def test_lock_message_says_for_how_long(client, db, monkeypatch):
    person = f.make_person(password=PASSWORD)
    for attempt in range(3):
        post_login(client, person.id_number, "nope", ip=f"10.6.0.{attempt}")
    start = throttle._clock()
    monkeypatch.setattr(throttle, "_clock", lambda: start + 10 * 60 + 5)
    assert form_errors(post_login(client, person.id_number, PASSWORD, ip="10.6.1.1")) == [account_locked(5)]


def test_success_clears_the_account_counter(client, db):
    person = f.make_person(password=PASSWORD)
    post_login(client, person.id_number, "nope", ip="10.7.0.1")
    post_login(client, person.id_number, "nope", ip="10.7.0.2")
    post_login(client, person.id_number, PASSWORD, ip="10.7.0.3")
    assert throttle.failures(accounts.LOGIN_SCOPE, kind=throttle.ACCOUNT, ident=person.id_number) == 0


def _record_checks(monkeypatch, id_number: str, ip: str) -> list[tuple[int, int]]:
    """Replace the password check by one that notes the counters it sees, then checks as before."""
    seen: list[tuple[int, int]] = []
    real = accounts.authenticate

    def checking(request, **credentials):
        seen.append((throttle.failures(accounts.LOGIN_SCOPE, kind=throttle.ACCOUNT, ident=id_number),
                     throttle.failures(accounts.LOGIN_SCOPE, kind=throttle.ADDRESS, ident=ip)))
        return real(request, **credentials)

    monkeypatch.setattr(accounts, "authenticate", checking)
    return seen


def test_the_attempt_is_counted_before_the_password_is_checked(client, db, monkeypatch):
    person = f.make_person(password=PASSWORD)
    seen = _record_checks(monkeypatch, person.id_number, "10.8.0.1")
    post_login(client, person.id_number, "nope", ip="10.8.0.1")
    post_login(client, person.id_number, PASSWORD, ip="10.8.0.1")
    assert seen == [(1, 1), (2, 2)]
    # The success still resets the account and takes its own count back from the address.
    assert logged_in_id(client) == person.pk
    assert throttle.failures(accounts.LOGIN_SCOPE, kind=throttle.ACCOUNT, ident=person.id_number) == 0
    assert throttle.failures(accounts.LOGIN_SCOPE, kind=throttle.ADDRESS, ident="10.8.0.1") == 1


def test_attempts_in_flight_at_the_limit_refuse_the_next_unchecked(client, db, monkeypatch):
    # Three guesses were counted and are still being checked, so no lock exists yet: a fourth, even with the
    # right password, is refused without a check.
    from django.core.cache import cache

    person = f.make_person(password=PASSWORD)
    count_key, lock_key = throttle._keys(accounts.LOGIN_SCOPE, throttle.ACCOUNT, person.id_number)
    cache.set(count_key, 3)
    assert cache.get(lock_key) is None
    seen = _record_checks(monkeypatch, person.id_number, "10.8.1.1")
    response = post_login(client, person.id_number, PASSWORD, ip="10.8.1.1")
    assert seen == []
    assert form_errors(response) == [account_locked()]
    assert logged_in_id(client) is None
    assert AuditEntry.objects.filter(action="login.refused_locked").count() == 1


def test_unknown_id_in_flight_at_the_limit_is_refused_like_a_real_one(client, db, monkeypatch):
    from django.core.cache import cache

    person = f.make_person(password=PASSWORD)
    unknown = f.next_id_number()
    answers = []
    for number in (person.id_number, unknown):
        cache.set(throttle._keys(accounts.LOGIN_SCOPE, throttle.ACCOUNT, number)[0], 3)
        answers.append(form_errors(post_login(client, number, "nope", ip="10.8.2.1")))
    assert answers == [[account_locked()]] * 2


def test_counters_and_locks_expire_with_the_window(db, settings):
    settings.ZHTJ_LOGIN_MAX_FAILURES = 2
    throttle.register_failure("t", account="A", ip="1.1.1.1")
    throttle.register_failure("t", account="B", ip="1.1.1.2")
    throttle.register_failure("t", account="B", ip="1.1.1.3")  # locks B
    from django.core.cache import cache

    count_key, _ = throttle._keys("t", throttle.ACCOUNT, "A")
    _, lock_key = throttle._keys("t", throttle.ACCOUNT, "B")
    for key in (count_key, lock_key):
        raw = cache.make_and_validate_key(key)
        if hasattr(cache, "_expire_info"):  # local-memory cache: the expiry is stored beside the value
            seconds = cache._expire_info[raw] - throttle._clock()
        else:  # Redis
            seconds = cache._cache.get_client(raw).ttl(raw)
        assert 0 < seconds <= 15 * 60, key


def test_throttle_keys_hold_no_id_number_in_clear(db):
    number = f.next_id_number()
    count_key, lock_key = throttle._keys("login", throttle.ACCOUNT, number)
    assert number not in count_key and number not in lock_key


# --- the initial password ----------------------------------------------------------------------------------


def test_initial_password_logs_in_and_forces_set_password_everywhere(client, tree):
    person = tree.member.person
    assert person.needs_password
    response = post_login(client, person.id_number, person.id_number[-8:])
    assert response.status_code == 302 and response.url == reverse("password_set")
    assert logged_in_id(client) == person.pk
    for path in ("/", reverse("password_change"), reverse("choose_org"), f"/people/{person.pk}/reset-code/",
                 "/anything/else/"):
        response = client.get(path)
        assert response.status_code == 302 and response.url == reverse("password_set"), path
    assert client.get(reverse("password_set")).status_code == 200


def test_initial_password_accepts_lower_case_x(client, db):
    number = next(n for n in (f.next_id_number() for _ in range(200)) if n.endswith("X"))
    person = f.make_person(id_number=number, password=None)
    post_login(client, number, number[-8:].lower())
    assert logged_in_id(client) == person.pk


def test_initial_password_refused_once_a_real_password_is_set(client, db):
    person = f.make_person(password=None)
    initial = person.id_number[-8:]
    accounts.set_initial_password(person=person, new_password="Orchid-river-42")
    response = post_login(client, person.id_number, initial)
    assert form_errors(response) == [GENERIC]
    assert logged_in_id(client) is None
    post_login(client, person.id_number, "Orchid-river-42", ip="10.0.0.2")
    assert logged_in_id(client) == person.pk


def test_initial_password_is_throttled_like_any_login(client, db):
    person = f.make_person(password=None)
    for attempt in range(3):
        post_login(client, person.id_number, "00000000", ip=f"10.8.0.{attempt}")
    response = post_login(client, person.id_number, person.id_number[-8:], ip="10.8.1.1")
    assert form_errors(response) == [account_locked()]
    assert logged_in_id(client) is None


def test_initial_password_expires_after_the_configured_days(client, db, settings):
    settings.ZHTJ_INITIAL_PASSWORD_DAYS = 30
    fresh = f.make_person(password=None)
    stale = f.make_person(password=None)
    Person.objects.filter(pk=stale.pk).update(created_at=timezone.now() - dt.timedelta(days=31))
    response = post_login(client, stale.id_number, stale.id_number[-8:])
    assert form_errors(response) == [GENERIC]
    assert logged_in_id(client) is None
    post_login(client, fresh.id_number, fresh.id_number[-8:], ip="10.0.0.2")
    assert logged_in_id(client) == fresh.pk


def test_initial_password_never_expires_when_days_is_zero(client, db, settings):
    settings.ZHTJ_INITIAL_PASSWORD_DAYS = 0
    old = f.make_person(password=None)
    Person.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=3000))
    post_login(client, old.id_number, old.id_number[-8:])
    assert logged_in_id(client) == old.pk


def test_initial_password_is_not_hashed_at_creation(db):
    person = f.make_person(password=None)
    assert not person.has_usable_password()
    assert person.password_set_at is None


# --- sessions ------------------------------------------------------------------------------------------


def test_session_key_rotates_at_login(client, db):
    person = f.make_person(password=PASSWORD)
    client.get(reverse("login"))
    session = client.session
    session["probe"] = 1
    session.save()
    before = session.session_key
    post_login(client, person.id_number, PASSWORD)
    assert client.session.session_key != before
    assert logged_in_id(client) == person.pk


def test_logout_ends_the_session_and_is_post_only(client, db):
    person = f.make_person(password=PASSWORD)
    post_login(client, person.id_number, PASSWORD)
    old_key = client.session.session_key
    assert client.get(reverse("logout")).status_code == 405
    assert logged_in_id(client) == person.pk
    response = client.post(reverse("logout"))
    assert response.status_code == 302 and response.url == reverse("login")
    from django.contrib.sessions.backends.db import SessionStore

    assert not SessionStore().exists(old_key)
    assert client.get(reverse("home")).status_code == 302
    assert AuditEntry.objects.filter(action="logout", target_id=str(person.pk)).exists()


def test_sessions_expire_when_idle(client, db, settings):
    from django.contrib.sessions.models import Session

    assert settings.SESSION_SAVE_EVERY_REQUEST is True
    person = f.make_person(password=PASSWORD)
    post_login(client, person.id_number, PASSWORD)
    key = client.session.session_key
    # Activity pushes the expiry forward to a full idle period from now...
    Session.objects.filter(session_key=key).update(expire_date=timezone.now() + dt.timedelta(minutes=1))
    assert client.get(reverse("password_change")).status_code == 200
    pushed = Session.objects.get(session_key=key).expire_date
    assert pushed > timezone.now() + dt.timedelta(seconds=settings.SESSION_COOKIE_AGE - 60)
    # ...and an idle session past its expiry no longer logs anyone in.
    Session.objects.filter(session_key=key).update(expire_date=timezone.now() - dt.timedelta(seconds=1))
    response = client.get(reverse("password_change"))
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


# --- htmx requests ---------------------------------------------------------------------------------------


def test_htmx_request_after_session_end_moves_the_whole_page_to_login(client, db):
    response = client.get(reverse("home"), HTTP_HX_REQUEST="true")
    assert response.status_code == 204
    assert response["HX-Redirect"].startswith(reverse("login"))


def test_htmx_request_during_activation_moves_the_whole_page_to_set_password(client, db):
    from .conftest import login_as

    login_as(client, f.make_person(password=None))
    response = client.get(reverse("home"), HTTP_HX_REQUEST="true")
    assert response.status_code == 204 and response["HX-Redirect"] == reverse("password_set")


def test_htmx_redirects_elsewhere_are_left_alone(client, db):
    from .conftest import login_as

    login_as(client, f.make_person(password=PASSWORD))
    response = client.get(reverse("password_set"), HTTP_HX_REQUEST="true")
    assert response.status_code == 302 and response.url == reverse("password_change")


def test_audio_captcha_link_only_when_flite_is_configured(client, db, monkeypatch):
    assert "data-captcha-audio" not in client.get(reverse("login")).content.decode()
    monkeypatch.setattr(captcha_settings, "CAPTCHA_FLITE_PATH", "/usr/bin/flite")
    html = client.get(reverse("login")).content.decode()
    assert "data-captcha-audio" in html and "/captcha/audio/" in html


def test_unlock_login_command_lifts_a_lock(client, db):
    from io import StringIO

    from django.core.management import call_command

    person = f.make_person(password=PASSWORD)
    for attempt in range(3):
        post_login(client, person.id_number, "nope", ip=f"10.10.0.{attempt}")
    for _ in range(5):
        post_login(client, f.next_id_number(), "nope", ip="10.10.9.9")
    assert form_errors(post_login(client, person.id_number, PASSWORD, ip="10.10.1.1")) == [account_locked()]
    out = StringIO()
    call_command("unlock_login", person.id_number.lower(), "--ip", "10.10.9.9", stdout=out)
    assert "unlocked" in out.getvalue() and person.id_number not in out.getvalue()
    assert AuditEntry.objects.filter(action="login.unlocked").count() == 1
    post_login(client, person.id_number, PASSWORD, ip="10.10.9.9")
    assert logged_in_id(client) == person.pk
