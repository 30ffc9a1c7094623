"""The portal in a real browser (Debian's Chromium driven by Playwright) against a live
server: a citizen logs in, sees the measure found for her after her child's birth, applies in
one click, sees the decision, gives her Mir card, sees the payment, downloads a certificate.
Each page is saved as a screenshot at 375 and 1280 px (tests/frontoffice/screenshots, which
git ignores) for a person to look at."""

from __future__ import annotations

import os
import shutil
from datetime import date
from pathlib import Path

import pytest
from django.utils import timezone

from frontoffice.services import citizen_account_for
from measures.enums import CaseStatus, TriggerKind
from measures.models import Case, Measure
from measures.services.cases import case_open, case_work
from platform_core.validators import mir_card_from_number
from tests.measures.families import UNIFIED, child_of, income, person
from treasury.models import Payment
from treasury.services.payroll import payroll_run

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
SHOTS = Path(__file__).resolve().parent / "screenshots"
WIDTHS = (375, 1280)


@pytest.fixture
def browser():  # type: ignore[no-untyped-def]
    if not Path(CHROMIUM).exists():
        pytest.fail(f"No Chromium at {CHROMIUM}: `make test` installs Debian's chromium.")
    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls are
    # synchronous all the same.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"]
        )
        yield launched
        launched.close()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


def shoot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    """The page at each width, whole."""
    SHOTS.mkdir(exist_ok=True)
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{name} scrolls sideways at {width} px by {overflow} px"
    page.set_viewport_size({"width": 1280, "height": 900})


def offered_to(last_name: str, first_name: str) -> Case:
    """A mother of a child born today, with a low income, offered the unified allowance, and
    a demo login of hers."""
    today = timezone.localdate()
    mother = person(date(1990, 1, 1), "F", last_name=last_name, first_name=first_name)
    child = child_of(mother, 0, on=today)
    income(mother, "5000", on=today)
    offered, _ = case_open(
        person=mother,
        measure=Measure.objects.get(code=UNIFIED),
        trigger_kind=TriggerKind.LIFE_EVENT,
        trigger_key=f"birth:{child.pk}",
        as_of=today,
        now=timezone.now(),
    )
    offered = case_work(case_id=offered.pk, now=timezone.now())
    assert offered.status == CaseStatus.OFFERED
    citizen_account_for(mother, demo=True)
    return offered


def test_a_mother_applies_in_one_click_and_downloads_a_certificate(
    live_server, browser, calendar, settings, tmp_path
):
    today = timezone.localdate()
    settings.TREASURY_FIRST_PERIOD = today.replace(day=1).isoformat()
    settings.TREASURY_FILES_DIR = tmp_path
    offered = offered_to("Браузерова", "Анна")
    mother = offered.person

    page = browser.new_page(locale="ru-RU")
    page.goto(f"{live_server.url}/portal/login/")
    shoot(page, "01-login")
    page.get_by_label("Браузерова Анна").check()
    page.get_by_role("button", name="Войти").click()
    page.wait_for_url("**/portal/my/")
    assert page.get_by_role("heading", name="Мои права").is_visible()
    measure = offered.measure.name
    assert page.get_by_role("heading", name=measure).is_visible()
    page.get_by_text("Почему").first.click()  # the explanation opens
    assert page.get_by_text("выполнено").first.is_visible()
    shoot(page, "02-my-rights")

    page.get_by_role("button", name="Подать заявление").first.click()
    page.wait_for_url(f"**/portal/my/cases/{offered.pk}/")
    decided = Case.objects.get(pk=offered.pk)
    assert decided.status == CaseStatus.DECIDED
    assert page.get_by_text(decided.decision.number).is_visible()
    shoot(page, "03-decision")

    page.get_by_role("link", name="Реквизиты").click()
    page.get_by_label("Номер карты «Мир»").fill("2200 0000 0000 0005")  # a wrong digit
    page.get_by_role("button", name="Сохранить").click()
    assert page.locator("#bank_card-error").is_visible()
    shoot(page, "04-details-error")
    card = mir_card_from_number(3)
    page.get_by_label("Номер карты «Мир»").fill(card)
    page.get_by_role("button", name="Сохранить").click()
    assert page.get_by_text("Сохранено.").is_visible()

    payroll_run(period=today, now=timezone.now())
    paid = Payment.objects.get(person=mother)
    page.get_by_role("link", name="Выплаты").click()
    assert page.get_by_text(measure).first.is_visible()
    shoot(page, "05-payments")
    assert paid.card == card

    page.get_by_role("link", name="Справки").click()
    with page.expect_download() as download:
        page.get_by_role("button", name="Получить справку").click()
    saved = tmp_path / "certificate.pdf"
    download.value.save_as(saved)
    assert saved.read_bytes().startswith(b"%PDF")
    page.goto(f"{live_server.url}/portal/my/certificates/")
    shoot(page, "06-certificates")
    code = page.locator("main li").first.inner_text().rsplit(" ", 1)[-1]

    page.get_by_role("button", name="Выйти").click()
    page.goto(f"{live_server.url}/portal/check/?code={code}")
    assert page.get_by_role("heading", name="Справка подлинная").is_visible()
    shoot(page, "07-check")


def test_the_other_pages_by_keyboard_in_both_languages(live_server, browser, calendar):
    """The pages the first test does not reach, at both widths: the navigator and the
    calculator (a wrong field, then a result), an appeal sent, the inbox, the cases; the
    skip link by keyboard; the case's timeline after switching to English."""
    offered = offered_to("Клавишева", "Ольга")

    page = browser.new_page(locale="ru-RU")
    page.goto(f"{live_server.url}/portal/navigator/?region=27&situation=birth")
    assert page.get_by_text(offered.measure.name).first.is_visible()
    shoot(page, "11-navigator")
    page.goto(f"{live_server.url}/portal/calculator/")
    page.get_by_label("Ваш возраст, полных лет").fill("сто")
    page.get_by_role("button", name="Рассчитать").click()
    assert page.locator("#age-error").is_visible()
    shoot(page, "12-calculator-error")
    page.get_by_label("Ваш возраст, полных лет").fill("30")
    page.get_by_label("Возраст детей через запятую").fill("0")
    page.get_by_label("Доход семьи в месяц, руб.").fill("5000")
    page.get_by_role("button", name="Рассчитать").click()
    assert page.get_by_text("Положено").first.is_visible()
    shoot(page, "13-calculator-result")

    page.goto(f"{live_server.url}/portal/login/")
    page.keyboard.press("Tab")  # the first stop is the skip link, shown when focused
    skip = page.get_by_role("link", name="Перейти к содержанию")
    assert skip.evaluate("element => element === document.activeElement")
    assert skip.is_visible()
    page.keyboard.press("Enter")
    assert page.url.endswith("#main")
    page.get_by_label("Клавишева Ольга").check()
    page.get_by_role("button", name="Войти").click()
    page.wait_for_url("**/portal/my/#main")  # the browser keeps the fragment it had

    page.get_by_role("link", name="Обращения").click()
    page.get_by_label("Текст обращения").fill("Прошу разъяснить, когда придёт выплата.")
    page.get_by_role("button", name="Отправить").click()
    assert page.locator("#kind-error").is_visible()  # what it is was not said: nothing sent
    assert page.get_by_label("Текст обращения").input_value().startswith("Прошу разъяснить")
    shoot(page, "14-appeals-error")
    page.get_by_label("Вопрос").check()
    page.get_by_role("button", name="Отправить").click()
    sent = page.locator("article.card")
    assert sent.get_by_text("Прошу разъяснить, когда придёт выплата.").is_visible()
    shoot(page, "14-appeals")
    page.get_by_role("link", name="Уведомления").click()
    shoot(page, "15-inbox")
    page.get_by_role("link", name="Заявления и дела").click()
    assert page.get_by_role("link", name=offered.measure.name).is_visible()
    shoot(page, "16-cases")

    page.goto(f"{live_server.url}/portal/my/cases/{offered.pk}/")
    page.get_by_label("Язык").select_option("en")
    page.get_by_role("button", name="Сменить").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", name="Timeline").is_visible()
    assert page.get_by_text(
        "The right is there; the measure is given on an application."
    ).is_visible()
    shoot(page, "17-case-english")
